-- Admin functions: event rules, role effects and manual rewards, each audited with its actor.

DROP FUNCTION IF EXISTS resonance.set_event_rule(text, text, numeric, integer, integer, boolean, jsonb, text, jsonb, jsonb, uuid);

CREATE OR REPLACE FUNCTION resonance.set_event_rule(
    p_server_id text,
    p_actor_id text,
    p_event_type text,
    p_reward_amount numeric,
    p_cooldown_hours integer DEFAULT NULL,
    p_max_claims_per_user integer DEFAULT NULL,
    p_detection_config jsonb DEFAULT NULL,
    p_channel_constraints jsonb DEFAULT NULL,
    p_rule_metadata jsonb DEFAULT NULL,
    p_is_enabled boolean DEFAULT TRUE,
    p_rule_id uuid DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_trigger text := p_detection_config ->> 'trigger';
    v_method text;
    v_id uuid;
BEGIN
    PERFORM resonance.require_text('p_event_type', p_event_type);
    v_brand_id := resonance.server_brand(p_server_id);

    IF p_reward_amount IS NULL OR p_reward_amount < 0 THEN
        RAISE EXCEPTION 'reward_amount must be 0 or more, got %', p_reward_amount USING ERRCODE = 'RS305';
    ELSIF p_cooldown_hours < 0 OR p_max_claims_per_user <= 0 THEN
        RAISE EXCEPTION 'cooldown_hours must be >= 0 and max_claims_per_user > 0' USING ERRCODE = 'RS305';
    ELSIF p_detection_config IS NOT NULL AND jsonb_typeof(p_detection_config) <> 'object' THEN
        RAISE EXCEPTION 'detection_config must be a JSON object' USING ERRCODE = 'RS305';
    ELSIF v_trigger IS NOT NULL AND v_trigger NOT IN ('keyword', 'min_length', 'reaction_count') THEN
        RAISE EXCEPTION 'unknown trigger %', v_trigger USING ERRCODE = 'RS305';
    ELSIF v_trigger = 'keyword' AND coalesce(cardinality(resonance.json_text_list(p_detection_config -> 'keywords')), 0) = 0 THEN
        RAISE EXCEPTION 'a keyword trigger needs a non-empty keywords list' USING ERRCODE = 'RS305';
    ELSIF v_trigger = 'min_length' AND coalesce(jsonb_typeof(p_detection_config -> 'min_length'), '') <> 'number' THEN
        RAISE EXCEPTION 'a min_length trigger needs a numeric min_length' USING ERRCODE = 'RS305';
    ELSIF v_trigger = 'reaction_count' AND coalesce((p_detection_config ->> 'min_reactions')::numeric, 0) < 1 THEN
        RAISE EXCEPTION 'a reaction_count trigger needs min_reactions >= 1' USING ERRCODE = 'RS305';
    ELSIF coalesce(p_rule_metadata ->> 'claims_period', 'lifetime') NOT IN ('lifetime', 'day', 'week') THEN
        RAISE EXCEPTION 'claims_period must be lifetime, day or week' USING ERRCODE = 'RS305';
    ELSIF p_channel_constraints IS NOT NULL AND jsonb_typeof(p_channel_constraints) NOT IN ('array', 'object') THEN
        RAISE EXCEPTION 'channel_constraints must be an array of channel ids or an object' USING ERRCODE = 'RS305';
    END IF;

    v_method := CASE v_trigger
        WHEN 'keyword' THEN 'gateway_keyword'
        WHEN 'min_length' THEN 'gateway_message_quality'
        WHEN 'reaction_count' THEN 'gateway_reaction'
        ELSE 'discord_interaction'
    END;

    IF nullif(btrim(p_actor_id), '') IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_actor_id);
    END IF;

    IF p_rule_id IS NULL THEN
        -- /config events set: one server rule per event type is edited in place (serialised per type).
        PERFORM pg_advisory_xact_lock(hashtextextended('resonance.rule:' || p_server_id || ':' || p_event_type, 0));
        SELECT r.id INTO p_rule_id
        FROM public.monitoring_rules AS r
        WHERE r.server_id = p_server_id AND r.event_type = p_event_type
        ORDER BY r.created_at, r.id
        LIMIT 1;
    END IF;

    IF p_rule_id IS NULL THEN
        INSERT INTO public.monitoring_rules (
            brand_id, server_id, event_type, reward_amount, cooldown_hours, max_claims_per_user, is_enabled,
            detection_method, detection_config, channel_constraints, rule_metadata
        )
        VALUES (
            v_brand_id, p_server_id, p_event_type, p_reward_amount, p_cooldown_hours, p_max_claims_per_user,
            coalesce(p_is_enabled, TRUE), v_method, p_detection_config, p_channel_constraints, p_rule_metadata
        )
        RETURNING id INTO v_id;
        RETURN jsonb_build_object('status', 'created', 'rule_id', v_id);
    END IF;

    UPDATE public.monitoring_rules AS r
    SET event_type = p_event_type,
        reward_amount = p_reward_amount,
        cooldown_hours = p_cooldown_hours,
        max_claims_per_user = p_max_claims_per_user,
        is_enabled = coalesce(p_is_enabled, TRUE),
        detection_method = CASE WHEN p_detection_config IS NULL THEN r.detection_method ELSE v_method END,
        detection_config = coalesce(p_detection_config, r.detection_config),
        channel_constraints = coalesce(p_channel_constraints, r.channel_constraints),
        rule_metadata = coalesce(p_rule_metadata, r.rule_metadata)
    WHERE r.id = p_rule_id AND r.server_id = p_server_id
    RETURNING r.id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'rule % is not a rule of server %', p_rule_id, p_server_id USING ERRCODE = 'RS306';
    END IF;
    RETURN jsonb_build_object('status', 'updated', 'rule_id', v_id);
