-- Supabase-advisor style lints, written over the catalog so that they guard tables, policies and
-- functions that do not exist yet. Each lint is a view that lists offenders; the suite fails while
-- any view has a row. The second half proves every lint bites: it creates one offender of each
-- kind (rolled back) and expects the lint to name it.
BEGIN;
\ir helpers/setup.psql
SELECT plan(41);

-- Deliberate exceptions, each with its reason. An exception whose object no longer exists fails
-- the suite (so the list cannot rot), and every other lint applies in full.
CREATE TABLE tests.lint_exceptions (lint text, name text, reason text);
INSERT INTO tests.lint_exceptions VALUES
    ('function_open_to_api', 'analytics.request_tenant()',
     'SECURITY INVOKER helper of the analytics tenant views (a view''s user must be able to run its functions); '
     'returns the caller''s own tenant. Better in schema private (see docs/security.md).'),
    ('view_not_invoker', 'analytics.tenant_user_interactions',
     'security_barrier view over a materialized view (no RLS possible there) that filters on analytics.request_tenant().'),
    ('view_not_invoker', 'analytics.tenant_daily_stats',
     'security_barrier view over a materialized view (no RLS possible there) that filters on analytics.request_tenant().');

-- Tables of the exposed schemas without row level security.
CREATE VIEW tests.lint_rls_disabled AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'tipping', 'analytics') AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity;

-- analytics and the tipping ledger hold the line even against the tables' owner.
CREATE VIEW tests.lint_rls_not_forced AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('analytics', 'tipping') AND c.relkind IN ('r', 'p') AND NOT c.relforcerowsecurity;

-- Every table of public and tipping gives service_role (the bot) full access through a policy of
-- its own. analytics deliberately has read policies only (db/tests/60_analytics.sql): service_role
-- reaches it through BYPASSRLS, asserted below.
CREATE VIEW tests.lint_no_service_role_policy AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'tipping') AND c.relkind IN ('r', 'p')
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_policies AS p
        WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.cmd = 'ALL' AND 'service_role' = any(p.roles)
    );

-- A policy without TO <role> applies to PUBLIC, anon included.
CREATE VIEW tests.lint_policy_for_public AS
SELECT format('%I.%I: %s', p.schemaname, p.tablename, p.policyname) AS name
FROM pg_catalog.pg_policies AS p
WHERE p.schemaname IN ('public', 'tipping', 'analytics', 'resonance', 'private') AND 'public' = any(p.roles);

-- auth.*(), current_setting() and our private.*() helpers must be wrapped, (SELECT f(...)), so
-- that Postgres evaluates them once per statement instead of once per row. Deleting every wrapped
-- call from the policy text must leave no call behind.
CREATE VIEW tests.lint_unwrapped_policy_call AS
SELECT format('%I.%I: %s', p.schemaname, p.tablename, p.policyname) AS name, e.expr
FROM pg_catalog.pg_policies AS p
CROSS JOIN LATERAL (SELECT coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '') AS expr) AS e
WHERE p.schemaname IN ('public', 'tipping', 'analytics', 'resonance', 'private')
    AND regexp_replace(
        e.expr, '\(\s*SELECT\s+[(\s]*(auth\.\w+|(pg_catalog\.)?current_setting|private\.\w+)\s*\(', '(SELECT (', 'gi'
    ) ~* '(auth\.\w+|current_setting|private\.\w+)\s*\(';

-- Every column a policy filters on (its USING expression) leads an index, or is the predicate of one.
CREATE VIEW tests.lint_policy_column_unindexed AS
SELECT format('%I.%I: %s (%s)', p.schemaname, p.tablename, p.policyname, a.attname) AS name
FROM pg_catalog.pg_policies AS p
INNER JOIN pg_catalog.pg_namespace AS n ON n.nspname = p.schemaname
INNER JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = p.tablename
INNER JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE p.schemaname IN ('public', 'tipping', 'analytics')
    AND p.qual ~ ('\m' || a.attname || '\M')
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_index AS i
        WHERE i.indrelid = c.oid
            AND (i.indkey[0] = a.attnum OR coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '') ~ ('\m' || a.attname || '\M'))
    );

-- Our functions (not those of extensions).
CREATE VIEW tests.our_functions AS
SELECT
    p.oid,
    n.nspname AS schema_name,
    format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS name,
    p.prosecdef,
    p.proconfig,
    p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype AS is_trigger,
    p.proacl IS NULL OR EXISTS (
        SELECT FROM pg_catalog.aclexplode(p.proacl) AS acl WHERE acl.grantee = 0 AND acl.privilege_type = 'EXECUTE'
    ) AS public_can_execute
