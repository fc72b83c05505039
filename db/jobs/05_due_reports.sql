-- Job resonance-due-reports: Every 5 minutes: claim up to 20 due report schedules and queue them in resonance.outbox (send_report);
-- the bot may also claim them itself with resonance.due_reports(now(), worker): a schedule is claimed once.
-- Cost: per report two KPI computations and a few rollup aggregates; a monthly report of a 100k-member
-- server reads ~3M rollup rows (seconds); 20 per run bounds a run to well under a minute.
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
            'resonance-due-reports',
            '*/5 * * * *',
            $cmd$SELECT resonance.queue_due_reports(now())$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-due-reports skipped', current_database();
    END IF;
END;
$do$;