END;
$$;

COMMENT ON FUNCTION resonance.set_event_rule(text, text, text, numeric, integer, integer, jsonb, jsonb, jsonb, boolean, uuid) IS
'Sets a server''s event rule in monitoring_rules, audited with admin p_actor_id as actor (NULL: the transaction''s actor, default system): p_rule_id replaces that rule; without it the server''s (oldest) rule of p_event_type is replaced, or a new one created. On update, NULL detection_config, channel_constraints or rule_metadata keep the rule''s current value (amount, cooldown, cap and enabled are replaced). detection_method follows the trigger (keyword -> gateway_keyword, min_length -> gateway_message_quality, reaction_count -> gateway_reaction, else discord_interaction). Returns {"status":"created"|"updated","rule_id"}. Raises RS001 (unknown server), RS301 (missing event type), RS305 (invalid amount, cooldown, cap, trigger, claims_period or channel constraints), RS306 (p_rule_id is not a rule of this server; brand-wide rules are edited in the Partner Portal).';

REVOKE ALL ON FUNCTION resonance.set_event_rule(text, text, text, numeric, integer, integer, jsonb, jsonb, jsonb, boolean, uuid)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_event_rule(text, text, text, numeric, integer, integer, jsonb, jsonb, jsonb, boolean, uuid)
TO service_role;


DROP FUNCTION IF EXISTS resonance.set_role_effect(text, text, text, jsonb, text, text, boolean);

