-- The analytics warehouse: RLS shape, privileges, the single upsert path (idempotent, edits in
-- place, live ingest statuses), and the sealed console (tenant fixed, read-only, settings undone).
BEGIN;
\ir helpers/setup.psql
SELECT plan(40);

-- Shape: every warehouse table has RLS enabled and forced, with one read policy per reader role.
SELECT is(
    (
        SELECT count(*)::integer FROM pg_catalog.pg_class
        WHERE relnamespace = 'analytics'::regnamespace AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity
    ),
    (SELECT count(*)::integer FROM pg_catalog.pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind = 'r'),
    'every analytics table has RLS enabled and forced'
);
SELECT policies_are(
    'analytics', 'messages',
    ARRAY['Console reads its tenant''s rows', 'Brand members read their brand''s rows'],
    'messages: the console and brand read policies'
);
SELECT policy_roles_are('analytics', 'messages', 'Console reads its tenant''s rows', ARRAY['analytics_console']);
SELECT is(
    (SELECT array_agg(DISTINCT cmd) FROM pg_catalog.pg_policies WHERE schemaname = 'analytics'),
    ARRAY['SELECT'::text],
    'every analytics policy is a read policy (writes only through service_role functions)'
);
SELECT is_definer('analytics', 'console_tenant', ARRAY[]::text[], 'console_tenant is the SECURITY DEFINER policy helper');
SELECT is_definer('analytics', 'console_run', ARRAY['text', 'integer'], 'console_run drops to its owner');
SELECT function_owner_is('analytics', 'console_run', ARRAY['text', 'integer'], 'analytics_console', 'console_run is owned by the unprivileged console role');
SELECT ok(
    NOT pg_catalog.has_table_privilege('analytics_console', 'analytics.messages', 'INSERT')
    AND NOT pg_catalog.has_table_privilege('analytics_console', 'analytics.user_interactions', 'SELECT')
    AND NOT pg_catalog.has_schema_privilege('analytics_console', 'resonance', 'USAGE')
    AND NOT pg_catalog.has_schema_privilege('analytics_console', 'analytics', 'CREATE'),
    'the console role only reads the analytics tables'
);
SELECT ok(
    NOT pg_catalog.has_function_privilege('authenticated', 'analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint[], integer, integer, boolean, integer)', 'EXECUTE')
    AND NOT pg_catalog.has_function_privilege('anon', 'analytics.console_query(text, text, integer)', 'EXECUTE')
    AND NOT pg_catalog.has_function_privilege('analytics_console', 'analytics.console_query(text, text, integer)', 'EXECUTE')
    AND pg_catalog.has_function_privilege('service_role', 'analytics.apply_batch(uuid)', 'EXECUTE'),
    'write and console entry points are service_role only'
);

-- Two tenants, same guild and message ids.
SELECT analytics.upsert_server('ta', 1, 'Guild', NULL, NULL, 2);
SELECT analytics.upsert_server('tb', 1, 'Guild', NULL, NULL, 2);
SELECT analytics.upsert_channel('ta', 1, 10, 'general');
SELECT analytics.upsert_channel('tb', 1, 10, 'general');

SELECT is(
    analytics.ingest_message('ta', 1, 10, 1000::bigint << 22, 7, 'alice', 'hello there world') ->> 'status', 'inserted', 'a new message is inserted'
);
SELECT is(
    analytics.ingest_message('ta', 1, 10, 1000::bigint << 22, 7, 'alice', 'hello there world') ->> 'status', 'unchanged', 'a replay changes nothing'
);
SELECT is(
    analytics.ingest_message(
        'ta', 1, 10, 1001::bigint << 22, 8, 'bob', 'yes <@7>',
        p_reply_to_message_id => 1000::bigint << 22, p_mention_ids => ARRAY[7::bigint]
    ) ->> 'status',
    'inserted',
    'a reply is inserted'
);
SELECT results_eq(
    $$ SELECT reply_to_author_id, message_type, mention_count, word_count FROM analytics.messages WHERE tenant_id = 'ta' AND id = 1001::bigint << 22 $$,
    $$ VALUES (7::bigint, 19, 1, 2) $$,
    'the reply author comes from the referenced message; type, mentions and words are derived'
);
SELECT is(
    analytics.ingest_message('ta', 1, 10, 1000::bigint << 22, 7, 'alice', 'edited', p_edited_at => '2026-01-01') ->> 'status',
    'updated',
    'an edit updates in place'
);
SELECT is(
    analytics.ingest_message('ta', 1, 10, 1000::bigint << 22, 7, 'alice', 'older edit', p_edited_at => '2025-12-31') ->> 'status',
    'unchanged',
    'an edit older than the stored one is ignored'
);
SELECT is(
    (SELECT content FROM analytics.messages WHERE tenant_id = 'ta' AND id = 1000::bigint << 22), 'edited', 'the newest edit stays'
);
SELECT is(
    analytics.ingest_message('tb', 1, 10, 1000::bigint << 22, 7, 'alice', 'SECRET-B plans') ->> 'status', 'inserted', 'the same id in tenant b is its own row'
);
SELECT is(analytics.ingest_reaction('ta', 1000::bigint << 22, 8, 'fire') ->> 'status', 'added', 'a reaction is added');
SELECT is(analytics.ingest_reaction('ta', 1000::bigint << 22, 8, 'fire') ->> 'status', 'duplicate', 'a replayed reaction is a duplicate');
SELECT is(analytics.ingest_reaction('ta', 5::bigint, 8, 'fire') ->> 'status', 'unknown_message', 'a reaction to an unknown message is reported');
SELECT is(analytics.ingest_reaction('tb', 1000::bigint << 22, 8, 'fire', p_removed => TRUE) ->> 'status', 'not_found', 'tenant b has no such reaction');
SELECT throws_ok(
    $$ SELECT analytics.ingest_message('', 1, 10, 1, 7, 'x', 'x') $$, 'RA001', NULL, 'a tenant id is required'
);
SELECT is(
    (SELECT count(*)::integer FROM resonance.analytics_stage_messages), 0, 'staging is empty after every batch'
);
SELECT results_eq(
    $$ SELECT from_user_id, to_user_id, replies, reactions, mentions FROM analytics.user_interactions WHERE tenant_id = 'ta' ORDER BY from_user_id $$,
    $$ VALUES (8::bigint, 7::bigint, 1::bigint, 1::bigint, 1::bigint) $$,
    'user_interactions counts replies, reactions and mentions between members, with no refresh'
);
SELECT is(analytics.refresh_views('ta'), 1, 'a rebuild recomputes one tenant''s rollups only');

