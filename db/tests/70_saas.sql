-- The dashboard's SaaS schema: RLS shape and privileges, plans, the console quota counted once,
-- bot connections (token never readable by the brand), the extraction queue and the Stripe writes.
BEGIN;
\ir helpers/setup.psql
SELECT plan(40);

SELECT is(
    (SELECT count(*)::integer FROM pg_catalog.pg_class WHERE relnamespace = 'saas'::regnamespace AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity),
    (SELECT count(*)::integer FROM pg_catalog.pg_class WHERE relnamespace = 'saas'::regnamespace AND relkind = 'r'),
    'every saas table has RLS enabled and forced'
);
SELECT ok(NOT pg_catalog.has_schema_privilege('anon', 'saas', 'USAGE'), 'anon has no usage on saas');
SELECT is(
    (SELECT count(*)::integer FROM pg_catalog.pg_proc WHERE pronamespace = 'saas'::regnamespace
     AND NOT coalesce('search_path=""' = any(proconfig), FALSE)),
    0, 'every saas function pins search_path'
);
SELECT is(
    (SELECT array_agg(proname::text ORDER BY proname) FROM pg_catalog.pg_proc WHERE pronamespace = 'saas'::regnamespace AND prosecdef),
    ARRAY['cancel_extraction', 'connect_bot', 'console_execute', 'start_extraction'],
    'the definers are the four calls of a signed-in brand (brand from the JWT)'
);
SELECT ok(
    NOT pg_catalog.has_function_privilege('authenticated', 'saas.claim_extraction_job(text)', 'EXECUTE')
    AND NOT pg_catalog.has_function_privilege('authenticated', 'saas.apply_stripe_subscription(text, text, text, text, text, text, text, timestamptz)', 'EXECUTE')
    AND NOT pg_catalog.has_function_privilege('authenticated', 'saas.finish_extraction_job(uuid, text, jsonb, text)', 'EXECUTE')
    AND NOT pg_catalog.has_function_privilege('anon', 'saas.console_execute(text, integer)', 'EXECUTE'),
    'worker and webhook functions are service_role only; anon executes nothing'
);
SELECT ok(
    NOT pg_catalog.has_column_privilege('authenticated', 'saas.bot_connections', 'token_ciphertext', 'SELECT')
    AND pg_catalog.has_column_privilege('authenticated', 'saas.bot_connections', 'guild_id', 'SELECT'),
    'authenticated reads every bot connection column but the ciphertext'
);
SELECT results_eq(
    'SELECT plan, storage_bytes, history_days, queries_per_month FROM saas.plans ORDER BY sort_order',
    $$VALUES ('free'::text, 524288000::bigint, 30, 1000), ('pro', 5368709120, 365, NULL), ('team', 26843545600, NULL, NULL)$$,
    'the seed''s plans: storage, history, queries per month'
);

-- No brand in the claims.
SELECT tests.authenticate_as('authenticated', '{"sub": "nobody"}');
SELECT throws_ok('SELECT saas.usage()', 'RW002', NULL, 'usage needs a brand claim');
SELECT throws_ok('SELECT saas.start_extraction(7)', 'RW002', NULL, 'start_extraction needs a brand claim');
SELECT tests.clear_authentication();

-- Bot connections.
SELECT tests.authenticate_as('authenticated', '{"sub": "alice", "app_metadata": {"brand_id": "saas-a"}}');
SELECT throws_ok('SELECT saas.start_extraction(7)', 'RW006', NULL, 'no bot: no extraction');
SELECT is(saas.connect_bot(100000042000000001, 'gAAAA-ciphertext') ->> 'status', 'connected', 'a connects its bot');
SELECT is(saas.connect_bot(100000042000000001, 'gAAAA-rotated') ->> 'status', 'reconnected', 'a second connect replaces it');
SELECT throws_ok('SELECT saas.connect_bot(0, ''x'')', 'RW008', NULL, 'a guild id is required');
SELECT results_eq('SELECT guild_id, connected_by FROM saas.bot_connections', $$VALUES (100000042000000001::bigint, 'alice'::text)$$, 'a sees its connection, by its user');
SELECT throws_ok('SELECT token_ciphertext FROM saas.bot_connections', '42501', NULL, 'the ciphertext is not readable by the brand');

