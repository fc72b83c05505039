-- KPIs, scheduled reports and the ledger check: one index for the new-member cohort, who claimed a
-- report, and the record of every ledger reconciliation.

-- new_user_conversion reads the members first seen in a 7-day window of one server.
CREATE INDEX idx_discord_user_stats_first_seen ON public.discord_user_stats (server_id, first_seen_at);

ALTER TABLE public.discord_report_schedules ADD COLUMN last_sent_by text;

COMMENT ON COLUMN public.discord_report_schedules.last_sent_by IS 'Added: the worker (bot replica or cron job) whose resonance.due_reports call claimed the latest report.';

CREATE TABLE resonance.ledger_checks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    checked_at timestamptz NOT NULL DEFAULT now(),
    differences integer NOT NULL CHECK (differences >= 0),
    details jsonb NOT NULL DEFAULT '[]'::jsonb
);

CREATE INDEX idx_ledger_checks_checked_at ON resonance.ledger_checks (checked_at);

COMMENT ON TABLE resonance.ledger_checks IS 'One row per resonance.check_ledger() run: how many balances differed from the sum of their ledger movements (tipping.reconcile()), and those rows.';
COMMENT ON COLUMN resonance.ledger_checks.details IS 'A jsonb array with one object per row returned by tipping.reconcile(); empty when the ledger balances.';
