-- The one write path into the analytics warehouse. The extractor COPYs a batch into the
-- resonance.analytics_stage_* tables and calls analytics.apply_batch once; the bot's live events
-- stage one row through analytics.ingest_message / ingest_reaction, which call the same function.
-- Every upsert only writes a row whose values change, so replaying a batch changes nothing.

CREATE OR REPLACE FUNCTION analytics.snowflake_time(p_snowflake bigint)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT pg_catalog.to_timestamp(((p_snowflake >> 22) + 1420070400000) / 1000.0)
$$;

COMMENT ON FUNCTION analytics.snowflake_time(bigint) IS 'The creation time a Discord snowflake encodes (ms since the Discord epoch, 2015-01-01 UTC, in its top 42 bits).';
REVOKE ALL ON FUNCTION analytics.snowflake_time(bigint) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.snowflake_time(bigint) TO service_role, analytics_console;

CREATE OR REPLACE FUNCTION analytics.word_count(p_content text)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT coalesce(pg_catalog.array_length(pg_catalog.regexp_split_to_array(pg_catalog.btrim(p_content), '\s+'), 1), 0)
        * (pg_catalog.btrim(coalesce(p_content, '')) <> '')::integer
$$;

COMMENT ON FUNCTION analytics.word_count(text) IS 'Whitespace-separated words of a message (0 for empty or NULL content).';
REVOKE ALL ON FUNCTION analytics.word_count(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.word_count(text) TO service_role, analytics_console;

CREATE OR REPLACE FUNCTION analytics.upsert_server(
    p_tenant_id text,
    p_server_id bigint,
    p_name text,
    p_icon text DEFAULT NULL,
    p_owner_id bigint DEFAULT NULL,
    p_member_count integer DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO analytics.servers AS s (tenant_id, id, name, icon, owner_id, member_count)
    VALUES (p_tenant_id, p_server_id, p_name, p_icon, p_owner_id, p_member_count)
    ON CONFLICT (tenant_id, id) DO UPDATE
    SET name = excluded.name, icon = excluded.icon, owner_id = excluded.owner_id,
        member_count = excluded.member_count, synced_at = pg_catalog.now()
    WHERE (s.name, s.icon, s.owner_id, s.member_count)
        IS DISTINCT FROM (excluded.name, excluded.icon, excluded.owner_id, excluded.member_count)
$$;

COMMENT ON FUNCTION analytics.upsert_server(text, bigint, text, text, bigint, integer) IS 'Insert or update a tenant''s server row; writes only when a value changed (synced_at then moves).';
REVOKE ALL ON FUNCTION analytics.upsert_server(text, bigint, text, text, bigint, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.upsert_server(text, bigint, text, text, bigint, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.upsert_channel(
    p_tenant_id text,
    p_server_id bigint,
    p_channel_id bigint,
    p_name text,
    p_type integer DEFAULT 0,
    p_topic text DEFAULT NULL,
    p_position integer DEFAULT NULL,
    p_is_nsfw boolean DEFAULT FALSE
)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO analytics.servers (tenant_id, id, name)
    VALUES (p_tenant_id, p_server_id, p_server_id::text)
    ON CONFLICT (tenant_id, id) DO NOTHING;

    INSERT INTO analytics.channels AS c (tenant_id, id, server_id, name, type, topic, position, is_nsfw)
    VALUES (p_tenant_id, p_channel_id, p_server_id, p_name, p_type, p_topic, p_position, p_is_nsfw)
    ON CONFLICT (tenant_id, id) DO UPDATE
    SET server_id = excluded.server_id, name = excluded.name, type = excluded.type, topic = excluded.topic,
        position = excluded.position, is_nsfw = excluded.is_nsfw
    WHERE (c.server_id, c.name, c.type, c.topic, c.position, c.is_nsfw)
        IS DISTINCT FROM (excluded.server_id, excluded.name, excluded.type, excluded.topic, excluded.position, excluded.is_nsfw);
$$;

COMMENT ON FUNCTION analytics.upsert_channel(text, bigint, bigint, text, integer, text, integer, boolean) IS 'Insert or update a tenant''s channel row (and a placeholder server row if the server is unknown); writes only when a value changed.';
REVOKE ALL ON FUNCTION analytics.upsert_channel(text, bigint, bigint, text, integer, text, integer, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.upsert_channel(text, bigint, bigint, text, integer, text, integer, boolean) TO service_role;

-- Writers of one tenant take its transaction lock first (apply_batch, the live functions, the
-- purge, and the rollup triggers themselves, for writes that come another way): the rollup
-- triggers read the state of other tables (is the message live? which reactions does it have?),
-- and that read must not race another transaction's write of the same tenant. Tenants never wait
-- on each other (a hash collision only serialises two tenants).

CREATE OR REPLACE FUNCTION analytics._lock_tenants(p_tenant_ids text [])
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('analytics:' || t.tenant_id, 0))
    FROM (SELECT DISTINCT x AS tenant_id FROM pg_catalog.unnest(p_tenant_ids) AS x ORDER BY 1) AS t
$$;

COMMENT ON FUNCTION analytics._lock_tenants(text []) IS 'Take the analytics write lock of each tenant (sorted, so two writers never deadlock), until the transaction ends.';
REVOKE ALL ON FUNCTION analytics._lock_tenants(text []) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._lock_tenants(text []) TO service_role;

-- Applying deltas: the net change per key; a row whose counts reach zero is deleted, an existing
-- row is updated, a new key is inserted, a net-zero key is not touched at all (an edit that
-- changes no edge rewrites no rollup row). One statement: its parts read the same snapshot, so
-- they are disjoint. (Not INSERT ... ON CONFLICT: a negative delta is never a row of its own, and
-- the CHECK constraints, which catch a rollup going negative, are evaluated before the conflict.)
-- Callers hold the tenant's lock, so no other transaction adds a key in between.

CREATE OR REPLACE FUNCTION analytics._bump_interactions(p_deltas analytics.interaction_delta [])
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    WITH d AS (
        SELECT x.tenant_id, x.server_id, x.from_user_id, x.to_user_id,
            sum(x.replies) AS replies, sum(x.reactions) AS reactions, sum(x.mentions) AS mentions
        FROM pg_catalog.unnest(p_deltas) AS x
        GROUP BY x.tenant_id, x.server_id, x.from_user_id, x.to_user_id
        HAVING sum(x.replies) <> 0 OR sum(x.reactions) <> 0 OR sum(x.mentions) <> 0
    ),
    gone AS (
        DELETE FROM analytics.interaction_counts AS ic
        USING d
        WHERE ic.tenant_id = d.tenant_id AND ic.server_id = d.server_id
            AND ic.from_user_id = d.from_user_id AND ic.to_user_id = d.to_user_id
            AND ic.replies + d.replies = 0 AND ic.reactions + d.reactions = 0 AND ic.mentions + d.mentions = 0
    ),
    changed AS (
        UPDATE analytics.interaction_counts AS ic
        SET replies = ic.replies + d.replies, reactions = ic.reactions + d.reactions, mentions = ic.mentions + d.mentions
        FROM d
        WHERE ic.tenant_id = d.tenant_id AND ic.server_id = d.server_id
            AND ic.from_user_id = d.from_user_id AND ic.to_user_id = d.to_user_id
            AND NOT (ic.replies + d.replies = 0 AND ic.reactions + d.reactions = 0 AND ic.mentions + d.mentions = 0)
    )
    INSERT INTO analytics.interaction_counts (tenant_id, server_id, from_user_id, to_user_id, replies, reactions, mentions)
    SELECT d.tenant_id, d.server_id, d.from_user_id, d.to_user_id, d.replies, d.reactions, d.mentions
    FROM d
    WHERE NOT EXISTS (
        SELECT FROM analytics.interaction_counts AS ic
        WHERE ic.tenant_id = d.tenant_id AND ic.server_id = d.server_id
            AND ic.from_user_id = d.from_user_id AND ic.to_user_id = d.to_user_id
    )
    ORDER BY d.tenant_id, d.server_id, d.from_user_id, d.to_user_id
$$;

COMMENT ON FUNCTION analytics._bump_interactions(analytics.interaction_delta []) IS 'Apply signed changes to analytics.interaction_counts: net per key, rows reaching zero deleted, net-zero keys untouched; a count going negative violates a CHECK (a bug, never data). Called by the rollup triggers under the tenant''s lock.';
REVOKE ALL ON FUNCTION analytics._bump_interactions(analytics.interaction_delta []) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._bump_interactions(analytics.interaction_delta []) TO service_role;

CREATE OR REPLACE FUNCTION analytics._bump_daily(p_deltas analytics.daily_delta [])
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    WITH d AS (
        SELECT x.tenant_id, x.server_id, x.day, x.channel_id, x.author_id, sum(x.messages) AS messages
        FROM pg_catalog.unnest(p_deltas) AS x
        GROUP BY x.tenant_id, x.server_id, x.day, x.channel_id, x.author_id
        HAVING sum(x.messages) <> 0
    ),
    gone AS (
        DELETE FROM analytics.daily_author_counts AS dc
        USING d
        WHERE dc.tenant_id = d.tenant_id AND dc.server_id = d.server_id AND dc.day = d.day
            AND dc.channel_id = d.channel_id AND dc.author_id = d.author_id
            AND dc.messages + d.messages = 0
    ),
    changed AS (
        UPDATE analytics.daily_author_counts AS dc
        SET messages = dc.messages + d.messages
        FROM d
        WHERE dc.tenant_id = d.tenant_id AND dc.server_id = d.server_id AND dc.day = d.day
            AND dc.channel_id = d.channel_id AND dc.author_id = d.author_id
            AND dc.messages + d.messages <> 0
    )
    INSERT INTO analytics.daily_author_counts (tenant_id, server_id, day, channel_id, author_id, messages)
    SELECT d.tenant_id, d.server_id, d.day, d.channel_id, d.author_id, d.messages
    FROM d
    WHERE NOT EXISTS (
        SELECT FROM analytics.daily_author_counts AS dc
        WHERE dc.tenant_id = d.tenant_id AND dc.server_id = d.server_id AND dc.day = d.day
            AND dc.channel_id = d.channel_id AND dc.author_id = d.author_id
    )
    ORDER BY d.tenant_id, d.server_id, d.day, d.channel_id, d.author_id
$$;

COMMENT ON FUNCTION analytics._bump_daily(analytics.daily_delta []) IS 'Apply signed changes to analytics.daily_author_counts: net per key, rows reaching zero deleted, net-zero keys untouched; a count going to or below zero without its row violates a CHECK (a bug, never data). Called by the rollup triggers under the tenant''s lock.';
REVOKE ALL ON FUNCTION analytics._bump_daily(analytics.daily_delta []) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._bump_daily(analytics.daily_delta []) TO service_role;

-- The rollup triggers. A message counts while deleted_at IS NULL: its reply edge, its day (in its
-- channel and in channel 0), and the edges of its reactions and mentions. Statement triggers with
-- transition tables see exactly the rows a statement changed, so a replayed batch (which changes no
-- row) costs the rollups nothing.

CREATE OR REPLACE FUNCTION analytics._rollup_messages()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics._lock_tenants(ARRAY(SELECT n.tenant_id FROM new_rows AS n));
        PERFORM analytics._bump_interactions(ARRAY(
            SELECT ROW(n.tenant_id, n.server_id, n.author_id, n.reply_to_author_id, 1, 0, 0)::analytics.interaction_delta
            FROM new_rows AS n
            WHERE n.deleted_at IS NULL AND n.reply_to_author_id <> n.author_id
        ));
        PERFORM analytics._bump_daily(ARRAY(
            SELECT ROW(n.tenant_id, n.server_id, (n.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, n.author_id, 1)::analytics.daily_delta
            FROM new_rows AS n
            CROSS JOIN LATERAL (VALUES (n.channel_id), (0::bigint)) AS ch (channel_id)
            WHERE n.deleted_at IS NULL
        ));
        RETURN NULL;
    END IF;

    -- UPDATE: take back what the old row counted, add what the new row counts; when the message
    -- became deleted (or live again) its reactions and mentions go (or come back) with it.
    PERFORM analytics._lock_tenants(ARRAY(SELECT n.tenant_id FROM new_rows AS n));
    PERFORM analytics._bump_interactions(ARRAY(
        SELECT ROW(o.tenant_id, o.server_id, o.author_id, o.reply_to_author_id, -1, 0, 0)::analytics.interaction_delta
        FROM old_rows AS o
        WHERE o.deleted_at IS NULL AND o.reply_to_author_id <> o.author_id
        UNION ALL
        SELECT ROW(n.tenant_id, n.server_id, n.author_id, n.reply_to_author_id, 1, 0, 0)::analytics.interaction_delta
        FROM new_rows AS n
        WHERE n.deleted_at IS NULL AND n.reply_to_author_id <> n.author_id
        UNION ALL
        SELECT ROW(n.tenant_id, n.server_id, r.user_id, n.author_id, 0,
            CASE WHEN n.deleted_at IS NULL THEN 1 ELSE -1 END, 0)::analytics.interaction_delta
        FROM old_rows AS o
        INNER JOIN new_rows AS n ON o.tenant_id = n.tenant_id AND o.id = n.id
        INNER JOIN analytics.reactions AS r ON n.tenant_id = r.tenant_id AND n.id = r.message_id
        WHERE (o.deleted_at IS NULL) <> (n.deleted_at IS NULL) AND r.user_id <> n.author_id
        UNION ALL
        SELECT ROW(n.tenant_id, n.server_id, n.author_id, mm.user_id, 0, 0,
            CASE WHEN n.deleted_at IS NULL THEN 1 ELSE -1 END)::analytics.interaction_delta
        FROM old_rows AS o
        INNER JOIN new_rows AS n ON o.tenant_id = n.tenant_id AND o.id = n.id
        INNER JOIN analytics.message_mentions AS mm ON n.tenant_id = mm.tenant_id AND n.id = mm.message_id
        WHERE (o.deleted_at IS NULL) <> (n.deleted_at IS NULL) AND mm.user_id <> n.author_id
    ));
    PERFORM analytics._bump_daily(ARRAY(
        SELECT ROW(o.tenant_id, o.server_id, (o.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, o.author_id, -1)::analytics.daily_delta
        FROM old_rows AS o
        CROSS JOIN LATERAL (VALUES (o.channel_id), (0::bigint)) AS ch (channel_id)
        WHERE o.deleted_at IS NULL
        UNION ALL
        SELECT ROW(n.tenant_id, n.server_id, (n.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, n.author_id, 1)::analytics.daily_delta
        FROM new_rows AS n
        CROSS JOIN LATERAL (VALUES (n.channel_id), (0::bigint)) AS ch (channel_id)
        WHERE n.deleted_at IS NULL
    ));
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION analytics._rollup_messages() IS 'Statement trigger (AFTER INSERT, AFTER UPDATE) on analytics.messages: the rollups follow the inserted and updated rows (reply edges, days; reactions and mentions of a message deleted or restored).';

CREATE OR REPLACE FUNCTION analytics._rollup_message_removed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Before the row goes (and its reactions and mentions with it, by cascade): take back all it counted.
    PERFORM analytics._lock_tenants(ARRAY[OLD.tenant_id]);
    PERFORM analytics._bump_interactions(ARRAY(
        SELECT ROW(OLD.tenant_id, OLD.server_id, OLD.author_id, OLD.reply_to_author_id, -1, 0, 0)::analytics.interaction_delta
        WHERE OLD.reply_to_author_id <> OLD.author_id
        UNION ALL
        SELECT ROW(OLD.tenant_id, OLD.server_id, r.user_id, OLD.author_id, 0, -1, 0)::analytics.interaction_delta
        FROM analytics.reactions AS r
        WHERE r.tenant_id = OLD.tenant_id AND r.message_id = OLD.id AND r.user_id <> OLD.author_id
        UNION ALL
        SELECT ROW(OLD.tenant_id, OLD.server_id, OLD.author_id, mm.user_id, 0, 0, -1)::analytics.interaction_delta
        FROM analytics.message_mentions AS mm
        WHERE mm.tenant_id = OLD.tenant_id AND mm.message_id = OLD.id AND mm.user_id <> OLD.author_id
    ));
    PERFORM analytics._bump_daily(ARRAY(
        SELECT ROW(OLD.tenant_id, OLD.server_id, (OLD.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, OLD.author_id, -1)::analytics.daily_delta
        FROM (VALUES (OLD.channel_id), (0::bigint)) AS ch (channel_id)
    ));
    RETURN OLD;
END;
$$;

COMMENT ON FUNCTION analytics._rollup_message_removed() IS 'Row trigger (BEFORE DELETE of a live message): take back the reply edge, the day and the reaction and mention edges of a message removed outright. The purge soft-deletes first (one statement trigger for the lot), so this fires only for other hard deletes.';

CREATE OR REPLACE FUNCTION analytics._rollup_reactions()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics._lock_tenants(ARRAY(SELECT r.tenant_id FROM new_rows AS r));
        PERFORM analytics._bump_interactions(ARRAY(
            SELECT ROW(m.tenant_id, m.server_id, r.user_id, m.author_id, 0, 1, 0)::analytics.interaction_delta
            FROM new_rows AS r
            INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
            WHERE m.deleted_at IS NULL AND r.user_id <> m.author_id
        ));
    ELSE
        PERFORM analytics._lock_tenants(ARRAY(SELECT r.tenant_id FROM old_rows AS r));
        PERFORM analytics._bump_interactions(ARRAY(
            SELECT ROW(m.tenant_id, m.server_id, r.user_id, m.author_id, 0, -1, 0)::analytics.interaction_delta
            FROM old_rows AS r
            INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
            WHERE m.deleted_at IS NULL AND r.user_id <> m.author_id
        ));
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION analytics._rollup_reactions() IS 'Statement trigger (AFTER INSERT, AFTER DELETE) on analytics.reactions: reaction edges of live messages follow.';

CREATE OR REPLACE FUNCTION analytics._rollup_mentions()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics._lock_tenants(ARRAY(SELECT mm.tenant_id FROM new_rows AS mm));
        PERFORM analytics._bump_interactions(ARRAY(
            SELECT ROW(m.tenant_id, m.server_id, m.author_id, mm.user_id, 0, 0, 1)::analytics.interaction_delta
            FROM new_rows AS mm
            INNER JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
            WHERE m.deleted_at IS NULL AND mm.user_id <> m.author_id
        ));
    ELSE
        PERFORM analytics._lock_tenants(ARRAY(SELECT mm.tenant_id FROM old_rows AS mm));
        PERFORM analytics._bump_interactions(ARRAY(
            SELECT ROW(m.tenant_id, m.server_id, m.author_id, mm.user_id, 0, 0, -1)::analytics.interaction_delta
            FROM old_rows AS mm
            INNER JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
            WHERE m.deleted_at IS NULL AND mm.user_id <> m.author_id
        ));
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION analytics._rollup_mentions() IS 'Statement trigger (AFTER INSERT, AFTER DELETE) on analytics.message_mentions: mention edges of live messages follow.';

REVOKE ALL ON FUNCTION analytics._rollup_messages(), analytics._rollup_message_removed(), analytics._rollup_reactions(),
analytics._rollup_mentions() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER rollup_inserted AFTER INSERT ON analytics.messages
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_messages();

CREATE OR REPLACE TRIGGER rollup_updated AFTER UPDATE ON analytics.messages
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_messages();

CREATE OR REPLACE TRIGGER rollup_removed BEFORE DELETE ON analytics.messages
FOR EACH ROW WHEN (old.deleted_at IS NULL) EXECUTE FUNCTION analytics._rollup_message_removed();

CREATE OR REPLACE TRIGGER rollup_inserted AFTER INSERT ON analytics.reactions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_reactions();

CREATE OR REPLACE TRIGGER rollup_deleted AFTER DELETE ON analytics.reactions
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_reactions();

CREATE OR REPLACE TRIGGER rollup_inserted AFTER INSERT ON analytics.message_mentions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_mentions();

CREATE OR REPLACE TRIGGER rollup_deleted AFTER DELETE ON analytics.message_mentions
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION analytics._rollup_mentions();

CREATE OR REPLACE FUNCTION analytics.apply_batch(p_batch_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_users integer;
    v_members integer;
    v_inserted integer;
    v_updated integer;
    v_mentions_removed integer;
    v_mentions_added integer;
    v_reactions_removed integer;
    v_reactions_added integer;
BEGIN
    PERFORM analytics._lock_tenants(ARRAY(
        SELECT sm.tenant_id FROM resonance.analytics_stage_messages AS sm WHERE sm.batch_id = p_batch_id
        UNION
        SELECT su.tenant_id FROM resonance.analytics_stage_users AS su WHERE su.batch_id = p_batch_id
        UNION
        SELECT sr.tenant_id FROM resonance.analytics_stage_reactions AS sr WHERE sr.batch_id = p_batch_id
    ));

    -- Placeholder parents for anything staged under a server or channel this tenant has not synced yet.
    INSERT INTO analytics.servers (tenant_id, id, name)
    SELECT DISTINCT s.tenant_id, s.server_id, s.server_id::text
    FROM (
        SELECT sm.tenant_id, sm.server_id FROM resonance.analytics_stage_messages AS sm WHERE sm.batch_id = p_batch_id
        UNION
        SELECT su.tenant_id, su.server_id FROM resonance.analytics_stage_users AS su
        WHERE su.batch_id = p_batch_id AND su.is_member
    ) AS s
    ORDER BY s.tenant_id, s.server_id
    ON CONFLICT (tenant_id, id) DO NOTHING;

    INSERT INTO analytics.channels (tenant_id, id, server_id, name)
    SELECT DISTINCT sm.tenant_id, sm.channel_id, sm.server_id, sm.channel_id::text
    FROM resonance.analytics_stage_messages AS sm
    WHERE sm.batch_id = p_batch_id
    ORDER BY sm.tenant_id, sm.channel_id
    ON CONFLICT (tenant_id, id) DO NOTHING;

    -- Users: one row per (tenant, id), a member-list row preferred; unknown avatar/discriminator keep theirs.
    INSERT INTO analytics.users AS u (tenant_id, id, username, discriminator, avatar, is_bot)
    SELECT DISTINCT ON (su.tenant_id, su.id) su.tenant_id, su.id, su.username, su.discriminator, su.avatar, su.is_bot
    FROM resonance.analytics_stage_users AS su
    WHERE su.batch_id = p_batch_id
    ORDER BY su.tenant_id, su.id, su.is_member DESC, su.avatar NULLS LAST
    ON CONFLICT (tenant_id, id) DO UPDATE
    SET username = excluded.username,
        discriminator = coalesce(excluded.discriminator, u.discriminator),
        avatar = coalesce(excluded.avatar, u.avatar),
        is_bot = excluded.is_bot
    WHERE (u.username, u.discriminator, u.avatar, u.is_bot)
        IS DISTINCT FROM (excluded.username, coalesce(excluded.discriminator, u.discriminator),
            coalesce(excluded.avatar, u.avatar), excluded.is_bot);
    GET DIAGNOSTICS v_users = ROW_COUNT;

    INSERT INTO analytics.server_members AS sm (tenant_id, server_id, user_id, nickname, joined_at, is_active)
    SELECT DISTINCT ON (su.tenant_id, su.server_id, su.id) su.tenant_id, su.server_id, su.id, su.nickname, su.joined_at, TRUE
    FROM resonance.analytics_stage_users AS su
    WHERE su.batch_id = p_batch_id AND su.is_member
    ORDER BY su.tenant_id, su.server_id, su.id
    ON CONFLICT (tenant_id, server_id, user_id) DO UPDATE
    SET nickname = excluded.nickname, joined_at = excluded.joined_at, is_active = TRUE
    WHERE (sm.nickname, sm.joined_at, sm.is_active) IS DISTINCT FROM (excluded.nickname, excluded.joined_at, TRUE);
    GET DIAGNOSTICS v_members = ROW_COUNT;

    -- Messages: the reply author comes from the staged reference, else from the referenced message
    -- (already stored, or staged in this same batch). An edit updates the row in place; an edit older
    -- than the stored one is ignored.
    WITH upserted AS (
        INSERT INTO analytics.messages AS m (
            tenant_id, id, server_id, channel_id, author_id, content, created_at, edited_at, message_type,
            reply_to_message_id, reply_to_author_id, mention_count, attachment_count, embed_count, word_count
        )
        SELECT DISTINCT ON (s.tenant_id, s.id)
            s.tenant_id,
            s.id,
            s.server_id,
            s.channel_id,
            s.author_id,
            s.content,
            s.created_at,
            s.edited_at,
            coalesce(s.message_type, CASE WHEN s.reply_to_message_id IS NULL THEN 0 ELSE 19 END),
            s.reply_to_message_id,
            coalesce(s.reply_to_author_id, stored.author_id, staged.author_id),
            coalesce(pg_catalog.cardinality(s.mention_ids), 0),
            s.attachment_count,
            s.embed_count,
            analytics.word_count(s.content)
        FROM resonance.analytics_stage_messages AS s
        LEFT JOIN analytics.messages AS stored
            ON s.tenant_id = stored.tenant_id AND s.reply_to_message_id = stored.id
        LEFT JOIN resonance.analytics_stage_messages AS staged
            ON s.batch_id = staged.batch_id AND s.tenant_id = staged.tenant_id AND s.reply_to_message_id = staged.id
        WHERE s.batch_id = p_batch_id
        ORDER BY s.tenant_id, s.id, s.edited_at DESC NULLS LAST
        ON CONFLICT (tenant_id, id) DO UPDATE
        SET content = excluded.content,
            edited_at = excluded.edited_at,
            message_type = excluded.message_type,
            reply_to_message_id = coalesce(excluded.reply_to_message_id, m.reply_to_message_id),
            reply_to_author_id = coalesce(excluded.reply_to_author_id, m.reply_to_author_id),
            mention_count = excluded.mention_count,
            attachment_count = excluded.attachment_count,
            embed_count = excluded.embed_count,
            word_count = excluded.word_count
        WHERE (m.edited_at IS NULL OR excluded.edited_at IS NULL OR excluded.edited_at >= m.edited_at)
            AND (m.content, m.edited_at, m.message_type, m.reply_to_message_id, m.reply_to_author_id,
                m.mention_count, m.attachment_count, m.embed_count, m.word_count)
            IS DISTINCT FROM (excluded.content, excluded.edited_at, excluded.message_type,
                coalesce(excluded.reply_to_message_id, m.reply_to_message_id),
                coalesce(excluded.reply_to_author_id, m.reply_to_author_id),
                excluded.mention_count, excluded.attachment_count, excluded.embed_count, excluded.word_count)
        RETURNING (m.xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE upserted.inserted), count(*) FILTER (WHERE NOT upserted.inserted)
    INTO v_inserted, v_updated
    FROM upserted;

    -- Mentions: the staged list is the message's whole list (a deleted message keeps none).
    DELETE FROM analytics.message_mentions AS mm
    USING resonance.analytics_stage_messages AS s
    WHERE s.batch_id = p_batch_id
        AND mm.tenant_id = s.tenant_id
        AND mm.message_id = s.id
        AND mm.user_id <> ALL(s.mention_ids);
    GET DIAGNOSTICS v_mentions_removed = ROW_COUNT;

    INSERT INTO analytics.message_mentions (tenant_id, message_id, user_id)
    SELECT DISTINCT x.tenant_id, x.id, x.user_id
    FROM (
        SELECT s.tenant_id, s.id, pg_catalog.unnest(s.mention_ids) AS user_id
        FROM resonance.analytics_stage_messages AS s
        INNER JOIN analytics.messages AS m ON s.tenant_id = m.tenant_id AND s.id = m.id
        WHERE s.batch_id = p_batch_id AND m.deleted_at IS NULL
    ) AS x
    ORDER BY x.tenant_id, x.id, x.user_id
    ON CONFLICT (tenant_id, message_id, user_id) DO NOTHING;
    GET DIAGNOSTICS v_mentions_added = ROW_COUNT;

    -- Emojis, then reactions. A message staged with reactions_complete has exactly the staged
    -- reactions; a deleted message gets none.
    INSERT INTO analytics.emojis (tenant_id, discord_id, name, is_custom, is_animated)
    SELECT DISTINCT r.tenant_id, r.emoji_discord_id, r.emoji_name, r.emoji_discord_id IS NOT NULL, r.is_animated
    FROM resonance.analytics_stage_reactions AS r
    WHERE r.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM analytics.emojis AS e
            WHERE e.tenant_id = r.tenant_id
                AND e.discord_id IS NOT DISTINCT FROM r.emoji_discord_id
                AND e.name = r.emoji_name
        )
    ORDER BY r.tenant_id, r.emoji_discord_id, r.emoji_name
    ON CONFLICT ON CONSTRAINT unique_emoji_per_tenant DO NOTHING;

    DELETE FROM analytics.reactions AS rx
    USING resonance.analytics_stage_messages AS s
    WHERE s.batch_id = p_batch_id
        AND s.reactions_complete
        AND rx.tenant_id = s.tenant_id
        AND rx.message_id = s.id
        AND NOT EXISTS (
            SELECT FROM resonance.analytics_stage_reactions AS r
            INNER JOIN analytics.emojis AS e
                ON r.tenant_id = e.tenant_id
                AND r.emoji_discord_id IS NOT DISTINCT FROM e.discord_id
                AND r.emoji_name = e.name
            WHERE r.batch_id = p_batch_id
                AND r.tenant_id = rx.tenant_id
                AND r.message_id = rx.message_id
                AND r.user_id = rx.user_id
                AND e.id = rx.emoji_id
        );
    GET DIAGNOSTICS v_reactions_removed = ROW_COUNT;

    INSERT INTO analytics.reactions (tenant_id, message_id, emoji_id, user_id)
    SELECT DISTINCT r.tenant_id, r.message_id, e.id, r.user_id
    FROM resonance.analytics_stage_reactions AS r
    INNER JOIN analytics.emojis AS e
        ON r.tenant_id = e.tenant_id
        AND r.emoji_discord_id IS NOT DISTINCT FROM e.discord_id
        AND r.emoji_name = e.name
    WHERE r.batch_id = p_batch_id
        AND EXISTS (
            SELECT FROM analytics.messages AS m
            WHERE m.tenant_id = r.tenant_id AND m.id = r.message_id AND m.deleted_at IS NULL
        )
    ORDER BY r.tenant_id, r.message_id, e.id, r.user_id
    ON CONFLICT (tenant_id, message_id, emoji_id, user_id) DO NOTHING;
    GET DIAGNOSTICS v_reactions_added = ROW_COUNT;

    DELETE FROM resonance.analytics_stage_reactions AS r WHERE r.batch_id = p_batch_id;
    DELETE FROM resonance.analytics_stage_messages AS s WHERE s.batch_id = p_batch_id;
    DELETE FROM resonance.analytics_stage_users AS u WHERE u.batch_id = p_batch_id;

    RETURN pg_catalog.jsonb_build_object(
        'users_written', v_users,
        'members_written', v_members,
        'messages_inserted', v_inserted,
        'messages_updated', v_updated,
        'mentions_added', v_mentions_added,
        'mentions_removed', v_mentions_removed,
        'reactions_added', v_reactions_added,
        'reactions_removed', v_reactions_removed
    );
END;
$$;

COMMENT ON FUNCTION analytics.apply_batch(uuid) IS 'Upsert one staged batch (users, members, messages, mentions, emojis, reactions) into the warehouse, one statement per table, then clear it. Replaying a batch writes nothing.';
REVOKE ALL ON FUNCTION analytics.apply_batch(uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.apply_batch(uuid) TO service_role;

CREATE OR REPLACE FUNCTION analytics.record_sync_progress(
    p_tenant_id text,
    p_server_id bigint,
    p_channel_id bigint,
    p_last_message_id bigint,
    p_messages integer,
    p_at timestamptz DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO analytics.sync_state AS st (tenant_id, server_id, channel_id, last_message_id, messages_synced, last_synced_at)
    VALUES (p_tenant_id, p_server_id, p_channel_id, p_last_message_id, p_messages, coalesce(p_at, pg_catalog.now()))
    ON CONFLICT (tenant_id, channel_id) DO UPDATE
    SET last_message_id = greatest(st.last_message_id, excluded.last_message_id),
        messages_synced = st.messages_synced + excluded.messages_synced,
        last_synced_at = excluded.last_synced_at
$$;

COMMENT ON FUNCTION analytics.record_sync_progress(text, bigint, bigint, bigint, integer, timestamptz) IS 'Advance a channel''s resume point (never backwards); called in the same transaction as the batch it records.';
REVOKE ALL ON FUNCTION analytics.record_sync_progress(text, bigint, bigint, bigint, integer, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.record_sync_progress(text, bigint, bigint, bigint, integer, timestamptz) TO service_role;

-- Live ingest: the bot's gateway events, through the same staging + apply_batch path. The payload
-- shapes (jsonb) are those of resonance.analytics.live: ids as numbers or strings, times ISO 8601.

CREATE OR REPLACE FUNCTION analytics._ingest_message(p_tenant_id text, p_server_id bigint, p_message jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_batch uuid := extensions.gen_random_uuid();
    v_id bigint := (p_message ->> 'id')::bigint;
    v_author jsonb := coalesce(p_message -> 'author', '{}'::jsonb);
    v_result jsonb;
BEGIN
    IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
        RAISE EXCEPTION 'tenant id is required' USING ERRCODE = 'RA001';
    END IF;

    -- The author, and every mentioned user that comes with a name (as a sync stages them).
    INSERT INTO resonance.analytics_stage_users (batch_id, tenant_id, server_id, id, username, discriminator, avatar, is_bot)
    SELECT v_batch, p_tenant_id, p_server_id, (u ->> 'id')::bigint, coalesce(u ->> 'name', u ->> 'id'),
        u ->> 'discriminator', u ->> 'avatar', coalesce((u ->> 'bot')::boolean, FALSE)
    FROM (
        SELECT v_author AS u
        UNION ALL
        SELECT x FROM pg_catalog.jsonb_array_elements(coalesce(p_message -> 'mentions', '[]'::jsonb)) AS x
        WHERE x ? 'name'
    ) AS users;

    INSERT INTO resonance.analytics_stage_messages (
        batch_id, tenant_id, server_id, channel_id, id, author_id, content, created_at, edited_at, message_type,
        reply_to_message_id, reply_to_author_id, mention_ids, attachment_count, embed_count
    )
    VALUES (
        v_batch, p_tenant_id, p_server_id, (p_message ->> 'channel_id')::bigint, v_id, (v_author ->> 'id')::bigint,
        p_message ->> 'content',
        coalesce((p_message ->> 'created_at')::timestamptz, analytics.snowflake_time(v_id)),
        (p_message ->> 'edited_at')::timestamptz,
        (p_message ->> 'type')::integer,
        (p_message ->> 'reply_to_message_id')::bigint,
        (p_message ->> 'reply_to_author_id')::bigint,
        ARRAY(
            SELECT DISTINCT (x ->> 'id')::bigint
            FROM pg_catalog.jsonb_array_elements(coalesce(p_message -> 'mentions', '[]'::jsonb)) AS x
            ORDER BY 1
        ),
        coalesce((p_message ->> 'attachment_count')::integer, 0),
        coalesce((p_message ->> 'embed_count')::integer, 0)
    );

    v_result := analytics.apply_batch(v_batch);
    RETURN pg_catalog.jsonb_build_object(
        'status',
        CASE
            WHEN (v_result ->> 'messages_inserted')::integer > 0 THEN 'inserted'
            WHEN (v_result ->> 'messages_updated')::integer > 0 THEN 'updated'
            ELSE 'unchanged'
        END,
        'message_id', v_id
    );
END;
$$;

COMMENT ON FUNCTION analytics._ingest_message(text, bigint, jsonb) IS 'One new or edited message (payload of resonance.analytics.live.message_payload) staged with its author and named mentioned users, then analytics.apply_batch: status inserted, updated or unchanged. Raises RA001 without a tenant.';
REVOKE ALL ON FUNCTION analytics._ingest_message(text, bigint, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._ingest_message(text, bigint, jsonb) TO service_role;

CREATE OR REPLACE FUNCTION analytics.ingest_message(
    p_tenant_id text,
    p_server_id bigint,
    p_channel_id bigint,
    p_message_id bigint,
    p_author_id bigint,
    p_author_name text,
    p_content text,
    p_created_at timestamptz DEFAULT NULL,
    p_edited_at timestamptz DEFAULT NULL,
    p_reply_to_message_id bigint DEFAULT NULL,
    p_reply_to_author_id bigint DEFAULT NULL,
    p_mention_ids bigint [] DEFAULT '{}',
    p_attachment_count integer DEFAULT 0,
    p_embed_count integer DEFAULT 0,
    p_author_is_bot boolean DEFAULT FALSE,
    p_message_type integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT analytics._ingest_message(p_tenant_id, p_server_id, pg_catalog.jsonb_build_object(
        'id', p_message_id,
        'channel_id', p_channel_id,
        'author', pg_catalog.jsonb_build_object('id', p_author_id, 'name', coalesce(p_author_name, p_author_id::text), 'bot', p_author_is_bot),
        'content', p_content,
        'created_at', p_created_at,
        'edited_at', p_edited_at,
        'type', p_message_type,
        'reply_to_message_id', p_reply_to_message_id,
        'reply_to_author_id', p_reply_to_author_id,
        'mentions', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', x)), '[]'::jsonb) FROM pg_catalog.unnest(p_mention_ids) AS x),
        'attachment_count', p_attachment_count,
        'embed_count', p_embed_count
    ))
$$;

COMMENT ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) IS 'Live ingest of a new or edited message with plain arguments (analytics._ingest_message): status inserted, updated or unchanged. Time defaults to the snowflake''s.';
REVOKE ALL ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.delete_message(p_tenant_id text, p_message_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_status text := 'deleted';
BEGIN
    PERFORM analytics._lock_tenants(ARRAY[p_tenant_id]);
    UPDATE analytics.messages AS m
    SET deleted_at = pg_catalog.now()
    WHERE m.tenant_id = p_tenant_id AND m.id = p_message_id AND m.deleted_at IS NULL;
    IF FOUND THEN
        DELETE FROM analytics.reactions AS r WHERE r.tenant_id = p_tenant_id AND r.message_id = p_message_id;
        DELETE FROM analytics.message_mentions AS mm WHERE mm.tenant_id = p_tenant_id AND mm.message_id = p_message_id;
    ELSIF EXISTS (SELECT FROM analytics.messages AS m WHERE m.tenant_id = p_tenant_id AND m.id = p_message_id) THEN
        v_status := 'already_deleted';
    ELSE
        v_status := 'not_found';
    END IF;
    RETURN pg_catalog.jsonb_build_object('status', v_status, 'message_id', p_message_id);
END;
$$;

COMMENT ON FUNCTION analytics.delete_message(text, bigint) IS 'Live ingest of on_message_delete, soft: the message keeps its row with deleted_at set and counts nowhere; its mentions and reactions are removed. Status deleted, already_deleted or not_found.';
REVOKE ALL ON FUNCTION analytics.delete_message(text, bigint) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.delete_message(text, bigint) TO service_role;

CREATE OR REPLACE FUNCTION analytics._ingest_reaction(p_tenant_id text, p_server_id bigint, p_reaction jsonb, p_removed boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_batch uuid := extensions.gen_random_uuid();
    v_message_id bigint := (p_reaction ->> 'message_id')::bigint;
    v_user jsonb := coalesce(p_reaction -> 'user', '{}'::jsonb);
    v_user_id bigint := (v_user ->> 'id')::bigint;
    v_emoji_id bigint := (p_reaction ->> 'emoji_id')::bigint;
    v_emoji_name text := p_reaction ->> 'emoji_name';
    v_deleted_at timestamptz;
    v_result jsonb;
BEGIN
    PERFORM analytics._lock_tenants(ARRAY[p_tenant_id]);
    SELECT m.deleted_at INTO v_deleted_at FROM analytics.messages AS m WHERE m.tenant_id = p_tenant_id AND m.id = v_message_id;
    IF NOT FOUND THEN
        RETURN pg_catalog.jsonb_build_object('status', 'unknown_message', 'message_id', v_message_id);
    ELSIF v_deleted_at IS NOT NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'deleted_message', 'message_id', v_message_id);
    END IF;

    IF p_removed THEN
        DELETE FROM analytics.reactions AS r
        USING analytics.emojis AS e
        WHERE r.tenant_id = p_tenant_id
            AND r.message_id = v_message_id
            AND r.user_id = v_user_id
            AND e.tenant_id = r.tenant_id
            AND e.id = r.emoji_id
            AND e.discord_id IS NOT DISTINCT FROM v_emoji_id
            AND e.name = v_emoji_name;
        RETURN pg_catalog.jsonb_build_object('status', CASE WHEN FOUND THEN 'removed' ELSE 'not_found' END, 'message_id', v_message_id);
    END IF;

    IF v_user ? 'name' THEN
        INSERT INTO resonance.analytics_stage_users (batch_id, tenant_id, server_id, id, username, discriminator, avatar, is_bot)
        VALUES (v_batch, p_tenant_id, p_server_id, v_user_id, v_user ->> 'name', v_user ->> 'discriminator', v_user ->> 'avatar',
            coalesce((v_user ->> 'bot')::boolean, FALSE));
    END IF;
    INSERT INTO resonance.analytics_stage_reactions (batch_id, tenant_id, message_id, emoji_discord_id, emoji_name, is_animated, user_id)
    VALUES (v_batch, p_tenant_id, v_message_id, v_emoji_id, v_emoji_name, coalesce((p_reaction ->> 'animated')::boolean, FALSE), v_user_id);

    v_result := analytics.apply_batch(v_batch);
    RETURN pg_catalog.jsonb_build_object(
        'status', CASE WHEN (v_result ->> 'reactions_added')::integer > 0 THEN 'added' ELSE 'duplicate' END,
        'message_id', v_message_id
    );
END;
$$;

COMMENT ON FUNCTION analytics._ingest_reaction(text, bigint, jsonb, boolean) IS 'One reaction added or removed (payload of resonance.analytics.live.reaction_payload); a named reactor is staged as a user, as a sync does. Status added, duplicate, removed, not_found, unknown_message or deleted_message.';
REVOKE ALL ON FUNCTION analytics._ingest_reaction(text, bigint, jsonb, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._ingest_reaction(text, bigint, jsonb, boolean) TO service_role;

CREATE OR REPLACE FUNCTION analytics.ingest_reaction(
    p_tenant_id text,
    p_message_id bigint,
    p_user_id bigint,
    p_emoji_name text,
    p_emoji_id bigint DEFAULT NULL,
    p_emoji_animated boolean DEFAULT FALSE,
    p_removed boolean DEFAULT FALSE
)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT analytics._ingest_reaction(
        p_tenant_id,
        NULL,
        pg_catalog.jsonb_build_object(
            'message_id', p_message_id, 'user', pg_catalog.jsonb_build_object('id', p_user_id),
            'emoji_name', p_emoji_name, 'emoji_id', p_emoji_id, 'animated', p_emoji_animated
        ),
        p_removed
    )
$$;

COMMENT ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) IS 'Live ingest of on_raw_reaction_add/remove with plain arguments (analytics._ingest_reaction): status added, duplicate, removed, not_found, unknown_message or deleted_message.';
REVOKE ALL ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) TO service_role;

CREATE OR REPLACE FUNCTION analytics._ingest_member(p_tenant_id text, p_server_id bigint, p_member jsonb, p_joined boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_batch uuid := extensions.gen_random_uuid();
    v_user jsonb := coalesce(p_member -> 'user', '{}'::jsonb);
    v_user_id bigint := (v_user ->> 'id')::bigint;
    v_result jsonb;
BEGIN
    PERFORM analytics._lock_tenants(ARRAY[p_tenant_id]);
    IF NOT p_joined THEN
        UPDATE analytics.server_members AS sm
        SET is_active = FALSE
        WHERE sm.tenant_id = p_tenant_id AND sm.server_id = p_server_id AND sm.user_id = v_user_id AND sm.is_active;
        RETURN pg_catalog.jsonb_build_object('status', CASE WHEN FOUND THEN 'left' ELSE 'not_found' END, 'user_id', v_user_id);
    END IF;

    INSERT INTO resonance.analytics_stage_users (
        batch_id, tenant_id, server_id, id, username, discriminator, avatar, is_bot, is_member, nickname, joined_at
    )
    VALUES (
        v_batch, p_tenant_id, p_server_id, v_user_id, coalesce(v_user ->> 'name', v_user_id::text), v_user ->> 'discriminator',
        v_user ->> 'avatar', coalesce((v_user ->> 'bot')::boolean, FALSE), TRUE, p_member ->> 'nick',
        (p_member ->> 'joined_at')::timestamptz
    );
    v_result := analytics.apply_batch(v_batch);
    RETURN pg_catalog.jsonb_build_object(
        'status', CASE WHEN (v_result ->> 'members_written')::integer > 0 THEN 'joined' ELSE 'unchanged' END,
        'user_id', v_user_id
    );
END;
$$;

COMMENT ON FUNCTION analytics._ingest_member(text, bigint, jsonb, boolean) IS 'A member joined (staged as a sync stages the member list: user and server_members row, active) or left (is_active = FALSE). Status joined, unchanged, left or not_found.';
REVOKE ALL ON FUNCTION analytics._ingest_member(text, bigint, jsonb, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics._ingest_member(text, bigint, jsonb, boolean) TO service_role;

CREATE OR REPLACE FUNCTION analytics.server_analytics(p_server_id text)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN c.server_id IS NULL THEN pg_catalog.jsonb_build_object('status', 'not_linked')
        WHEN NOT c.is_active THEN pg_catalog.jsonb_build_object('status', 'inactive', 'tenant_id', c.brand_id)
        WHEN NOT coalesce((c.config_metadata -> 'analytics' ->> 'enabled')::boolean, TRUE)
            THEN pg_catalog.jsonb_build_object('status', 'disabled', 'tenant_id', c.brand_id)
        ELSE pg_catalog.jsonb_build_object('status', 'enabled', 'tenant_id', c.brand_id)
    END
    FROM (SELECT p_server_id AS id) AS q
    LEFT JOIN public.discord_server_configs AS c ON q.id = c.server_id
$$;

COMMENT ON FUNCTION analytics.server_analytics(text) IS 'Whether live analytics runs for a Discord server, and for which tenant (its brand): status enabled, disabled (config_metadata.analytics.enabled = false), inactive (unlinked) or not_linked.';
REVOKE ALL ON FUNCTION analytics.server_analytics(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.server_analytics(text) TO service_role;

CREATE OR REPLACE FUNCTION analytics.set_server_analytics(p_server_id text, p_enabled boolean, p_actor_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.set_actor('admin', p_actor_id);
    UPDATE public.discord_server_configs AS c
    SET config_metadata = coalesce(c.config_metadata, '{}'::jsonb)
        || pg_catalog.jsonb_build_object(
            'analytics',
            coalesce(c.config_metadata -> 'analytics', '{}'::jsonb) || pg_catalog.jsonb_build_object('enabled', coalesce(p_enabled, TRUE))
        )
    WHERE c.server_id = p_server_id;
    RETURN analytics.server_analytics(p_server_id);
END;
$$;

COMMENT ON FUNCTION analytics.set_server_analytics(text, boolean, text) IS 'Turn live analytics on or off for a linked server (config_metadata.analytics.enabled; audited as the admin). Returns analytics.server_analytics.';
REVOKE ALL ON FUNCTION analytics.set_server_analytics(text, boolean, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.set_server_analytics(text, boolean, text) TO service_role;

CREATE OR REPLACE FUNCTION analytics.ingest_event(p_server_id text, p_kind text, p_payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_gate jsonb := analytics.server_analytics(p_server_id);
    v_tenant text := v_gate ->> 'tenant_id';
    v_server bigint;
    v_result jsonb;
BEGIN
    IF v_gate ->> 'status' <> 'enabled' THEN
        RETURN v_gate;
    END IF;
    v_server := p_server_id::bigint;
    CASE p_kind
        WHEN 'message' THEN
            v_result := analytics._ingest_message(v_tenant, v_server, p_payload);
        WHEN 'message_delete' THEN
            v_result := analytics.delete_message(v_tenant, (p_payload ->> 'message_id')::bigint);
        WHEN 'reaction_add', 'reaction_remove' THEN
            v_result := analytics._ingest_reaction(v_tenant, v_server, p_payload, p_kind = 'reaction_remove');
        WHEN 'member_join', 'member_leave' THEN
            v_result := analytics._ingest_member(v_tenant, v_server, p_payload, p_kind = 'member_join');
        WHEN 'channel' THEN
            PERFORM analytics.upsert_channel(
                v_tenant, v_server, (p_payload ->> 'id')::bigint, p_payload ->> 'name',
                coalesce((p_payload ->> 'type')::integer, 0), p_payload ->> 'topic', (p_payload ->> 'position')::integer,
                coalesce((p_payload ->> 'nsfw')::boolean, FALSE)
            );
            v_result := pg_catalog.jsonb_build_object('status', 'channel_written', 'channel_id', (p_payload ->> 'id')::bigint);
        ELSE
            RAISE EXCEPTION 'unknown analytics event kind %', p_kind USING ERRCODE = 'RA010';
    END CASE;
    RETURN v_result || pg_catalog.jsonb_build_object('tenant_id', v_tenant);
END;
$$;

COMMENT ON FUNCTION analytics.ingest_event(text, text, jsonb) IS 'The bot''s one call per gateway event: kind message (create or edit), message_delete, reaction_add, reaction_remove, member_join, member_leave or channel (create or update), payload as built by resonance.analytics.live. The server''s tenant is its brand; a server not linked, inactive or with analytics off answers that status and writes nothing. Raises RA010 for another kind.';
REVOKE ALL ON FUNCTION analytics.ingest_event(text, text, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.ingest_event(text, text, jsonb) TO service_role;

CREATE OR REPLACE FUNCTION analytics.refresh_views(p_tenant_id text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_tenant text;
    v_count integer := 0;
BEGIN
    FOR v_tenant IN
        SELECT p_tenant_id WHERE p_tenant_id IS NOT NULL
        UNION
        SELECT s.tenant_id FROM analytics.servers AS s WHERE p_tenant_id IS NULL
        UNION
        SELECT ic.tenant_id FROM analytics.interaction_counts AS ic WHERE p_tenant_id IS NULL
        UNION
        SELECT dc.tenant_id FROM analytics.daily_author_counts AS dc WHERE p_tenant_id IS NULL
        ORDER BY 1
    LOOP
        PERFORM analytics._lock_tenants(ARRAY[v_tenant]);
        DELETE FROM analytics.interaction_counts AS ic WHERE ic.tenant_id = v_tenant;
        DELETE FROM analytics.daily_author_counts AS dc WHERE dc.tenant_id = v_tenant;

        INSERT INTO analytics.interaction_counts (tenant_id, server_id, from_user_id, to_user_id, replies, reactions, mentions)
        SELECT v_tenant, e.server_id, e.from_user_id, e.to_user_id,
            count(*) FILTER (WHERE e.kind = 'reply'),
            count(*) FILTER (WHERE e.kind = 'reaction'),
            count(*) FILTER (WHERE e.kind = 'mention')
        FROM (
            SELECT m.server_id, m.author_id AS from_user_id, m.reply_to_author_id AS to_user_id, 'reply' AS kind
            FROM analytics.messages AS m
            WHERE m.tenant_id = v_tenant AND m.deleted_at IS NULL AND m.reply_to_author_id IS NOT NULL
            UNION ALL
            SELECT m.server_id, r.user_id, m.author_id, 'reaction'
            FROM analytics.reactions AS r
            INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
            WHERE r.tenant_id = v_tenant AND m.deleted_at IS NULL
            UNION ALL
            SELECT m.server_id, m.author_id, mm.user_id, 'mention'
            FROM analytics.message_mentions AS mm
            INNER JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
            WHERE mm.tenant_id = v_tenant AND m.deleted_at IS NULL
        ) AS e
        WHERE e.from_user_id <> e.to_user_id
        GROUP BY e.server_id, e.from_user_id, e.to_user_id;

        INSERT INTO analytics.daily_author_counts (tenant_id, server_id, day, channel_id, author_id, messages)
        SELECT v_tenant, m.server_id, (m.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, m.author_id, count(*)
        FROM analytics.messages AS m
        CROSS JOIN LATERAL (VALUES (m.channel_id), (0::bigint)) AS ch (channel_id)
        WHERE m.tenant_id = v_tenant AND m.deleted_at IS NULL
        GROUP BY m.server_id, (m.created_at AT TIME ZONE 'UTC')::date, ch.channel_id, m.author_id;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION analytics.refresh_views(text) IS 'Recompute one tenant''s rollups (interaction_counts, daily_author_counts) from its raw rows, or every tenant''s with NULL; returns the tenants rebuilt. Not needed in operation (the rollup triggers keep them current): a repair tool, and the reference the tests compare against.';
REVOKE ALL ON FUNCTION analytics.refresh_views(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.refresh_views(text) TO service_role;

-- Retention: a tenant's messages older than its history window go (soft-deleted first, so one
-- statement trigger takes them out of the rollups, then removed with their mentions and reactions).

CREATE OR REPLACE FUNCTION analytics.history_days(p_tenant_id text)
RETURNS integer
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT CASE WHEN s.tenant_id IS NULL THEN 30 ELSE s.history_days END
    FROM (SELECT p_tenant_id AS id) AS q
    LEFT JOIN analytics.tenant_settings AS s ON q.id = s.tenant_id
$$;

COMMENT ON FUNCTION analytics.history_days(text) IS 'A tenant''s history window in days: analytics.tenant_settings.history_days, 30 without a row, NULL (keep everything) when set so.';
REVOKE ALL ON FUNCTION analytics.history_days(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.history_days(text) TO service_role;

CREATE OR REPLACE FUNCTION analytics.purge_history(p_tenant_id text, p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_days integer := analytics.history_days(p_tenant_id);
    v_cutoff timestamptz;
    v_count integer;
BEGIN
    IF v_days IS NULL THEN
        RETURN 0;
    END IF;
    v_cutoff := coalesce(p_at, pg_catalog.now()) - pg_catalog.make_interval(days => v_days);
    PERFORM analytics._lock_tenants(ARRAY[p_tenant_id]);
    UPDATE analytics.messages AS m
    SET deleted_at = coalesce(p_at, pg_catalog.now())
    WHERE m.tenant_id = p_tenant_id AND m.created_at < v_cutoff AND m.deleted_at IS NULL;
    DELETE FROM analytics.messages AS m WHERE m.tenant_id = p_tenant_id AND m.created_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION analytics.purge_history(text, timestamptz) IS 'Remove a tenant''s messages created before its history window (analytics.history_days, counted back from p_at or now), with their mentions and reactions; the rollups follow. Returns the messages removed.';
REVOKE ALL ON FUNCTION analytics.purge_history(text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.purge_history(text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION analytics.purge_all_history(p_at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_tenant text;
    v_tenants integer := 0;
    v_messages bigint := 0;
BEGIN
    FOR v_tenant IN SELECT DISTINCT s.tenant_id FROM analytics.servers AS s ORDER BY 1 LOOP
        v_messages := v_messages + analytics.purge_history(v_tenant, p_at);
        v_tenants := v_tenants + 1;
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('tenants', v_tenants, 'messages_purged', v_messages);
END;
$$;

COMMENT ON FUNCTION analytics.purge_all_history(timestamptz) IS 'The retention job (db/jobs/40_analytics_retention.sql): analytics.purge_history for every tenant. Returns {tenants, messages_purged}.';
REVOKE ALL ON FUNCTION analytics.purge_all_history(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.purge_all_history(timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION analytics.mark_departed_members(p_tenant_id text, p_server_id bigint, p_member_ids bigint [])
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE analytics.server_members AS sm
    SET is_active = FALSE
    WHERE sm.tenant_id = p_tenant_id
        AND sm.server_id = p_server_id
        AND sm.is_active
        AND sm.user_id <> ALL(p_member_ids);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION analytics.mark_departed_members(text, bigint, bigint []) IS 'Given the complete member list of a server, mark every other stored member is_active = FALSE (a member who returns is re-activated by the next batch). Returns how many were marked.';
REVOKE ALL ON FUNCTION analytics.mark_departed_members(text, bigint, bigint []) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.mark_departed_members(text, bigint, bigint []) TO service_role;
