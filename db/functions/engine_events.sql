-- The event functions: one call per Discord event, one transaction, replay-safe.
-- Each is the event skeleton (engine_rewards.sql: open_event, event_rules, close_event) around its
-- own matcher. Each returns {"status", "amount" (total paid), "rules": [{rule_id, event_type,
-- status, amount, ...}]}.

CREATE OR REPLACE FUNCTION resonance.record_message(
    p_server_id text,
    p_user_id text,
    p_channel_id text,
    p_message_id text,
    p_content text,
    p_role_ids text[] DEFAULT '{}',
    p_reply_to_user_id text DEFAULT NULL,
    p_occurred_at timestamptz DEFAULT NULL,
    p_channel_name text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_open record;
    v_config jsonb;
    v_content text := coalesce(p_content, '');
    v_similarity real;
    v_min_words integer;
    v_window interval;
    v_words integer;
    v_reason text;
    v_best real;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_trigger text;
    v_results jsonb := '[]'::jsonb;
    v_closed jsonb;
BEGIN
    IF p_user_id IS NULL OR btrim(p_user_id) = '' THEN
        RAISE EXCEPTION 'p_user_id is required' USING ERRCODE = 'RS301';
    END IF;
    IF p_message_id IS NULL OR btrim(p_message_id) = '' THEN
        RAISE EXCEPTION 'p_message_id is required' USING ERRCODE = 'RS301';
    END IF;
    SELECT * INTO v_open FROM resonance.open_event(p_server_id, 'message', p_message_id, ARRAY[p_user_id], v_at);
    IF v_open.status IS NOT NULL THEN
        RETURN jsonb_build_object('status', v_open.status, 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    -- The matcher: anti-farming (under the member's lock: it compares with the previous messages),
    -- then the message rules' channel and content triggers.
    v_config := coalesce(v_open.config -> 'anti_farming', '{}'::jsonb);
    v_similarity := coalesce((v_config ->> 'similarity')::real, 0.9);
    v_min_words := coalesce((v_config ->> 'min_words')::integer, 0);
    v_window := make_interval(mins => coalesce((v_config ->> 'window_minutes')::integer, 30));
    v_words := coalesce(array_length(regexp_split_to_array(btrim(v_content), '\s+'), 1), 0);
    IF btrim(v_content) = '' THEN
        v_words := 0;
    END IF;

    IF coalesce((v_config ->> 'enabled')::boolean, TRUE) THEN
        IF v_words < v_min_words THEN
            v_reason := 'too_short';
        ELSE
            SELECT max(extensions.similarity(w.content, left(v_content, 500))) INTO v_best
            FROM (
                SELECT mw.content
                FROM resonance.message_window AS mw
                WHERE mw.server_id = p_server_id
                    AND mw.discord_user_id = p_user_id
                    AND mw.occurred_at <= v_at
                    AND mw.occurred_at > v_at - v_window
                ORDER BY mw.occurred_at DESC
                LIMIT 20
            ) AS w;
            IF v_best >= v_similarity THEN
                v_reason := 'similar';
            END IF;
        END IF;
    END IF;

    INSERT INTO resonance.message_window (server_id, discord_user_id, message_id, content, occurred_at)
    VALUES (p_server_id, p_user_id, p_message_id, left(v_content, 500), v_at)
    ON CONFLICT DO NOTHING;

    IF v_reason IS NOT NULL THEN
        -- A farmed message counts for nothing and is not an action.
        RETURN jsonb_build_object(
            'status', 'farmed', 'reason', v_reason, 'amount', 0, 'rules', '[]'::jsonb,
            'words', v_words, 'min_words', v_min_words, 'similarity', v_best, 'similarity_threshold', v_similarity
        );
    END IF;

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT * FROM resonance.event_rules(
            p_server_id, v_open.brand_id,
            ARRAY['channel_message', 'message', 'message_quality', 'min_length', 'keyword'], ARRAY['keyword', 'min_length']
        )
    LOOP
        -- The trigger once per rule (a message rule with a reaction trigger is not a message rule).
        v_trigger := resonance.rule_trigger(v_rule);
        CONTINUE WHEN v_trigger NOT IN ('keyword', 'min_length', 'channel');
        v_results := v_results || jsonb_build_array(CASE
            WHEN NOT resonance.rule_channel_ok(v_rule, p_channel_id, p_channel_name) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            )
            WHEN v_trigger <> 'channel' AND NOT resonance.content_matches(v_rule, v_content) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', v_trigger, 'amount', 0
            )
            ELSE resonance.decide_rule(
                v_rule, p_server_id, p_user_id, p_message_id || ':' || v_rule.id::text, v_at, v_effects, NULL,
                jsonb_build_object('message_id', p_message_id, 'channel_id', p_channel_id)
            )
        END);
    END LOOP;

    v_closed := resonance.close_event(
        p_server_id, v_open.brand_id, v_at, v_results,
        jsonb_build_array(jsonb_build_object('user_id', p_user_id, 'messages', 1, 'actions', 1))
    );
    RETURN jsonb_build_object(
        'status', CASE WHEN (v_closed ->> 'paid')::integer > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_closed -> 'amount', 'rules', v_closed -> 'rules', 'words', v_words
    );
END;
$$;

COMMENT ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz, text) IS
'One Discord message. Replay of the same message id -> {"status":"duplicate"} and nothing changes. Anti-farming (discord_server_configs.config_metadata.anti_farming: min_words default 0, similarity default 0.9, window_minutes default 30, enabled default true): fewer words than min_words -> {"status":"farmed","reason":"too_short"}; pg_trgm similarity >= threshold to one of the member''s last 20 messages in the window -> {"status":"farmed","reason":"similar"}; a farmed message earns nothing and is not counted. Otherwise messages_count +1 (stats and daily activity, an action) and every message rule of the server (or its brand, when the server has no enabled rule of that event type) (event_type channel_message|message|message_quality|min_length|keyword, or a keyword/min_length trigger) is evaluated in rule id order: per rule status not_matched (channel or trigger), no_access, cap_reached, cooldown, rewarded, duplicate. Channel lists match the channel id or p_channel_name. Top status: rewarded (something paid) or recorded. Ledger source id: message_id:rule_id. p_reply_to_user_id is accepted for the bot''s analytics and not used by rules. An inactive server (is_active false) -> {"status":"inactive"}, nothing counted. Raises RS001 (unknown server), RS301 (missing user or message id).';

