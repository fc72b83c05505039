-- The audit trail: a generic trigger on every configuration table, and the actor setting that
-- service functions put in the transaction (resonance.actor_type / resonance.actor_id).

CREATE OR REPLACE FUNCTION resonance.set_actor(p_actor_type text, p_actor_id text, p_is_test boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_actor_type IS NULL OR p_actor_type NOT IN ('admin', 'bot', 'system', 'user') THEN
        RAISE EXCEPTION 'actor type must be admin, bot, system or user, got %', p_actor_type USING ERRCODE = 'RS309';
    END IF;
    PERFORM set_config('resonance.actor_type', p_actor_type, TRUE);
    PERFORM set_config('resonance.actor_id', coalesce(nullif(btrim(p_actor_id), ''), p_actor_type), TRUE);
    IF p_is_test IS NOT NULL THEN
        PERFORM set_config('resonance.is_test', p_is_test::text, TRUE);
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.set_actor(text, text, boolean) IS
'Names who is acting for the rest of the transaction (transaction-local settings resonance.actor_type and resonance.actor_id; a blank id becomes the type), read by the audit trigger; p_is_test (when not NULL) marks the transaction''s audit rows as test traffic (resonance.is_test). Admin functions call it with the acting admin''s id (the bot passes the admin''s Discord id). Raises RS309 for an actor type other than admin, bot, system, user.';

REVOKE ALL ON FUNCTION resonance.set_actor(text, text, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_actor(text, text, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.current_actor()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_type text := nullif(current_setting('resonance.actor_type', TRUE), '');
    v_id text := nullif(current_setting('resonance.actor_id', TRUE), '');
    v_claims jsonb;
BEGIN
    IF v_type IS NULL THEN
        -- A Partner Portal request (PostgREST) names its user in the JWT claims.
        BEGIN
            v_claims := nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
            v_claims := NULL;
        END;
        IF v_claims ? 'sub' THEN
            RETURN jsonb_build_object('actor_type', 'user', 'actor_id', v_claims ->> 'sub');
        END IF;
        -- Nobody named: a pg_cron job is the system; anything else on service_role is the bot.
        IF current_setting('application_name', TRUE) LIKE 'pg_cron%' THEN
            RETURN jsonb_build_object('actor_type', 'system', 'actor_id', coalesce(v_id, 'system'));
        END IF;
        RETURN jsonb_build_object('actor_type', 'bot', 'actor_id', coalesce(v_id, 'bot'));
    END IF;
    IF v_type NOT IN ('admin', 'bot', 'system', 'user') THEN
        v_type := 'system';
    END IF;
    RETURN jsonb_build_object('actor_type', v_type, 'actor_id', coalesce(v_id, 'system'));
END;
$$;

COMMENT ON FUNCTION resonance.current_actor() IS
'{"actor_type","actor_id"} of the transaction: the resonance.actor_* settings (resonance.set_actor, which admin functions call with the acting admin); else a JWT subject (Partner Portal) as user; else system/system for a pg_cron job and bot/bot for anything else (the bot''s own changes).';

REVOKE ALL ON FUNCTION resonance.current_actor() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.current_actor() TO service_role;


CREATE OR REPLACE FUNCTION resonance.audit_config_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_old jsonb;
    v_new jsonb;
    v_row jsonb;
    v_ignored text[] := coalesce(TG_ARGV::text[], '{}') || ARRAY['updated_at'];
    v_server_id text;
    v_brand_id text;
    v_actor jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' AND (v_old - v_ignored) = (v_new - v_ignored) THEN
        RETURN NULL;  -- only bookkeeping columns moved (claims_count, current_value, last_sent_at...)
    END IF;
    -- After the early return: current_actor() opens a subtransaction, and every drop claim's UPDATE
    -- of claims_count (under the hot row's lock) comes through here.
    v_actor := resonance.current_actor();
    v_row := coalesce(v_new, v_old);
    v_server_id := v_row ->> 'server_id';
    v_brand_id := v_row ->> 'brand_id';
    IF v_brand_id IS NULL AND v_server_id IS NOT NULL THEN
        SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = v_server_id;
    END IF;

    INSERT INTO public.discord_audit_log (
        server_id, brand_id, actor_type, actor_id, action, details, before_state, after_state, is_test
    )
    VALUES (
        coalesce(v_server_id, 'brand:' || coalesce(v_brand_id, '?')),
        v_brand_id,
        v_actor ->> 'actor_type',
        v_actor ->> 'actor_id',
        TG_TABLE_NAME || '.' || lower(TG_OP),
        jsonb_build_object('table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'operation', TG_OP)
        || coalesce(jsonb_build_object('reason', nullif(current_setting('resonance.audit_reason', TRUE), '')), '{}'::jsonb),
        v_old,
        v_new,
        coalesce(nullif(current_setting('resonance.is_test', TRUE), '')::boolean, FALSE)
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION resonance.audit_config_change() IS
'AFTER INSERT/UPDATE/DELETE row trigger on configuration tables: writes public.discord_audit_log with action <table>.<insert|update|delete>, before_state and after_state (whole rows), the actor from resonance.current_actor() (default system) and the brand. Trigger arguments name bookkeeping columns whose change alone is not audited (updated_at always). Brand-wide rows (server_id NULL) are logged under server_id ''brand:<brand_id>''. SECURITY DEFINER so that a Partner Portal write (RLS) is audited although the portal role cannot write the audit log itself.';

REVOKE ALL ON FUNCTION resonance.audit_config_change() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_server_configs
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change();

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_role_configs
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change();

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.monitoring_rules
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change();

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_kpi_configs
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change();

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_report_schedules
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change('last_sent_at');

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_achievements
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change();

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_community_goals
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change('current_value', 'completed_at', 'refreshed_at');

CREATE OR REPLACE TRIGGER audit_config_change AFTER INSERT OR UPDATE OR DELETE ON public.discord_drops
FOR EACH ROW EXECUTE FUNCTION resonance.audit_config_change('claims_count');
