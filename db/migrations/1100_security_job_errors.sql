-- Issue 14: one tenant's data must not stop another tenant's job, and planner statistics should not
-- carry other tenants' message text.
--
-- public.discord_job_errors: a shared job (drips, goals, reports, KPI snapshots, alerts, expiry) that
-- fails for one server logs it here and goes on with the others (db/functions/job_isolation.sql).
-- One open row per job and server; the next successful run for that server catches up from
-- missed_from and closes it (resolved_at). The Partner Portal reads its own brand's rows (RLS).

CREATE TABLE public.discord_job_errors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job text NOT NULL,
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    brand_id text NOT NULL,
    error_code text NOT NULL,
    error_message text NOT NULL,
    missed_from timestamptz NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    failures integer NOT NULL DEFAULT 1 CHECK (failures > 0),
    resolved_at timestamptz
);

CREATE UNIQUE INDEX idx_discord_job_errors_open ON public.discord_job_errors (job, server_id) WHERE resolved_at IS NULL;

CREATE INDEX idx_discord_job_errors_server ON public.discord_job_errors (server_id, first_failed_at DESC);

COMMENT ON TABLE public.discord_job_errors IS 'A shared job that failed for one server: logged here while the job goes on with the other servers. One open row (resolved_at NULL) per job and server; the first run that succeeds for the server catches up from missed_from and resolves it. Brands read their own servers'' rows.';
COMMENT ON COLUMN public.discord_job_errors.job IS 'auto_drip, refresh_goals, due_reports, kpi_snapshot, kpi_alerts or close_expired_drops.';
COMMENT ON COLUMN public.discord_job_errors.error_code IS 'The SQLSTATE of the failure (22P02: a value that is not a number, RS6xx: invalid configuration, ...).';
COMMENT ON COLUMN public.discord_job_errors.missed_from IS 'The start of the first period the job could not do for this server (a drip period, a KPI day); the catch-up starts there.';
COMMENT ON COLUMN public.discord_job_errors.failures IS 'Consecutive failed runs since first_failed_at.';

-- Free text never makes a useful row estimate, and its statistics (most common values, histogram)
-- hold every tenant's message text: without them, EXPLAIN or PostgREST's count=planned cannot be
-- used to test guesses at another tenant's messages (docs/security.md, residual risks).
ALTER TABLE analytics.messages ALTER COLUMN content SET STATISTICS 0;