-- The console: tenant fixed by the grant on this transaction id; nothing the SQL sets survives.
SELECT set_config('statement_timeout', '5s', TRUE);
SELECT is(
    analytics.console_query('ta', 'SELECT count(*) AS n FROM messages') -> 'rows' -> 0 ->> 'n', '2', 'the console sees its tenant''s rows'
);
SELECT is(
    analytics.console_query(
        'ta',
        $q$ SELECT (SELECT count(*) FROM messages WHERE content LIKE 'SECRET%') AS n $q$
    ) -> 'rows' -> 0 ->> 'n',
    '0',
    'tenant a does not see tenant b''s secret'
);
SELECT throws_ok(
    $$ SELECT analytics.console_query('ta', 'SELECT set_config(''app.current_tenant'', ''tb'', false)') $$,
    'RA004', NULL, 'the console SQL cannot change a setting (set_config is off the allowlist)'
);
SELECT is(current_setting('transaction_read_only'), 'off', 'the caller''s transaction is writable again afterwards');
SELECT is(
    analytics.console_query('tb', 'SELECT count(*) AS n FROM messages WHERE content LIKE ''SECRET%''') -> 'rows' -> 0 ->> 'n', '1',
    'tenant b sees its own row'
);
SELECT throws_ok(
    $$ SELECT analytics.console_query('tb', 'SELECT count(*) FROM messages WHERE CASE WHEN content LIKE ''SECRET%'' THEN content::int ELSE 0 END = 1') $$,
    '22P02', NULL, 'the leaky-predicate probe fires when the row is visible (tenant b) ...'
);
SELECT lives_ok(
    $$ SELECT analytics.console_query('ta', 'SELECT count(*) FROM messages WHERE CASE WHEN content LIKE ''SECRET%'' THEN content::int ELSE 0 END = 1') $$,
    '... and never for tenant a: b''s rows are filtered before any predicate of a''s'
);
SELECT throws_ok($$ SELECT analytics.console_query('ta', 'DELETE FROM messages RETURNING 1') $$, '42601', NULL, 'writes are refused: only a query expression fits the console');
SELECT throws_ok($$ SELECT analytics.console_query('ta', 'SELECT set_config(''role'', ''none'', true)') $$, 'RA004', NULL, 'the console cannot reset its role: set_config is off the allowlist');
SELECT throws_ok($$ SELECT analytics.console_run('SELECT 1', 10) $$, 'RA003', NULL, 'console_run refuses to run outside console_query');
SELECT set_config('statement_timeout', '0', TRUE);
SELECT throws_ok($$ SELECT analytics.console_query('ta', 'SELECT 1') $$, 'RA002', NULL, 'the console needs a statement timeout');

-- A Partner Portal user reads its brand's tenant only.
SELECT tests.authenticate_as_brand('tb');
SELECT results_eq($$ SELECT content FROM analytics.messages $$, $$ VALUES ('SECRET-B plans'::text) $$, 'a brand reads its own tenant''s rows');
SELECT tests.clear_authentication();

-- Retention: the pg_cron job (where pg_cron lives) and its command.
SELECT is(
    (SELECT schedule FROM cron.job WHERE jobname = 'analytics-history-retention'), '40 3 * * *',
    'the retention job runs daily at 03:40 UTC'
);
SELECT lives_ok(
    (SELECT command FROM cron.job WHERE jobname = 'analytics-history-retention'), 'the retention job''s command runs'
);
SELECT is(analytics.history_days('no-such-tenant'), 30, 'the history window is 30 days without a setting');

SELECT * FROM finish();
ROLLBACK;
