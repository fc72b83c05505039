"""Shared by the analytics tests: the rollups recomputed from the raw rows, written here
independently of the SQL that maintains them (the definitions of the former materialized views,
restricted to live messages)."""

from __future__ import annotations

RAW_INTERACTIONS = """
SELECT e.server_id, e.from_user_id, e.to_user_id,
    count(*) FILTER (WHERE e.kind = 'reply') AS replies,
    count(*) FILTER (WHERE e.kind = 'reaction') AS reactions,
    count(*) FILTER (WHERE e.kind = 'mention') AS mentions,
    count(*) AS total
FROM (
    SELECT m.server_id, m.author_id AS from_user_id, m.reply_to_author_id AS to_user_id, 'reply' AS kind
    FROM analytics.messages AS m
    WHERE m.tenant_id = $1 AND m.deleted_at IS NULL AND m.reply_to_author_id IS NOT NULL
    UNION ALL
    SELECT m.server_id, r.user_id, m.author_id, 'reaction'
    FROM analytics.reactions AS r JOIN analytics.messages AS m ON r.tenant_id = m.tenant_id AND r.message_id = m.id
    WHERE r.tenant_id = $1 AND m.deleted_at IS NULL
    UNION ALL
    SELECT m.server_id, m.author_id, mm.user_id, 'mention'
    FROM analytics.message_mentions AS mm JOIN analytics.messages AS m ON mm.tenant_id = m.tenant_id AND mm.message_id = m.id
    WHERE mm.tenant_id = $1 AND m.deleted_at IS NULL
) AS e
WHERE e.from_user_id <> e.to_user_id
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

RAW_DAILY = """
SELECT m.server_id, coalesce(m.channel_id, 0) AS channel_id, (m.created_at AT TIME ZONE 'UTC')::date AS day,
    count(*) AS messages, count(DISTINCT m.author_id) AS active_members
FROM analytics.messages AS m
WHERE m.tenant_id = $1 AND m.deleted_at IS NULL
GROUP BY GROUPING SETS ((m.server_id, (m.created_at AT TIME ZONE 'UTC')::date, m.channel_id),
                        (m.server_id, (m.created_at AT TIME ZONE 'UTC')::date))
ORDER BY 1, 2, 3
"""

ROLLUP_INTERACTIONS = """
SELECT server_id, from_user_id, to_user_id, replies, reactions, mentions, total
FROM analytics.user_interactions WHERE tenant_id = $1 ORDER BY 1, 2, 3
"""

ROLLUP_DAILY = """
SELECT server_id, channel_id, day, messages, active_members
FROM analytics.daily_stats WHERE tenant_id = $1 ORDER BY 1, 2, 3
"""


async def rollups(db, tenant: str) -> tuple[list[tuple], list[tuple]]:
    return ([tuple(r) for r in await db.fetch(ROLLUP_INTERACTIONS, tenant)],
            [tuple(r) for r in await db.fetch(ROLLUP_DAILY, tenant)])


async def raw(db, tenant: str) -> tuple[list[tuple], list[tuple]]:
    return ([tuple(r) for r in await db.fetch(RAW_INTERACTIONS, tenant)],
            [tuple(r) for r in await db.fetch(RAW_DAILY, tenant)])


async def assert_rollups_match_raw(db, tenant: str) -> None:
    got, want = await rollups(db, tenant), await raw(db, tenant)
    assert got[0] == want[0], "user_interactions differs from the raw recomputation"
    assert got[1] == want[1], "daily_stats differs from the raw recomputation"
