-- The event functions: one call per Discord event, one transaction, replay-safe.
-- Each returns {"status", "amount" (total paid), "rules": [{rule_id, event_type, status, amount, ...}]}.

CREATE OR REPLACE FUNCTION resonance.record_message(
    p_server_id text,
    p_user_id text,
    p_channel_id text,
    p_message_id text,
    p_content text,
    p_role_ids text[] DEFAULT '{}',
    p_reply_to_user_id text DEFAULT NULL,
    p_occurred_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
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
    v_result jsonb;
    v_results jsonb := '[]'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_message_id', p_message_id);
    v_brand_id := resonance.active_server_brand(p_server_id);
    IF v_brand_id IS NULL THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
    VALUES (p_server_id, 'message', p_message_id, p_user_id, v_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    -- One member's messages are decided one at a time (anti-farming compares with the previous ones).
    PERFORM pg_advisory_xact_lock(hashtextextended('resonance.member:' || p_server_id || ':' || p_user_id, 0));

    SELECT coalesce(s.config_metadata -> 'anti_farming', '{}'::jsonb) INTO v_config
    FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
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
        -- A farmed message counts for nothing: activity time only.
        PERFORM resonance.touch_member(p_server_id, p_user_id, v_at);
        RETURN jsonb_build_object(
            'status', 'farmed', 'reason', v_reason, 'amount', 0, 'rules', '[]'::jsonb,
            'words', v_words, 'min_words', v_min_words, 'similarity', v_best, 'similarity_threshold', v_similarity
        );
    END IF;

    PERFORM resonance.touch_member(p_server_id, p_user_id, v_at, p_messages => 1);

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT r.*
        FROM public.monitoring_rules AS r
        WHERE r.is_enabled
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND (
                r.event_type IN ('channel_message', 'message', 'message_quality', 'min_length', 'keyword')
                OR r.detection_config ->> 'trigger' IN ('keyword', 'min_length')
            )
            AND resonance.rule_trigger(r) IN ('keyword', 'min_length', 'channel')
        ORDER BY r.id
    LOOP
        IF NOT resonance.rule_channel_ok(v_rule, p_channel_id) THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            );
        ELSIF NOT resonance.content_matches(v_rule, v_content) THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched',
                'reason', resonance.rule_trigger(v_rule), 'amount', 0
            );
        ELSE
            v_result := resonance.pay_rule(
                v_rule, p_server_id, p_user_id, p_message_id || ':' || v_rule.id::text, v_at, v_effects, NULL,
                jsonb_build_object('message_id', p_message_id, 'channel_id', p_channel_id)
            );
        END IF;
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
            v_total := v_total + (v_result ->> 'amount')::numeric;
        END IF;
        v_results := v_results || jsonb_build_array(v_result);
    END LOOP;

    IF v_paid = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_user_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);
    END IF;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_paid > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_total, 'rules', v_results, 'words', v_words
    );
END;
$$;

COMMENT ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz) IS
'One Discord message. Replay of the same message id -> {"status":"duplicate"} and nothing changes. Anti-farming (discord_server_configs.config_metadata.anti_farming: min_words default 0, similarity default 0.9, window_minutes default 30, enabled default true): fewer words than min_words -> {"status":"farmed","reason":"too_short"}; pg_trgm similarity >= threshold to one of the member''s last 20 messages in the window -> {"status":"farmed","reason":"similar"}; a farmed message earns nothing and is not counted. Otherwise messages_count +1 (stats and daily activity) and every enabled message rule of the server or its brand (event_type channel_message|message|message_quality|min_length|keyword, or a keyword/min_length trigger) is evaluated in rule id order: per rule status not_matched (channel or trigger), no_access, cap_reached, cooldown, rewarded, duplicate. Top status: rewarded (something paid) or recorded. Ledger source id: message_id:rule_id. p_reply_to_user_id is accepted for the bot''s analytics and not used by rules. An inactive server (is_active false) -> {"status":"inactive"}, nothing counted. Raises RS001 (unknown server), RS301 (missing user or message id).';