CREATE OR REPLACE FUNCTION resonance.set_role_effect(
    p_server_id text,
    p_actor_id text,
    p_role_id text,
    p_effect_type text,
    p_effect_config jsonb DEFAULT '{}'::jsonb,
    p_role_name text DEFAULT NULL,
    p_is_active boolean DEFAULT TRUE
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_config jsonb := coalesce(p_effect_config, '{}'::jsonb);
    v_id uuid;
    v_inserted boolean;
BEGIN
    PERFORM resonance.require_text('p_role_id', p_role_id);
    v_brand_id := resonance.server_brand(p_server_id);

    IF jsonb_typeof(v_config) <> 'object'
        OR p_effect_type IS NULL
        OR p_effect_type NOT IN ('multiplier', 'bonus_flat', 'cooldown_reduction', 'event_access', 'one_time_bonus', 'auto_drip')
        OR (p_effect_type = 'multiplier' AND NOT (jsonb_typeof(v_config -> 'value') = 'number' AND (v_config ->> 'value')::numeric > 0))
        OR (p_effect_type = 'bonus_flat' AND NOT (jsonb_typeof(v_config -> 'value') = 'number' AND (v_config ->> 'value')::numeric >= 0))
        OR (
            p_effect_type = 'cooldown_reduction'
            AND NOT (jsonb_typeof(v_config -> 'percent') = 'number' AND (v_config ->> 'percent')::numeric BETWEEN 0 AND 100)
        )
        OR (p_effect_type = 'event_access' AND v_config ? 'event_types' AND jsonb_typeof(v_config -> 'event_types') <> 'array')
        OR (
            p_effect_type IN ('one_time_bonus', 'auto_drip')
            AND NOT (jsonb_typeof(v_config -> 'amount') = 'number' AND (v_config ->> 'amount')::numeric > 0)
        ) THEN
        RAISE EXCEPTION 'invalid role effect % %', p_effect_type, v_config USING ERRCODE = 'RS307';
    END IF;

    IF nullif(btrim(p_actor_id), '') IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_actor_id);
    END IF;

    INSERT INTO public.discord_role_configs AS rc (
        server_id, brand_id, discord_role_id, discord_role_name, effect_type, effect_config, is_active
    )
    VALUES (p_server_id, v_brand_id, p_role_id, p_role_name, p_effect_type, v_config, coalesce(p_is_active, TRUE))
    ON CONFLICT ON CONSTRAINT unique_server_role DO UPDATE
    SET effect_type = excluded.effect_type,
        effect_config = excluded.effect_config,
        discord_role_name = coalesce(excluded.discord_role_name, rc.discord_role_name),
        is_active = excluded.is_active
    RETURNING rc.id, (rc.xmax = 0) INTO v_id, v_inserted;

    RETURN jsonb_build_object('status', CASE WHEN v_inserted THEN 'created' ELSE 'updated' END, 'id', v_id);
END;
$$;

COMMENT ON FUNCTION resonance.set_role_effect(text, text, text, text, jsonb, text, boolean) IS
'Sets the effect of a Discord role (one effect per role: unique_server_role), audited with admin p_actor_id as actor (NULL: the transaction''s actor, default system). Configs: multiplier {"value": > 0}, bonus_flat {"value": >= 0}, cooldown_reduction {"percent": 0..100}, event_access {"event_types": [...]} (no list: every event), one_time_bonus / auto_drip {"amount": > 0}. Stacking across a member''s roles: largest multiplier, sum of bonus_flat, largest cooldown_reduction, union of event access (see resonance.role_effects). Returns {"status":"created"|"updated","id"}. Raises RS001, RS301 (missing role id), RS307 (invalid effect type or config).';

