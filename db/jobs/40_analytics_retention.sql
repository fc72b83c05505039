-- Job analytics-history-retention: Daily at 03:40 UTC: every tenant's messages older than its history window
-- (analytics.tenant_settings.history_days, 30 days by default) are removed; the rollups follow.
-- Cost: an index range scan of (tenant_id, created_at) per tenant and a day's worth of deletes.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'analytics-history-retention',
            '40 3 * * *',
            $cmd$SELECT analytics.purge_all_history()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job analytics-history-retention skipped', current_database();
    END IF;
END;
$do$;