REVOKE ALL ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_message(text, text, text, text, text, text[], text, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_reaction(
    p_server_id text,
    p_reactor_id text,
    p_author_id text,
    p_channel_id text,
    p_message_id text,
    p_emoji text,
    p_role_ids text[] DEFAULT '{}',
    p_occurred_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_new_reactor boolean := FALSE;
    v_unique integer;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_trigger text;
    v_result jsonb;
    v_results jsonb := '[]'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
    v_paid_reactor integer := 0;
    v_paid_author integer := 0;
    v_drop jsonb;
BEGIN
    PERFORM resonance.require_text('p_reactor_id', p_reactor_id);
    PERFORM resonance.require_text('p_author_id', p_author_id);
    PERFORM resonance.require_text('p_message_id', p_message_id);
    PERFORM resonance.require_text('p_emoji', p_emoji);
    v_brand_id := resonance.active_server_brand(p_server_id);
    IF v_brand_id IS NULL THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    IF p_reactor_id = p_author_id THEN
        RETURN jsonb_build_object('status', 'ignored', 'reason', 'self_reaction', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
    VALUES (p_server_id, 'reaction', p_message_id || ':' || p_reactor_id || ':' || p_emoji, p_reactor_id, v_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    -- Both members' rows, in a fixed order (no deadlock between opposite reactions).
    IF p_reactor_id < p_author_id THEN
        PERFORM resonance.touch_member(p_server_id, p_reactor_id, v_at, p_reactions_given => 1);
        PERFORM resonance.touch_member(p_server_id, p_author_id, v_at, p_reactions_received => 1);
    ELSE
        PERFORM resonance.touch_member(p_server_id, p_author_id, v_at, p_reactions_received => 1);
        PERFORM resonance.touch_member(p_server_id, p_reactor_id, v_at, p_reactions_given => 1);
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
        SELECT r.*
        FROM public.monitoring_rules AS r
        WHERE r.is_enabled
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND (
                r.event_type IN ('reaction', 'reaction_given', 'reaction_received', 'reaction_threshold', 'reaction_count')
                OR r.detection_config ->> 'trigger' = 'reaction_count'
            )
        ORDER BY r.id
    LOOP
        v_trigger := resonance.rule_trigger(v_rule);
        v_result := NULL;
        IF NOT resonance.rule_channel_ok(v_rule, p_channel_id) THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            );
        ELSIF v_trigger = 'reaction_count' THEN
            IF NOT v_new_reactor
                OR v_unique < greatest(coalesce((v_rule.detection_config ->> 'min_reactions')::integer, 1), 1) THEN
                v_result := jsonb_build_object(
                    'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'reaction_count',
                    'unique_reactors', v_unique, 'amount', 0, 'member', p_author_id
                );
            ELSE
                -- The author is paid once per message (source message:rule); the reactor's roles are not the author's.
                v_result := resonance.pay_rule(
                    v_rule, p_server_id, p_author_id, p_message_id || ':' || v_rule.id::text, v_at, '{}'::jsonb, NULL,
                    jsonb_build_object('message_id', p_message_id, 'unique_reactors', v_unique)
                ) || jsonb_build_object('member', p_author_id, 'unique_reactors', v_unique);
            END IF;
        ELSIF v_rule.event_type = 'reaction_received' THEN
            IF NOT v_new_reactor THEN
                v_result := jsonb_build_object(
                    'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched',
                    'reason', 'same_reactor', 'amount', 0, 'member', p_author_id
                );
            ELSE
                v_result := resonance.pay_rule(
                    v_rule, p_server_id, p_author_id, p_message_id || ':' || p_reactor_id || ':' || v_rule.id::text, v_at,
                    '{}'::jsonb, NULL, jsonb_build_object('message_id', p_message_id, 'reactor_id', p_reactor_id)
                ) || jsonb_build_object('member', p_author_id);
            END IF;
        ELSE
            -- reaction / reaction_given: the reactor, once per message.
            v_result := resonance.pay_rule(
                v_rule, p_server_id, p_reactor_id, p_message_id || ':' || p_reactor_id || ':' || v_rule.id::text, v_at,
                v_effects, NULL, jsonb_build_object('message_id', p_message_id, 'emoji', p_emoji)
            ) || jsonb_build_object('member', p_reactor_id);
        END IF;
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
            v_total := v_total + (v_result ->> 'amount')::numeric;
            IF v_result ->> 'member' = p_author_id THEN
                v_paid_author := v_paid_author + 1;
            ELSE
                v_paid_reactor := v_paid_reactor + 1;
            END IF;
        END IF;
        v_results := v_results || jsonb_build_array(v_result);
    END LOOP;

    -- A reaction drop on this message and emoji is claimed by the reactor (drops: resonance.claim_drop).
    v_drop := resonance.claim_reaction_drop(p_server_id, p_message_id, p_emoji, p_reactor_id, p_role_ids, v_at);
    IF v_drop ->> 'status' = 'claimed' THEN
        v_paid := v_paid + 1;
        v_paid_reactor := v_paid_reactor + 1;
        v_total := v_total + coalesce((v_drop ->> 'amount')::numeric, 0);
    END IF;

    IF v_paid_reactor = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_reactor_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_reactor_id, v_at);
    END IF;
    IF v_paid_author = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_author_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_author_id, v_at);
    END IF;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_paid > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_total, 'rules', v_results, 'unique_reactors', v_unique
    ) || CASE WHEN v_drop ->> 'status' = 'no_drop' THEN '{}'::jsonb ELSE jsonb_build_object('drop', v_drop) END;
