-- The documented example questions, per tenant and server, for the bot and the web.

CREATE OR REPLACE FUNCTION analytics.top_reply_pairs(p_tenant_id text, p_server_id bigint, p_limit integer DEFAULT 10)
RETURNS TABLE (replier_id bigint, replier text, replied_to_id bigint, replied_to text, reply_count bigint)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT ui.from_user_id, fu.username, ui.to_user_id, tu.username, ui.replies
    FROM analytics.user_interactions AS ui
    LEFT JOIN analytics.users AS fu ON ui.tenant_id = fu.tenant_id AND ui.from_user_id = fu.id
    LEFT JOIN analytics.users AS tu ON ui.tenant_id = tu.tenant_id AND ui.to_user_id = tu.id
    WHERE ui.tenant_id = p_tenant_id AND ui.server_id = p_server_id AND ui.replies > 0
    ORDER BY ui.replies DESC, ui.from_user_id, ui.to_user_id
    LIMIT p_limit
$$;

COMMENT ON FUNCTION analytics.top_reply_pairs(text, bigint, integer) IS 'Who replies to whom the most (self-replies excluded), from the analytics.user_interactions rollup (always current).';
REVOKE ALL ON FUNCTION analytics.top_reply_pairs(text, bigint, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.top_reply_pairs(text, bigint, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.activity_levels(
    p_tenant_id text,
    p_server_id bigint,
    p_days integer DEFAULT 30,
    p_at timestamptz DEFAULT NULL,
    p_power_over integer DEFAULT 500,
    p_active_over integer DEFAULT 100,
    p_casual_over integer DEFAULT 20
)
RETURNS TABLE (user_id bigint, username text, messages bigint, activity_level text)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    WITH counts AS (
        SELECT m.author_id AS user_id, count(*) AS messages
        FROM analytics.messages AS m
        WHERE m.tenant_id = p_tenant_id
            AND m.server_id = p_server_id
            AND m.deleted_at IS NULL
            AND m.created_at > coalesce(p_at, pg_catalog.now()) - pg_catalog.make_interval(days => p_days)
            AND m.created_at <= coalesce(p_at, pg_catalog.now())
        GROUP BY m.author_id
    ),
    people AS (
        SELECT sm.user_id FROM analytics.server_members AS sm
        WHERE sm.tenant_id = p_tenant_id AND sm.server_id = p_server_id AND sm.is_active
        UNION
        SELECT c.user_id FROM counts AS c
    )
    SELECT
        p.user_id,
        u.username,
        coalesce(c.messages, 0) AS messages,
        CASE
            WHEN coalesce(c.messages, 0) > p_power_over THEN 'power_user'
            WHEN coalesce(c.messages, 0) > p_active_over THEN 'active'
            WHEN coalesce(c.messages, 0) > p_casual_over THEN 'casual'
            ELSE 'lurker'
        END AS activity_level
    FROM people AS p
    LEFT JOIN counts AS c ON p.user_id = c.user_id
    LEFT JOIN analytics.users AS u ON u.tenant_id = p_tenant_id AND p.user_id = u.id
    ORDER BY messages DESC, p.user_id
$$;

COMMENT ON FUNCTION analytics.activity_levels(text, bigint, integer, timestamptz, integer, integer, integer) IS 'Power users vs lurkers: messages per member in the last p_days (members with none included), deleted messages excluded, classed by the documented thresholds (over 500 power_user, 100 active, 20 casual, else lurker).';
REVOKE ALL ON FUNCTION analytics.activity_levels(text, bigint, integer, timestamptz, integer, integer, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.activity_levels(text, bigint, integer, timestamptz, integer, integer, integer) TO service_role;

CREATE OR REPLACE FUNCTION analytics.daily_trends(
    p_tenant_id text,
    p_server_id bigint,
    p_days integer DEFAULT 30,
    p_at timestamptz DEFAULT NULL
)
RETURNS TABLE (day date, messages bigint, active_users bigint)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT ds.day, ds.messages, ds.active_members
    FROM analytics.daily_stats AS ds
    WHERE ds.tenant_id = p_tenant_id
        AND ds.server_id = p_server_id
        AND ds.channel_id = 0
        AND ds.day >= (coalesce(p_at, pg_catalog.now()) AT TIME ZONE 'UTC')::date - p_days
    ORDER BY ds.day
$$;

COMMENT ON FUNCTION analytics.daily_trends(text, bigint, integer, timestamptz) IS 'Daily activity trends: messages and distinct active members per UTC day over the last p_days, from the analytics.daily_stats rollup (always current).';
REVOKE ALL ON FUNCTION analytics.daily_trends(text, bigint, integer, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.daily_trends(text, bigint, integer, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION analytics.top_reaction_givers(p_tenant_id text, p_server_id bigint, p_limit integer DEFAULT 10)
RETURNS TABLE (user_id bigint, username text, reactions_given bigint)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT r.user_id, u.username, count(*) AS reactions_given
    FROM analytics.reactions AS r
    INNER JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
    LEFT JOIN analytics.users AS u ON r.tenant_id = u.tenant_id AND r.user_id = u.id
    WHERE r.tenant_id = p_tenant_id AND m.server_id = p_server_id AND m.deleted_at IS NULL
    GROUP BY r.user_id, u.username
    ORDER BY reactions_given DESC, r.user_id
    LIMIT p_limit
$$;

COMMENT ON FUNCTION analytics.top_reaction_givers(text, bigint, integer) IS 'Top reaction givers of a server: reactions given (one per emoji per message) on live messages.';
REVOKE ALL ON FUNCTION analytics.top_reaction_givers(text, bigint, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION analytics.top_reaction_givers(text, bigint, integer) TO service_role;
