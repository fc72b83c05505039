-- The analytics warehouse, part two: sync state for resumable backfills, staging tables for the
-- batched COPY + upsert path, the sealed console's role and per-transaction tenant grants, and the
-- two materialized views (with the unique indexes REFRESH ... CONCURRENTLY needs).

CREATE TABLE analytics.sync_state (
    tenant_id text NOT NULL,
    server_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    last_message_id bigint,
    messages_synced bigint NOT NULL DEFAULT 0,
    last_synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel_id),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES analytics.channels (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, server_id) REFERENCES analytics.servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_sync_state_server ON analytics.sync_state (tenant_id, server_id);

COMMENT ON TABLE analytics.sync_state IS 'Where the last sync of a channel stopped, per tenant: the next sync resumes after last_message_id.';
COMMENT ON COLUMN analytics.sync_state.last_message_id IS 'Newest message id committed by a sync of this channel (snowflakes grow with time).';
COMMENT ON COLUMN analytics.sync_state.messages_synced IS 'Messages written by syncs of this channel, all runs together.';

-- Staging: the extractor COPYs a batch here (one batch_id per batch), then analytics.apply_batch
-- upserts it into the warehouse in one statement per table and deletes it. Live ingest stages one
-- row and calls the same function. UNLOGGED: a batch lost in a crash is simply synced again.

CREATE UNLOGGED TABLE resonance.analytics_stage_users (
    batch_id uuid NOT NULL,
    tenant_id text NOT NULL,
    server_id bigint,
    id bigint NOT NULL,
    username text NOT NULL,
    discriminator text,
    avatar text,
    is_bot boolean NOT NULL DEFAULT FALSE,
    is_member boolean NOT NULL DEFAULT FALSE,
    nickname text,
    joined_at timestamptz
);

CREATE INDEX idx_analytics_stage_users_batch ON resonance.analytics_stage_users (batch_id);

COMMENT ON TABLE resonance.analytics_stage_users IS 'Staged users (authors, mentioned users, reactors, members) of one batch, until analytics.apply_batch.';
COMMENT ON COLUMN resonance.analytics_stage_users.is_member IS 'TRUE when the row comes from the guild member list: it also upserts analytics.server_members.';

CREATE UNLOGGED TABLE resonance.analytics_stage_messages (
    batch_id uuid NOT NULL,
    tenant_id text NOT NULL,
    server_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    id bigint NOT NULL,
    author_id bigint NOT NULL,
    content text,
    created_at timestamptz NOT NULL,
    edited_at timestamptz,
    message_type integer,
    reply_to_message_id bigint,
    reply_to_author_id bigint,
    mention_ids bigint [] NOT NULL DEFAULT '{}',
    attachment_count integer NOT NULL DEFAULT 0,
    embed_count integer NOT NULL DEFAULT 0,
    reactions_complete boolean NOT NULL DEFAULT FALSE
);

CREATE INDEX idx_analytics_stage_messages_batch ON resonance.analytics_stage_messages (batch_id, id);

COMMENT ON TABLE resonance.analytics_stage_messages IS 'Staged messages of one batch, until analytics.apply_batch.';
COMMENT ON COLUMN resonance.analytics_stage_messages.reactions_complete IS 'TRUE when the batch carries every reaction of the message (a sync with FETCH_REACTIONS): reactions not staged are removed.';

CREATE UNLOGGED TABLE resonance.analytics_stage_reactions (
    batch_id uuid NOT NULL,
    tenant_id text NOT NULL,
    message_id bigint NOT NULL,
    emoji_discord_id bigint,
    emoji_name text NOT NULL,
    is_animated boolean NOT NULL DEFAULT FALSE,
    user_id bigint NOT NULL
);

CREATE INDEX idx_analytics_stage_reactions_batch ON resonance.analytics_stage_reactions (batch_id, message_id);

COMMENT ON TABLE resonance.analytics_stage_reactions IS 'Staged reactions of one batch, until analytics.apply_batch.';
COMMENT ON COLUMN resonance.analytics_stage_reactions.emoji_discord_id IS 'Custom emoji id; NULL for a unicode emoji.';

