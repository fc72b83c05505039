-- Job resonance-ledger-check: Daily at 01:15: tipping.reconcile() (balances vs the sum of ledger movements), recorded in resonance.ledger_checks.
-- Cost: one pass over tipping.transactions and tipping.balances; seconds per million transactions.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'resonance-ledger-check',
            '15 1 * * *',
            $cmd$SELECT resonance.check_ledger()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-ledger-check skipped', current_database();
    END IF;
END;
$do$;
