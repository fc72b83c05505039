-- Internal tables shared by the engine, drops, KPIs and the bot (schema resonance, service_role only).

CREATE TABLE resonance.reward_ledger (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server_id text NOT NULL,
    brand_id text NOT NULL,
    discord_user_id text NOT NULL,
    event_type text NOT NULL,
    source_id text NOT NULL,
    rule_id uuid,
    base_amount numeric(20, 8) NOT NULL DEFAULT 0 CHECK (base_amount >= 0),
    amount numeric(20, 8) NOT NULL CHECK (amount >= 0),
    transaction_id uuid,
    occurred_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT unique_reward_idempotency UNIQUE (server_id, event_type, source_id)
);

CREATE INDEX idx_reward_ledger_member ON resonance.reward_ledger (server_id, discord_user_id, occurred_at);

CREATE INDEX idx_reward_ledger_rule_member ON resonance.reward_ledger (rule_id, discord_user_id, occurred_at);

COMMENT ON TABLE resonance.reward_ledger IS 'Every reward decided, exactly once: the idempotency key is (server, event type, source id), so a replayed gateway event pays nothing more.';
COMMENT ON COLUMN resonance.reward_ledger.source_id IS 'What makes the reward unique within its event type: message id (with rule id when several rules match), reaction, voice session, check-in day, drop and member, ...';
COMMENT ON COLUMN resonance.reward_ledger.transaction_id IS 'The tipping.transactions row that credited the member.';

CREATE TABLE resonance.daily_activity (
    server_id text NOT NULL,
    activity_date date NOT NULL,
    discord_user_id text NOT NULL,
    messages_count integer NOT NULL DEFAULT 0,
    voice_minutes integer NOT NULL DEFAULT 0,
    reactions_given integer NOT NULL DEFAULT 0,
    reactions_received integer NOT NULL DEFAULT 0,
    checkins integer NOT NULL DEFAULT 0,
    drops_claimed integer NOT NULL DEFAULT 0,
    rewards_count integer NOT NULL DEFAULT 0,
    rsnc_earned numeric(20, 8) NOT NULL DEFAULT 0,
    first_event_at timestamptz,
    last_event_at timestamptz,
    PRIMARY KEY (server_id, activity_date, discord_user_id)
);

CREATE INDEX idx_daily_activity_member ON resonance.daily_activity (server_id, discord_user_id, activity_date);

COMMENT ON TABLE resonance.daily_activity IS 'Per member, server and UTC day rollup of activity and RSNC earned; KPIs and leaderboards read this, not raw events.';

CREATE TABLE resonance.outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('add_role', 'remove_role', 'send_message', 'send_report')),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    dedup_key text UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'taken', 'done', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    taken_by text,
    taken_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);

CREATE INDEX idx_outbox_ready ON resonance.outbox (available_at, id) WHERE status IN ('pending', 'taken');

COMMENT ON TABLE resonance.outbox IS 'Side effects on Discord (roles to add/remove, messages, reports), written in the same transaction as the decision and drained by bot workers.';
COMMENT ON COLUMN resonance.outbox.dedup_key IS 'Optional: the same effect queued twice (a replay) lands once.';
COMMENT ON COLUMN resonance.outbox.available_at IS 'Not before this time: backoff after a failure, or the lease end of a taken row.';
