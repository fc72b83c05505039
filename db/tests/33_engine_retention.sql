-- Retention (issue 16.8): unlinking is soft, history survives, foreign keys RESTRICT, and
-- resonance.purge_server forgets a server completely (orphans included) while money stays conserved.
BEGIN;
\ir helpers/setup.psql
SELECT plan(12);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('r1', 'rb'), ('r2', 'rb');
INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('rb', 'r1', 'channel_message', 4);
SELECT resonance.record_message('r1', 'u1', 'c', 'm1', 'hello there', '{}', NULL, '2030-05-01 10:00Z');
SELECT resonance.record_message('r2', 'u1', 'c', 'm1', 'hello there', '{}', NULL, '2030-05-01 10:00Z');
SELECT (resonance.create_drop('r1', 'button', 'c', NULL, NULL, NULL, 5, 10, 'custom', '{}') ->> 'drop_id') AS d1 \gset
SELECT resonance.pay_drop_claim((resonance.claim_drop(:'d1', 'u1') ->> 'claim_id')::uuid);
SELECT resonance.snapshot_kpis('2030-05-01');

SELECT throws_ok($$DELETE FROM public.discord_server_configs WHERE server_id = 'r1'$$, '23503', NULL,
    'a hard delete of a server with history is refused (foreign keys RESTRICT)');
SELECT is(
    (SELECT count(*)::integer FROM pg_constraint
     WHERE confrelid = 'public.discord_server_configs'::regclass AND confdeltype <> 'r'
         AND conrelid <> 'public.discord_job_errors'::regclass),
    0, 'no foreign key to discord_server_configs cascades (the job error log excepted: not history)');
SELECT throws_ok($$SELECT resonance.purge_server('r1', 'admin-1')$$, 'RS010', NULL, 'a linked server cannot be purged');
SELECT throws_ok($$SELECT resonance.purge_server('nope', 'admin-1')$$, 'RS001', NULL, 'an unknown server raises RS001');

-- Soft unlink: events answer inactive, history stays.
UPDATE public.discord_server_configs SET is_active = FALSE WHERE server_id = 'r1';
SELECT is(resonance.record_message('r1', 'u1', 'c', 'm2', 'still here?') ->> 'status', 'inactive', 'an unlinked server answers inactive');
SELECT is((SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE server_id = 'r1'), 1, 'its KPI snapshots are kept');
SELECT is((SELECT count(*)::integer FROM public.discord_drop_claims WHERE server_id = 'r1'), 1, 'its drop claims are kept');

SELECT tests.authenticate_as('service_role');
SELECT is(resonance.purge_server('r1', 'admin-1') ->> 'status', 'purged', 'purge_server forgets the unlinked server');
SELECT tests.clear_authentication();
SELECT is_empty(
    $$SELECT 'public.discord_user_stats' FROM public.discord_user_stats WHERE server_id = 'r1'
      UNION ALL SELECT 'claims' FROM public.discord_drop_claims WHERE server_id = 'r1'
      UNION ALL SELECT 'snapshots' FROM public.discord_kpi_snapshots WHERE server_id = 'r1'
      UNION ALL SELECT 'rollup' FROM resonance.daily_activity WHERE server_id = 'r1'
      UNION ALL SELECT 'decisions' FROM resonance.reward_ledger WHERE server_id = 'r1'
      UNION ALL SELECT 'dedup' FROM resonance.processed_events WHERE server_id = 'r1'
      UNION ALL SELECT 'window' FROM resonance.message_window WHERE server_id = 'r1'
      UNION ALL SELECT 'audit' FROM public.discord_audit_log WHERE server_id = 'r1'
      UNION ALL SELECT 'money names it' FROM tipping.transactions WHERE server_id = 'r1'
      UNION ALL SELECT 'config' FROM public.discord_server_configs WHERE server_id = 'r1'$$,
    'nothing of the server is left, orphans included');
SELECT is((SELECT count(*)::integer FROM public.discord_user_stats WHERE server_id = 'r2'), 1, 'the other server of the brand is untouched');
SELECT is_empty($$SELECT * FROM tipping.reconcile()$$, 'money is still conserved');
SELECT is(
    (SELECT actor_id FROM public.discord_audit_log WHERE server_id = 'brand:rb' AND action = 'purge_server'), 'admin-1',
    'the purge is recorded under the brand with the acting admin');

SELECT * FROM finish();
ROLLBACK;
