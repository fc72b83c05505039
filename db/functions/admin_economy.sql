-- The admin API for the economy a community manager configures from Discord: event rules
-- (disable, list; set_event_rule is in engine_admin.sql), achievements, community goals, role
-- assignment rules (shop prices, thresholds), KPI targets and report schedules (disable, list; set_*
-- are in kpis.sql and reports.sql). Each validates its input with a named SQLSTATE, bounds its numbers
-- so later computations stay in range, and names the acting admin (resonance.admin_act) so the audit
-- trigger of the configuration table records who changed what.

-- ------------------------------------------------------------------------------------ event rules

CREATE OR REPLACE FUNCTION resonance.disable_event_rule(p_server_id text, p_actor_id text, p_rule_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_enabled boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT r.is_enabled INTO v_enabled
    FROM public.monitoring_rules AS r WHERE r.id = p_rule_id AND r.server_id = p_server_id FOR UPDATE;
    IF v_enabled IS NULL THEN
        RAISE EXCEPTION 'rule % is not a rule of server %', p_rule_id, p_server_id USING ERRCODE = 'RS306';
    ELSIF NOT v_enabled THEN
        RETURN jsonb_build_object('status', 'already_disabled', 'rule_id', p_rule_id);
    END IF;
    UPDATE public.monitoring_rules AS r SET is_enabled = FALSE WHERE r.id = p_rule_id;
    RETURN jsonb_build_object('status', 'disabled', 'rule_id', p_rule_id);
END;
$$;

COMMENT ON FUNCTION resonance.disable_event_rule(text, text, uuid) IS
'Disables one of the server''s own rules (kept, is_enabled FALSE; resonance.set_event_rule with p_is_enabled re-enables it), audited with admin p_actor_id: {"status":"disabled"|"already_disabled","rule_id"}. Raises RS001, RS306 (not a rule of this server; brand-wide rules are edited in the Partner Portal), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_event_rule(text, text, uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_event_rule(text, text, uuid) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_event_rules(p_server_id text)
RETURNS TABLE (
    rule_id uuid,
    event_type text,
    reward_amount numeric,
    cooldown_hours integer,
    max_claims_per_user integer,
    is_enabled boolean,
    detection_config jsonb,
    channel_constraints jsonb,
    rule_metadata jsonb,
    brand_wide boolean
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_brand_id text := resonance.server_brand(p_server_id);
BEGIN
    RETURN QUERY
    SELECT
        r.id, r.event_type, r.reward_amount, r.cooldown_hours, r.max_claims_per_user, r.is_enabled,
        r.detection_config, r.channel_constraints, r.rule_metadata, r.server_id IS NULL
    FROM public.monitoring_rules AS r
    WHERE r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id)
    ORDER BY r.event_type, r.server_id IS NULL, r.created_at, r.id;
END;
$$;

COMMENT ON FUNCTION resonance.list_event_rules(text) IS
'The rules that concern a server: its own and its brand''s brand-wide ones (brand_wide TRUE), enabled or not, by event type. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_event_rules(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_event_rules(text) TO service_role;


-- ----------------------------------------------------------------------------------- achievements

CREATE OR REPLACE FUNCTION resonance.set_achievement(
    p_server_id text,
    p_actor_id text,
    p_name text,
    p_achievement_type text,
    p_threshold integer,
    p_reward_amount numeric DEFAULT 0,
    p_description text DEFAULT NULL,
    p_is_active boolean DEFAULT TRUE,
    p_achievement_id uuid DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_name text := btrim(p_name);
    v_id uuid;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    IF v_name IS NULL OR v_name = '' OR length(v_name) > 100 THEN
        RAISE EXCEPTION 'an achievement needs a name of 1 to 100 characters' USING ERRCODE = 'RS711';
    ELSIF p_achievement_type IS NULL OR p_achievement_type NOT IN (
        'message_count', 'voice_hours', 'streak_days', 'reactions_received', 'reactions_given', 'rsnc_earned'
    ) THEN
        RAISE EXCEPTION 'unknown achievement type % (message_count, voice_hours, streak_days, reactions_received, reactions_given, rsnc_earned)',
            p_achievement_type USING ERRCODE = 'RS711';
    ELSIF p_threshold IS NULL OR p_threshold NOT BETWEEN 1 AND 1000000000 THEN
        RAISE EXCEPTION 'threshold must be 1 .. 1000000000, got %', p_threshold USING ERRCODE = 'RS711';
    ELSIF p_reward_amount IS NULL OR p_reward_amount NOT BETWEEN 0 AND 1000000 OR p_reward_amount <> trunc(p_reward_amount) THEN
        RAISE EXCEPTION 'reward must be a whole amount 0 .. 1000000, got %', p_reward_amount USING ERRCODE = 'RS711';
    ELSIF length(p_description) > 500 THEN
        RAISE EXCEPTION 'description is longer than 500 characters' USING ERRCODE = 'RS711';
    END IF;
    PERFORM resonance.admin_act(p_actor_id);

    IF p_achievement_id IS NULL THEN
        -- One achievement per name and server: a second /achievement set of the name edits it.
        PERFORM pg_advisory_xact_lock(hashtextextended('resonance.achievement:' || p_server_id || ':' || lower(v_name), 0));
        SELECT a.achievement_id INTO p_achievement_id
        FROM public.discord_achievements AS a
        WHERE a.server_id = p_server_id AND lower(a.name) = lower(v_name)
        ORDER BY a.is_active DESC, a.created_at
        LIMIT 1;
        IF p_achievement_id IS NULL THEN
            INSERT INTO public.discord_achievements (
                server_id, name, description, achievement_type, threshold, reward_amount, is_active
            )
            VALUES (p_server_id, v_name, p_description, p_achievement_type, p_threshold, p_reward_amount, coalesce(p_is_active, TRUE))
            RETURNING achievement_id INTO v_id;
            RETURN jsonb_build_object('status', 'created', 'achievement_id', v_id, 'name', v_name);
        END IF;
    END IF;

    UPDATE public.discord_achievements AS a
    SET name = v_name,
        description = coalesce(p_description, a.description),
        achievement_type = p_achievement_type,
        threshold = p_threshold,
        reward_amount = p_reward_amount,
        is_active = coalesce(p_is_active, TRUE)
    WHERE a.achievement_id = p_achievement_id AND a.server_id = p_server_id
    RETURNING a.achievement_id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'achievement % is not an achievement of server %', p_achievement_id, p_server_id USING ERRCODE = 'RS712';
    END IF;
    RETURN jsonb_build_object('status', 'updated', 'achievement_id', v_id, 'name', v_name);
END;
$$;

COMMENT ON FUNCTION resonance.set_achievement(text, text, text, text, integer, numeric, text, boolean, uuid) IS
'Creates or updates an achievement, audited with admin p_actor_id: by p_achievement_id, else by name (case-insensitive, one per server), else a new one. Type: message_count, voice_hours, streak_days, reactions_received, reactions_given, rsnc_earned; threshold 1..1000000000; reward a whole amount 0..1000000; name 1..100 characters, description at most 500 (NULL keeps it). Members who already completed it keep their completion. {"status":"created"|"updated","achievement_id","name"}. Raises RS001, RS711 (invalid field), RS712 (p_achievement_id is not of this server), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.set_achievement(text, text, text, text, integer, numeric, text, boolean, uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_achievement(text, text, text, text, integer, numeric, text, boolean, uuid) TO service_role;


CREATE OR REPLACE FUNCTION resonance.disable_achievement(p_server_id text, p_actor_id text, p_achievement_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT a.is_active INTO v_active
    FROM public.discord_achievements AS a
    WHERE a.achievement_id = p_achievement_id AND a.server_id = p_server_id
    FOR UPDATE;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'achievement % is not an achievement of server %', p_achievement_id, p_server_id USING ERRCODE = 'RS712';
    ELSIF NOT v_active THEN
        RETURN jsonb_build_object('status', 'already_disabled', 'achievement_id', p_achievement_id);
    END IF;
    UPDATE public.discord_achievements AS a SET is_active = FALSE WHERE a.achievement_id = p_achievement_id;
    RETURN jsonb_build_object('status', 'disabled', 'achievement_id', p_achievement_id);
END;
$$;

COMMENT ON FUNCTION resonance.disable_achievement(text, text, uuid) IS
'Disables an achievement (no more progress or completions; past completions are kept and still listed to their members), audited with admin p_actor_id: {"status":"disabled"|"already_disabled"}. Raises RS001, RS712 (not of this server), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_achievement(text, text, uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_achievement(text, text, uuid) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_achievement_configs(p_server_id text)
RETURNS TABLE (
    achievement_id uuid,
    name text,
    description text,
    achievement_type text,
    threshold integer,
    reward_amount numeric,
    is_active boolean,
    completions bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT
        a.achievement_id, a.name, a.description, a.achievement_type, a.threshold, a.reward_amount, a.is_active,
        (SELECT count(*) FROM public.discord_user_achievements AS ua
            WHERE ua.achievement_id = a.achievement_id AND ua.completed_at IS NOT NULL)
    FROM public.discord_achievements AS a
    WHERE a.server_id = p_server_id
    ORDER BY NOT a.is_active, a.name, a.achievement_id;
END;
$$;

COMMENT ON FUNCTION resonance.list_achievement_configs(text) IS
'The admin view of a server''s achievements: every one (active first, then by name) with how many members completed it. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_achievement_configs(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_achievement_configs(text) TO service_role;


-- ---------------------------------------------------------------------------------- community goals

CREATE OR REPLACE FUNCTION resonance.set_goal(
    p_server_id text,
    p_actor_id text,
    p_name text,
    p_goal_type text,
    p_target_value numeric,
    p_deadline date DEFAULT NULL,
    p_starts_at timestamptz DEFAULT NULL,
    p_goal_id uuid DEFAULT NULL,
    p_custom_function text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_name text := btrim(p_name);
    v_type text := CASE WHEN p_goal_type = 'ltz_distributed' THEN 'rsnc_distributed' ELSE p_goal_type END;
    v_starts timestamptz := coalesce(p_starts_at, now());
    v_id uuid;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    IF v_name IS NULL OR v_name = '' OR length(v_name) > 100 THEN
        RAISE EXCEPTION 'a goal needs a name of 1 to 100 characters' USING ERRCODE = 'RS721';
    ELSIF v_type IS NULL OR v_type NOT IN ('users', 'dau', 'rsnc_distributed', 'custom') THEN
        RAISE EXCEPTION 'unknown goal type % (users, dau, rsnc_distributed, custom)', p_goal_type USING ERRCODE = 'RS721';
    ELSIF p_target_value IS NULL OR p_target_value <= 0 OR p_target_value > 1000000000000 THEN
        RAISE EXCEPTION 'target must be above 0 and at most 1000000000000, got %', p_target_value USING ERRCODE = 'RS721';
    ELSIF p_deadline IS NOT NULL AND p_deadline < (v_starts AT TIME ZONE 'UTC')::date THEN
        RAISE EXCEPTION 'deadline % is before the start %', p_deadline, v_starts USING ERRCODE = 'RS721';
    ELSIF p_deadline > (v_starts AT TIME ZONE 'UTC')::date + 3660 THEN
        RAISE EXCEPTION 'deadline % is more than ten years after the start', p_deadline USING ERRCODE = 'RS721';
    ELSIF (v_type = 'custom') <> (p_custom_function IS NOT NULL) THEN
        RAISE EXCEPTION 'a custom goal (and only a custom goal) names its function' USING ERRCODE = 'RS721';
    ELSIF p_custom_function IS NOT NULL AND (
        p_custom_function !~ '^resonance\.goal_[a-z0-9_]+$' OR to_regproc(p_custom_function) IS NULL
    ) THEN
        RAISE EXCEPTION 'custom goal function % does not exist (resonance.goal_<name>)', p_custom_function USING ERRCODE = 'RS721';
    END IF;
    PERFORM resonance.admin_act(p_actor_id);

    IF p_goal_id IS NULL THEN
        INSERT INTO public.discord_community_goals (
            server_id, name, goal_type, target_value, deadline, starts_at, custom_function
        )
        VALUES (p_server_id, v_name, v_type, p_target_value, p_deadline, v_starts, p_custom_function)
        RETURNING goal_id INTO v_id;
        RETURN jsonb_build_object('status', 'created', 'goal_id', v_id, 'name', v_name, 'starts_at', v_starts);
    END IF;

    UPDATE public.discord_community_goals AS g
    SET name = v_name,
        goal_type = v_type,
        target_value = p_target_value,
        deadline = p_deadline,
        starts_at = coalesce(p_starts_at, g.starts_at, g.created_at),
        custom_function = p_custom_function,
        is_active = TRUE
    WHERE g.goal_id = p_goal_id AND g.server_id = p_server_id
    RETURNING g.goal_id, g.starts_at INTO v_id, v_starts;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'goal % is not a goal of server %', p_goal_id, p_server_id USING ERRCODE = 'RS722';
    END IF;
    RETURN jsonb_build_object('status', 'updated', 'goal_id', v_id, 'name', v_name, 'starts_at', v_starts);
END;
$$;

COMMENT ON FUNCTION resonance.set_goal(text, text, text, text, numeric, date, timestamptz, uuid, text) IS
'Creates (p_goal_id NULL) or updates a community goal, audited with admin p_actor_id. Type users, dau, rsnc_distributed (ltz_distributed is accepted and stored as rsnc_distributed) or custom (then p_custom_function names an existing resonance.goal_<name>); target above 0 and at most 1000000000000; starts_at default now (kept on update when NULL); deadline (UTC date) not before the start and at most ten years after it. An update re-activates a disabled goal. {"status":"created"|"updated","goal_id","name","starts_at"}. Raises RS001, RS721 (invalid field), RS722 (p_goal_id is not of this server), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.set_goal(text, text, text, text, numeric, date, timestamptz, uuid, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_goal(text, text, text, text, numeric, date, timestamptz, uuid, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.disable_goal(p_server_id text, p_actor_id text, p_goal_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT g.is_active INTO v_active
    FROM public.discord_community_goals AS g WHERE g.goal_id = p_goal_id AND g.server_id = p_server_id FOR UPDATE;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'goal % is not a goal of server %', p_goal_id, p_server_id USING ERRCODE = 'RS722';
    ELSIF NOT v_active THEN
        RETURN jsonb_build_object('status', 'already_disabled', 'goal_id', p_goal_id);
    END IF;
    UPDATE public.discord_community_goals AS g SET is_active = FALSE WHERE g.goal_id = p_goal_id;
    RETURN jsonb_build_object('status', 'disabled', 'goal_id', p_goal_id);
END;
$$;

COMMENT ON FUNCTION resonance.disable_goal(text, text, uuid) IS
'Disables a community goal (kept with its last value; no longer refreshed or shown in /goals), audited with admin p_actor_id: {"status":"disabled"|"already_disabled"}. Raises RS001, RS722 (not of this server), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_goal(text, text, uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_goal(text, text, uuid) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_goal_configs(p_server_id text)
RETURNS TABLE (
    goal_id uuid,
    name text,
    goal_type text,
    target_value numeric,
    current_value numeric,
    starts_at timestamptz,
    deadline date,
    completed_at timestamptz,
    is_active boolean
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT
        g.goal_id, g.name, g.goal_type, g.target_value, coalesce(g.current_value, 0),
        coalesce(g.starts_at, g.created_at), g.deadline, g.completed_at, g.is_active
    FROM public.discord_community_goals AS g
    WHERE g.server_id = p_server_id
    ORDER BY NOT g.is_active, g.completed_at IS NOT NULL, g.deadline NULLS LAST, g.created_at, g.goal_id;
END;
$$;

COMMENT ON FUNCTION resonance.list_goal_configs(text) IS
'The admin view of a server''s community goals, disabled ones included (last): value, start, deadline, completion. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_goal_configs(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_goal_configs(text) TO service_role;


-- ------------------------------------------------------------------------ role assignment rules

CREATE OR REPLACE FUNCTION resonance.set_role_assignment(
    p_server_id text,
    p_actor_id text,
    p_role_id text,
    p_assignment_type text,
    p_assignment_config jsonb DEFAULT '{}'::jsonb,
    p_role_name text DEFAULT NULL,
    p_priority integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_config jsonb := coalesce(p_assignment_config, '{}'::jsonb);
    v_id uuid;
    v_inserted boolean;
BEGIN
    v_brand_id := resonance.server_brand(p_server_id);
    PERFORM resonance.require_text('p_role_id', p_role_id);
    IF jsonb_typeof(v_config) <> 'object' THEN
        RAISE EXCEPTION 'assignment config must be a JSON object, got %', v_config USING ERRCODE = 'RS731';
    ELSIF p_assignment_type IS NULL OR p_assignment_type NOT IN (
        'manual', 'external', 'purchase', 'balance_threshold', 'activity_threshold'
    ) THEN
        RAISE EXCEPTION 'unknown assignment type % (manual, external, purchase, balance_threshold, activity_threshold; milestones: resonance.create_milestone)',
            p_assignment_type USING ERRCODE = 'RS731';
    ELSIF p_assignment_type = 'purchase' AND NOT coalesce(
        jsonb_typeof(v_config -> 'price') = 'number'
        AND (v_config ->> 'price')::numeric BETWEEN 1 AND 1000000000
        AND (v_config ->> 'price')::numeric = trunc((v_config ->> 'price')::numeric),
        FALSE
    ) THEN
        RAISE EXCEPTION 'a purchase role needs {"price": a whole number 1 .. 1000000000}, got %', v_config USING ERRCODE = 'RS731';
    ELSIF p_assignment_type = 'balance_threshold' AND NOT coalesce(
        jsonb_typeof(v_config -> 'threshold') = 'number'
        AND (v_config ->> 'threshold')::numeric BETWEEN 1 AND 1000000000000,
        FALSE
    ) THEN
        RAISE EXCEPTION 'a balance_threshold role needs {"threshold": 1 .. 1000000000000}, got %', v_config USING ERRCODE = 'RS731';
    ELSIF p_priority NOT BETWEEN -1000 AND 1000 THEN
        RAISE EXCEPTION 'priority must be -1000 .. 1000, got %', p_priority USING ERRCODE = 'RS731';
    ELSIF length(p_role_name) > 100 THEN
        RAISE EXCEPTION 'role name is longer than 100 characters' USING ERRCODE = 'RS731';
    END IF;
    IF p_assignment_type = 'activity_threshold' THEN
        -- {"criteria": [...]} as milestones have it, or the short form {"type", "threshold"}.
        IF NOT v_config ? 'criteria' AND v_config ? 'type' THEN
            v_config := jsonb_build_object('criteria', jsonb_build_array(v_config));
        END IF;
        BEGIN
            PERFORM resonance.check_milestone_criteria(v_config -> 'criteria');
        EXCEPTION WHEN SQLSTATE 'RS405' THEN
            RAISE EXCEPTION 'an activity_threshold role needs {"criteria": [{"type": one of %, "threshold": a positive whole number}]}, got %',
                resonance.milestone_criterion_types(), p_assignment_config USING ERRCODE = 'RS731';
        END;
        IF EXISTS (
            SELECT FROM jsonb_array_elements(v_config -> 'criteria') AS c WHERE (c.value ->> 'threshold')::numeric > 1000000000000
        ) THEN
            RAISE EXCEPTION 'an activity threshold is at most 1000000000000' USING ERRCODE = 'RS731';
        END IF;
    END IF;
    PERFORM resonance.admin_act(p_actor_id);

    -- One row per role (unique_server_role) holds its effect and how it is assigned; a role that has
    -- no effect yet gets bonus_flat 0, which changes no reward.
    INSERT INTO public.discord_role_configs AS rc (
        server_id, brand_id, discord_role_id, discord_role_name, effect_type, effect_config,
        assignment_type, assignment_config, priority, is_active
    )
    VALUES (
        p_server_id, v_brand_id, p_role_id, p_role_name, 'bonus_flat', '{"value": 0}'::jsonb,
        p_assignment_type, v_config, coalesce(p_priority, 0), TRUE
    )
    ON CONFLICT ON CONSTRAINT unique_server_role DO UPDATE
    SET assignment_type = excluded.assignment_type,
        assignment_config = excluded.assignment_config,
        discord_role_name = coalesce(excluded.discord_role_name, rc.discord_role_name),
        priority = coalesce(p_priority, rc.priority),
        is_active = TRUE
    RETURNING rc.id, (rc.xmax = 0) INTO v_id, v_inserted;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_inserted THEN 'created' ELSE 'updated' END, 'id', v_id, 'role_id', p_role_id,
        'assignment_type', p_assignment_type, 'assignment_config', v_config
    );
END;
$$;

COMMENT ON FUNCTION resonance.set_role_assignment(text, text, text, text, jsonb, text, integer) IS
'Sets how a Discord role is assigned (the role''s row in discord_role_configs keeps its effect; a new row gets the neutral effect bonus_flat 0), audited with admin p_actor_id, and (re)activates the role. Types and configs: purchase {"price": whole 1..1000000000} (the /shop price), balance_threshold {"threshold": 1..1000000000000} (RSNC balance), activity_threshold {"criteria": [{"type","threshold"}]} or the short form {"type","threshold"} (types as milestones, thresholds at most 1000000000000), manual and external (no config). Milestones are set with resonance.create_milestone. {"status":"created"|"updated","id","role_id","assignment_type","assignment_config"}. Raises RS001, RS301 (no role id), RS731 (unknown type, bad config, priority outside -1000..1000, name over 100 characters), RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.set_role_assignment(text, text, text, text, jsonb, text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_role_assignment(text, text, text, text, jsonb, text, integer) TO service_role;


CREATE OR REPLACE FUNCTION resonance.disable_role(p_server_id text, p_actor_id text, p_role_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.require_text('p_role_id', p_role_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT rc.is_active INTO v_active
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id AND rc.discord_role_id = p_role_id
    FOR UPDATE;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'role % is not configured on server %', p_role_id, p_server_id USING ERRCODE = 'RS732';
    ELSIF NOT v_active THEN
        RETURN jsonb_build_object('status', 'already_disabled', 'role_id', p_role_id);
    END IF;
    UPDATE public.discord_role_configs AS rc SET is_active = FALSE
    WHERE rc.server_id = p_server_id AND rc.discord_role_id = p_role_id;
    RETURN jsonb_build_object('status', 'disabled', 'role_id', p_role_id);
END;
$$;

COMMENT ON FUNCTION resonance.disable_role(text, text, text) IS
'Switches a role''s configuration off (no effect, not for sale, not assigned automatically; holders keep the Discord role and their history), audited with admin p_actor_id: {"status":"disabled"|"already_disabled"}. set_role_effect or set_role_assignment switch it on again. Raises RS001, RS301 (no role id), RS732 (role not configured on the server), RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_role(text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_role(text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_role_configs(p_server_id text)
RETURNS TABLE (
    role_id text,
    role_name text,
    effect_type text,
    effect_config jsonb,
    assignment_type text,
    assignment_config jsonb,
    priority integer,
    is_active boolean,
    holders bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT
        rc.discord_role_id, rc.discord_role_name, rc.effect_type, rc.effect_config, rc.assignment_type,
        rc.assignment_config, rc.priority, rc.is_active,
        (SELECT count(*) FROM public.discord_role_assignments AS a
            WHERE a.server_id = p_server_id AND a.discord_role_id = rc.discord_role_id AND a.removed_at IS NULL)
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id
    ORDER BY NOT rc.is_active, rc.priority DESC, rc.discord_role_name, rc.discord_role_id;
END;
$$;

COMMENT ON FUNCTION resonance.list_role_configs(text) IS
'Every configured role of a server (active first): effect, assignment rule, priority and current holders recorded in discord_role_assignments. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_role_configs(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_role_configs(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.shop_items(p_server_id text)
RETURNS TABLE (role_id text, role_name text, price numeric, effect_type text, effect_config jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT rc.discord_role_id, rc.discord_role_name, (rc.assignment_config ->> 'price')::numeric, rc.effect_type, rc.effect_config
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id
        AND rc.is_active
        AND rc.assignment_type = 'purchase'
        AND jsonb_typeof(rc.assignment_config -> 'price') = 'number'
        AND (rc.assignment_config ->> 'price')::numeric > 0
    ORDER BY (rc.assignment_config ->> 'price')::numeric, rc.discord_role_name, rc.discord_role_id;
END;
$$;

COMMENT ON FUNCTION resonance.shop_items(text) IS
'The member''s /shop: active roles for sale (assignment_type purchase) with their RSNC price and effect, cheapest first; buy with resonance.purchase_role. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.shop_items(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.shop_items(text) TO service_role;


-- ------------------------------------------------------------------- KPI targets and report schedules

CREATE OR REPLACE FUNCTION resonance.disable_kpi_target(p_server_id text, p_actor_id text, p_metric text, p_period text DEFAULT 'week')
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT k.is_active INTO v_active
    FROM public.discord_kpi_configs AS k
    WHERE k.server_id = p_server_id AND k.metric = p_metric AND k.period = p_period
    FOR UPDATE;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'server % has no % target for %', p_server_id, p_period, p_metric USING ERRCODE = 'RS751';
    ELSIF NOT v_active THEN
        RETURN jsonb_build_object('status', 'already_disabled', 'metric', p_metric, 'period', p_period);
    END IF;
    UPDATE public.discord_kpi_configs AS k SET is_active = FALSE
    WHERE k.server_id = p_server_id AND k.metric = p_metric AND k.period = p_period;
    RETURN jsonb_build_object('status', 'disabled', 'metric', p_metric, 'period', p_period);
END;
$$;

COMMENT ON FUNCTION resonance.disable_kpi_target(text, text, text, text) IS
'Switches a KPI target off (kept; no alerts; resonance.set_kpi_target switches it on again), audited with admin p_actor_id: {"status":"disabled"|"already_disabled"}. Raises RS001, RS751 (no target of that metric and period), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_kpi_target(text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_kpi_target(text, text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_kpi_targets(p_server_id text)
RETURNS TABLE (metric text, period text, target_value numeric, alert_threshold numeric, is_active boolean)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT k.metric, k.period, k.target_value, k.alert_threshold, k.is_active
    FROM public.discord_kpi_configs AS k
    WHERE k.server_id = p_server_id
    ORDER BY NOT k.is_active, k.metric, k.period;
END;
$$;

COMMENT ON FUNCTION resonance.list_kpi_targets(text) IS
'A server''s KPI targets (active first, by metric and period). Alerts go to config_metadata.channels.alerts when set (resonance.set_server_channel), else to the report channel. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_kpi_targets(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_kpi_targets(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.disable_report_schedule(p_server_id text, p_actor_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    SELECT rs.is_active INTO v_active FROM public.discord_report_schedules AS rs WHERE rs.server_id = p_server_id FOR UPDATE;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'server % has no report schedule', p_server_id USING ERRCODE = 'RS752';
    ELSIF NOT v_active THEN
        RETURN jsonb_build_object('status', 'already_disabled');
    END IF;
    UPDATE public.discord_report_schedules AS rs SET is_active = FALSE WHERE rs.server_id = p_server_id;
    RETURN jsonb_build_object('status', 'disabled');
END;
$$;

COMMENT ON FUNCTION resonance.disable_report_schedule(text, text) IS
'Stops a server''s scheduled reports (the schedule is kept; resonance.set_report_schedule resumes it), audited with admin p_actor_id: {"status":"disabled"|"already_disabled"}. Raises RS001, RS752 (no schedule), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.disable_report_schedule(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.disable_report_schedule(text, text) TO service_role;