-- The sealed console. Tenant SQL runs inside analytics.console_run, a SECURITY DEFINER function
-- owned by this role: inside it the query is this role (no SET ROLE back to the session user is
-- possible within a security-definer function), reads only what is granted here, through RLS.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'analytics_console') THEN
        BEGIN
            CREATE ROLE analytics_console NOLOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of this cluster created it a moment ago
        END;
    END IF;
END;
$$;

COMMENT ON ROLE analytics_console IS 'Resonance analytics console: tenant SQL runs as this role, read-only, analytics schema only, rows of one tenant (RLS).';

GRANT USAGE ON SCHEMA analytics TO analytics_console;

CREATE TABLE resonance.analytics_console_grants (
    xact_id xid8 PRIMARY KEY,
    tenant_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE resonance.analytics_console_grants IS 'Which tenant the console transaction with this id may read. Written by analytics.console_query inside a subtransaction it always rolls back, so rows never outlive the call.';
COMMENT ON COLUMN resonance.analytics_console_grants.xact_id IS 'pg_current_xact_id() of the calling transaction: tenant SQL cannot change its own transaction id.';

-- Materialized views: precomputed interactions and daily stats, all tenants together (a
-- materialized view has no RLS), owned by service_role so the sync can refresh them; tenants read
-- them only through the tenant-filtered views in db/policies/analytics.sql.

CREATE MATERIALIZED VIEW analytics.user_interactions AS
SELECT
    e.tenant_id,
    e.server_id,
    e.from_user_id,
    e.to_user_id,
    count(*) FILTER (WHERE e.kind = 'reply') AS replies,
    count(*) FILTER (WHERE e.kind = 'reaction') AS reactions,
    count(*) FILTER (WHERE e.kind = 'mention') AS mentions,
    count(*) AS total
FROM (
    SELECT
        m.tenant_id,
        m.server_id,
        m.author_id AS from_user_id,
        m.reply_to_author_id AS to_user_id,
        'reply' AS kind
    FROM analytics.messages AS m
    WHERE m.reply_to_author_id IS NOT NULL
    UNION ALL
    SELECT
        r.tenant_id,
        m.server_id,
        r.user_id AS from_user_id,
        m.author_id AS to_user_id,
        'reaction' AS kind
    FROM analytics.reactions AS r
    INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
    UNION ALL
    SELECT
        mm.tenant_id,
        m.server_id,
        m.author_id AS from_user_id,
        mm.user_id AS to_user_id,
        'mention' AS kind
    FROM analytics.message_mentions AS mm
    INNER JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
) AS e
WHERE e.from_user_id <> e.to_user_id
GROUP BY e.tenant_id, e.server_id, e.from_user_id, e.to_user_id;

CREATE UNIQUE INDEX idx_analytics_user_interactions_key
ON analytics.user_interactions (tenant_id, server_id, from_user_id, to_user_id);

COMMENT ON MATERIALIZED VIEW analytics.user_interactions IS 'Replies, reactions and mentions from one member to another (self-interactions excluded), per tenant and server. No RLS: read it through analytics.tenant_user_interactions.';

CREATE MATERIALIZED VIEW analytics.daily_stats AS
SELECT
    m.tenant_id,
    m.server_id,
    coalesce(m.channel_id, 0) AS channel_id,
    (m.created_at AT TIME ZONE 'UTC')::date AS day,
    count(*) AS messages,
    count(DISTINCT m.author_id) AS active_members
FROM analytics.messages AS m
GROUP BY GROUPING SETS (
    (m.tenant_id, m.server_id, (m.created_at AT TIME ZONE 'UTC')::date, m.channel_id),
    (m.tenant_id, m.server_id, (m.created_at AT TIME ZONE 'UTC')::date)
);

CREATE UNIQUE INDEX idx_analytics_daily_stats_key ON analytics.daily_stats (tenant_id, server_id, day, channel_id);

COMMENT ON MATERIALIZED VIEW analytics.daily_stats IS 'Messages and distinct active members per UTC day and channel; channel_id 0 is the whole server. No RLS: read it through analytics.tenant_daily_stats.';

ALTER MATERIALIZED VIEW analytics.user_interactions OWNER TO service_role;

ALTER MATERIALIZED VIEW analytics.daily_stats OWNER TO service_role;

REVOKE ALL ON analytics.user_interactions, analytics.daily_stats FROM public, anon, authenticated;