FROM pg_catalog.pg_proc AS p
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'tap', 'tests')
    AND n.nspname NOT IN ('auth', 'storage', 'realtime', 'graphql', 'extensions', 'vault', 'pgsodium', 'supabase_functions', 'cron', 'net', 'pgbouncer', 'graphql_public', 'realtime')
    AND p.prokind IN ('f', 'p')
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_depend AS d
        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e'
    );

-- Every function pins search_path = '' (and so must qualify every name it uses).
CREATE VIEW tests.lint_search_path_not_pinned AS
SELECT f.name FROM tests.our_functions AS f
WHERE NOT coalesce('search_path=""' = any(f.proconfig), FALSE);

-- anon never executes a SECURITY DEFINER function, anywhere.
CREATE VIEW tests.lint_definer_for_anon AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.prosecdef AND (f.public_can_execute OR has_function_privilege('anon', f.oid, 'EXECUTE'));

-- No SECURITY DEFINER function in a schema PostgREST exposes is executable by the API roles.
CREATE VIEW tests.lint_definer_exposed AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.prosecdef AND f.schema_name IN ('public', 'graphql_public')
    AND (f.public_can_execute OR has_function_privilege('anon', f.oid, 'EXECUTE') OR has_function_privilege('authenticated', f.oid, 'EXECUTE'));

-- resonance, tipping and analytics functions: executable by service_role only.
CREATE VIEW tests.lint_function_open_to_api AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.schema_name IN ('resonance', 'tipping', 'analytics')
    AND f.name NOT IN (SELECT e.name FROM tests.lint_exceptions AS e WHERE e.lint = 'function_open_to_api')
    AND (f.public_can_execute OR has_function_privilege('anon', f.oid, 'EXECUTE') OR has_function_privilege('authenticated', f.oid, 'EXECUTE'));

CREATE VIEW tests.lint_function_closed_to_service_role AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.schema_name IN ('resonance', 'tipping', 'analytics') AND NOT f.is_trigger
    AND NOT has_function_privilege('service_role', f.oid, 'EXECUTE');

-- Policy helpers in private: authenticated may, anon and PUBLIC may not.
CREATE VIEW tests.lint_private_function_open AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.schema_name = 'private' AND (f.public_can_execute OR has_function_privilege('anon', f.oid, 'EXECUTE'));

-- Functions in public are reachable as /rest/v1/rpc: none may be open to anon or PUBLIC.
CREATE VIEW tests.lint_public_function_open AS
SELECT f.name FROM tests.our_functions AS f
WHERE f.schema_name = 'public' AND (f.public_can_execute OR has_function_privilege('anon', f.oid, 'EXECUTE'));