END;
$$;

COMMENT ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz) IS
'One reaction added by p_reactor_id to p_author_id''s message. A self-reaction -> {"status":"ignored","reason":"self_reaction"}; a replay (same message, reactor, emoji) -> duplicate. Counts reactions_count (reactor) and reactions_received (author) in stats and daily activity, and unique reactors per message. Rules: reaction_count trigger (event_type reaction_threshold|reaction_count or detection_config.trigger reaction_count) pays the AUTHOR once per message when unique reactors reach min_reactions; reaction_received pays the author once per unique reactor; reaction/reaction_given pay the REACTOR once per message, with the reactor''s role effects (the author''s rules get no role effects: their roles are not passed). Per rule status as in record_message, with "member" (who is paid). A reaction drop on this message and emoji is claimed for the reactor through resonance.claim_reaction_drop; its answer is under "drop" (omitted when there is none) and a claim counts as paid. Top status rewarded or recorded; inactive for an inactive server. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_reaction(text, text, text, text, text, text, text[], timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_voice(
    p_server_id text,
    p_user_id text,
    p_channel_id text,
    p_session_id text,
    p_minutes integer,
    p_role_ids text[] DEFAULT '{}',
    p_occurred_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_min integer;
    v_result jsonb;
    v_results jsonb := '[]'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_session_id', p_session_id);
    IF p_minutes IS NULL OR p_minutes < 0 OR p_minutes > 1440 THEN
        RAISE EXCEPTION 'voice minutes must be between 0 and 1440, got %', p_minutes USING ERRCODE = 'RS302';
    END IF;
    v_brand_id := resonance.active_server_brand(p_server_id);
    IF v_brand_id IS NULL THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
    VALUES (p_server_id, 'voice', p_session_id, p_user_id, v_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    PERFORM resonance.touch_member(p_server_id, p_user_id, v_at, p_voice_minutes => p_minutes);

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT r.*
        FROM public.monitoring_rules AS r
        WHERE r.is_enabled
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND r.event_type IN ('voice', 'voice_minutes', 'voice_session')
        ORDER BY r.id
    LOOP
        v_min := greatest(coalesce((v_rule.detection_config ->> 'min_minutes')::integer, 1), 0);
        IF NOT resonance.rule_channel_ok(v_rule, p_channel_id) THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            );
        ELSIF p_minutes < v_min THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'min_minutes', 'amount', 0
            );
        ELSE
            v_result := resonance.pay_rule(
                v_rule, p_server_id, p_user_id, p_session_id || ':' || v_rule.id::text, v_at, v_effects,
                CASE
                    WHEN coalesce((v_rule.rule_metadata ->> 'per_minute')::boolean, FALSE)
                        THEN coalesce(v_rule.reward_amount, 0) * p_minutes
                    ELSE v_rule.reward_amount
                END,
                jsonb_build_object('session_id', p_session_id, 'minutes', p_minutes)
            );
        END IF;
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
            v_total := v_total + (v_result ->> 'amount')::numeric;
        END IF;
        v_results := v_results || jsonb_build_array(v_result);
    END LOOP;

    IF v_paid = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_user_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);
    END IF;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_paid > 0 THEN 'rewarded' ELSE 'recorded' END,
        'amount', v_total, 'rules', v_results, 'minutes', p_minutes
    );
END;
$$;

COMMENT ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz) IS
'A finished voice session of p_minutes. Replay of the session id -> duplicate. Adds voice_minutes (stats, daily activity); rules with event_type voice|voice_minutes|voice_session pay when minutes >= detection_config.min_minutes (default 1): reward_amount once per session, or reward_amount per minute when rule_metadata.per_minute is true; then role effects, cap and cooldown as every rule. Top status rewarded or recorded; inactive for an inactive server. Raises RS001, RS301, RS302 (minutes not within 0..1440).';

