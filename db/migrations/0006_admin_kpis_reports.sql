-- The audit trail, KPI targets and snapshots, and report schedules.

CREATE TABLE public.discord_audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server_id text NOT NULL,
    brand_id text,
    actor_type text CHECK (actor_type IN ('admin', 'bot', 'system', 'user')),
    actor_id text,
    action text NOT NULL,
    target_user_id text,
    details jsonb,
    before_state jsonb,
    after_state jsonb,
    is_test boolean DEFAULT FALSE,
    created_at timestamptz DEFAULT now()
);

CREATE INDEX idx_discord_audit_log_server_created ON public.discord_audit_log (server_id, created_at DESC);

CREATE INDEX idx_discord_audit_log_brand_id ON public.discord_audit_log (brand_id);

COMMENT ON TABLE public.discord_audit_log IS 'Every admin and configuration change, with before and after state. Written only by service_role and our triggers; retained indefinitely.';
COMMENT ON COLUMN public.discord_audit_log.id IS 'Added: a key for the otherwise keyless documented table.';
COMMENT ON COLUMN public.discord_audit_log.actor_id IS 'Discord user id, or ''system''.';

CREATE TABLE public.discord_kpi_configs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    metric text NOT NULL CHECK (
        metric IN (
            'daily_active_users', 'weekly_active_users', 'streak_retention', 'new_user_conversion',
            'voice_participation', 'reward_efficiency', 'churn_rate', 'top_10_concentration'
        )
    ),
    target_value numeric NOT NULL,
    period text DEFAULT 'week' CHECK (period IN ('day', 'week', 'month')),
    alert_threshold numeric,
    is_active boolean DEFAULT TRUE,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT unique_kpi_config UNIQUE (server_id, metric, period)
);

COMMENT ON TABLE public.discord_kpi_configs IS 'KPI targets per server and period, with an alert threshold.';
COMMENT ON COLUMN public.discord_kpi_configs.id IS 'Added: a key for the otherwise keyless documented table.';

CREATE TABLE public.discord_kpi_snapshots (
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    snapshot_date date NOT NULL,
    snapshot_type text NOT NULL DEFAULT 'daily' CHECK (snapshot_type IN ('daily', 'weekly', 'monthly')),
    metrics jsonb NOT NULL,
    created_at timestamptz DEFAULT now(),
    PRIMARY KEY (server_id, snapshot_date, snapshot_type)
);

COMMENT ON TABLE public.discord_kpi_snapshots IS 'KPI history: one row per server, date and snapshot type (a rerun replaces it). Taken daily at midnight UTC.';

CREATE TABLE public.discord_report_schedules (
    server_id text PRIMARY KEY REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    frequency text CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    channel_id text NOT NULL,
    day_of_week integer CHECK (day_of_week BETWEEN 0 AND 6),
    is_active boolean DEFAULT TRUE,
    last_sent_at timestamptz,
    CONSTRAINT weekly_needs_day CHECK (frequency IS DISTINCT FROM 'weekly' OR day_of_week IS NOT NULL)
);

COMMENT ON TABLE public.discord_report_schedules IS 'One scheduled report per server, posted to channel_id.';
COMMENT ON COLUMN public.discord_report_schedules.day_of_week IS '0 = Sunday ... 6 = Saturday (as extract(dow)), for weekly reports.';
