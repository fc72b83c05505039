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
        member_count = excluded.member_count, synced_at = excluded.synced_at
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

    -- Mentions: the staged list is the message's whole list.
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
        WHERE s.batch_id = p_batch_id
    ) AS x
    ORDER BY x.tenant_id, x.id, x.user_id
    ON CONFLICT (tenant_id, message_id, user_id) DO NOTHING;
    GET DIAGNOSTICS v_mentions_added = ROW_COUNT;

    -- Emojis, then reactions. A message staged with reactions_complete has exactly the staged reactions.
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
        AND EXISTS (SELECT FROM analytics.messages AS m WHERE m.tenant_id = r.tenant_id AND m.id = r.message_id)
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

-- Live ingest: the bot's gateway events, through the same staging + apply_batch path.

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
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_batch uuid := extensions.gen_random_uuid();
    v_result jsonb;
BEGIN
    IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
        RAISE EXCEPTION 'tenant id is required' USING ERRCODE = 'RA001';
    END IF;

    INSERT INTO resonance.analytics_stage_users (batch_id, tenant_id, server_id, id, username, is_bot)
    VALUES (v_batch, p_tenant_id, p_server_id, p_author_id, coalesce(p_author_name, p_author_id::text), p_author_is_bot);

    INSERT INTO resonance.analytics_stage_messages (
        batch_id, tenant_id, server_id, channel_id, id, author_id, content, created_at, edited_at, message_type,
        reply_to_message_id, reply_to_author_id, mention_ids, attachment_count, embed_count
    )
    VALUES (
        v_batch, p_tenant_id, p_server_id, p_channel_id, p_message_id, p_author_id, p_content,
        coalesce(p_created_at, analytics.snowflake_time(p_message_id)), p_edited_at, p_message_type,
        p_reply_to_message_id, p_reply_to_author_id, coalesce(p_mention_ids, '{}'), p_attachment_count, p_embed_count
    );

    v_result := analytics.apply_batch(v_batch);
    RETURN pg_catalog.jsonb_build_object(
        'status',
        CASE
            WHEN (v_result ->> 'messages_inserted')::integer > 0 THEN 'inserted'
            WHEN (v_result ->> 'messages_updated')::integer > 0 THEN 'updated'
            ELSE 'unchanged'
        END,
        'message_id', p_message_id
    );
END;
$$;

COMMENT ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) IS 'Live ingest of a new or edited message (on_message, on_message_edit) through analytics.apply_batch: status inserted, updated or unchanged. Time defaults to the snowflake''s.';
REVOKE ALL ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.ingest_message(text, bigint, bigint, bigint, bigint, text, text, timestamptz, timestamptz, bigint, bigint, bigint [], integer, integer, boolean, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.delete_message(p_tenant_id text, p_message_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_found boolean;
BEGIN
    DELETE FROM analytics.messages AS m WHERE m.tenant_id = p_tenant_id AND m.id = p_message_id;
    v_found := FOUND;
    RETURN pg_catalog.jsonb_build_object('status', CASE WHEN v_found THEN 'deleted' ELSE 'not_found' END, 'message_id', p_message_id);
END;
$$;

COMMENT ON FUNCTION analytics.delete_message(text, bigint) IS 'Live ingest of on_message_delete: the message, its mentions and reactions go (status deleted or not_found).';
REVOKE ALL ON FUNCTION analytics.delete_message(text, bigint) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.delete_message(text, bigint) TO service_role;

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
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_batch uuid := extensions.gen_random_uuid();
    v_result jsonb;
    v_found boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM analytics.messages AS m WHERE m.tenant_id = p_tenant_id AND m.id = p_message_id) THEN
        RETURN pg_catalog.jsonb_build_object('status', 'unknown_message', 'message_id', p_message_id);
    END IF;

    IF p_removed THEN
        DELETE FROM analytics.reactions AS r
        USING analytics.emojis AS e
        WHERE r.tenant_id = p_tenant_id
            AND r.message_id = p_message_id
            AND r.user_id = p_user_id
            AND e.tenant_id = r.tenant_id
            AND e.id = r.emoji_id
            AND e.discord_id IS NOT DISTINCT FROM p_emoji_id
            AND e.name = p_emoji_name;
        v_found := FOUND;
        RETURN pg_catalog.jsonb_build_object('status', CASE WHEN v_found THEN 'removed' ELSE 'not_found' END, 'message_id', p_message_id);
    END IF;

    INSERT INTO resonance.analytics_stage_reactions (batch_id, tenant_id, message_id, emoji_discord_id, emoji_name, is_animated, user_id)
    VALUES (v_batch, p_tenant_id, p_message_id, p_emoji_id, p_emoji_name, coalesce(p_emoji_animated, FALSE), p_user_id);

    v_result := analytics.apply_batch(v_batch);
    RETURN pg_catalog.jsonb_build_object(
        'status', CASE WHEN (v_result ->> 'reactions_added')::integer > 0 THEN 'added' ELSE 'duplicate' END,
        'message_id', p_message_id
    );
END;
$$;

COMMENT ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) IS 'Live ingest of on_raw_reaction_add/remove through analytics.apply_batch: status added, duplicate, removed, not_found or unknown_message.';
REVOKE ALL ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.ingest_reaction(text, bigint, bigint, text, bigint, boolean, boolean) TO service_role;

CREATE OR REPLACE FUNCTION analytics.refresh_views()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.user_interactions;
    REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.daily_stats;
END;
$$;

COMMENT ON FUNCTION analytics.refresh_views() IS 'Refresh user_interactions and daily_stats CONCURRENTLY (readers are never blocked); called after each sync. Needs the views'' owner, service_role.';
REVOKE ALL ON FUNCTION analytics.refresh_views() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.refresh_views() TO service_role;

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
