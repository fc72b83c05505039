-- Job tipping-cleanup-expired-nonces: Hourly at :07: delete expired wallet registration nonces (ledger helper's function).
-- Cost: one indexed DELETE of the nonces expired in the last hour; milliseconds.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'tipping-cleanup-expired-nonces',
            '7 * * * *',
            $cmd$SELECT tipping.cleanup_expired_nonces()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job tipping-cleanup-expired-nonces skipped', current_database();
    END IF;
END;
$do$;