REVOKE ALL ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_reaction(
    p_server_id text,
    p_reactor_id text,
    p_author_id text,
    p_channel_id text,
    p_message_id text,
    p_emoji text,
    p_role_ids text[] DEFAULT '{}',
    p_occurred_at timestamptz DEFAULT NULL,
    p_channel_name text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_open record;
    v_new_reactor boolean := FALSE;
    v_unique integer;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_trigger text;
    v_results jsonb := '[]'::jsonb;
    v_closed jsonb;
    v_total numeric;
    v_paid integer;
    v_drop jsonb;
BEGIN
    PERFORM resonance.require_text('p_reactor_id', p_reactor_id);
    PERFORM resonance.require_text('p_author_id', p_author_id);
    PERFORM resonance.require_text('p_message_id', p_message_id);
    PERFORM resonance.require_text('p_emoji', p_emoji);
    IF p_reactor_id = p_author_id THEN
        -- Still an unknown server raises and an inactive one answers inactive.
        SELECT * INTO v_open FROM resonance.open_event(p_server_id, NULL, NULL, '{}', v_at);
        RETURN jsonb_build_object(
            'status', coalesce(v_open.status, 'ignored'), 'amount', 0, 'rules', '[]'::jsonb
        ) || CASE WHEN v_open.status IS NULL THEN '{"reason": "self_reaction"}'::jsonb ELSE '{}'::jsonb END;
    END IF;

    -- Both members are serialised (their rows in id order: no deadlock between opposite reactions).
    SELECT * INTO v_open FROM resonance.open_event(
        p_server_id, 'reaction', p_message_id || ':' || p_reactor_id || ':' || p_emoji, ARRAY[p_reactor_id, p_author_id], v_at
    );
    IF v_open.status IS NOT NULL THEN
        RETURN jsonb_build_object('status', v_open.status, 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    INSERT INTO resonance.message_reactors (server_id, message_id, reactor_id, occurred_at)
    VALUES (p_server_id, p_message_id, p_reactor_id, v_at)
    ON CONFLICT DO NOTHING;
    v_new_reactor := FOUND;
    IF v_new_reactor THEN
        INSERT INTO resonance.message_reaction_counts AS mc (server_id, message_id, author_id, unique_reactors)
        VALUES (p_server_id, p_message_id, p_author_id, 1)
        ON CONFLICT (server_id, message_id) DO UPDATE SET unique_reactors = mc.unique_reactors + 1
        RETURNING mc.unique_reactors INTO v_unique;
    ELSE
        SELECT mc.unique_reactors INTO v_unique
        FROM resonance.message_reaction_counts AS mc
        WHERE mc.server_id = p_server_id AND mc.message_id = p_message_id;
    END IF;

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT * FROM resonance.event_rules(
            p_server_id, v_open.brand_id,
            ARRAY['reaction', 'reaction_given', 'reaction_received', 'reaction_threshold', 'reaction_count'], ARRAY['reaction_count']
        )
    LOOP
        v_trigger := resonance.rule_trigger(v_rule);
        v_results := v_results || jsonb_build_array(CASE
            WHEN NOT resonance.rule_channel_ok(v_rule, p_channel_id, p_channel_name) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            )
            WHEN v_trigger = 'reaction_count'
                AND (NOT v_new_reactor OR v_unique < greatest(coalesce((v_rule.detection_config ->> 'min_reactions')::integer, 1), 1))
                THEN jsonb_build_object(
                    'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'reaction_count',
                    'unique_reactors', v_unique, 'amount', 0, 'member', p_author_id
                )
            -- The author is paid once per message (source message:rule); the reactor's roles are not the author's.
            WHEN v_trigger = 'reaction_count' THEN resonance.decide_rule(
                v_rule, p_server_id, p_author_id, p_message_id || ':' || v_rule.id::text, v_at, '{}'::jsonb, NULL,
                jsonb_build_object('message_id', p_message_id, 'unique_reactors', v_unique)
            ) || jsonb_build_object('member', p_author_id, 'unique_reactors', v_unique)
            WHEN v_rule.event_type = 'reaction_received' AND NOT v_new_reactor THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched',
                'reason', 'same_reactor', 'amount', 0, 'member', p_author_id
            )
            WHEN v_rule.event_type = 'reaction_received' THEN resonance.decide_rule(
                v_rule, p_server_id, p_author_id, p_message_id || ':' || p_reactor_id || ':' || v_rule.id::text, v_at,
                '{}'::jsonb, NULL, jsonb_build_object('message_id', p_message_id, 'reactor_id', p_reactor_id)
            ) || jsonb_build_object('member', p_author_id)
            -- reaction / reaction_given: the reactor, once per message.
            ELSE resonance.decide_rule(
                v_rule, p_server_id, p_reactor_id, p_message_id || ':' || p_reactor_id || ':' || v_rule.id::text, v_at,
                v_effects, NULL, jsonb_build_object('message_id', p_message_id, 'emoji', p_emoji)
            ) || jsonb_build_object('member', p_reactor_id)
        END);
    END LOOP;

    -- Giving a reaction is the reactor's action; receiving one is not the author's.
    v_closed := resonance.close_event(
        p_server_id, v_open.brand_id, v_at, v_results,
        jsonb_build_array(
            jsonb_build_object('user_id', p_reactor_id, 'reactions_given', 1, 'actions', 1),
            jsonb_build_object('user_id', p_author_id, 'reactions_received', 1)
        )
    );
    v_total := (v_closed ->> 'amount')::numeric;
    v_paid := (v_closed ->> 'paid')::integer;

    -- A reaction drop on this message and emoji is claimed by the reactor: decided last (the drop
    -- row is locked until this transaction commits), then paid at once (resonance.pay_drop_claim).
    v_drop := resonance.claim_reaction_drop(p_server_id, p_message_id, p_emoji, p_reactor_id, p_role_ids, v_at);
    IF v_drop ->> 'status' = 'claimed' THEN
        v_drop := v_drop || jsonb_build_object(
            'payment', resonance.pay_drop_claim((v_drop ->> 'claim_id')::uuid)
        );
        v_paid := v_paid + 1;
        v_total := v_total + coalesce((v_drop ->> 'amount')::numeric, 0);
    END IF;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_paid > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_total, 'rules', v_closed -> 'rules', 'unique_reactors', v_unique
    ) || CASE WHEN v_drop ->> 'status' = 'no_drop' THEN '{}'::jsonb ELSE jsonb_build_object('drop', v_drop) END;