REVOKE ALL ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_voice(text, text, text, text, integer, text[], timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.record_event(
    p_server_id text,
    p_user_id text,
    p_event_type text,
    p_source_id text,
    p_role_ids text[] DEFAULT '{}',
    p_channel_id text DEFAULT NULL,
    p_payload jsonb DEFAULT '{}'::jsonb,
    p_occurred_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_result jsonb;
    v_results jsonb := '[]'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
    v_status text;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_event_type', p_event_type);
    PERFORM resonance.require_text('p_source_id', p_source_id);
    v_brand_id := resonance.active_server_brand(p_server_id);
    IF v_brand_id IS NULL THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
    VALUES (p_server_id, 'event', p_event_type || ':' || p_source_id, p_user_id, v_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0, 'rules', '[]'::jsonb);
    END IF;

    PERFORM resonance.touch_member(p_server_id, p_user_id, v_at);

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT r.*
        FROM public.monitoring_rules AS r
        WHERE r.is_enabled
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND r.event_type = p_event_type
        ORDER BY r.id
    LOOP
        IF NOT resonance.rule_channel_ok(v_rule, p_channel_id) THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched', 'reason', 'channel', 'amount', 0
            );
        ELSIF p_payload ? 'content' AND NOT resonance.content_matches(v_rule, p_payload ->> 'content') THEN
            v_result := jsonb_build_object(
                'rule_id', v_rule.id, 'event_type', v_rule.event_type, 'status', 'not_matched',
                'reason', resonance.rule_trigger(v_rule), 'amount', 0
            );
        ELSE
            v_result := resonance.pay_rule(
                v_rule, p_server_id, p_user_id, p_source_id || ':' || v_rule.id::text, v_at, v_effects, NULL,
                jsonb_build_object('source_id', p_source_id, 'payload', p_payload)
            );
        END IF;
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
            v_total := v_total + (v_result ->> 'amount')::numeric;
        END IF;
        v_results := v_results || jsonb_build_array(v_result);
    END LOOP;

    IF v_paid > 0 THEN
        v_status := 'rewarded';
    ELSIF jsonb_array_length(v_results) > 0 THEN
        v_status := v_results -> 0 ->> 'status';
    ELSIF EXISTS (
        SELECT FROM public.monitoring_rules AS r
        WHERE (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND r.event_type = p_event_type
    ) THEN
        v_status := 'disabled';
    ELSE
        v_status := 'no_rule';
    END IF;

    IF v_paid = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_user_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);
    END IF;

    RETURN jsonb_build_object('status', v_status, 'amount', v_total, 'rules', v_results);
END;
$$;

COMMENT ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz) IS
'Any other event (custom events, /reward buttons): every enabled rule of the server or brand with this event_type, in rule id order, with channel constraints (p_channel_id) and, when p_payload has "content", the keyword/min_length trigger. Replay of (event_type, source id) -> duplicate. Top status: rewarded (a rule paid), else the first rule''s status (cooldown, cap_reached, no_access, not_matched, duplicate), disabled (only disabled rules exist), no_rule, inactive (the server is not active). Ledger source id: source_id:rule_id. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.record_event(text, text, text, text, text[], text, jsonb, timestamptz) TO service_role;


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
    v_brand_id text;
    v_current integer;
    v_longest integer;
    v_effects jsonb;
    v_rule public.monitoring_rules;
    v_bonus numeric;
    v_result jsonb;
    v_results jsonb := '[]'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
BEGIN
    PERFORM resonance.require_text('p_user_id', p_user_id);
    v_brand_id := resonance.active_server_brand(p_server_id);
    IF v_brand_id IS NULL THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0, 'rules', '[]'::jsonb);
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

    PERFORM resonance.touch_member(p_server_id, p_user_id, v_at, p_checkins => 1);

    v_effects := resonance.role_effects(p_server_id, p_role_ids);
    FOR v_rule IN
        SELECT r.*
        FROM public.monitoring_rules AS r
        WHERE r.is_enabled
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id))
            AND r.event_type IN ('daily_checkin', 'checkin')
        ORDER BY r.id
    LOOP
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
        v_result := resonance.pay_rule(
            v_rule, p_server_id, p_user_id, p_user_id || ':' || v_day::text || ':' || v_rule.id::text, v_at, v_effects,
            coalesce(v_rule.reward_amount, 0) + v_bonus,
            jsonb_build_object('day', v_day, 'streak', v_current, 'streak_bonus', v_bonus)
        ) || jsonb_build_object('streak_bonus', v_bonus);
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
            v_total := v_total + (v_result ->> 'amount')::numeric;
        END IF;
        v_results := v_results || jsonb_build_array(v_result);
    END LOOP;

    IF v_paid = 0 THEN
        PERFORM resonance.evaluate_progress(p_server_id, p_user_id, v_at);
        PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);
    END IF;

    RETURN jsonb_build_object(
        'status', 'checked_in', 'amount', v_total, 'current_streak', v_current, 'longest_streak', v_longest,
        'day', v_day, 'rules', v_results
    );
END;
$$;

COMMENT ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) IS
'Daily check-in in UTC days, decided by one guarded upsert on discord_user_streaks: first ever or next day after the last -> current_streak + 1 (first: 1); a missed day -> 1; longest_streak keeps the best; same day (or an older day replayed) -> {"status":"already_checked_in"} and nothing changes. Then each enabled daily_checkin rule pays reward_amount + streak bonus (rule_metadata.streak_bonus: a number per day past the first, or {"per_day":n,"max":m}), with role effects, cap and cooldown; ledger source id user:day:rule. Returns {"status":"checked_in","amount","current_streak","longest_streak","day","rules"}; {"status":"inactive"} for an inactive server. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.daily_checkin(text, text, text[], timestamptz) TO service_role;
