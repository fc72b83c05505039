-- Configuration JSON is validated when it is written (issue 14), whoever writes it (the portal over
-- REST, the bot, an operator in the SQL editor): a value the engine or a job would fail to read is
-- refused with an error naming the key, instead of failing a job later for every brand.
--   discord_server_configs.config_metadata  RS601
--   discord_role_configs.effect_config / assignment_config  RS602
-- And the documented anon writes on discord_role_configs are safe by default (RS603, RS604): see
-- docs/security.md, "discord_role_configs and the anon writes".
-- The trigger functions are SECURITY DEFINER (they read the server's settings, which anon cannot)
-- and executable by nobody: a trigger needs no EXECUTE privilege.

CREATE OR REPLACE FUNCTION private.config_number(
    p_config jsonb,
    p_path text [],
    p_min numeric,
    p_max numeric,
    p_integer boolean,
    p_errcode text,
    p_where text
)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_value jsonb := p_config #> p_path;
    v_number numeric;
BEGIN
    IF v_value IS NULL OR v_value = 'null'::jsonb THEN
        RETURN;
    END IF;
    -- A JSON number, or a string holding one (the engine reads values as text and casts them).
    IF pg_catalog.jsonb_typeof(v_value) = 'number'
        OR (pg_catalog.jsonb_typeof(v_value) = 'string'
            AND (v_value #>> '{}') ~ '^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$') THEN
        v_number := (v_value #>> '{}')::numeric;
    END IF;
    IF v_number IS NULL
        OR v_number < p_min
        OR v_number > p_max
        OR (p_integer AND v_number <> pg_catalog.trunc(v_number)) THEN
        RAISE EXCEPTION '%.% must be % between % and %, got %', p_where, pg_catalog.array_to_string(p_path, '.'),
            CASE WHEN p_integer THEN 'a whole number' ELSE 'a number' END, p_min, p_max, v_value
            USING ERRCODE = p_errcode;
    END IF;
END;
$$;

COMMENT ON FUNCTION private.config_number(jsonb, text [], numeric, numeric, boolean, text, text) IS
'Config validation helper: raises p_errcode naming the key (p_where.path) unless the value at p_path is absent, null, or a number (or numeric string) within p_min..p_max (whole when p_integer). Executable by nobody: the validation triggers run it as their owner.';
REVOKE ALL ON FUNCTION private.config_number(jsonb, text [], numeric, numeric, boolean, text, text) FROM public, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION private.config_kind(p_config jsonb, p_path text [], p_kind text, p_errcode text, p_where text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_value jsonb := p_config #> p_path;
BEGIN
    IF v_value IS NOT NULL AND v_value <> 'null'::jsonb AND pg_catalog.jsonb_typeof(v_value) <> p_kind THEN
        RAISE EXCEPTION '%.% must be a JSON %, got %', p_where, pg_catalog.array_to_string(p_path, '.'), p_kind, v_value
            USING ERRCODE = p_errcode;
    END IF;
END;
$$;

COMMENT ON FUNCTION private.config_kind(jsonb, text [], text, text, text) IS
'Config validation helper: raises p_errcode naming the key unless the value at p_path is absent, null, or of JSON type p_kind (object, array, string, boolean). Executable by nobody.';
REVOKE ALL ON FUNCTION private.config_kind(jsonb, text [], text, text, text) FROM public, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION private.validate_server_config()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_config jsonb := NEW.config_metadata;
BEGIN
    IF v_config IS NULL THEN
        RETURN NEW;
    END IF;
    IF pg_catalog.jsonb_typeof(v_config) <> 'object' THEN
        RAISE EXCEPTION 'config_metadata must be a JSON object, got %', pg_catalog.jsonb_typeof(v_config) USING ERRCODE = 'RS601';
    END IF;
    PERFORM private.config_kind(v_config, '{anti_farming}', 'object', 'RS601', 'config_metadata');
    PERFORM private.config_number(v_config, '{anti_farming,min_words}', 0, 10000, TRUE, 'RS601', 'config_metadata');
    PERFORM private.config_number(v_config, '{anti_farming,similarity}', 0, 1000, FALSE, 'RS601', 'config_metadata');
    PERFORM private.config_number(v_config, '{anti_farming,window_minutes}', 0, 10080, TRUE, 'RS601', 'config_metadata');
    PERFORM private.config_kind(v_config, '{anti_farming,enabled}', 'boolean', 'RS601', 'config_metadata');
    PERFORM private.config_kind(v_config, '{goals}', 'object', 'RS601', 'config_metadata');
    PERFORM private.config_number(v_config, '{goals,refresh_seconds}', 0, 86400, FALSE, 'RS601', 'config_metadata');
    PERFORM private.config_kind(v_config, '{security}', 'object', 'RS601', 'config_metadata');
    PERFORM private.config_kind(v_config, '{security,anon_role_config_writes}', 'boolean', 'RS601', 'config_metadata');
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION private.validate_server_config() IS
'Trigger (BEFORE INSERT OR UPDATE OF config_metadata on discord_server_configs): refuses (RS601, naming the key) a config_metadata that is not an object, or whose anti_farming (min_words, similarity (above 1 = off), window_minutes, enabled), goals.refresh_seconds or security.anon_role_config_writes has the wrong type or range. Other keys are free. Executable by nobody.';
REVOKE ALL ON FUNCTION private.validate_server_config() FROM public, anon, authenticated, service_role;

CREATE OR REPLACE TRIGGER validate_server_config
BEFORE INSERT OR UPDATE OF config_metadata ON public.discord_server_configs
FOR EACH ROW EXECUTE FUNCTION private.validate_server_config();

CREATE OR REPLACE FUNCTION private.validate_role_config()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_role_configs;
    v_server public.discord_server_configs;
    v_anon boolean := pg_catalog.current_setting('role', TRUE) = 'anon';
BEGIN
    v_row := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;

    -- The documented anon writes: refused unless the server enables them explicitly, and a row
    -- never moves to another server or brand (the policies limit anon to active rows).
    IF v_anon THEN
        SELECT s.* INTO v_server FROM public.discord_server_configs AS s WHERE s.server_id = v_row.server_id;
        IF v_server.server_id IS NULL
            OR NOT coalesce(v_server.config_metadata -> 'security' -> 'anon_role_config_writes' = 'true'::jsonb, FALSE) THEN
            RAISE EXCEPTION 'anon role-config writes are not enabled for server % (config_metadata.security.anon_role_config_writes)',
                v_row.server_id USING ERRCODE = 'RS603';
        END IF;
        IF TG_OP = 'UPDATE' AND (NEW.server_id IS DISTINCT FROM OLD.server_id OR NEW.brand_id IS DISTINCT FROM OLD.brand_id) THEN
            RAISE EXCEPTION 'a role config cannot move to another server or brand' USING ERRCODE = 'RS604';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;

    -- Whoever writes: the row's brand is its server's brand.
    IF TG_OP = 'INSERT' OR NEW.server_id IS DISTINCT FROM OLD.server_id OR NEW.brand_id IS DISTINCT FROM OLD.brand_id THEN
        IF v_server.server_id IS NULL THEN
            SELECT s.* INTO v_server FROM public.discord_server_configs AS s WHERE s.server_id = NEW.server_id;
        END IF;
        IF v_server.server_id IS NOT NULL AND NEW.brand_id IS DISTINCT FROM v_server.brand_id THEN
            RAISE EXCEPTION 'role config brand % is not the brand of server %', NEW.brand_id, NEW.server_id USING ERRCODE = 'RS604';
        END IF;
    END IF;

    PERFORM private.config_kind(NEW.effect_config, '{}', 'object', 'RS602', 'effect_config');
    PERFORM private.config_kind(NEW.assignment_config, '{}', 'object', 'RS602', 'assignment_config');
    CASE NEW.effect_type
        WHEN 'multiplier' THEN
            PERFORM private.config_number(NEW.effect_config, '{value}', 0, 1000000, FALSE, 'RS602', 'effect_config');
        WHEN 'bonus_flat' THEN
            PERFORM private.config_number(NEW.effect_config, '{value}', 0, 1000000000, FALSE, 'RS602', 'effect_config');
        WHEN 'cooldown_reduction' THEN
            PERFORM private.config_number(NEW.effect_config, '{percent}', 0, 100, FALSE, 'RS602', 'effect_config');
        WHEN 'one_time_bonus' THEN
            PERFORM private.config_number(NEW.effect_config, '{amount}', 0, 1000000000, FALSE, 'RS602', 'effect_config');
        WHEN 'auto_drip' THEN
            PERFORM private.config_number(NEW.effect_config, '{amount}', 0, 1000000000, FALSE, 'RS602', 'effect_config');
            IF coalesce(NEW.effect_config ->> 'period', 'day') NOT IN ('day', 'week', 'month') THEN
                RAISE EXCEPTION 'effect_config.period must be day, week or month, got %', NEW.effect_config -> 'period'
                    USING ERRCODE = 'RS602';
            END IF;
        WHEN 'event_access' THEN
            PERFORM private.config_kind(NEW.effect_config, '{event_types}', 'array', 'RS602', 'effect_config');
        ELSE
            NULL;
    END CASE;
    PERFORM private.config_number(NEW.assignment_config, '{price}', 0, 1000000000, FALSE, 'RS602', 'assignment_config');
    PERFORM private.config_number(NEW.assignment_config, '{threshold}', 0, 1000000000000, FALSE, 'RS602', 'assignment_config');
    PERFORM private.config_number(NEW.assignment_config, '{bonus_amount}', 0, 1000000000, FALSE, 'RS602', 'assignment_config');
    PERFORM private.config_kind(NEW.assignment_config, '{criteria}', 'array', 'RS602', 'assignment_config');
    IF pg_catalog.jsonb_typeof(NEW.assignment_config -> 'criteria') = 'array' THEN
        FOR i IN 0 .. pg_catalog.jsonb_array_length(NEW.assignment_config -> 'criteria') - 1 LOOP
            PERFORM private.config_kind(NEW.assignment_config, ARRAY['criteria', i::text], 'object', 'RS602', 'assignment_config');
            PERFORM private.config_number(
                NEW.assignment_config, ARRAY['criteria', i::text, 'threshold'], 0, 1000000000000, FALSE, 'RS602', 'assignment_config'
            );
        END LOOP;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION private.validate_role_config() IS
'Trigger (BEFORE INSERT, UPDATE, DELETE on discord_role_configs). Everyone: effect_config and assignment_config are objects whose numbers the engine reads (value, percent, amount, price, threshold, bonus_amount, criteria[].threshold) are numbers in range and auto_drip.period is day/week/month (RS602, naming the key); the brand is the server''s brand (RS604). anon (the documented anon_*_role_configs policies): refused unless the server''s config_metadata.security.anon_role_config_writes is true (RS603), and an update cannot change server_id or brand_id (RS604). Executable by nobody.';
REVOKE ALL ON FUNCTION private.validate_role_config() FROM public, anon, authenticated, service_role;

CREATE OR REPLACE TRIGGER validate_role_config
BEFORE INSERT OR UPDATE OR DELETE ON public.discord_role_configs
FOR EACH ROW EXECUTE FUNCTION private.validate_role_config();
