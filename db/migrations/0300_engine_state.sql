-- Engine internals: event dedup, per-member rule cooldowns and claim caps, unique reactors per
-- message, the anti-farming message window; and a custom-function column for community goals.

CREATE TABLE resonance.processed_events (
    server_id text NOT NULL,
    event_kind text NOT NULL CHECK (event_kind IN ('message', 'reaction', 'voice', 'event')),
    source_id text NOT NULL,
    discord_user_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, event_kind, source_id)
);

CREATE INDEX idx_processed_events_occurred ON resonance.processed_events (occurred_at);

COMMENT ON TABLE resonance.processed_events IS 'Gateway events already processed: the first delivery inserts the row, a replay finds it and changes nothing (status duplicate).';
COMMENT ON COLUMN resonance.processed_events.source_id IS 'message id; message:reactor:emoji; voice session id; event_type:source id for record_event and manual rewards.';

CREATE TABLE resonance.rule_cooldowns (
    rule_id uuid NOT NULL,
    server_id text NOT NULL,
    discord_user_id text NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (rule_id, server_id, discord_user_id)
);

COMMENT ON TABLE resonance.rule_cooldowns IS 'When a member was last paid by a rule: one guarded upsert (WHERE last_at + cooldown <= new time) decides a cooldown.';

CREATE TABLE resonance.rule_claims (
    rule_id uuid NOT NULL,
    server_id text NOT NULL,
    discord_user_id text NOT NULL,
    period_start date NOT NULL,
    claims integer NOT NULL CHECK (claims >= 0),
    PRIMARY KEY (rule_id, server_id, discord_user_id, period_start)
);

COMMENT ON TABLE resonance.rule_claims IS 'Claims per member, rule and period for max_claims_per_user; one guarded upsert (WHERE claims < max) decides cap_reached.';
COMMENT ON COLUMN resonance.rule_claims.period_start IS '1970-01-01 for a lifetime cap, the UTC day for claims_period day, the ISO week''s Monday for week.';

CREATE TABLE resonance.message_reactors (
    server_id text NOT NULL,
    message_id text NOT NULL,
    reactor_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (server_id, message_id, reactor_id)
);

CREATE INDEX idx_message_reactors_occurred ON resonance.message_reactors (occurred_at);

COMMENT ON TABLE resonance.message_reactors IS 'Unique reactors per message (any emoji), for reaction_count triggers.';

CREATE TABLE resonance.message_reaction_counts (
    server_id text NOT NULL,
    message_id text NOT NULL,
    author_id text NOT NULL,
    unique_reactors integer NOT NULL DEFAULT 0 CHECK (unique_reactors >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, message_id)
);

COMMENT ON TABLE resonance.message_reaction_counts IS 'Unique reactors per message as one counter row per message: the upsert that adds a reactor returns the exact count, so a threshold is crossed by exactly one reaction.';

CREATE TABLE resonance.message_window (
    server_id text NOT NULL,
    discord_user_id text NOT NULL,
    message_id text NOT NULL,
    content text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (server_id, discord_user_id, message_id)
);

CREATE INDEX idx_message_window_member_time ON resonance.message_window (server_id, discord_user_id, occurred_at DESC);

CREATE INDEX idx_message_window_occurred ON resonance.message_window (occurred_at);

COMMENT ON TABLE resonance.message_window IS 'Recent message texts per member (first 500 characters) for the anti-farming similarity check; pruned by resonance.prune_message_window.';

ALTER TABLE public.discord_community_goals ADD COLUMN custom_function text CONSTRAINT goal_custom_function_name CHECK (
    custom_function ~ '^resonance\.goal_[a-z0-9_]+$'
);

COMMENT ON COLUMN public.discord_community_goals.custom_function IS 'Added: for goal_type custom, a function resonance.goal_<name>(p_server_id text) RETURNS numeric that computes current_value.';
