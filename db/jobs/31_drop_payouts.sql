-- Job resonance-pay-drop-claims: Every minute: pay every decided drop claim still unpaid (a crash
-- between resonance.claim_drop's decision and resonance.pay_drop_claim; engine helper's function).
-- Cost: one probe of the partial index on unpaid claims when there is nothing to repair.
-- pg_cron lives in one database (cron.database_name); elsewhere (databases cloned for tests) skip.
-- cron.schedule by job name is an upsert: re-applying this file updates the job, never duplicates it.
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule(
            'resonance-pay-drop-claims',
            '* * * * *',
            $cmd$SELECT resonance.pay_unpaid_drop_claims()$cmd$
        );
    ELSE
        RAISE NOTICE 'pg_cron is not installed in database %: job resonance-pay-drop-claims skipped', current_database();
    END IF;
END;
$do$;