END;
$$;

COMMENT ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz, text) IS
'One reaction added by p_reactor_id to p_author_id''s message. A self-reaction -> {"status":"ignored","reason":"self_reaction"}; a replay (same message, reactor, emoji) -> duplicate. Counts reactions_count (reactor: an action) and reactions_received (author: not an action) in stats and daily activity, and unique reactors per message. Rules: reaction_count trigger (event_type reaction_threshold|reaction_count or detection_config.trigger reaction_count) pays the AUTHOR once per message when unique reactors reach min_reactions; reaction_received pays the author once per unique reactor; reaction/reaction_given pay the REACTOR once per message, with the reactor''s role effects (the author''s rules get no role effects: their roles are not passed). Per rule status as in record_message, with "member" (who is paid); channel lists match the id or p_channel_name. A reaction drop on this message and emoji is claimed for the reactor through resonance.claim_reaction_drop and paid at once; its answer is under "drop" (omitted when there is none) and a claim counts as paid. Top status rewarded or recorded; inactive for an inactive server. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_voice(
    p_server_id text,
    p_user_id text,
    p_channel_id text,
    p_session_id text,
    p_minutes integer,
    p_role_ids text[] DEFAULT '{}',
    p_occurred_at timestamptz DEFAULT NULL,
    p_channel_name text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_open record;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_results jsonb := '[]'::jsonb;
    v_closed jsonb;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_session_id', p_session_id);
    IF p_minutes IS NULL OR p_minutes < 0 OR p_minutes > 1440 THEN
        RAISE EXCEPTION 'voice minutes must be between 0 and 1440, got %', p_minutes USING ERRCODE = 'RS302';
    END IF;
    SELECT * INTO v_open FROM resonance.open_event(p_server_id, 'voice', p_session_id, ARRAY[p_user_id], v_at);
    IF v_open.status IS NOT NULL THEN
        RETURN jsonb_build_object('status', v_open.status, 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT * FROM resonance.event_rules(p_server_id, v_open.brand_id, ARRAY['voice', 'voice_minutes', 'voice_session'])
    LOOP
        v_results := v_results || jsonb_build_array(CASE
            WHEN NOT resonance.rule_channel_ok(v_rule, p_channel_id, p_channel_name) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            )
            WHEN p_minutes < greatest(coalesce((v_rule.detection_config ->> 'min_minutes')::integer, 1), 0) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'min_minutes', 'amount', 0
            )
            ELSE resonance.decide_rule(
                v_rule, p_server_id, p_user_id, p_session_id || ':' || v_rule.id::text, v_at, v_effects,
                CASE
                    WHEN coalesce((v_rule.rule_metadata ->> 'per_minute')::boolean, FALSE)
                        THEN coalesce(v_rule.reward_amount, 0) * p_minutes
                    ELSE v_rule.reward_amount
                END,
                jsonb_build_object('session_id', p_session_id, 'minutes', p_minutes)
            )
        END);
    END LOOP;

    v_closed := resonance.close_event(
        p_server_id, v_open.brand_id, v_at, v_results,
        jsonb_build_array(jsonb_build_object(
            'user_id', p_user_id, 'voice_minutes', p_minutes, 'actions', CASE WHEN p_minutes > 0 THEN 1 ELSE 0 END
        ))
    );
    RETURN jsonb_build_object(
        'status', CASE WHEN (v_closed ->> 'paid')::integer > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_closed -> 'amount', 'rules', v_closed -> 'rules', 'minutes', p_minutes
    );
