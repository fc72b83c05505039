-- The analytics warehouse. Every table carries tenant_id in its key: two tenants syncing the
-- same guild or user never collide. Discord snowflakes are BIGINT.

CREATE TABLE analytics.servers (
    tenant_id text NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    icon text,
    owner_id bigint,
    member_count integer,
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

COMMENT ON TABLE analytics.servers IS 'A Discord server (guild) as synced by one tenant.';
COMMENT ON COLUMN analytics.servers.tenant_id IS 'The tenant (brand or workspace) that synced this row; part of every key.';

CREATE TABLE analytics.users (
    tenant_id text NOT NULL,
    id bigint NOT NULL,
    username text NOT NULL,
    discriminator text,
    avatar text,
    is_bot boolean NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, id)
);

COMMENT ON TABLE analytics.users IS 'Discord users seen by a tenant''s syncs.';
COMMENT ON COLUMN analytics.users.is_bot IS 'The documented bot flag.';

CREATE TABLE analytics.server_members (
    tenant_id text NOT NULL,
    server_id bigint NOT NULL,
    user_id bigint NOT NULL,
    nickname text,
    joined_at timestamptz,
    is_active boolean NOT NULL DEFAULT TRUE,
    PRIMARY KEY (tenant_id, server_id, user_id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES analytics.servers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES analytics.users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_server_members_user ON analytics.server_members (tenant_id, user_id);

COMMENT ON TABLE analytics.server_members IS 'Membership of a user in a server: nickname, join date, whether still a member.';

CREATE TABLE analytics.channels (
    tenant_id text NOT NULL,
    id bigint NOT NULL,
    server_id bigint NOT NULL,
    name text NOT NULL,
    type integer NOT NULL DEFAULT 0,
    topic text,
    position integer,
    is_nsfw boolean NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES analytics.servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_channels_server ON analytics.channels (tenant_id, server_id);

COMMENT ON TABLE analytics.channels IS 'Channels of a synced server.';
COMMENT ON COLUMN analytics.channels.type IS 'Discord channel type (0 = text, 2 = voice, 5 = announcement, ...).';
COMMENT ON COLUMN analytics.channels.is_nsfw IS 'The documented NSFW flag.';

CREATE TABLE analytics.messages (
    tenant_id text NOT NULL,
    id bigint NOT NULL,
    server_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    author_id bigint NOT NULL,
    content text,
    created_at timestamptz NOT NULL,
    edited_at timestamptz,
    message_type integer NOT NULL DEFAULT 0,
    reply_to_message_id bigint,
    reply_to_author_id bigint,
    mention_count integer NOT NULL DEFAULT 0,
    attachment_count integer NOT NULL DEFAULT 0,
    embed_count integer NOT NULL DEFAULT 0,
    word_count integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES analytics.servers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES analytics.channels (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES analytics.users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_messages_channel_created ON analytics.messages (tenant_id, channel_id, created_at);

CREATE INDEX idx_analytics_messages_author ON analytics.messages (tenant_id, author_id);

CREATE INDEX idx_analytics_messages_reply_author ON analytics.messages (tenant_id, reply_to_author_id)
WHERE reply_to_author_id IS NOT NULL;

COMMENT ON TABLE analytics.messages IS 'Every synced message, with its reply chain and counts.';
COMMENT ON COLUMN analytics.messages.message_type IS '0 = normal, 19 = reply.';
COMMENT ON COLUMN analytics.messages.reply_to_author_id IS 'Author of the referenced message, taken from the reference itself (not guessed).';
COMMENT ON COLUMN analytics.messages.word_count IS 'Computed from content at sync time.';

CREATE TABLE analytics.message_mentions (
    tenant_id text NOT NULL,
    message_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, message_id, user_id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES analytics.messages (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_message_mentions_user ON analytics.message_mentions (tenant_id, user_id);

COMMENT ON TABLE analytics.message_mentions IS 'Which users a message @mentions.';

CREATE TABLE analytics.emojis (
    tenant_id text NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    discord_id bigint,
    name text NOT NULL,
    is_custom boolean NOT NULL DEFAULT FALSE,
    is_animated boolean NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT unique_emoji_per_tenant UNIQUE NULLS NOT DISTINCT (tenant_id, discord_id, name)
);

COMMENT ON TABLE analytics.emojis IS 'Custom and unicode emojis, by internal id; discord_id is NULL for unicode emojis.';

CREATE TABLE analytics.reactions (
    tenant_id text NOT NULL,
    message_id bigint NOT NULL,
    emoji_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, message_id, emoji_id, user_id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES analytics.messages (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, emoji_id) REFERENCES analytics.emojis (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_analytics_reactions_user ON analytics.reactions (tenant_id, user_id);

COMMENT ON TABLE analytics.reactions IS 'Who reacted to which message with what.';
