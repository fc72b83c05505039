-- Scheduled jobs (db/jobs): run by pg_prove on the database that has pg_cron (cron.database_name,
-- `resonance` locally, `postgres` on Supabase). Every job exists once with its UTC schedule after
-- migrate, and its command runs when executed directly (inside this rolled-back transaction).
BEGIN;
\ir helpers/setup.psql
SELECT plan(24);

CREATE TEMP TABLE expected_jobs (jobname text PRIMARY KEY, schedule text, needs text, owner text) ON COMMIT DROP;
INSERT INTO expected_jobs VALUES
('resonance-kpi-snapshot', '0 0 * * *', 'resonance.snapshot_kpis', 'kpis'),
('tipping-cleanup-expired-nonces', '7 * * * *', 'tipping.cleanup_expired_nonces', 'ledger'),
('cron-job-run-details-retention', '30 3 * * *', NULL, 'kpis'),
('resonance-auto-drip', '* * * * *', 'resonance.run_auto_drip', 'drops'),
('resonance-due-reports', '*/5 * * * *', 'resonance.queue_due_reports', 'kpis'),
('resonance-ledger-check', '15 1 * * *', 'tipping.reconcile', 'ledger'),
('resonance-message-window-retention', '20 * * * *', 'resonance.prune_message_window', 'engine'),
('resonance-close-expired-drops', '* * * * *', 'resonance.close_expired_drops', 'drops'),
('resonance-refresh-goals', '* * * * *', 'resonance.refresh_all_goals', 'engine'),
('resonance-pay-drop-claims', '* * * * *', 'resonance.pay_unpaid_drop_claims', 'engine');

SELECT has_extension('pg_cron', 'pg_cron is installed in this database');

SELECT set_eq(
    $$SELECT jobname, schedule FROM cron.job WHERE jobname IN (SELECT jobname FROM expected_jobs)$$,
    $$SELECT jobname, schedule FROM expected_jobs$$,
    'every job is scheduled with its UTC schedule'
);
SELECT is(
    (SELECT count(*)::integer FROM cron.job WHERE jobname IN (SELECT jobname FROM expected_jobs)), 10,
    'each job exists exactly once'
);
SELECT is(
    (SELECT count(*)::integer FROM cron.job WHERE jobname IN (SELECT jobname FROM expected_jobs) AND active), 10,
    'every job is active'
);
SELECT is(
    (SELECT database FROM cron.job WHERE jobname = 'resonance-kpi-snapshot'), current_database()::text,
    'jobs run in this database'
);

-- cron.schedule by name is an upsert: re-applying a job file changes the job, never adds one.
SELECT lives_ok(
    $$SELECT cron.schedule('resonance-kpi-snapshot', '0 0 * * *', 'SELECT resonance.snapshot_kpis(); SELECT resonance.check_kpi_alerts()')$$,
    'scheduling an existing job by name again'
);
SELECT is(
    (SELECT count(*)::integer FROM cron.job WHERE jobname = 'resonance-kpi-snapshot'), 1,
    'still one resonance-kpi-snapshot job'
);

-- Run each job's command as pg_cron would; a job whose function is gone fails with its name.
CREATE FUNCTION tests.job_check(p_jobname text)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    v_job record;
BEGIN
    SELECT e.*, j.command INTO v_job
    FROM expected_jobs AS e LEFT JOIN cron.job AS j ON e.jobname = j.jobname
    WHERE e.jobname = p_jobname;
    IF v_job.needs IS NOT NULL AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_proc AS p
        WHERE
            p.pronamespace = split_part(v_job.needs, '.', 1)::regnamespace
            AND p.proname = split_part(v_job.needs, '.', 2)
    ) THEN
        RETURN QUERY SELECT fail(format('job %s: %s() does not exist (%s)', p_jobname, v_job.needs, v_job.owner));
    ELSE
        RETURN QUERY SELECT lives_ok(v_job.command, format('job %s: its command runs: %s', p_jobname, v_job.command));
    END IF;
END;
$$;

SELECT tests.job_check('resonance-kpi-snapshot');
SELECT tests.job_check('tipping-cleanup-expired-nonces');
SELECT tests.job_check('cron-job-run-details-retention');
SELECT tests.job_check('resonance-auto-drip');
SELECT tests.job_check('resonance-due-reports');
SELECT tests.job_check('resonance-ledger-check');
SELECT tests.job_check('resonance-message-window-retention');
SELECT tests.job_check('resonance-close-expired-drops');
SELECT tests.job_check('resonance-refresh-goals');
SELECT tests.job_check('resonance-pay-drop-claims');

-- What our own jobs did.
SELECT is(
    (SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE snapshot_date = (now() AT TIME ZONE 'UTC')::date - 1),
    (SELECT count(*)::integer FROM public.discord_server_configs WHERE is_active),
    'the snapshot job wrote yesterday''s daily snapshot of every active server'
);
SELECT is(
    (SELECT count(*)::integer FROM cron.job_run_details WHERE end_time < now() - interval '7 days'), 0,
    'the retention job keeps no run older than 7 days'
);

-- The commands a job runs are ours to time: each one here is short on an empty database.
INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('jobs-s1', 'jobs-b1');
SELECT lives_ok($$SELECT resonance.set_report_schedule('jobs-s1', 'daily', 'jobs-c1')$$, 'a daily report schedule');
SELECT is(resonance.queue_due_reports(now()), 1, 'the due-reports job queues a due report');
SELECT is(resonance.queue_due_reports(now()), 0, 'and never twice');
SELECT is(
    (SELECT payload ->> 'channel_id' FROM resonance.outbox WHERE server_id = 'jobs-s1' AND kind = 'send_report'), 'jobs-c1',
    'queued to the report channel'
);
SELECT is(
    (SELECT last_sent_by FROM public.discord_report_schedules WHERE server_id = 'jobs-s1'), 'pg_cron',
    'claimed by pg_cron'
);

SELECT * FROM finish();
ROLLBACK;
