-- Per-tenant, incremental analytics. The two materialized views (recomputed for every tenant at
-- each refresh) become rollup tables kept current by statement triggers on the warehouse tables
-- (db/functions/analytics_ingest.sql): a write changes exactly the rollup rows of its own tenant.
-- user_interactions and daily_stats stay, as plain views over the rollups, so every reader keeps
-- working. Messages are soft-deleted (deleted_at); a tenant's history window drives a purge job.

ALTER TABLE analytics.messages ADD COLUMN deleted_at timestamptz;

COMMENT ON COLUMN analytics.messages.deleted_at IS 'Added: when the message was deleted in Discord (live ingest) or expired (retention). A deleted message counts nowhere; its mentions and reactions are removed.';

CREATE INDEX idx_analytics_messages_created ON analytics.messages (tenant_id, created_at);

-- The live messages of a server over a time window (activity_levels; the tenant policies hide deleted rows).
CREATE INDEX idx_analytics_messages_live ON analytics.messages (tenant_id, server_id, created_at) WHERE deleted_at IS NULL;

-- The tenant views (db/policies/analytics.sql, applied after the migrations: absent in a new
-- database) read the materialized views; the policies file recreates them, and the two views below
-- replace the materialized views under the same names and columns, so no client breaks.
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS analytics.tenant_user_interactions;

-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS analytics.tenant_daily_stats;

-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW analytics.user_interactions;

-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW analytics.daily_stats;

-- refresh_views() becomes refresh_views(p_tenant_id DEFAULT NULL): a call without arguments still works.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS analytics.refresh_views();

CREATE TABLE analytics.interaction_counts (
    tenant_id text NOT NULL,
    server_id bigint NOT NULL,
    from_user_id bigint NOT NULL,
    to_user_id bigint NOT NULL,
    replies bigint NOT NULL DEFAULT 0,
    reactions bigint NOT NULL DEFAULT 0,
    mentions bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, server_id, from_user_id, to_user_id),
    CONSTRAINT interaction_counts_not_negative CHECK (replies >= 0 AND reactions >= 0 AND mentions >= 0)
);

COMMENT ON TABLE analytics.interaction_counts IS 'Rollup: replies, reactions and mentions from one member to another (self-interactions excluded) over the live (not deleted) messages, per tenant and server. Maintained by triggers on messages, reactions and message_mentions; a row whose three counts reach 0 is deleted.';

CREATE TABLE analytics.daily_author_counts (
    tenant_id text NOT NULL,
    server_id bigint NOT NULL,
    day date NOT NULL,
    channel_id bigint NOT NULL,
    author_id bigint NOT NULL,
    messages bigint NOT NULL,
    PRIMARY KEY (tenant_id, server_id, day, channel_id, author_id),
    CONSTRAINT daily_author_counts_positive CHECK (messages > 0)
);

COMMENT ON TABLE analytics.daily_author_counts IS 'Rollup: live messages per UTC day, channel (0 = the whole server) and author, per tenant. Maintained by triggers on messages; daily_stats counts its rows as active members.';

CREATE TABLE analytics.tenant_settings (
    tenant_id text PRIMARY KEY,
    history_days integer DEFAULT 30 CHECK (history_days > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE analytics.tenant_settings IS 'Per-tenant warehouse settings. history_days: messages older than this many days are purged (no row: 30 days, the free plan; NULL: kept forever).';

GRANT SELECT, INSERT, UPDATE, DELETE ON analytics.interaction_counts, analytics.daily_author_counts, analytics.tenant_settings
TO service_role;

CREATE VIEW analytics.user_interactions AS
SELECT
    ic.tenant_id,
    ic.server_id,
    ic.from_user_id,
    ic.to_user_id,
    ic.replies,
    ic.reactions,
    ic.mentions,
    ic.replies + ic.reactions + ic.mentions AS total
FROM analytics.interaction_counts AS ic;

COMMENT ON VIEW analytics.user_interactions IS 'Replies, reactions and mentions between members per tenant and server, always current (analytics.interaction_counts). service_role only: tenants read analytics.tenant_user_interactions.';

CREATE VIEW analytics.daily_stats AS
SELECT
    dc.tenant_id,
    dc.server_id,
    dc.channel_id,
    dc.day,
    sum(dc.messages)::bigint AS messages,
    count(*) AS active_members
FROM analytics.daily_author_counts AS dc
GROUP BY dc.tenant_id, dc.server_id, dc.channel_id, dc.day;

COMMENT ON VIEW analytics.daily_stats IS 'Messages and distinct active members per tenant, server, UTC day and channel (0 = whole server), always current (analytics.daily_author_counts). service_role only: tenants read analytics.tenant_daily_stats.';

REVOKE ALL ON analytics.user_interactions, analytics.daily_stats FROM public, anon, authenticated;

GRANT SELECT ON analytics.user_interactions, analytics.daily_stats TO service_role;

-- The rollups of the rows already in the warehouse (the triggers keep them from here on).
INSERT INTO analytics.interaction_counts (tenant_id, server_id, from_user_id, to_user_id, replies, reactions, mentions)
SELECT
    e.tenant_id,
    e.server_id,
    e.from_user_id,
    e.to_user_id,
    count(*) FILTER (WHERE e.kind = 'reply') AS replies,
    count(*) FILTER (WHERE e.kind = 'reaction') AS reactions,
    count(*) FILTER (WHERE e.kind = 'mention') AS mentions
FROM (
    SELECT m.tenant_id, m.server_id, m.author_id AS from_user_id, m.reply_to_author_id AS to_user_id, 'reply' AS kind
    FROM analytics.messages AS m
    WHERE m.reply_to_author_id IS NOT NULL
    UNION ALL
    SELECT r.tenant_id, m.server_id, r.user_id, m.author_id, 'reaction' AS kind
    FROM analytics.reactions AS r
    INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
    UNION ALL
    SELECT mm.tenant_id, m.server_id, m.author_id, mm.user_id, 'mention' AS kind
    FROM analytics.message_mentions AS mm
    INNER JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
) AS e
WHERE e.from_user_id <> e.to_user_id
GROUP BY e.tenant_id, e.server_id, e.from_user_id, e.to_user_id;

INSERT INTO analytics.daily_author_counts (tenant_id, server_id, day, channel_id, author_id, messages)
SELECT
    m.tenant_id,
    m.server_id,
    (m.created_at AT TIME ZONE 'UTC')::date AS day,
    ch.channel_id,
    m.author_id,
    count(*) AS messages
FROM analytics.messages AS m
CROSS JOIN LATERAL (VALUES (m.channel_id), (0)) AS ch (channel_id)
GROUP BY m.tenant_id, m.server_id, (m.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, m.author_id;

-- What one write adds to (+1) or takes from (-1) the rollups; the trigger functions collect these
-- and analytics._bump_interactions / _bump_daily apply the net change, key by key.
CREATE TYPE analytics.interaction_delta AS (
    tenant_id text,
    server_id bigint,
    from_user_id bigint,
    to_user_id bigint,
    replies integer,
    reactions integer,
    mentions integer
);

COMMENT ON TYPE analytics.interaction_delta IS 'A change to one analytics.interaction_counts row (signed counts).';

CREATE TYPE analytics.daily_delta AS (
    tenant_id text,
    server_id bigint,
    day date,
    channel_id bigint,
    author_id bigint,
    messages integer
);

COMMENT ON TYPE analytics.daily_delta IS 'A change to one analytics.daily_author_counts row (signed count).';