-- Extraction queue.
SELECT throws_ok('SELECT saas.start_extraction(31)', 'RW005', NULL, 'free keeps 30 days of history');
SELECT throws_ok('SELECT saas.start_extraction(0)', 'RW005', NULL, 'sync_days must be positive');
SELECT is(saas.start_extraction(7) ->> 'status', 'queued', 'a queues a job');
SELECT is(saas.start_extraction(7) ->> 'status', 'already_active', 'one active job per brand and guild');
CREATE TEMP TABLE job_a ON COMMIT DROP AS SELECT id FROM saas.extraction_jobs;
GRANT SELECT ON job_a TO public;
SELECT tests.clear_authentication();
SELECT tests.authenticate_as('authenticated', '{"sub": "bob", "app_metadata": {"brand_id": "saas-b"}}');
SELECT is_empty('SELECT * FROM saas.extraction_jobs', 'b sees none of a''s jobs');
SELECT is_empty('SELECT brand_id, guild_id FROM saas.bot_connections', 'b sees none of a''s connection');
SELECT throws_ok(format('SELECT saas.cancel_extraction(%L)', (SELECT id FROM job_a)), 'RW007', NULL, 'b cannot cancel a''s job (it is unknown)');
SELECT tests.clear_authentication();

SELECT tests.authenticate_as('service_role');
SELECT results_eq(
    'SELECT brand_id, token_ciphertext FROM saas.claim_extraction_job(''w1'')',
    $$VALUES ('saas-a'::text, 'gAAAA-rotated'::text)$$,
    'the worker claims the queued job with the brand''s ciphertext'
);
SELECT is_empty('SELECT * FROM saas.claim_extraction_job(''w2'')', 'nothing left for a second worker');
UPDATE saas.extraction_jobs SET heartbeat_at = now() - interval '3 minutes' WHERE id = (SELECT id FROM job_a);
SELECT results_eq(
    'SELECT brand_id FROM saas.claim_extraction_job(''w3'')',
    $$VALUES ('saas-a'::text)$$,
    'a running job whose worker went silent for two minutes is claimed again'
);
SELECT is((SELECT worker FROM saas.extraction_jobs WHERE id = (SELECT id FROM job_a)), 'w3', '... by the new worker');
SELECT is(saas.report_extraction_progress((SELECT id FROM job_a), '{"messages_synced": 10}'), FALSE, 'progress is recorded; no cancel asked');
SELECT tests.clear_authentication();
SELECT tests.authenticate_as('authenticated', '{"sub": "alice", "app_metadata": {"brand_id": "saas-a"}}');
SELECT is(saas.cancel_extraction((SELECT id FROM job_a)) ->> 'status', 'cancel_requested', 'a running job is asked to stop');
SELECT tests.clear_authentication();
SELECT tests.authenticate_as('service_role');
SELECT is(saas.report_extraction_progress((SELECT id FROM job_a), '{"messages_synced": 20}'), TRUE, 'the worker learns of the cancel');
SELECT is(saas.finish_extraction_job((SELECT id FROM job_a), 'cancelled') ->> 'status', 'finished', 'the worker closes it');
SELECT throws_ok(format('SELECT saas.finish_extraction_job(%L, ''done'')', (SELECT id FROM job_a)), 'RW009', NULL, 'unknown final status');
SELECT tests.clear_authentication();

-- Console quota: counted once per successful query, refused at the limit with nothing counted.
INSERT INTO saas.query_usage (brand_id, period_start, queries)
VALUES ('saas-a', date_trunc('month', now() AT TIME ZONE 'UTC')::date, 998);
SET LOCAL statement_timeout = '5s';
SELECT tests.authenticate_as('authenticated', '{"sub": "alice", "app_metadata": {"brand_id": "saas-a"}}');
SELECT is(saas.console_execute('SELECT 1 AS one') ->> 'queries_used', '999', 'a query counts once');
SELECT throws_ok('SELECT saas.console_execute(''SELECT nope'')', '42703', NULL, 'a failing query raises ...');
SELECT is((saas.usage() ->> 'queries_used')::integer, 999, '... and counts nothing');
SELECT is(saas.console_execute('SELECT 1 AS one') ->> 'queries_left', '0', 'the 1000th query runs');
SELECT throws_ok('SELECT saas.console_execute(''SELECT 1'')', 'RW001', NULL, 'the 1001st is refused');
SELECT tests.clear_authentication();

-- Stripe: an event applies once; the plan lifts the quota.
SELECT tests.authenticate_as('service_role');
SELECT is(saas.apply_stripe_subscription('evt_t1', 'checkout.session.completed', 'saas-a', 'pro', 'active', 'cus_1', 'sub_1') ->> 'status', 'applied', 'an event applies');
SELECT is(saas.apply_stripe_subscription('evt_t1', 'checkout.session.completed', 'saas-a', 'team', 'active') ->> 'status', 'duplicate', 'a redelivery changes nothing');
SELECT throws_ok($$SELECT saas.apply_stripe_subscription('evt_t2', 'x', 'saas-a', 'gold', 'active')$$, 'RW003', NULL, 'unknown plan');
SELECT tests.clear_authentication();
SELECT tests.authenticate_as('authenticated', '{"sub": "alice", "app_metadata": {"brand_id": "saas-a"}}');
SELECT is(saas.console_execute('SELECT 1 AS one') ->> 'queries_used', '1001', 'on pro the console is unlimited (still counted)');

SELECT * FROM finish();
ROLLBACK;