END;
$$;

COMMENT ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz, text) IS
'A finished voice session of p_minutes. Replay of the session id -> duplicate. Adds voice_minutes (stats, daily activity; an action when minutes > 0); rules with event_type voice|voice_minutes|voice_session pay when minutes >= detection_config.min_minutes (default 1): reward_amount once per session, or reward_amount per minute when rule_metadata.per_minute is true; then role effects, cap and cooldown as every rule; channel lists match the id or p_channel_name. Top status rewarded or recorded; inactive for an inactive server. Raises RS001, RS301, RS302 (minutes not within 0..1440).';

REVOKE ALL ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_event(
    p_server_id text,
    p_user_id text,
    p_event_type text,
    p_source_id text,
    p_role_ids text[] DEFAULT '{}',
    p_channel_id text DEFAULT NULL,
    p_payload jsonb DEFAULT '{}'::jsonb,
    p_occurred_at timestamptz DEFAULT NULL,
    p_channel_name text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_open record;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_results jsonb := '[]'::jsonb;
    v_action boolean := FALSE;
    v_closed jsonb;
    v_status text;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_event_type', p_event_type);
    PERFORM resonance.require_text('p_source_id', p_source_id);
    SELECT * INTO v_open FROM resonance.open_event(p_server_id, 'event', p_event_type || ':' || p_source_id, ARRAY[p_user_id], v_at);
    IF v_open.status IS NOT NULL THEN
        RETURN jsonb_build_object('status', v_open.status, 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN SELECT * FROM resonance.event_rules(p_server_id, v_open.brand_id, ARRAY[p_event_type]) LOOP
        -- A custom event is an action when one of its rules says so (rule_metadata.is_action).
        v_action := v_action OR coalesce((v_rule.rule_metadata ->> 'is_action')::boolean, FALSE);
        v_results := v_results || jsonb_build_array(CASE
            WHEN NOT resonance.rule_channel_ok(v_rule, p_channel_id, p_channel_name) THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            )
            WHEN p_payload ? 'content' AND NOT resonance.content_matches(v_rule, p_payload ->> 'content') THEN jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched',
                'reason', resonance.rule_trigger(v_rule), 'amount', 0
            )
            ELSE resonance.decide_rule(
                v_rule, p_server_id, p_user_id, p_source_id || ':' || v_rule.id::text, v_at, v_effects, NULL,
                jsonb_build_object('source_id', p_source_id, 'payload', p_payload)
            )
        END);
    END LOOP;

    v_closed := resonance.close_event(
        p_server_id, v_open.brand_id, v_at, v_results,
        jsonb_build_array(jsonb_build_object('user_id', p_user_id, 'actions', CASE WHEN v_action THEN 1 ELSE 0 END))
    );

    IF (v_closed ->> 'paid')::integer > 0 THEN
        v_status := 'rewarded';
    ELSIF jsonb_array_length(v_results) > 0 THEN
        v_status := v_closed -> 'rules' -> 0 ->> 'status';
    ELSIF EXISTS (
        SELECT FROM public.monitoring_rules AS r
        WHERE (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_open.brand_id))
            AND r.event_type = p_event_type
    ) THEN
        v_status := 'disabled';
    ELSE
        v_status := 'no_rule';
    END IF;

    RETURN jsonb_build_object('status', v_status, 'amount', v_closed -> 'amount', 'rules', v_closed -> 'rules');
