-- Rule evaluation shared by every event function: role effects, channel and trigger matching,
-- the one rule lookup (event_rules) and deciding one rule (access, cap, cooldown, amount).

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


CREATE OR REPLACE FUNCTION resonance.channel_listed(p_list text[], p_channel_id text, p_channel_name text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    -- An entry names a channel by id, or by name (case-insensitive, an optional leading '#').
    SELECT (p_channel_id IS NOT NULL AND p_channel_id = ANY(p_list))
        OR (
            p_channel_name IS NOT NULL
            AND lower(ltrim(p_channel_name, '#')) = ANY(ARRAY(SELECT lower(ltrim(e, '#')) FROM unnest(p_list) AS e))
        )
$$;

COMMENT ON FUNCTION resonance.channel_listed(text[], text, text) IS
'Whether a channel list of a rule names this channel: an entry equal to the channel id, or to the channel''s name (case-insensitive, a leading # ignored), so rules written with names (the seed''s {"channels": ["gm-channel"]}) keep working once the bot knows ids.';

REVOKE ALL ON FUNCTION resonance.channel_listed(text[], text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.channel_listed(text[], text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.rule_channel_ok(
    p_rule public.monitoring_rules, p_channel_id text, p_channel_name text DEFAULT NULL
)
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

    IF coalesce(cardinality(v_excluded), 0) > 0 AND resonance.channel_listed(v_excluded, p_channel_id, p_channel_name) THEN
        RETURN FALSE;
    END IF;
    IF coalesce(cardinality(v_allowed), 0) > 0 AND NOT resonance.channel_listed(v_allowed, p_channel_id, p_channel_name) THEN
        RETURN FALSE;
    END IF;
    IF coalesce(cardinality(v_trigger_channels), 0) > 0
        AND NOT resonance.channel_listed(v_trigger_channels, p_channel_id, p_channel_name) THEN
        RETURN FALSE;
    END IF;
    RETURN TRUE;
END;
$$;

COMMENT ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text, text) IS
'Channel constraints of a rule: channel_constraints as an array of channels, or {"channels"|"allowed": [...], "excluded"|"blocked": [...]}; detection_config.channels further restricts. Each entry is a channel id or a channel name (resonance.channel_listed: the event''s p_channel_name, case-insensitive, leading # ignored). An empty list allows every channel; a rule restricted to channels never matches an event without a channel.';

REVOKE ALL ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.rule_channel_ok(public.monitoring_rules, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.rule_trigger(p_rule public.monitoring_rules)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    -- plpgsql, one expression: evaluated without a statement of its own (it runs for every rule of every event).
    RETURN coalesce(
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
    );
END;
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


CREATE OR REPLACE FUNCTION resonance.event_rules(p_server_id text, p_brand_id text, p_event_types text[], p_triggers text[] DEFAULT '{}')
RETURNS SETOF public.monitoring_rules
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    -- The one rule lookup of every event: the server's enabled rules of these event types (or
    -- detection triggers), and the brand's (server_id NULL) for each event type the server has no
    -- enabled rule of: a server rule REPLACES the brand's rule of its event type.
    SELECT r.*
    FROM public.monitoring_rules AS r
    WHERE r.is_enabled
        AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = p_brand_id))
        AND (r.event_type = ANY(p_event_types) OR r.detection_config ->> 'trigger' = ANY(p_triggers))
        AND (
            r.server_id IS NOT NULL
            OR NOT EXISTS (
                SELECT FROM public.monitoring_rules AS s
                WHERE s.server_id = p_server_id AND s.event_type = r.event_type AND s.is_enabled
            )
        )
    ORDER BY r.id
$$;

COMMENT ON FUNCTION resonance.event_rules(text, text, text[], text[]) IS
'The rules an event of a server is matched against (the one rule lookup of the event skeleton): enabled rules of the server or of its brand (server_id NULL) whose event_type is one of p_event_types or whose detection_config.trigger is one of p_triggers, in rule id order. Precedence: an enabled server rule of an event type replaces the brand''s rules of that event type for that server (other servers of the brand keep the brand rule).';

REVOKE ALL ON FUNCTION resonance.event_rules(text, text, text[], text[]) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.event_rules(text, text, text[], text[]) TO service_role;


CREATE OR REPLACE FUNCTION resonance.decide_rule(
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
    v_hit integer;
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
        WHERE cd.last_at + v_cooldown <= excluded.last_at
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

    IF NOT v_base > 0 THEN
        v_bonus := 0;
    END IF;
    -- A decision to pay: the event's closing (resonance.close_event) writes every decision of the
    -- event, with its money, in one statement.
    RETURN jsonb_build_object(
        'rule_id', p_rule.id, 'event_type', p_rule.event_type, 'status', 'pay',
        'amount', round(v_base * v_multiplier + v_bonus, 0), 'base', v_base,
        'multiplier', v_multiplier, 'bonus_flat', v_bonus, 'payee', p_user_id, 'source_id', p_source_id,
        'details', p_details || jsonb_build_object('base', v_base, 'multiplier', v_multiplier, 'bonus_flat', v_bonus)
    );
END;
$$;

COMMENT ON FUNCTION resonance.decide_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) IS
'Decides one matched rule for a member (pays nothing itself): event_access gate (rule_metadata.requires_event_access: only holders of a role granting the event type or rule id) -> no_access; max_claims_per_user per claims_period (lifetime|day|week, UTC) by a guarded upsert -> cap_reached; cooldown_hours shortened by the largest cooldown_reduction, by a guarded upsert -> cooldown; else {"status":"pay"} with amount = round(base * largest multiplier + sum of bonus_flat) (bonus only when base > 0), member, source_id and details, which resonance.close_event turns into rewarded or duplicate.';

REVOKE ALL ON FUNCTION resonance.decide_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.decide_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb) TO service_role;


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
