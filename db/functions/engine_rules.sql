-- Rule evaluation shared by every event function: role effects, channel and trigger matching,
-- and paying one rule (access, cap, cooldown, amount, apply_reward).

CREATE OR REPLACE FUNCTION resonance.role_effects(p_server_id text, p_role_ids text[])
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_effects jsonb;
BEGIN
    -- No roles passed (most events): the neutral effects, without a query.
    IF coalesce(cardinality(p_role_ids), 0) = 0 THEN
        RETURN jsonb_build_object(
            'multiplier', 1, 'bonus_flat', 0, 'cooldown_reduction', 0, 'event_access_all', FALSE,
            'event_access', '[]'::jsonb, 'roles', '[]'::jsonb
        );
    END IF;
    SELECT jsonb_build_object(
        'multiplier', coalesce(max((rc.effect_config ->> 'value')::numeric) FILTER (WHERE rc.effect_type = 'multiplier'), 1),
        'bonus_flat', coalesce(sum((rc.effect_config ->> 'value')::numeric) FILTER (WHERE rc.effect_type = 'bonus_flat'), 0),
        'cooldown_reduction', least(100, greatest(0, coalesce(
            max((rc.effect_config ->> 'percent')::numeric) FILTER (WHERE rc.effect_type = 'cooldown_reduction'), 0
        ))),
        'event_access_all', coalesce(bool_or(
            rc.effect_type = 'event_access'
            AND coalesce(jsonb_array_length(CASE
                WHEN jsonb_typeof(rc.effect_config -> 'event_types') = 'array' THEN rc.effect_config -> 'event_types'
            END), 0) = 0
        ), FALSE),
        'event_access', coalesce((
            SELECT jsonb_agg(DISTINCT t.value)
            FROM public.discord_role_configs AS a
            CROSS JOIN LATERAL jsonb_array_elements_text(a.effect_config -> 'event_types') AS t (value)
            WHERE a.server_id = p_server_id
                AND a.discord_role_id = ANY(coalesce(p_role_ids, '{}'))
                AND a.is_active
                AND a.effect_type = 'event_access'
                AND jsonb_typeof(a.effect_config -> 'event_types') = 'array'
        ), '[]'::jsonb),
        'roles', coalesce(jsonb_agg(rc.discord_role_id ORDER BY rc.discord_role_id), '[]'::jsonb)
    )
    INTO v_effects
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id
        AND rc.discord_role_id = ANY(coalesce(p_role_ids, '{}'))
        AND rc.is_active
        AND rc.effect_type IN ('multiplier', 'bonus_flat', 'cooldown_reduction', 'event_access');
    RETURN v_effects;
END;
$$;

COMMENT ON FUNCTION resonance.role_effects(text, text[]) IS
'The effects of the roles a member holds (the ids the bot passes), stacked: multiplier = the LARGEST active multiplier (1 when none); bonus_flat = the SUM of active bonus_flat values; cooldown_reduction = the LARGEST percent (0..100); event_access = the union of event_types granted (a role with no event_types list grants every event: event_access_all). Unknown or inactive roles add nothing.';

REVOKE ALL ON FUNCTION resonance.role_effects(text, text[]) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.role_effects(text, text[]) TO service_role;


