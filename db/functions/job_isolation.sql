-- Job isolation (issue 14): a shared job works server by server, each server in its own
-- subtransaction. The pattern, in every job that loops over tenants:
--
--     FOR v_server IN <the servers with work to do> LOOP
--         BEGIN
--             <the work for v_server, from resonance.job_missed_from(job, v_server) on>;
--             PERFORM resonance.job_succeeded(job, v_server);
--         EXCEPTION WHEN OTHERS THEN
--             PERFORM resonance.job_failed(job, v_server, <period start>, SQLSTATE, SQLERRM);
--         END;
--     END LOOP;
--
-- A failure rolls back that server's work only, is logged in public.discord_job_errors (readable
-- by the server's brand), and the job goes on. The next run that succeeds for the server starts
-- from the open row's missed_from, so the missed periods are caught up, then resolves it.
-- (WHEN OTHERS does not catch a statement timeout or a cancel: those stop the whole run, as they should.)

CREATE OR REPLACE FUNCTION resonance.job_failed(
    p_job text,
    p_server_id text,
    p_missed_from timestamptz,
    p_error_code text,
    p_error_message text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.discord_job_errors AS e (job, server_id, brand_id, error_code, error_message, missed_from)
    SELECT p_job, s.server_id, s.brand_id, coalesce(p_error_code, 'XX000'), left(coalesce(p_error_message, ''), 1000),
        coalesce(p_missed_from, now())
    FROM public.discord_server_configs AS s
    WHERE s.server_id = p_server_id
    ON CONFLICT (job, server_id) WHERE resolved_at IS NULL DO UPDATE
    SET error_code = excluded.error_code,
        error_message = excluded.error_message,
        last_failed_at = now(),
        failures = e.failures + 1;
    RAISE WARNING 'job % failed for server %: % %', p_job, p_server_id, p_error_code, p_error_message;
END;
$$;

COMMENT ON FUNCTION resonance.job_failed(text, text, timestamptz, text, text) IS
'Job isolation: records that job p_job failed for server p_server_id (SQLSTATE and message) in public.discord_job_errors: opens a row (missed_from = p_missed_from, the first period not done) or counts one more failure on the open one (missed_from kept). Also a WARNING in the job''s log. Call it from the EXCEPTION branch of the per-server subtransaction.';
REVOKE ALL ON FUNCTION resonance.job_failed(text, text, timestamptz, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.job_failed(text, text, timestamptz, text, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.job_missed_from(p_job text, p_server_id text)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT e.missed_from
    FROM public.discord_job_errors AS e
    WHERE e.job = p_job AND e.server_id = p_server_id AND e.resolved_at IS NULL
$$;

COMMENT ON FUNCTION resonance.job_missed_from(text, text) IS
'Job isolation: the start of the first period job p_job missed for the server (its open error row), or NULL when the last run succeeded. A job catches up from there.';
REVOKE ALL ON FUNCTION resonance.job_missed_from(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.job_missed_from(text, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.job_succeeded(p_job text, p_server_id text)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    UPDATE public.discord_job_errors AS e
    SET resolved_at = now()
    WHERE e.job = p_job AND e.server_id = p_server_id AND e.resolved_at IS NULL
$$;

COMMENT ON FUNCTION resonance.job_succeeded(text, text) IS
'Job isolation: closes the open error row of job p_job for the server (resolved_at = now()) once a run, catch-up included, succeeded for it. One index probe when there is none.';
REVOKE ALL ON FUNCTION resonance.job_succeeded(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.job_succeeded(text, text) TO service_role;
