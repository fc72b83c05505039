-- The SaaS side of the dashboard (docs/web.md): plans and their quotas, each brand's subscription,
-- monthly console usage, processed Stripe events, the brand's Discord bot connection (token
-- encrypted by the web tier) and the extraction job queue. Functions: db/functions/saas.sql;
-- row security: db/policies/saas.sql.

CREATE SCHEMA IF NOT EXISTS saas;
COMMENT ON SCHEMA saas IS 'Plans, subscriptions, quotas, bot connections and extraction jobs of the web dashboard (resonance web).';
REVOKE ALL ON SCHEMA saas FROM public;
GRANT USAGE ON SCHEMA saas TO authenticated, service_role;

CREATE TABLE saas.plans (
    plan text PRIMARY KEY CHECK (plan IN ('free', 'pro', 'team')),
    display_name text NOT NULL,
    price_usd_month numeric(8, 2) NOT NULL CHECK (price_usd_month >= 0),
    storage_bytes bigint NOT NULL CHECK (storage_bytes > 0),
    history_days integer CHECK (history_days > 0),
    queries_per_month integer CHECK (queries_per_month > 0),
    sort_order integer NOT NULL
);

COMMENT ON TABLE saas.plans IS 'The subscription tiers of the seed: storage, history and console queries per month. NULL history_days or queries_per_month means unlimited.';
COMMENT ON COLUMN saas.plans.storage_bytes IS 'Warehouse storage of the brand''s tenant (analytics rows), checked before each extraction.';
COMMENT ON COLUMN saas.plans.history_days IS 'How many days of history an extraction may read; NULL: unlimited.';
COMMENT ON COLUMN saas.plans.queries_per_month IS 'Console queries per UTC calendar month; NULL: unlimited.';

INSERT INTO saas.plans (plan, display_name, price_usd_month, storage_bytes, history_days, queries_per_month, sort_order)
VALUES
('free', 'Free', 0, 500 * 1024 * 1024::bigint, 30, 1000, 1),
('pro', 'Pro', 9, 5 * 1024 * 1024 * 1024::bigint, 365, NULL, 2),
('team', 'Team', 29, 25 * 1024 * 1024 * 1024::bigint, NULL, NULL, 3);

CREATE TABLE saas.subscriptions (
    brand_id text PRIMARY KEY,
    plan text NOT NULL DEFAULT 'free' REFERENCES saas.plans (plan),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'trialing', 'past_due', 'canceled', 'incomplete', 'unpaid')),
    stripe_customer_id text UNIQUE,
    stripe_subscription_id text UNIQUE,
    current_period_end timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE saas.subscriptions IS 'Each brand''s plan. A brand without a row is on the free plan. Written only by the Stripe webhook (service_role, saas.apply_stripe_subscription).';

CREATE TABLE saas.query_usage (
    brand_id text NOT NULL,
    period_start date NOT NULL,
    queries integer NOT NULL DEFAULT 0 CHECK (queries >= 0),
    last_query_at timestamptz,
    PRIMARY KEY (brand_id, period_start)
);

COMMENT ON TABLE saas.query_usage IS 'Console queries per brand and UTC month (period_start = the 1st), counted once per successful query by saas.console_execute in the query''s own transaction.';

CREATE TABLE saas.stripe_events (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    brand_id text,
    received_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE saas.stripe_events IS 'Stripe webhook events already applied: a redelivered event changes nothing.';

CREATE TABLE saas.bot_connections (
    brand_id text PRIMARY KEY,
    guild_id bigint NOT NULL CHECK (guild_id > 0),
    token_ciphertext text NOT NULL,
    connected_by text NOT NULL,
    connected_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE saas.bot_connections IS 'A brand''s Discord bot: the guild it reads and its token, Fernet-encrypted by the web tier (key from the environment). authenticated writes its own row and reads every column but the ciphertext.';
COMMENT ON COLUMN saas.bot_connections.token_ciphertext IS 'Fernet token of the bot token; only service_role (the extraction worker) may read it.';

CREATE TABLE saas.extraction_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id text NOT NULL,
    guild_id bigint NOT NULL,
    sync_days integer NOT NULL CHECK (sync_days > 0),
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    requested_by text NOT NULL,
    cancel_requested boolean NOT NULL DEFAULT FALSE,
    progress jsonb NOT NULL DEFAULT '{}'::jsonb,
    result jsonb,
    error text,
    worker text,
    heartbeat_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);

CREATE UNIQUE INDEX idx_extraction_jobs_one_active
ON saas.extraction_jobs (brand_id, guild_id) WHERE status IN ('queued', 'running');

CREATE INDEX idx_extraction_jobs_brand ON saas.extraction_jobs (brand_id, created_at DESC);

CREATE INDEX idx_extraction_jobs_queued ON saas.extraction_jobs (created_at) WHERE status = 'queued';

COMMENT ON TABLE saas.extraction_jobs IS 'The extraction queue (Postgres only: claimed FOR UPDATE SKIP LOCKED by saas.claim_extraction_job). At most one queued or running job per brand and guild.';
COMMENT ON COLUMN saas.extraction_jobs.heartbeat_at IS 'Last progress report of the running worker; a running job silent for two minutes (its worker died) is claimed again.';
COMMENT ON COLUMN saas.extraction_jobs.progress IS 'Reported by the worker while running: {"phase", "messages_synced", "messages_expected", "channels"}.';