CREATE OR REPLACE FUNCTION resonance.json_text_list(p_value jsonb)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN jsonb_typeof(p_value) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(p_value))
        WHEN jsonb_typeof(p_value) = 'string' THEN ARRAY[p_value #>> '{}']
    END
$$;

COMMENT ON FUNCTION resonance.json_text_list(jsonb) IS 'A JSON array (or single string) as text[]; NULL for anything else.';

REVOKE ALL ON FUNCTION resonance.json_text_list(jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.json_text_list(jsonb) TO service_role;


CREATE OR REPLACE FUNCTION resonance.rule_channel_ok(p_rule public.monitoring_rules, p_channel_id text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_allowed text[];
    v_excluded text[];
    v_trigger_channels text[];
BEGIN
    -- Most rules have no channel constraint at all: answer without building the lists.
    IF (p_rule.channel_constraints IS NULL OR p_rule.channel_constraints IN ('[]'::jsonb, '{}'::jsonb, 'null'::jsonb))
        AND NOT coalesce(p_rule.detection_config ? 'channels', FALSE) THEN
        RETURN TRUE;
    END IF;
    IF jsonb_typeof(p_rule.channel_constraints) = 'array' THEN
        v_allowed := resonance.json_text_list(p_rule.channel_constraints);
    ELSIF jsonb_typeof(p_rule.channel_constraints) = 'object' THEN
        v_allowed := coalesce(
            resonance.json_text_list(p_rule.channel_constraints -> 'channels'),
            resonance.json_text_list(p_rule.channel_constraints -> 'allowed')
        );
        v_excluded := coalesce(
            resonance.json_text_list(p_rule.channel_constraints -> 'excluded'),
            resonance.json_text_list(p_rule.channel_constraints -> 'blocked')
        );
    END IF;
    v_trigger_channels := resonance.json_text_list(p_rule.detection_config -> 'channels');

    IF p_channel_id IS NOT NULL AND p_channel_id = ANY(coalesce(v_excluded, '{}')) THEN
        RETURN FALSE;
    END IF;
    IF coalesce(cardinality(v_allowed), 0) > 0 AND (p_channel_id IS NULL OR NOT p_channel_id = ANY(v_allowed)) THEN
        RETURN FALSE;
    END IF;
    IF coalesce(cardinality(v_trigger_channels), 0) > 0
        AND (p_channel_id IS NULL OR NOT p_channel_id = ANY(v_trigger_channels)) THEN
        RETURN FALSE;
    END IF;
    RETURN TRUE;
END;
$$;

COMMENT ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text) IS
'Channel constraints of a rule: channel_constraints as an array of channel ids, or {"channels"|"allowed": [...], "excluded"|"blocked": [...]}; detection_config.channels further restricts. An empty list allows every channel; a rule restricted to channels never matches an event without a channel.';

REVOKE ALL ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.rule_trigger(p_rule public.monitoring_rules)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        p_rule.detection_config ->> 'trigger',
        CASE
            WHEN p_rule.detection_method LIKE '%gateway_keyword%' THEN 'keyword'
            WHEN p_rule.detection_method LIKE '%gateway_message_quality%' THEN 'min_length'
            WHEN p_rule.detection_method LIKE '%gateway_reaction%' THEN 'reaction_count'
        END,
        CASE p_rule.event_type
            WHEN 'message_quality' THEN 'min_length'
            WHEN 'min_length' THEN 'min_length'
            WHEN 'keyword' THEN 'keyword'
            WHEN 'reaction_threshold' THEN 'reaction_count'
            WHEN 'reaction_count' THEN 'reaction_count'
        END,
        'channel'
    )
$$;

COMMENT ON FUNCTION resonance.rule_trigger(public.monitoring_rules) IS
'The trigger of a rule: detection_config.trigger, else derived from detection_method (gateway_keyword -> keyword, gateway_message_quality -> min_length, gateway_reaction -> reaction_count), else from event_type (message_quality and min_length -> min_length, keyword, reaction_threshold and reaction_count -> reaction_count), else channel (channel-only).';

REVOKE ALL ON FUNCTION resonance.rule_trigger(public.monitoring_rules) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.rule_trigger(public.monitoring_rules) TO service_role;


CREATE OR REPLACE FUNCTION resonance.content_matches(p_rule public.monitoring_rules, p_content text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_trigger text := resonance.rule_trigger(p_rule);
    v_keyword text;
BEGIN
    IF v_trigger = 'keyword' THEN
        FOREACH v_keyword IN ARRAY coalesce(resonance.json_text_list(p_rule.detection_config -> 'keywords'), '{}') LOOP
            CONTINUE WHEN btrim(v_keyword) = '';
            IF coalesce(p_content, '') ~* (
                '(^|[^[:alnum:]_])'
                || regexp_replace(btrim(v_keyword), '([^[:alnum:][:space:]])', '\\\1', 'g')
                || '($|[^[:alnum:]_])'
            ) THEN
                RETURN TRUE;
            END IF;
        END LOOP;
        RETURN FALSE;
    ELSIF v_trigger = 'min_length' THEN
        RETURN char_length(btrim(coalesce(p_content, ''))) >= coalesce((p_rule.detection_config ->> 'min_length')::integer, 0);
    END IF;
    RETURN TRUE;
END;
$$;

COMMENT ON FUNCTION resonance.content_matches(public.monitoring_rules, text) IS
'Content trigger of a rule: keyword = any keyword as a whole word, case-insensitive (neighbours must not be letters, digits or _); min_length = at least min_length characters after trimming; any other trigger matches.';

REVOKE ALL ON FUNCTION resonance.content_matches(public.monitoring_rules, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.content_matches(public.monitoring_rules, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.pay_rule(
    p_rule public.monitoring_rules,
    p_server_id text,
    p_user_id text,
    p_source_id text,
    p_at timestamptz,
    p_effects jsonb,
    p_base numeric DEFAULT NULL,
    p_details jsonb DEFAULT '{}'::jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_requires_access boolean := coalesce((p_rule.rule_metadata ->> 'requires_event_access')::boolean, FALSE);
    v_period text := coalesce(p_rule.rule_metadata ->> 'claims_period', 'lifetime');
    v_period_start date;
    v_cooldown interval;
    v_base numeric := coalesce(p_base, p_rule.reward_amount, 0);
    v_multiplier numeric := coalesce((p_effects ->> 'multiplier')::numeric, 1);
    v_bonus numeric := coalesce((p_effects ->> 'bonus_flat')::numeric, 0);
    v_amount numeric;
    v_hit integer;
    v_result jsonb;
BEGIN
    IF v_requires_access
        AND NOT coalesce((p_effects ->> 'event_access_all')::boolean, FALSE)
        AND NOT coalesce(p_effects -> 'event_access', '[]'::jsonb) ? p_rule.event_type
        AND NOT coalesce(p_effects -> 'event_access', '[]'::jsonb) ? p_rule.id::text THEN
        RETURN jsonb_build_object('rule_id', p_rule.id, 'event_type', p_rule.event_type, 'status', 'no_access', 'amount', 0);
    END IF;

    -- Cap first (guarded upsert); the cooldown below undoes this claim if it refuses.
    IF p_rule.max_claims_per_user IS NOT NULL THEN
        v_period_start := CASE v_period
            WHEN 'day' THEN (p_at AT TIME ZONE 'UTC')::date
            WHEN 'week' THEN date_trunc('week', p_at AT TIME ZONE 'UTC')::date
            ELSE DATE '1970-01-01'
        END;
        v_hit := NULL;
        INSERT INTO resonance.rule_claims AS c (rule_id, server_id, discord_user_id, period_start, claims)
        VALUES (p_rule.id, p_server_id, p_user_id, v_period_start, 1)
        ON CONFLICT (rule_id, server_id, discord_user_id, period_start) DO UPDATE
        SET claims = c.claims + 1
        WHERE c.claims < p_rule.max_claims_per_user
        RETURNING c.claims INTO v_hit;
        IF v_hit IS NULL THEN
            RETURN jsonb_build_object(
                'rule_id', p_rule.id, 'event_type', p_rule.event_type, 'status', 'cap_reached', 'amount', 0,
                'max_claims', p_rule.max_claims_per_user, 'claims_period', v_period
            );
        END IF;
    END IF;

    -- Cooldown: one guarded upsert decides, even under a burst from many connections.
    IF coalesce(p_rule.cooldown_hours, 0) > 0 THEN
        v_cooldown := make_interval(hours => p_rule.cooldown_hours)
            * (1 - coalesce((p_effects ->> 'cooldown_reduction')::numeric, 0) / 100);
        v_hit := NULL;
        INSERT INTO resonance.rule_cooldowns AS cd (rule_id, server_id, discord_user_id, last_at)
        VALUES (p_rule.id, p_server_id, p_user_id, p_at)
        ON CONFLICT (rule_id, server_id, discord_user_id) DO UPDATE
        SET last_at = excluded.last_at
        WHERE excluded.last_at - cd.last_at >= v_cooldown  -- (immutable operators: Citus evaluates this on the shard)
        RETURNING 1 INTO v_hit;
        IF v_hit IS NULL THEN
            IF p_rule.max_claims_per_user IS NOT NULL THEN
                UPDATE resonance.rule_claims AS c SET claims = c.claims - 1
                WHERE c.rule_id = p_rule.id AND c.server_id = p_server_id
                    AND c.discord_user_id = p_user_id AND c.period_start = v_period_start;
            END IF;
            RETURN jsonb_build_object(
                'rule_id', p_rule.id, 'event_type', p_rule.event_type, 'status', 'cooldown', 'amount', 0,
                'cooldown_until', (
                    SELECT cd.last_at + v_cooldown FROM resonance.rule_cooldowns AS cd
                    WHERE cd.rule_id = p_rule.id AND cd.server_id = p_server_id AND cd.discord_user_id = p_user_id
                )
            );
        END IF;
    END IF;

    v_amount := round(v_base * v_multiplier + CASE WHEN v_base > 0 THEN v_bonus ELSE 0 END, 0);
    v_result := resonance.apply_reward(
        p_server_id, p_user_id, p_rule.event_type, p_source_id, v_amount, p_at, p_rule.id,
        p_details || jsonb_build_object('base', v_base, 'multiplier', v_multiplier, 'bonus_flat', v_bonus)
    );
    RETURN jsonb_build_object(
        'rule_id', p_rule.id, 'event_type', p_rule.event_type, 'status', v_result ->> 'status',
        'amount', coalesce((v_result ->> 'amount')::numeric, 0), 'base', v_base,
        'multiplier', v_multiplier, 'bonus_flat', CASE WHEN v_base > 0 THEN v_bonus ELSE 0 END
    );
END;
$$;

COMMENT ON FUNCTION resonance.pay_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) IS
'Pays one matched rule to a member: event_access gate (rule_metadata.requires_event_access: only holders of a role granting the event type or rule id) -> no_access; max_claims_per_user per claims_period (lifetime|day|week, UTC) by a guarded upsert -> cap_reached; cooldown_hours shortened by the largest cooldown_reduction, by a guarded upsert -> cooldown; then amount = round(base * largest multiplier + sum of bonus_flat) (bonus only when base > 0) through resonance.apply_reward -> rewarded or duplicate.';

REVOKE ALL ON FUNCTION resonance.pay_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.pay_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) TO service_role;


CREATE OR REPLACE FUNCTION resonance.touch_member(
    p_server_id text,
    p_user_id text,
    p_at timestamptz,
    p_messages integer DEFAULT 0,
    p_voice_minutes integer DEFAULT 0,
    p_reactions_given integer DEFAULT 0,
    p_reactions_received integer DEFAULT 0,
    p_checkins integer DEFAULT 0
)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.discord_user_stats AS st (
        server_id, discord_user_id, messages_count, voice_minutes, reactions_count, reactions_received, first_seen_at, last_active_at
    )
    VALUES (p_server_id, p_user_id, p_messages, p_voice_minutes, p_reactions_given, p_reactions_received, p_at, p_at)
    ON CONFLICT (server_id, discord_user_id) DO UPDATE
    SET messages_count = st.messages_count + excluded.messages_count,
        voice_minutes = st.voice_minutes + excluded.voice_minutes,
        reactions_count = st.reactions_count + excluded.reactions_count,
        reactions_received = st.reactions_received + excluded.reactions_received,
        first_seen_at = least(st.first_seen_at, excluded.first_seen_at),
        last_active_at = greatest(st.last_active_at, excluded.last_active_at);

    INSERT INTO resonance.daily_activity AS da (
        server_id, activity_date, discord_user_id, messages_count, voice_minutes, reactions_given, reactions_received, checkins,
        first_event_at, last_event_at
    )
    VALUES (
        p_server_id, (p_at AT TIME ZONE 'UTC')::date, p_user_id, p_messages, p_voice_minutes, p_reactions_given,
        p_reactions_received, p_checkins, p_at, p_at
    )
    ON CONFLICT (server_id, activity_date, discord_user_id) DO UPDATE
    SET messages_count = da.messages_count + excluded.messages_count,
        voice_minutes = da.voice_minutes + excluded.voice_minutes,
        reactions_given = da.reactions_given + excluded.reactions_given,
        reactions_received = da.reactions_received + excluded.reactions_received,
        checkins = da.checkins + excluded.checkins,
        first_event_at = least(da.first_event_at, excluded.first_event_at),
        last_event_at = greatest(da.last_event_at, excluded.last_event_at);
END;
$$;

COMMENT ON FUNCTION resonance.touch_member(text, text, timestamptz, integer, integer, integer, integer, integer) IS
'Adds to a member''s counters (discord_user_stats: messages_count, voice_minutes, reactions_count, reactions_received, first_seen_at, last_active_at) and to their row of the UTC day in resonance.daily_activity. Only per-member rows: no per-server hot row.';

REVOKE ALL ON FUNCTION resonance.touch_member(text, text, timestamptz, integer, integer, integer, integer, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.touch_member(text, text, timestamptz, integer, integer, integer, integer, integer) TO service_role;


CREATE OR REPLACE FUNCTION resonance.server_brand(p_server_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
BEGIN
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    RETURN v_brand_id;
END;
$$;

COMMENT ON FUNCTION resonance.server_brand(text) IS 'The brand funding a server; raises RS001 for an unknown server.';

REVOKE ALL ON FUNCTION resonance.server_brand(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.server_brand(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.active_server_brand(p_server_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_active boolean;
BEGIN
    SELECT s.brand_id, s.is_active INTO v_brand_id, v_active
    FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    RETURN CASE WHEN v_active THEN v_brand_id END;
END;
$$;

COMMENT ON FUNCTION resonance.active_server_brand(text) IS 'The brand funding a server, or NULL when the server is not active (is_active false: its events earn and count nothing, status inactive); raises RS001 for an unknown server.';

REVOKE ALL ON FUNCTION resonance.active_server_brand(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.active_server_brand(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.require_text(p_name text, p_value text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_value IS NULL OR btrim(p_value) = '' THEN
        RAISE EXCEPTION '% is required', p_name USING ERRCODE = 'RS301';
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.require_text(text, text) IS 'Raises RS301 when a required text argument is NULL or blank.';

REVOKE ALL ON FUNCTION resonance.require_text(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.require_text(text, text) TO service_role;
