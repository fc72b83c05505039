-- Scheduled tipping maintenance (pg_cron; cron.schedule by job name is an upsert). Databases without
-- pg_cron (test clones) skip it with a notice.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule('tipping-cleanup-expired-nonces', '*/10 * * * *', 'SELECT tipping.cleanup_expired_nonces()');
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: tipping jobs are not scheduled', current_database();
    END IF;
END;
$$;
