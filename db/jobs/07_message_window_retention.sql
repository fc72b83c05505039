-- Job resonance-message-window-retention: Hourly at :20: drop anti-farming message window rows older than 7 days (engine helper's function).
-- Cost: an indexed DELETE of an hour's worth of old rows.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
-- Schedules are UTC (pg_cron's default timezone, GMT, on Supabase and locally).
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'resonance-message-window-retention',
            '20 * * * *',
            $cmd$SELECT resonance.prune_message_window(now() - interval '7 days')$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-message-window-retention skipped', current_database();
    END IF;
END;
$do$;
