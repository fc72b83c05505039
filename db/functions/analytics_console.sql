-- The sealed console: a tenant's own SQL, exactly one read-only SELECT, as analytics_console, through RLS,
-- with the tenant fixed for the transaction by something the SQL cannot change (its transaction id).
-- docs/security.md ("The sealed console") explains each layer and what each refusal's SQLSTATE means.
--
--   analytics.console_query (service_role, invoker), in a subtransaction it always rolls back:
--     1. refuses to start while the calling session has a cursor open (RA006), or without a statement
--        timeout of at most 30 s (RA002);
--     2. wraps the text as `SELECT * FROM (<text>) AS q`: only a query expression fits there, so EXPLAIN,
--        SHOW, SET, FETCH, DECLARE, PREPARE, LISTEN, COPY, DDL and DML are syntax errors (42601);
--     3. analytics.console_parse (owned by analytics_console) opens that text as a cursor without
--        fetching: Postgres itself refuses more than one statement (42P11) and names the console role
--        cannot reach (42501), before anything runs;
--     4. analytics.console_check reads the parse tree Postgres built (a temporary view's rewrite rule)
--        and refuses a function or operator not on the allowlist (RA004) and a relation that is not an
--        analytics table or view the console role may read (RA005);
--     5. grants the tenant to pg_current_xact_id(), turns the transaction read-only, and calls
--        analytics.console_run (SECURITY DEFINER owned by analytics_console: a privilege drop) which
--        streams at most p_row_cap rows of the cursor.
--   Every exit path (result, error, timeout) releases session advisory locks; the rollback undoes the
--   grant, the read-only flag and every setting the SQL changed.

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

CREATE OR REPLACE FUNCTION analytics.console_function_allowed(p_function oid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    -- The allowlist. Immutable functions of pg_catalog cannot write, read tables or catalogs, or take
    -- locks (that is what immutable promises, and the built-ins keep it). Of the stable and volatile
    -- ones only the names below, reviewed one by one: clocks, dates and time zones, text formatting,
    -- JSON construction (stable only because they call type output functions), full-text search.
    -- Nothing that reads settings, statistics, catalogs, files, cursors or other queries' text, nothing
    -- that locks, sleeps, notifies, writes WAL or large objects. Plus the console's own tenant helper.
    SELECT
        p.oid = 'analytics.console_tenant()'::pg_catalog.regprocedure
        OR (
            p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
            AND p.prokind IN ('f', 'a', 'w')
            AND (
                p.provolatile = 'i'
                OR p.proname = ANY (ARRAY[
                    'now', 'statement_timestamp', 'transaction_timestamp', 'clock_timestamp', 'random', 'gen_random_uuid',
                    'age', 'date', 'date_part', 'date_trunc', 'extract', 'generate_series', 'make_timestamptz', 'overlaps',
                    'time', 'timetz', 'timestamp', 'timestamptz', 'timezone', 'to_char', 'to_date', 'to_number',
                    'to_timestamp', 'in_range', 'interval_pl_timestamptz',
                    'anytextcat', 'textanycat', 'concat', 'concat_ws', 'format', 'quote_literal', 'quote_nullable',
                    'array_to_string', 'length', 'pg_typeof',
                    'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_agg', 'jsonb_agg', 'json_object_agg',
                    'jsonb_object_agg', 'json_build_array', 'jsonb_build_array', 'json_build_object', 'jsonb_build_object',
                    'json_populate_record', 'json_populate_recordset', 'json_to_record', 'json_to_recordset',
                    'jsonb_populate_record', 'jsonb_populate_recordset', 'jsonb_to_record', 'jsonb_to_recordset',
                    'jsonb_path_exists_tz', 'jsonb_path_match_tz', 'jsonb_path_query_tz', 'jsonb_path_query_array_tz',
                    'jsonb_path_query_first_tz',
                    'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery',
                    'ts_headline', 'ts_match_tq', 'ts_match_tt', 'json_to_tsvector', 'jsonb_to_tsvector'
                ]::name [])
                -- the comparison and arithmetic operators between dates, timestamps and timestamptz
                OR (p.provolatile = 's' AND p.proname ~ '^(date|timestamp|timestamptz)_(cmp|eq|ne|lt|le|gt|ge|pl|mi)_?')
            )
            -- functions Postgres never lets SQL call directly anyway (internal arguments, handlers)
            AND NOT 'internal'::pg_catalog.regtype = ANY (p.proargtypes::oid [])
            AND p.prorettype NOT IN (
                'internal'::pg_catalog.regtype, 'trigger'::pg_catalog.regtype, 'event_trigger'::pg_catalog.regtype,
                'language_handler'::pg_catalog.regtype, 'fdw_handler'::pg_catalog.regtype,
                'index_am_handler'::pg_catalog.regtype, 'table_am_handler'::pg_catalog.regtype,
                'tsm_handler'::pg_catalog.regtype
            )
        )
    FROM pg_catalog.pg_proc AS p
    WHERE p.oid = p_function
$$;

COMMENT ON FUNCTION analytics.console_function_allowed(oid) IS 'The console''s function allowlist: TRUE when tenant SQL may call this function (immutable functions of pg_catalog, a reviewed list of stable/volatile ones, analytics.console_tenant()). Enforced by analytics.console_check on the parse tree, because on Supabase EXECUTE on pg_catalog functions cannot be revoked from PUBLIC.';
REVOKE ALL ON FUNCTION analytics.console_function_allowed(oid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_function_allowed(oid) TO service_role;

CREATE OR REPLACE FUNCTION analytics.console_parse(p_query text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_cursor refcursor;
BEGIN
    IF analytics.console_tenant() IS NULL THEN
        RAISE EXCEPTION 'analytics.console_parse runs only inside analytics.console_query' USING ERRCODE = 'RA003';
    END IF;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, analytics, pg_temp', TRUE);
    -- Opening a cursor parses and plans the text as this role and executes nothing: more than one
    -- statement is refused here (42P11), and so is a name the console role cannot reach (42501).
    OPEN v_cursor FOR EXECUTE p_query;
    CLOSE v_cursor;
END;
$$;

-- A non-superuser deploy role (Supabase's postgres, a member of analytics_console since 1000) may
-- give the function away only while the new owner may CREATE in the schema: for this statement only.
GRANT CREATE ON SCHEMA analytics TO analytics_console;
ALTER FUNCTION analytics.console_parse(text) OWNER TO analytics_console;
REVOKE CREATE ON SCHEMA analytics FROM analytics_console;
COMMENT ON FUNCTION analytics.console_parse(text) IS 'Console step: opens the wrapped tenant query as a cursor as analytics_console without fetching (one statement, names the role can reach). Call it only through analytics.console_query.';
REVOKE ALL ON FUNCTION analytics.console_parse(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_parse(text) TO service_role;

CREATE OR REPLACE FUNCTION analytics.console_check(p_query text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_view oid;
    v_tree text;
    v_bad text;
BEGIN
    -- p_query is one SELECT (analytics.console_parse proved it), so this is one CREATE VIEW statement.
    -- The view is never read: its rewrite rule is the parse tree Postgres built, with every function,
    -- operator and relation as an OID. Reading OIDs from that tree is not a keyword filter: user text
    -- appears in it only as escaped tokens and byte arrays, which never form a " :funcid N" field.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, analytics, pg_temp', TRUE);
    EXECUTE 'CREATE TEMPORARY VIEW resonance_console_check AS SELECT 1 FROM (' || E'\n' || p_query || E'\n' || ') AS console_check';
    v_view := pg_catalog.to_regclass('pg_temp.resonance_console_check');
    SELECT r.ev_action::text INTO v_tree FROM pg_catalog.pg_rewrite AS r WHERE r.ev_class = v_view;
    EXECUTE 'DROP VIEW pg_temp.resonance_console_check';
    PERFORM pg_catalog.set_config('search_path', '', TRUE);

    WITH called AS (
        SELECT m[2]::oid AS fn
        FROM pg_catalog.regexp_matches(v_tree, ' :(funcid|aggfnoid|winfnoid|tsmhandler|startInRangeFunc|endInRangeFunc) (\d+)', 'g') AS m
        UNION
        SELECT o.oprcode::oid
        FROM pg_catalog.pg_operator AS o
        WHERE o.oid IN (
            SELECT m[2]::oid FROM pg_catalog.regexp_matches(v_tree, ' :(opno|eqop|sortop) (\d+)', 'g') AS m
            UNION
            SELECT pg_catalog.unnest(pg_catalog.string_to_array(m[1], ' '))::oid
            FROM pg_catalog.regexp_matches(v_tree, ' :opnos \(o ([0-9 ]+)\)', 'g') AS m
        )
    )

    SELECT pg_catalog.string_agg(c.fn::pg_catalog.regprocedure::text, ', ' ORDER BY c.fn::pg_catalog.regprocedure::text)
    INTO v_bad
    FROM called AS c
    WHERE c.fn <> 0 AND NOT coalesce(analytics.console_function_allowed(c.fn), FALSE);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'the console may not call %', v_bad
            USING ERRCODE = 'RA004', HINT = 'Tenant SQL may call the functions of analytics.console_function_allowed only (docs/security.md).';
    END IF;

    SELECT pg_catalog.string_agg(DISTINCT m[1]::oid::pg_catalog.regclass::text, ', ')
    INTO v_bad
    FROM pg_catalog.regexp_matches(v_tree, ' :relid (\d+)', 'g') AS m
    WHERE m[1]::oid NOT IN (0, v_view)
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_class AS c
            WHERE c.oid = m[1]::oid
                AND c.relnamespace = 'analytics'::pg_catalog.regnamespace
                AND c.relkind IN ('r', 'p', 'v')
                AND pg_catalog.has_table_privilege('analytics_console', c.oid, 'SELECT')
        );
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'the console may not read %', v_bad
            USING ERRCODE = 'RA005', HINT = 'Tenant SQL reads the tables and views of schema analytics only.';
    END IF;
END;
$$;

COMMENT ON FUNCTION analytics.console_check(text) IS 'Console step: checks the parse tree of one SELECT (built by Postgres as a temporary view, then dropped): every function and operator must be on analytics.console_function_allowed (else RA004), every relation an analytics table or view analytics_console may read (else RA005). Call it only through analytics.console_query, after analytics.console_parse.';
REVOKE ALL ON FUNCTION analytics.console_check(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_check(text) TO service_role;

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
    -- Unqualified names resolve as in console_parse and console_check (restored on return).
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, analytics, pg_temp', TRUE);
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
COMMENT ON FUNCTION analytics.console_run(text, integer) IS 'Runs the checked tenant query as analytics_console (SECURITY DEFINER owned by that unprivileged role: a privilege drop), read-only. Call it only through analytics.console_query.';
REVOKE ALL ON FUNCTION analytics.console_run(text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_run(text, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.console_query(p_tenant_id text, p_sql text, p_row_cap integer DEFAULT 10000)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_timeout_ms bigint;
    v_query text;
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
    -- A cursor the calling session left open would be readable from inside (cursor_to_xml is refused
    -- by the allowlist as well): the console starts only on a session without open cursors.
    -- (The protocol's unnamed portal, name '', is the statement calling this function.)
    IF EXISTS (SELECT FROM pg_catalog.pg_cursors AS c WHERE c.name <> '') THEN
        RAISE EXCEPTION 'close the session''s open cursors before calling analytics.console_query' USING ERRCODE = 'RA006';
    END IF;
    -- Exactly one query expression: anything else is a syntax error inside the parentheses. Trailing
    -- semicolons and blanks are a courtesy; a line break ends a trailing -- comment.
    v_query := 'SELECT * FROM (' || E'\n' || pg_catalog.rtrim(coalesce(p_sql, ''), E' \t\r\n;') || E'\n' || ') AS q';

    PERFORM pg_catalog.pg_current_xact_id();  -- the top-level transaction id the grant is bound to
    BEGIN
        INSERT INTO resonance.analytics_console_grants (xact_id, tenant_id)
        VALUES (pg_catalog.pg_current_xact_id(), p_tenant_id);
        PERFORM analytics.console_parse(v_query);
        PERFORM analytics.console_check(v_query);
        PERFORM pg_catalog.set_config('transaction_read_only', 'on', TRUE);
        v_result := analytics.console_run(v_query, least(greatest(coalesce(p_row_cap, 10000), 0), 10000));
        -- Roll back the subtransaction: the grant, the read-only flag and whatever the SQL set.
        RAISE EXCEPTION 'console done' USING ERRCODE = 'RA099';
    EXCEPTION
        WHEN SQLSTATE 'RA099' THEN
            NULL;
        WHEN query_canceled OR OTHERS THEN
            -- Failure and timeout exits too: session advisory locks survive a rollback.
            PERFORM pg_catalog.pg_advisory_unlock_all();
            RAISE;
    END;
    PERFORM pg_catalog.pg_advisory_unlock_all();
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION analytics.console_query(text, text, integer) IS 'The sealed SQL console: runs exactly one read-only query (SELECT, WITH ... SELECT, VALUES, TABLE) of tenant SQL as analytics_console, seeing only p_tenant_id''s analytics rows, calling only allowlisted functions, at most 10,000 rows ({columns, rows, row_count, truncated, tenant_id}). The caller sets statement_timeout (<= 30 s) first and holds no open cursor; session advisory locks are released on every exit. Refusals: 42601 (not one query expression), 42P11 (several statements), 42501 (privileges), RA004 (function not allowed), RA005 (relation not allowed), RA006 (open cursor), 25006 (a write).';
REVOKE ALL ON FUNCTION analytics.console_query(text, text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.console_query(text, text, integer) TO service_role;
