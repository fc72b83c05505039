-- Job resonance-close-expired-drops: Every minute: close drops whose expires_at has passed (drops helper's function).
-- Cost: only the drops expired since the last run; milliseconds.
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
            'resonance-close-expired-drops',
            '* * * * *',
            $cmd$SELECT resonance.close_expired_drops(now())$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-close-expired-drops skipped', current_database();
    END IF;
END;
$do$;