REVOKE ALL ON FUNCTION resonance.set_role_effect(text, text, text, text, jsonb, text, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_role_effect(text, text, text, text, jsonb, text, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.manual_reward(
    p_server_id text,
    p_admin_id text,
    p_user_id text,
    p_amount numeric,
    p_reason text,
    p_source_id text DEFAULT NULL,
    p_occurred_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_source text := coalesce(nullif(btrim(p_source_id), ''), extensions.gen_random_uuid()::text);
    v_result jsonb;
BEGIN
    PERFORM resonance.require_text('p_admin_id', p_admin_id);
    PERFORM resonance.require_text('p_user_id', p_user_id);
    PERFORM resonance.require_text('p_reason', p_reason);
    v_brand_id := resonance.server_brand(p_server_id);
    IF p_amount IS NULL OR p_amount <= 0 OR p_amount <> trunc(p_amount) THEN
        RAISE EXCEPTION 'a manual reward is a positive whole amount, got %', p_amount USING ERRCODE = 'RS308';
    END IF;
    IF EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id AND NOT s.is_active) THEN
        RETURN jsonb_build_object('status', 'inactive', 'amount', 0);
    END IF;

    INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
    VALUES (p_server_id, 'event', 'manual_reward:' || v_source, p_user_id, v_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0, 'source_id', v_source);
    END IF;

    PERFORM resonance.set_actor('admin', p_admin_id);
    v_result := resonance.apply_reward(
        p_server_id, p_user_id, 'manual_reward', v_source, p_amount, v_at, NULL,
        jsonb_build_object('reason', p_reason, 'admin_id', p_admin_id)
    );

    INSERT INTO public.discord_audit_log (
        server_id, brand_id, actor_type, actor_id, action, target_user_id, details, after_state
    )
    VALUES (
        p_server_id, v_brand_id, 'admin', p_admin_id, 'manual_reward', p_user_id,
        jsonb_build_object('amount', p_amount, 'reason', p_reason, 'source_id', v_source, 'status', v_result ->> 'status'),
        v_result
    );

    RETURN v_result || jsonb_build_object('source_id', v_source);
END;
$$;

COMMENT ON FUNCTION resonance.manual_reward(text, text, text, numeric, text, text, timestamptz) IS
'An admin''s /reward: pays p_amount (a positive whole number, no rule, no role effects) to p_user_id with record_event semantics: idempotent on p_source_id (the interaction id; NULL = a fresh one) -> {"status":"rewarded","amount","reward_id","transaction_id","source_id"} or {"status":"duplicate"}; ledger event manual_reward; an audit row (action manual_reward, actor admin, target member, reason). Raises RS001, RS301 (missing admin, member or reason), RS308 (amount not a positive whole number).';

REVOKE ALL ON FUNCTION resonance.manual_reward(text, text, text, numeric, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.manual_reward(text, text, text, numeric, text, text, timestamptz) TO service_role;


-- Loyalteez compatibility: the older doc's names are accepted and normalised on write.
CREATE OR REPLACE FUNCTION resonance.normalise_loyalteez_goal()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.goal_type = 'ltz_distributed' THEN
        NEW.goal_type := 'rsnc_distributed';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION resonance.normalise_loyalteez_goal() IS
'Trigger (BEFORE INSERT OR UPDATE on discord_community_goals): the older Loyalteez goal type ltz_distributed is stored as rsnc_distributed.';

REVOKE ALL ON FUNCTION resonance.normalise_loyalteez_goal() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.normalise_loyalteez_goal() TO service_role;

CREATE OR REPLACE TRIGGER normalise_loyalteez_names BEFORE INSERT OR UPDATE ON public.discord_community_goals
FOR EACH ROW EXECUTE FUNCTION resonance.normalise_loyalteez_goal();


CREATE OR REPLACE FUNCTION resonance.normalise_loyalteez_role()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.effect_type = 'flat_bonus' THEN
        NEW.effect_type := 'bonus_flat';
    END IF;
    IF NEW.effect_config ? 'effect_value' AND NOT NEW.effect_config ? 'value' THEN
        NEW.effect_config := (NEW.effect_config - 'effect_value') || jsonb_build_object('value', NEW.effect_config -> 'effect_value');
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION resonance.normalise_loyalteez_role() IS
'Trigger (BEFORE INSERT OR UPDATE on discord_role_configs): the older Loyalteez names become ours on write: effect type flat_bonus -> bonus_flat, effect_config.effect_value -> effect_config.value. (discord_user_stats.ltz_earned mirrors rsnc_earned for old readers.)';

REVOKE ALL ON FUNCTION resonance.normalise_loyalteez_role() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.normalise_loyalteez_role() TO service_role;

CREATE OR REPLACE TRIGGER normalise_loyalteez_names BEFORE INSERT OR UPDATE ON public.discord_role_configs
FOR EACH ROW EXECUTE FUNCTION resonance.normalise_loyalteez_role();


CREATE OR REPLACE FUNCTION resonance.purge_server(p_server_id text, p_actor_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_server public.discord_server_configs;
    v_counts jsonb := '{}'::jsonb;
    v_n bigint;
    v_table text;
BEGIN
    PERFORM resonance.require_text('p_actor_id', p_actor_id);
    SELECT s.* INTO v_server FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id FOR UPDATE;
    IF v_server.server_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF v_server.is_active THEN
        RAISE EXCEPTION 'server % is linked: unlink it first (purge forgets an unlinked server)', p_server_id
            USING ERRCODE = 'RS010';
    END IF;

    -- Everything of the server, children first (fixed list: no SQL built from input).
    FOREACH v_table IN ARRAY ARRAY[
        'public.discord_drop_claims', 'public.discord_drops', 'public.discord_user_achievements', 'public.discord_achievements',
        'public.discord_community_goals', 'public.discord_kpi_snapshots', 'public.discord_kpi_configs',
        'public.discord_report_schedules', 'public.discord_role_assignments', 'public.discord_role_configs',
        'public.discord_user_streaks', 'public.discord_user_stats', 'public.monitoring_rules',
        'resonance.daily_activity', 'resonance.reward_ledger', 'resonance.processed_events', 'resonance.rule_claims',
        'resonance.rule_cooldowns', 'resonance.message_reactors', 'resonance.message_reaction_counts',
        'resonance.message_window', 'resonance.outbox', 'resonance.voice_sessions',
        'resonance.analytics_stage_messages', 'resonance.analytics_stage_users', 'public.discord_job_errors'
    ] LOOP
        IF to_regclass(v_table) IS NOT NULL THEN
            EXECUTE format('DELETE FROM %s WHERE server_id::text = $1', v_table) USING p_server_id;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            v_counts := v_counts || jsonb_build_object(v_table, v_n);
        END IF;
    END LOOP;

    -- The money stays (balances are the members', conservation holds); it no longer names the server.
    UPDATE tipping.transactions AS t SET server_id = NULL WHERE t.server_id = p_server_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_counts := v_counts || jsonb_build_object('tipping.transactions (server_id cleared)', v_n);
    UPDATE tipping.tips AS t SET server_id = NULL WHERE t.server_id = p_server_id;

    -- The warehouse rows of the guild (analytics keys it by its numeric id).
    IF p_server_id ~ '^[0-9]+$' THEN
        DELETE FROM analytics.servers AS a WHERE a.id = p_server_id::bigint AND a.tenant_id = v_server.brand_id;
    END IF;

    DELETE FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    DELETE FROM public.discord_audit_log AS l WHERE l.server_id = p_server_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_counts := v_counts || jsonb_build_object('public.discord_audit_log', v_n);

    -- The purge itself stays on record, under the brand.
    INSERT INTO public.discord_audit_log (server_id, brand_id, actor_type, actor_id, action, details)
    VALUES ('brand:' || v_server.brand_id, v_server.brand_id, 'admin', p_actor_id, 'purge_server',
            jsonb_build_object('server_id', p_server_id, 'deleted', v_counts));
    RETURN jsonb_build_object('status', 'purged', 'server_id', p_server_id, 'deleted', v_counts);
END;
$$;

COMMENT ON FUNCTION resonance.purge_server(text, text) IS
'Forgets a server that asked to be forgotten: deletes every row of it (config, rules, roles and assignments, stats, streaks, drops and claims, achievements, goals, KPI configs and snapshots, report schedules, audit log, the engine''s rollups, decisions, dedup, cooldowns, outbox and the analytics warehouse rows of the guild), orphans included; the money ledger keeps its transactions (balances are the members'') with server_id cleared. Only an unlinked server (is_active false; unlinking is the soft state change that keeps history). The purge is recorded in the audit log under brand:<brand_id> with the acting admin. Returns {"status":"purged","deleted":{table: rows}}. Raises RS001 (unknown server), RS010 (server still linked), RS301 (no actor).';

REVOKE ALL ON FUNCTION resonance.purge_server(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.purge_server(text, text) TO service_role;
