-- Edges of brand isolation the matrix does not reach: moving a row to another brand's server,
-- forged claims, TRUNCATE (which RLS does not filter), brand-wide rules, and the API roles
-- calling our functions directly.
BEGIN;
\ir helpers/setup.psql
\ir helpers/security.psql
SELECT plan(25);

SELECT tests.authenticate_as_brand('brand_a');

-- Moving an own row to brand b's server, or forging brand b's key, is a policy violation.
SELECT throws_ok(
    $$UPDATE public.discord_achievements SET server_id = 'server_b' WHERE server_id = 'server_a'$$,
    '42501', NULL, 'brand a cannot move its achievement to brand b''s server'
);
SELECT throws_ok(
    $$UPDATE public.discord_kpi_configs SET server_id = 'server_b' WHERE server_id = 'server_a'$$,
    '42501', NULL, 'brand a cannot move its KPI target to brand b''s server'
);
SELECT throws_ok(
    $$INSERT INTO public.monitoring_rules (brand_id, server_id, event_type) VALUES ('brand_a', 'server_b', 'message')$$,
    '42501', NULL, 'brand a cannot bind its rule to brand b''s server'
);
SELECT throws_ok(
    $$INSERT INTO public.monitoring_rules (brand_id, event_type) VALUES ('brand_b', 'message')$$,
    '42501', NULL, 'brand a cannot write a rule in brand b''s name'
);
SELECT throws_ok(
    $$UPDATE public.monitoring_rules SET brand_id = 'brand_b' WHERE brand_id = 'brand_a'$$,
    '42501', NULL, 'brand a cannot hand its rule to brand b'
);
SELECT lives_ok(
    $$INSERT INTO public.monitoring_rules (brand_id, event_type) VALUES ('brand_a', 'checkin')$$,
    'brand a may write a brand-wide rule (no server)'
);
SELECT isnt_empty(
    $$SELECT 1 FROM public.discord_audit_log WHERE server_id = 'brand:brand_a' AND action = 'monitoring_rules.insert'$$,
    'brand a reads the audit entry of its brand-wide rule'
);
SELECT tests.authenticate_as_brand('brand_b');
SELECT is_empty($$SELECT 1 FROM public.discord_audit_log WHERE brand_id = 'brand_a' OR server_id IN ('server_a', 'server_a2', 'brand:brand_a')$$, 'brand b reads none of brand a''s audit entries');
SELECT tests.authenticate_as_brand('brand_a');
SELECT throws_ok(
    $$UPDATE public.discord_server_configs SET brand_id = 'brand_b' WHERE server_id = 'server_a'$$,
    '42501', NULL, 'brand a cannot move its server to brand b (no UPDATE on brand_id)'
);
SELECT throws_ok(
    $$UPDATE public.discord_server_configs SET server_id = 'server_x' WHERE server_id = 'server_a'$$,
    '42501', NULL, 'brand a cannot rekey its server (no UPDATE on server_id)'
);
SELECT is_empty(
    $$UPDATE public.discord_server_configs SET server_name = 'taken' WHERE server_id = 'server_b' RETURNING 1$$,
    'brand a cannot rename brand b''s server (no row matches)'
);

-- TRUNCATE is not filtered by RLS, so nobody but service_role holds it.
SELECT throws_ok('TRUNCATE public.discord_achievements CASCADE', '42501', NULL, 'brand a cannot TRUNCATE a config table');
SELECT throws_ok('TRUNCATE public.discord_audit_log', '42501', NULL, 'brand a cannot TRUNCATE the audit log');

-- The helper answers with the caller's own servers only.
SELECT set_eq('SELECT private.brand_server_ids()', $$VALUES ('server_a'), ('server_a2')$$, 'private.brand_server_ids() lists brand a''s servers');

-- Our functions are not the API roles' to call.
SELECT throws_ok(
    $$SELECT resonance.apply_reward('server_a', 'user_a', 'message', 'forged', 1000)$$,
    '42501', NULL, 'a brand user cannot call resonance.apply_reward'
);
SELECT throws_ok(
    $$SELECT tipping.credit_reward('user_a', 1000, 'brand_a', 'server_a', 'forged', 'forged')$$,
    '42501', NULL, 'a brand user cannot call tipping.credit_reward'
);

-- Claims a user can write (user_metadata) are never read as the brand.
SELECT tests.authenticate_as('authenticated', '{"sub": "00000000-0000-4000-8000-000000000002", "user_metadata": {"brand_id": "brand_b"}}');
SELECT is_empty($$SELECT 1 FROM public.discord_server_configs$$, 'a brand_id in user_metadata grants nothing');
SELECT is_empty($$SELECT 1 FROM public.discord_user_stats$$, 'a brand_id in user_metadata reaches no server');

-- A brand claim that names no brand sees nothing either.
SELECT tests.authenticate_as_brand('brand_nobody');
SELECT is_empty($$SELECT 1 FROM public.monitoring_rules$$, 'an unknown brand sees no rules');

-- anon: no function, no helper, no ledger.
SELECT tests.authenticate_as('anon');
SELECT throws_ok($$SELECT private.brand_server_ids()$$, '42501', NULL, 'anon cannot call the policy helper');
SELECT throws_ok(
    $$SELECT resonance.apply_reward('server_a', 'user_a', 'message', 'forged', 1000)$$,
    '42501', NULL, 'anon cannot call resonance.apply_reward'
);
SELECT throws_ok($$SELECT 1 FROM tipping.balances$$, '42501', NULL, 'anon cannot read balances');
SELECT throws_ok($$SELECT 1 FROM analytics.messages$$, '42501', NULL, 'anon cannot read the warehouse');
SELECT throws_ok($$TRUNCATE public.discord_role_configs$$, '42501', NULL, 'anon cannot TRUNCATE role configs');

-- The server policy is an index condition (server_id = ANY ($0) from one init plan), not a filter
-- over every row: 40,000 member stats over 200 servers, brand a reading its own.
SELECT tests.clear_authentication();
INSERT INTO public.discord_server_configs (server_id, brand_id) SELECT 'bulk_' || g AS server_id, 'brand_bulk' AS brand_id FROM generate_series(1, 200) AS g;
INSERT INTO public.discord_user_stats (server_id, discord_user_id)
SELECT 'bulk_' || s AS server_id, 'member_' || u AS discord_user_id FROM generate_series(1, 200) AS s CROSS JOIN generate_series(1, 200) AS u;
ANALYZE public.discord_server_configs;
ANALYZE public.discord_user_stats;
SELECT tests.authenticate_as_brand('brand_a');
CREATE FUNCTION pg_temp.plan_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_plan text;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || p_sql INTO v_plan;
    RETURN v_plan;
END;
$$;
SELECT matches(
    pg_temp.plan_of('SELECT * FROM public.discord_user_stats'),
    '"Index Cond": "\(server_id = ANY',
    'a brand reads member stats through an index on server_id, the brand''s servers computed once'
);

SELECT * FROM finish();
ROLLBACK;