-- anon holds no privilege on any table or sequence, beyond the role-config matrix.
CREATE VIEW tests.lint_anon_privilege AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'tipping', 'analytics', 'resonance', 'private')
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    AND format('%I.%I', n.nspname, c.relname) <> 'public.discord_role_configs'
    AND (
        has_table_privilege('anon', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        OR (c.relkind = 'S' AND has_sequence_privilege('anon', c.oid, 'USAGE,SELECT,UPDATE'))
        OR has_any_column_privilege('anon', c.oid, 'SELECT,INSERT,UPDATE,REFERENCES')
    );

-- resonance is service_role only: the API roles hold nothing there.
CREATE VIEW tests.lint_resonance_open AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'resonance' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND (
        has_table_privilege('authenticated', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        OR has_any_column_privilege('authenticated', c.oid, 'SELECT,INSERT,UPDATE,REFERENCES')
    );

-- A view runs with its owner's rights (bypassing RLS) unless security_invoker is set: any view the
-- API roles can read must be security_invoker. Materialized views carry no RLS at all: the API
-- roles may not read them.
CREATE VIEW tests.lint_view_not_invoker AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'tipping', 'analytics', 'private') AND c.relkind = 'v'
    AND (has_table_privilege('anon', c.oid, 'SELECT') OR has_table_privilege('authenticated', c.oid, 'SELECT'))
    AND NOT coalesce('security_invoker=true' = any(c.reloptions) OR 'security_invoker=on' = any(c.reloptions), FALSE)
    AND format('%I.%I', n.nspname, c.relname) NOT IN (SELECT e.name FROM tests.lint_exceptions AS e WHERE e.lint = 'view_not_invoker');

CREATE VIEW tests.lint_matview_readable AS
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind = 'm' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND (has_table_privilege('anon', c.oid, 'SELECT') OR has_table_privilege('authenticated', c.oid, 'SELECT'));

-- No extension lives in schema public (its functions would be reachable through /rest/v1/rpc).
-- pg_cron records public as its schema but creates its objects in schema cron.
CREATE VIEW tests.lint_extension_in_public AS
SELECT e.extname AS name
FROM pg_catalog.pg_extension AS e
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE n.nspname = 'public' AND e.extname <> 'pg_cron';

GRANT SELECT ON ALL TABLES IN SCHEMA tests TO public;

SELECT is_empty(
    $$SELECT e.lint, e.name FROM tests.lint_exceptions AS e
      WHERE e.name NOT IN (SELECT f.name FROM tests.our_functions AS f)
        AND to_regclass(e.name) IS NULL$$,
    'every lint exception names an object that exists'
);

-- The database as it stands passes every lint.
SELECT is_empty('SELECT name FROM tests.lint_rls_disabled', 'every table in public, tipping and analytics has RLS enabled');
SELECT is_empty('SELECT name FROM tests.lint_rls_not_forced', 'every analytics and tipping table forces RLS');
SELECT is_empty('SELECT name FROM tests.lint_no_service_role_policy', 'every table of public and tipping has a service_role full-access policy');
SELECT ok((SELECT rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = 'service_role'), 'service_role bypasses RLS (analytics: FORCE RLS, read policies only)');
SELECT is_empty('SELECT name FROM tests.lint_policy_for_public', 'no policy applies to PUBLIC');
SELECT is_empty('SELECT name, expr FROM tests.lint_unwrapped_policy_call', 'every auth.*(), current_setting() and private.*() call in a policy is wrapped in a select');
SELECT is_empty('SELECT name FROM tests.lint_policy_column_unindexed', 'every column a policy filters on is indexed');
SELECT is_empty('SELECT name FROM tests.lint_search_path_not_pinned', 'every function of ours pins search_path = ''''');
SELECT is_empty('SELECT name FROM tests.lint_definer_for_anon', 'anon cannot execute any SECURITY DEFINER function');
SELECT is_empty('SELECT name FROM tests.lint_definer_exposed', 'no SECURITY DEFINER function in an exposed schema is executable by anon or authenticated');
SELECT is_empty('SELECT name FROM tests.lint_function_open_to_api', 'no function in resonance, tipping or analytics is executable by PUBLIC, anon or authenticated');
SELECT is_empty('SELECT name FROM tests.lint_function_closed_to_service_role', 'service_role can execute every function in resonance, tipping and analytics');
SELECT is_empty('SELECT name FROM tests.lint_private_function_open', 'no private helper is executable by PUBLIC or anon');
SELECT is_empty('SELECT name FROM tests.lint_public_function_open', 'no function in public is executable by PUBLIC or anon');
SELECT is_empty('SELECT name FROM tests.lint_anon_privilege', 'anon holds no table privilege beyond discord_role_configs');
SELECT is_empty('SELECT name FROM tests.lint_resonance_open', 'authenticated holds no privilege in schema resonance');
SELECT is_empty('SELECT name FROM tests.lint_view_not_invoker', 'every view the API roles can read is security_invoker');
SELECT is_empty('SELECT name FROM tests.lint_matview_readable', 'no materialized view is readable by anon or authenticated');
SELECT is_empty('SELECT name FROM tests.lint_extension_in_public', 'no extension is installed in schema public');

-- Future objects: schema privileges and default privileges deny the API roles by default.
SELECT ok(NOT has_schema_privilege('anon', 'resonance', 'USAGE'), 'anon has no USAGE on resonance');
SELECT ok(NOT has_schema_privilege('anon', 'tipping', 'USAGE'), 'anon has no USAGE on tipping');
SELECT ok(NOT has_schema_privilege('anon', 'analytics', 'USAGE'), 'anon has no USAGE on analytics');
SELECT ok(NOT has_schema_privilege('anon', 'private', 'USAGE'), 'anon has no USAGE on private');
SELECT ok(NOT has_schema_privilege('authenticated', 'resonance', 'USAGE'), 'authenticated has no USAGE on resonance');

-- Each lint bites: one offender of each kind, created here and rolled back with the test.
CREATE TABLE public.lint_probe (id integer PRIMARY KEY, brand_id text, secret text);
CREATE TABLE analytics.lint_probe (tenant_id text, id integer);
ALTER TABLE analytics.lint_probe ENABLE ROW LEVEL SECURITY;
CREATE POLICY probe_unwrapped ON public.lint_probe FOR SELECT TO authenticated
USING (brand_id = auth.jwt() -> 'app_metadata' ->> 'brand_id');
CREATE POLICY probe_for_everyone ON public.lint_probe FOR SELECT USING (secret = current_setting('app.secret', TRUE));
CREATE FUNCTION resonance.lint_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION public.lint_probe_definer() RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = '' AS 'SELECT 1';
REVOKE EXECUTE ON FUNCTION public.lint_probe_definer() FROM anon;  -- public's default privileges grant it, as on Supabase
GRANT EXECUTE ON FUNCTION public.lint_probe_definer() TO authenticated;
CREATE FUNCTION private.lint_probe_open() RETURNS integer LANGUAGE sql SET search_path = '' AS 'SELECT 1';
GRANT EXECUTE ON FUNCTION private.lint_probe_open() TO public;
GRANT SELECT ON public.lint_probe TO anon;
CREATE TABLE resonance.lint_probe (id integer);
GRANT SELECT ON resonance.lint_probe TO authenticated;

SELECT ok(EXISTS (SELECT FROM tests.lint_rls_disabled WHERE name = 'public.lint_probe'), 'the RLS lint names a new table without RLS');
SELECT ok(EXISTS (SELECT FROM tests.lint_rls_not_forced WHERE name = 'analytics.lint_probe'), 'the FORCE lint names a new analytics table without FORCE RLS');
SELECT ok(EXISTS (SELECT FROM tests.lint_no_service_role_policy WHERE name = 'public.lint_probe'), 'the service_role lint names a table without a service_role policy');
SELECT ok(EXISTS (SELECT FROM tests.lint_policy_for_public WHERE name = 'public.lint_probe: probe_for_everyone'), 'the PUBLIC lint names a policy without TO');
SELECT ok(EXISTS (SELECT FROM tests.lint_unwrapped_policy_call WHERE name = 'public.lint_probe: probe_unwrapped'), 'the wrapping lint names an unwrapped auth.jwt()');
SELECT ok(EXISTS (SELECT FROM tests.lint_unwrapped_policy_call WHERE name = 'public.lint_probe: probe_for_everyone'), 'the wrapping lint names an unwrapped current_setting()');
SELECT ok(EXISTS (SELECT FROM tests.lint_policy_column_unindexed WHERE name = 'public.lint_probe: probe_unwrapped (brand_id)'), 'the index lint names an unindexed policy column');
SELECT ok(EXISTS (SELECT FROM tests.lint_search_path_not_pinned WHERE name = 'resonance.lint_probe()'), 'the search_path lint names a function without a pinned search_path');
SELECT ok(
    EXISTS (SELECT FROM tests.lint_definer_exposed WHERE name = 'public.lint_probe_definer()')
    AND NOT EXISTS (SELECT FROM tests.lint_definer_for_anon WHERE name = 'public.lint_probe_definer()'),
    'the SECURITY DEFINER lint names a definer function in public executable by authenticated'
);
SELECT ok(
    EXISTS (SELECT FROM tests.lint_function_closed_to_service_role WHERE name = 'resonance.lint_probe()'),
    'the service_role lint names a function service_role cannot execute'
);
SELECT ok(EXISTS (SELECT FROM tests.lint_private_function_open WHERE name = 'private.lint_probe_open()'), 'the private lint names a helper granted to PUBLIC');
SELECT ok(EXISTS (SELECT FROM tests.lint_anon_privilege WHERE name = 'public.lint_probe'), 'the anon lint names a table anon may read');
GRANT EXECUTE ON FUNCTION resonance.lint_probe() TO anon;
SELECT ok(EXISTS (SELECT FROM tests.lint_function_open_to_api WHERE name = 'resonance.lint_probe()'), 'the grant lint names a resonance function open to anon');
SELECT ok(EXISTS (SELECT FROM tests.lint_resonance_open WHERE name = 'resonance.lint_probe'), 'the resonance lint names a table open to authenticated');

CREATE VIEW public.lint_probe_view AS SELECT 1 AS one;
GRANT SELECT ON public.lint_probe_view TO authenticated;
CREATE MATERIALIZED VIEW analytics.lint_probe_matview AS SELECT 1 AS one;
GRANT SELECT ON analytics.lint_probe_matview TO authenticated;
SELECT ok(EXISTS (SELECT FROM tests.lint_view_not_invoker WHERE name = 'public.lint_probe_view'), 'the view lint names a view without security_invoker');
SELECT ok(EXISTS (SELECT FROM tests.lint_matview_readable WHERE name = 'analytics.lint_probe_matview'), 'the materialized view lint names a readable one');

SELECT * FROM finish();
ROLLBACK;
