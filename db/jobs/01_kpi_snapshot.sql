-- Job resonance-kpi-snapshot: Daily at 00:00 UTC: yesterday's KPI snapshot of every active server (weekly on Sundays, monthly on a month's last day), then KPI alerts.
-- Cost: a few index range scans of resonance.daily_activity per server (14 days of rows); about 1 s for a
-- 100k-member server, milliseconds for a small one.
-- Isolation: server by server, each in its own subtransaction: a server that fails is logged in
-- public.discord_job_errors (its brand reads it) and caught up by the first run that succeeds for it
-- (db/functions/job_isolation.sql, docs/security.md); the other servers are never held up.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'resonance-kpi-snapshot',
            '0 0 * * *',
            $cmd$SELECT resonance.snapshot_kpis(); SELECT resonance.check_kpi_alerts()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-kpi-snapshot skipped', current_database();
    END IF;
END;
$do$;