END;
$$;

COMMENT ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz, text) IS
'Any other event (custom events, /reward buttons): every enabled rule with this event_type (the server''s, or the brand''s when the server has none enabled), in rule id order, with channel constraints (p_channel_id or p_channel_name) and, when p_payload has "content", the keyword/min_length trigger. The event is an action (activity, DAU) only when one of its rules has rule_metadata.is_action true. Replay of (event_type, source id) -> duplicate. Top status: rewarded (a rule paid), else the first rule''s status (cooldown, cap_reached, no_access, not_matched, duplicate), disabled (only disabled rules exist), no_rule, inactive (the server is not active). Ledger source id: source_id:rule_id. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.daily_checkin(
    p_server_id text,
    p_user_id text,
    p_role_ids text[] DEFAULT '{}',
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_day date := (coalesce(p_at, now()) AT TIME ZONE 'UTC')::date;
    v_open record;
    v_current integer;
    v_longest integer;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_bonus numeric;
    v_results jsonb := '[]'::jsonb;
    v_closed jsonb;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    -- No replay key: the streak upsert below is the check-in's exactly-once guard.
    SELECT * INTO v_open FROM resonance.open_event(p_server_id, NULL, NULL, ARRAY[p_user_id], v_at);
    IF v_open.status IS NOT NULL THEN
        RETURN jsonb_build_object('status', v_open.status, 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    -- One guarded upsert: same UTC day (or an older day replayed) changes nothing.
    INSERT INTO public.discord_user_streaks AS s (server_id, discord_user_id, current_streak, longest_streak, last_checkin)
    VALUES (p_server_id, p_user_id, 1, 1, v_at)
    ON CONFLICT (server_id, discord_user_id) DO UPDATE
    SET current_streak = CASE WHEN (s.last_checkin AT TIME ZONE 'UTC')::date = v_day - 1 THEN s.current_streak + 1 ELSE 1 END,
        longest_streak = greatest(
            s.longest_streak,
            CASE WHEN (s.last_checkin AT TIME ZONE 'UTC')::date = v_day - 1 THEN s.current_streak + 1 ELSE 1 END
        ),
        last_checkin = excluded.last_checkin
    WHERE s.last_checkin IS NULL OR (s.last_checkin AT TIME ZONE 'UTC')::date < v_day
    RETURNING s.current_streak, s.longest_streak INTO v_current, v_longest;

    IF v_current IS NULL THEN
        SELECT s.current_streak, s.longest_streak INTO v_current, v_longest
        FROM public.discord_user_streaks AS s
        WHERE s.server_id = p_server_id AND s.discord_user_id = p_user_id;
        RETURN jsonb_build_object(
            'status', 'already_checked_in', 'amount', 0, 'current_streak', v_current, 'longest_streak', v_longest,
            'day', v_day, 'rules', '[]'::jsonb
        );
    END IF;

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN SELECT * FROM resonance.event_rules(p_server_id, v_open.brand_id, ARRAY['daily_checkin', 'checkin']) LOOP
        -- Streak bonus: rule_metadata.streak_bonus = {"per_day": n, "max": m} (or a number per day),
        -- n for every day past the first, at most m.
        v_bonus := CASE jsonb_typeof(v_rule.rule_metadata -> 'streak_bonus')
            WHEN 'number' THEN (v_rule.rule_metadata ->> 'streak_bonus')::numeric * (v_current - 1)
            WHEN 'object' THEN least(
                coalesce((v_rule.rule_metadata -> 'streak_bonus' ->> 'per_day')::numeric, 0) * (v_current - 1),
                coalesce((v_rule.rule_metadata -> 'streak_bonus' ->> 'max')::numeric, 'Infinity'::numeric)
            )
            ELSE 0
        END;
        v_results := v_results || jsonb_build_array(resonance.decide_rule(
            v_rule, p_server_id, p_user_id, p_user_id || ':' || v_day::text || ':' || v_rule.id::text, v_at, v_effects,
            coalesce(v_rule.reward_amount, 0) + v_bonus,
            jsonb_build_object('day', v_day, 'streak', v_current, 'streak_bonus', v_bonus)
        ) || jsonb_build_object('streak_bonus', v_bonus));
    END LOOP;

    v_closed := resonance.close_event(
        p_server_id, v_open.brand_id, v_at, v_results,
        jsonb_build_array(jsonb_build_object('user_id', p_user_id, 'checkins', 1, 'actions', 1))
    );
    RETURN jsonb_build_object(
        'status', 'checked_in', 'amount', v_closed -> 'amount', 'current_streak', v_current, 'longest_streak', v_longest,
        'day', v_day, 'rules', v_closed -> 'rules'
    );
END;
$$;

COMMENT ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) IS
'Daily check-in in UTC days, decided by one guarded upsert on discord_user_streaks: first ever or next day after the last -> current_streak + 1 (first: 1); a missed day -> 1; longest_streak keeps the best; same day (or an older day replayed) -> {"status":"already_checked_in"} and nothing changes. Then each enabled daily_checkin rule pays reward_amount + streak bonus (rule_metadata.streak_bonus: a number per day past the first, or {"per_day":n,"max":m}), with role effects, cap and cooldown; ledger source id user:day:rule. Returns {"status":"checked_in","amount","current_streak","longest_streak","day","rules"}; {"status":"inactive"} for an inactive server. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_messages(p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_item jsonb;
    v_out jsonb := '[]'::jsonb;
