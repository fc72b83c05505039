-- The sealed console: a tenant's own SQL, read-only, as analytics_console, through RLS, with the
-- tenant fixed for the transaction by something the SQL cannot change (its transaction id).
--
--   analytics.console_query (service_role, invoker)  checks the caller's statement_timeout, then in a
--     subtransaction it always rolls back: grants the tenant to pg_current_xact_id(), turns the
--     transaction read-only, calls console_run.
--   analytics.console_run (SECURITY DEFINER, owned by analytics_console: a privilege drop, not a
--     raise) runs the SQL as one cursor, at most p_row_cap rows. Inside a security-definer function
--     Postgres refuses SET ROLE / SET SESSION AUTHORIZATION, so the SQL cannot become the caller again.
--   analytics.console_tenant (SECURITY DEFINER, the RLS policy helper) reads the grant of the current
--     transaction id. set_config on any setting changes nothing it reads.
-- The rollback undoes the grant and every setting the SQL changed (even session-level ones).

CREATE OR REPLACE FUNCTION analytics.console_tenant()
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT g.tenant_id
    FROM resonance.analytics_console_grants AS g
    WHERE g.xact_id = pg_catalog.pg_current_xact_id_if_assigned()
$$;

COMMENT ON FUNCTION analytics.console_tenant() IS 'RLS helper: the tenant granted to the current transaction by analytics.console_query, or NULL. Keyed by transaction id, which the console SQL cannot change.';
REVOKE ALL ON FUNCTION analytics.console_tenant() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_tenant() TO service_role, analytics_console;

CREATE OR REPLACE FUNCTION analytics.request_tenant()
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- plpgsql plans each branch only when it runs: the console never touches schema auth.
    IF current_user = 'analytics_console' THEN
        RETURN analytics.console_tenant();
    ELSIF current_user = 'authenticated' THEN
        RETURN auth.jwt() -> 'app_metadata' ->> 'brand_id';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION analytics.request_tenant() IS 'The tenant of the current reader: the console''s granted tenant, or a Partner Portal user''s brand_id claim; NULL for anyone else. Used by the tenant views over the materialized views.';
REVOKE ALL ON FUNCTION analytics.request_tenant() FROM public, anon;
GRANT EXECUTE ON FUNCTION analytics.request_tenant() TO service_role, authenticated, analytics_console;

CREATE OR REPLACE FUNCTION analytics.console_run(p_sql text, p_row_cap integer)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_row record;
    v_rows jsonb [] := '{}';
    v_count integer := 0;
    v_truncated boolean := FALSE;
    v_columns text [];
BEGIN
    IF analytics.console_tenant() IS NULL OR pg_catalog.current_setting('transaction_read_only') <> 'on' THEN
        RAISE EXCEPTION 'analytics.console_run runs only inside analytics.console_query' USING ERRCODE = 'RA003';
    END IF;
    -- Unqualified names resolve in schema analytics for the tenant's SQL (restored on return).
    PERFORM pg_catalog.set_config('search_path', 'analytics', TRUE);
    FOR v_row IN EXECUTE p_sql LOOP
        IF v_count >= p_row_cap THEN
            v_truncated := TRUE;
            EXIT;
        END IF;
        v_count := v_count + 1;
        IF v_columns IS NULL THEN
            v_columns := ARRAY(SELECT pg_catalog.json_object_keys(pg_catalog.to_json(v_row)));  -- json keeps the order
        END IF;
        v_rows := pg_catalog.array_append(v_rows, pg_catalog.to_jsonb(v_row));
    END LOOP;
    RETURN pg_catalog.jsonb_build_object(
        'columns', pg_catalog.to_jsonb(coalesce(v_columns, '{}')),
        'rows', pg_catalog.to_jsonb(v_rows),
        'row_count', v_count,
        'truncated', v_truncated,
        'tenant_id', analytics.console_tenant()
    );
END;
$$;

-- A non-superuser deploy role (Supabase's postgres, a member of analytics_console since 1000) may
-- give the function away only while the new owner may CREATE in the schema: for this statement only.
GRANT CREATE ON SCHEMA analytics TO analytics_console;
ALTER FUNCTION analytics.console_run(text, integer) OWNER TO analytics_console;
REVOKE CREATE ON SCHEMA analytics FROM analytics_console;
COMMENT ON FUNCTION analytics.console_run(text, integer) IS 'Runs tenant SQL as analytics_console (SECURITY DEFINER owned by that unprivileged role: a privilege drop). Call it only through analytics.console_query.';
REVOKE ALL ON FUNCTION analytics.console_run(text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_run(text, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.console_query(p_tenant_id text, p_sql text, p_row_cap integer DEFAULT 10000)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_timeout_ms bigint;
    v_result jsonb;
BEGIN
    IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
        RAISE EXCEPTION 'tenant id is required' USING ERRCODE = 'RA001';
    END IF;
    SELECT s.setting::bigint INTO v_timeout_ms FROM pg_catalog.pg_settings AS s WHERE s.name = 'statement_timeout';
    IF v_timeout_ms <= 0 OR v_timeout_ms > 30000 THEN
        RAISE EXCEPTION 'set statement_timeout (at most 30s) before calling analytics.console_query, got % ms', v_timeout_ms
            USING ERRCODE = 'RA002';
    END IF;

    PERFORM pg_catalog.pg_current_xact_id();  -- the top-level transaction id the grant is bound to
    BEGIN
        INSERT INTO resonance.analytics_console_grants (xact_id, tenant_id)
        VALUES (pg_catalog.pg_current_xact_id(), p_tenant_id);
        PERFORM pg_catalog.set_config('transaction_read_only', 'on', TRUE);
        v_result := analytics.console_run(p_sql, least(greatest(coalesce(p_row_cap, 10000), 0), 10000));
        -- Roll back the subtransaction: the grant, the read-only flag and whatever the SQL set.
        RAISE EXCEPTION 'console done' USING ERRCODE = 'RA099';
    EXCEPTION WHEN SQLSTATE 'RA099' THEN
        NULL;
    END;
    -- Session advisory locks survive a rollback: release any the SQL took.
    PERFORM pg_catalog.pg_advisory_unlock_all();
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION analytics.console_query(text, text, integer) IS 'The sealed SQL console: runs one statement of tenant SQL read-only as analytics_console, seeing only p_tenant_id''s analytics rows, at most 10,000 rows ({columns, rows, row_count, truncated, tenant_id}). The caller sets statement_timeout (<= 30 s) first; session advisory locks are released afterwards.';
REVOKE ALL ON FUNCTION analytics.console_query(text, text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_query(text, text, integer) TO service_role;
