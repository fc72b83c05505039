-- Job resonance-refresh-goals: every minute: recompute every open community goal (engine helper's function),
-- so a goal whose last crossing reward was throttled or skipped under contention completes within a minute.
-- Cost: one small aggregate per open goal (servers without open goals cost nothing).
-- Isolation: server by server, each in its own subtransaction: a server that fails is logged in
-- public.discord_job_errors (its brand reads it) and caught up by the first run that succeeds for it
-- (db/functions/job_isolation.sql, docs/security.md); the other servers are never held up.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'resonance-refresh-goals',
            '* * * * *',
            $cmd$SELECT resonance.refresh_all_goals()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-refresh-goals skipped', current_database();
    END IF;
END;
$do$;
