-- Job cron-job-run-details-retention: Daily at 03:30: keep 7 days of cron.job_run_details (Supabase never trims it).
-- Cost: about 4,000 run rows a day (two per-minute jobs + the rest), one DELETE of a day's worth; under a second.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'cron-job-run-details-retention',
            '30 3 * * *',
            $cmd$DELETE FROM cron.job_run_details WHERE end_time < now() - interval '7 days'$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job cron-job-run-details-retention skipped', current_database();
    END IF;
END;
$do$;