BEGIN
    IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'p_events must be a JSON array of messages' USING ERRCODE = 'RS310';
    END IF;
    -- Every member of the batch locked up front, in (server, member) order: two batches (or a batch
    -- and single events) never wait on each other in opposite orders. Items then run in order.
    INSERT INTO public.discord_user_stats AS st (server_id, discord_user_id)
    SELECT DISTINCT s.server_id, e.value ->> 'user_id'
    FROM jsonb_array_elements(p_events) AS e
    INNER JOIN public.discord_server_configs AS s ON s.server_id = e.value ->> 'server_id' AND s.is_active
    WHERE btrim(coalesce(e.value ->> 'user_id', '')) <> ''
    ORDER BY 1, 2
    ON CONFLICT (server_id, discord_user_id) DO UPDATE SET updated_at = st.updated_at WHERE FALSE;
    FOR v_item IN SELECT e.value FROM jsonb_array_elements(p_events) AS e LOOP
        v_out := v_out || jsonb_build_array(resonance.record_message(
            v_item ->> 'server_id', v_item ->> 'user_id', v_item ->> 'channel_id', v_item ->> 'message_id',
            v_item ->> 'content',
            coalesce(ARRAY(SELECT jsonb_array_elements_text(v_item -> 'role_ids')), '{}'::text[]),
            v_item ->> 'reply_to_user_id', (v_item ->> 'occurred_at')::timestamptz, v_item ->> 'channel_name'
        ));
    END LOOP;
    RETURN v_out;
END;
$$;

COMMENT ON FUNCTION resonance.record_messages(jsonb) IS
'A burst of messages in one call and one transaction: p_events is a JSON array of {server_id, user_id, channel_id, message_id, content, role_ids, reply_to_user_id, occurred_at, channel_name}; locks every member of the batch first, in (server, member) order (no deadlock between concurrent batches), then returns the array of resonance.record_message answers in the same order (same statuses and exactly-once keys as one call each: a replayed message id is duplicate). A bad item (RS001, RS301) raises for the whole batch and nothing of it is recorded; the caller then sends the items one by one. Raises RS310 when p_events is not an array.';

REVOKE ALL ON FUNCTION resonance.record_messages(jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_messages(jsonb) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_reactions(p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_item jsonb;
    v_out jsonb := '[]'::jsonb;
BEGIN
    IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'p_events must be a JSON array of reactions' USING ERRCODE = 'RS310';
    END IF;
    -- Every reactor and author of the batch locked up front, in (server, member) order.
    INSERT INTO public.discord_user_stats AS st (server_id, discord_user_id)
    SELECT DISTINCT s.server_id, m.id
    FROM jsonb_array_elements(p_events) AS e
    INNER JOIN public.discord_server_configs AS s ON s.server_id = e.value ->> 'server_id' AND s.is_active
    CROSS JOIN LATERAL (VALUES (e.value ->> 'reactor_id'), (e.value ->> 'author_id')) AS m (id)
    WHERE btrim(coalesce(m.id, '')) <> '' AND e.value ->> 'reactor_id' IS DISTINCT FROM e.value ->> 'author_id'
    ORDER BY 1, 2
    ON CONFLICT (server_id, discord_user_id) DO UPDATE SET updated_at = st.updated_at WHERE FALSE;
    FOR v_item IN SELECT e.value FROM jsonb_array_elements(p_events) AS e LOOP
        v_out := v_out || jsonb_build_array(resonance.record_reaction(
            v_item ->> 'server_id', v_item ->> 'reactor_id', v_item ->> 'author_id', v_item ->> 'channel_id',
            v_item ->> 'message_id', v_item ->> 'emoji',
            coalesce(ARRAY(SELECT jsonb_array_elements_text(v_item -> 'role_ids')), '{}'::text[]),
            (v_item ->> 'occurred_at')::timestamptz, v_item ->> 'channel_name'
        ));
    END LOOP;
    RETURN v_out;
END;
$$;

COMMENT ON FUNCTION resonance.record_reactions(jsonb) IS
'A burst of reactions in one call and one transaction: p_events is a JSON array of {server_id, reactor_id, author_id, channel_id, message_id, emoji, role_ids, occurred_at, channel_name}; locks every reactor and author first, in (server, member) order, then returns the array of resonance.record_reaction answers in the same order (same statuses and exactly-once keys as one call each). A bad item raises for the whole batch and nothing of it is recorded. Raises RS310 when p_events is not an array.';

REVOKE ALL ON FUNCTION resonance.record_reactions(jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_reactions(jsonb) TO service_role;
