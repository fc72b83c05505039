"""The extractor against the seeded mock guild: tenants apart, idempotent, resumable, true edges,
edits in place, live ingest through the same upsert, questions matching the generator's shape,
and rollups that follow each tenant's writes while reads continue."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import asyncpg
import discord
import pytest
from analytics_support import assert_rollups_match_raw

from resonance.analytics import protocols, questions
from resonance.analytics.discord_adapter import DiscordChannel, DiscordGuild, DiscordMessage, DiscordReaction
from resonance.analytics.extractor import run_extraction
from resonance.analytics.live import delete_message, ingest_message, ingest_reaction
from resonance.analytics.mock import MockMessage, MockReference, create_mock_client

TABLES = {
    "servers": "tenant_id, id",
    "users": "tenant_id, id",
    "server_members": "tenant_id, server_id, user_id",
    "channels": "tenant_id, id",
    "messages": "tenant_id, id",
    "message_mentions": "tenant_id, message_id, user_id",
    "emojis": "tenant_id, id",
    "reactions": "tenant_id, message_id, emoji_id, user_id",
}


def small(seed: int = 7, **kw):
    return create_mock_client(user_count=30, channel_count=3, messages_per_channel=60, days=4, seed=seed, **kw)


async def sync(client, db, tenant: str, **kw):
    kw.setdefault("sync_days", 5)
    kw.setdefault("batch_size", 50)
    return await run_extraction(client, db, client.guilds[0].id, tenant, now=client.now, **kw)


async def snapshot(db, tenant: str | None = None) -> dict[str, list]:
    """Every warehouse row with its xmin: equal snapshots mean no row was even rewritten."""
    where = "" if tenant is None else "WHERE tenant_id = $1"
    args = [] if tenant is None else [tenant]
    return {
        t: [tuple(r) for r in await db.fetch(f"SELECT xmin::text, * FROM analytics.{t} {where} ORDER BY {k}", *args)]
        for t, k in TABLES.items()
    }


async def test_mock_and_adapter_satisfy_the_protocols():
    client = small()
    guild = client.guilds[0]
    channel = guild.text_channels[0]
    message = next(m for m in channel.messages if m.reactions and m.reference) if any(
        m.reactions and m.reference for m in channel.messages) else channel.messages[0]
    assert isinstance(client, protocols.ClientLike)
    assert isinstance(guild, protocols.GuildLike)
    assert isinstance(channel, protocols.ChannelLike)
    assert isinstance(message, protocols.MessageLike)
    assert isinstance(guild.members[0], protocols.MemberLike)

    # discord.py-shaped objects (enums, assets, resolved references, str emojis) through the adapter.
    author = SimpleNamespace(id=5, name="alice", discriminator="0", avatar=None, bot=False)
    referenced = SimpleNamespace(author=SimpleNamespace(id=9))

    async def reactors(limit=None):
        yield author

    raw_reaction = SimpleNamespace(emoji="\N{FIRE}", users=reactors)
    raw = SimpleNamespace(
        id=123 << 22, author=author, content="hi", created_at=client.now, edited_at=None,
        type=discord.MessageType.reply, reference=SimpleNamespace(message_id=77, resolved=referenced),
        mentions=[author], attachments=[1, 2], embeds=[], reactions=[raw_reaction],
    )
    adapted = DiscordMessage(raw)
    assert isinstance(adapted, protocols.MessageLike)
    assert (adapted.type, adapted.reference.message_id, adapted.reference.resolved_author_id) == (19, 77, 9)
    assert adapted.attachment_count == 2 and adapted.author.discriminator is None
    reaction = DiscordReaction(raw_reaction)
    assert isinstance(reaction, protocols.ReactionLike)
    assert reaction.emoji.id is None and reaction.emoji.name == "\N{FIRE}"
    assert [u.id async for u in reaction.users()] == [5]

    async def history(limit=None, after=None, oldest_first=True):
        assert isinstance(after, discord.Object) and after.id == 42
        yield raw

    raw_channel = SimpleNamespace(id=1, name="general", type=discord.ChannelType.text, topic=None, position=0,
                                  nsfw=False, history=history)
    adapted_channel = DiscordChannel(raw_channel)
    assert isinstance(adapted_channel, protocols.ChannelLike) and adapted_channel.type == 0
    assert [m.id async for m in adapted_channel.history(after=42)] == [123 << 22]
    raw_guild = SimpleNamespace(id=3, name="g", icon=None, owner_id=5, member_count=1, members=[author],
                                text_channels=[raw_channel])
    assert isinstance(DiscordGuild(raw_guild), protocols.GuildLike)


async def test_two_tenants_syncing_the_same_guild_stay_apart(db):
    client = small()
    truth = client.truth
    a = await sync(client, db, "tenant-a")
    b = await sync(client, db, "tenant-b")
    assert a.messages_inserted == b.messages_inserted == truth.messages
    for tenant in ("tenant-a", "tenant-b"):
        assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = $1", tenant) == truth.messages
    assert await db.fetchval("SELECT count(*) FROM analytics.messages") == 2 * truth.messages
    assert await db.fetchval("SELECT count(*) FROM analytics.users") == 2 * len(client.guilds[0].members)

    # A change in one tenant's copy leaves the other's alone.
    victim = client.messages()[0].id
    assert (await delete_message(db, "tenant-a", victim))["status"] == "deleted"
    rows = await db.fetch("SELECT tenant_id, deleted_at IS NOT NULL AS gone FROM analytics.messages WHERE id = $1 ORDER BY 1", victim)
    assert [tuple(r) for r in rows] == [("tenant-a", True), ("tenant-b", False)]  # soft: a's row stays, marked
    edited = client.edit_message(client.messages()[1].id, "edited for a only")
    await ingest_message(db, "tenant-a", client.guilds[0].id, client.guilds[0].text_channels[0].id, edited)
    rows = await db.fetch("SELECT tenant_id, content FROM analytics.messages WHERE id = $1 ORDER BY tenant_id", edited.id)
    assert [r["content"] for r in rows] == ["edited for a only", rows[1]["content"]]
    assert rows[1]["content"] != "edited for a only"

    # Each tenant reads only its own rows, through RLS (console) and through the question functions.
    seen_a = await questions.console_query(db, "tenant-a", "SELECT count(*) AS n, count(DISTINCT tenant_id) AS t FROM messages")
    assert seen_a.rows == [{"n": truth.messages - 1, "t": 1}]
    givers_b = await questions.top_reaction_givers(db, "tenant-b", client.guilds[0].id, 1000)
    assert {g.user_id: g.reactions_given for g in givers_b} == dict(truth.reactions_given)


async def test_a_sync_run_twice_changes_nothing(db):
    client = small(seed=11)
    first = await sync(client, db, "t")
    before = await snapshot(db)
    again = await sync(client, db, "t")
    full = await sync(client, db, "t", full=True)
    assert first.messages_inserted == client.truth.messages
    assert again.messages_seen == 0  # resumed: nothing newer than the resume points
    assert (full.messages_seen, full.messages_inserted, full.messages_updated) == (client.truth.messages, 0, 0)
    assert (full.reactions_added, full.reactions_removed, full.users_written) == (0, 0, 0)
    assert await snapshot(db) == before  # same rows, same xmin: nothing was rewritten
    assert await db.fetchval("SELECT count(*) FROM resonance.analytics_stage_messages") == 0


async def test_an_edited_message_updates_in_place(db):
    client = small(seed=12)
    await sync(client, db, "t")
    target = client.messages()[5]
    client.edit_message(target.id, "now with four words")
    stats = await sync(client, db, "t", full=True)
    assert (stats.messages_inserted, stats.messages_updated) == (0, 1)
    row = await db.fetchrow("SELECT content, edited_at, word_count FROM analytics.messages WHERE tenant_id = 't' AND id = $1", target.id)
    assert (row["content"], row["edited_at"], row["word_count"]) == ("now with four words", target.edited_at, 4)
    assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 't'") == client.truth.messages


async def test_resumed_syncs_pick_up_only_new_messages_and_edges_match_the_truth(db):
    client = small(seed=13)
    cutoff = client.now - timedelta(days=1)
    client.visible_until = cutoff
    early = await sync(client, db, "t")
    older = client.truth.messages
    client.visible_until = None
    later = await sync(client, db, "t")
    truth = client.truth
    newer = truth.messages - older
    assert newer > 0 and early.messages_inserted == older
    assert (later.messages_seen, later.messages_inserted, later.messages_updated) == (newer, newer, 0)
    state = await db.fetch("SELECT channel_id, last_message_id, messages_synced FROM analytics.sync_state WHERE tenant_id = 't'")
    assert {r["channel_id"]: r["last_message_id"] for r in state} == {
        c.id: max(m.id for m in c.messages) for c in client.guilds[0].text_channels
    }
    assert sum(r["messages_synced"] for r in state) == truth.messages

    # Reply edges: every reply's author pair, including references Discord did not resolve
    # (the reply author then comes from the stored referenced message).
    assert truth.unresolved_replies > 0
    assert await db.fetchval(
        "SELECT count(*) FROM analytics.messages WHERE tenant_id = 't' AND reply_to_message_id IS NOT NULL") == truth.replies
    assert await db.fetchval(
        "SELECT count(*) FROM analytics.messages WHERE tenant_id = 't' AND reply_to_message_id IS NOT NULL"
        " AND reply_to_author_id IS NULL") == 0
    replies = await db.fetch(
        "SELECT author_id, reply_to_author_id FROM analytics.messages"
        " WHERE tenant_id = 't' AND reply_to_author_id IS NOT NULL AND author_id <> reply_to_author_id")
    assert Counter((r["author_id"], r["reply_to_author_id"]) for r in replies) == truth.reply_edges
    mentions = await db.fetch(
        "SELECT m.author_id, mm.user_id FROM analytics.message_mentions AS mm"
        " JOIN analytics.messages AS m ON m.tenant_id = mm.tenant_id AND m.id = mm.message_id"
        " WHERE mm.tenant_id = 't' AND m.author_id <> mm.user_id")
    assert Counter((r["author_id"], r["user_id"]) for r in mentions) == truth.mention_edges
    interactions = await db.fetch(
        "SELECT from_user_id, to_user_id, replies, mentions FROM analytics.user_interactions WHERE tenant_id = 't'")
    assert Counter({(r["from_user_id"], r["to_user_id"]): r["replies"] for r in interactions if r["replies"]}) == truth.reply_edges
    assert Counter({(r["from_user_id"], r["to_user_id"]): r["mentions"] for r in interactions if r["mentions"]}) == truth.mention_edges
    pairs = await questions.top_reply_pairs(db, "t", client.guilds[0].id, 1000)
    assert Counter({(p.replier_id, p.replied_to_id): p.reply_count for p in pairs}) == truth.reply_edges


async def test_fetch_reactions_off_keeps_reactions_out(db):
    client = small(seed=14)
    stats = await sync(client, db, "t", fetch_reactions=False)
    assert stats.messages_inserted == client.truth.messages
    assert await db.fetchval("SELECT count(*) FROM analytics.reactions") == 0
    await sync(client, db, "t", full=True)  # now with reactions
    assert await db.fetchval("SELECT count(*) FROM analytics.reactions") == sum(client.truth.reactions_given.values())


async def test_the_questions_match_the_generators_shape(db):
    client = create_mock_client(user_count=40, channel_count=3, messages_per_channel=120, days=5, seed=21)
    truth = client.truth
    guild = client.guilds[0].id
    await sync(client, db, "t", sync_days=6)

    # The documented shape: ~60% lurkers (no messages), 3% power users (the top posters), 35% replies,
    # 20% of messages with reactions, daytime bias.
    assert len(truth.lurkers) == 24 and len(truth.power_users) == 1
    assert 0.28 < truth.replies / truth.messages < 0.42
    assert 0.14 < truth.messages_with_reactions / truth.messages < 0.26
    levels = await questions.activity_levels(db, "t", guild, 6, client.now, power_over=100, active_over=10, casual_over=0)
    assert len(levels) == 40
    by_user = {lv.user_id: lv for lv in levels}
    assert {u for u, lv in by_user.items() if lv.activity_level == "power_user"} == truth.power_users
    assert {u for u, lv in by_user.items() if lv.messages == 0} == truth.lurkers
    assert all(by_user[u].activity_level == "lurker" for u in truth.lurkers)
    assert {lv.user_id: lv.messages for lv in levels if lv.messages} == dict(truth.messages_by_author)

    trends = await questions.daily_trends(db, "t", guild, 6, client.now)
    assert {t.day: t.messages for t in trends} == dict(truth.messages_by_day)
    hours = Counter(m.created_at.hour for m in client.messages())
    assert sum(hours[h] for h in range(11, 20)) > sum(hours[h] for h in (*range(0, 7), 23, 22))  # daytime bias

    givers = await questions.top_reaction_givers(db, "t", guild, 5)
    assert [g.reactions_given for g in givers] == sorted(truth.reactions_given.values(), reverse=True)[:5]


async def test_live_ingest_goes_through_the_same_upsert(db):
    client = small(seed=15)
    await sync(client, db, "t")
    guild = client.guilds[0]
    channel = guild.text_channels[0]
    message = client.messages()[-1]
    assert (await ingest_message(db, "t", guild.id, channel.id, message))["status"] == "unchanged"
    new_id = protocols.snowflake_at(client.now + timedelta(minutes=1))
    # A reply whose reference did not resolve: the author comes from the stored referenced message.
    fresh = MockMessage(id=new_id, author=message.author, content="a live one", created_at=client.now + timedelta(minutes=1),
                        reference=MockReference(message.id, None), mentions=[guild.members[1]])
    assert (await ingest_message(db, "t", guild.id, channel.id, fresh))["status"] == "inserted"
    row = await db.fetchrow("SELECT reply_to_author_id, message_type, mention_count FROM analytics.messages WHERE tenant_id='t' AND id=$1", new_id)
    assert (row["reply_to_author_id"], row["message_type"], row["mention_count"]) == (message.author.id, 0, 1)
    assert (await ingest_reaction(db, "t", new_id, guild.members[2].id, "\N{FIRE}"))["status"] == "added"
    assert (await ingest_reaction(db, "t", new_id, guild.members[2].id, "\N{FIRE}"))["status"] == "duplicate"
    assert (await ingest_reaction(db, "t", new_id, guild.members[2].id, "\N{FIRE}", removed=True))["status"] == "removed"
    assert (await ingest_reaction(db, "t", 1, guild.members[2].id, "\N{FIRE}"))["status"] == "unknown_message"
    assert (await delete_message(db, "t", new_id))["status"] == "deleted"
    assert (await delete_message(db, "t", new_id))["status"] == "already_deleted"
    assert (await delete_message(db, "t", 1))["status"] == "not_found"
    assert (await ingest_reaction(db, "t", new_id, guild.members[2].id, "\N{FIRE}"))["status"] == "deleted_message"
    # A live message in a channel never synced creates placeholder parents.
    assert (await ingest_message(db, "t2", 999, 998, fresh))["status"] == "inserted"
    assert await db.fetchval("SELECT name FROM analytics.channels WHERE tenant_id = 't2' AND id = 998") == "998"


async def test_one_tenants_writes_leave_other_tenants_rollups_alone(database_url):
    """The rollups follow each write of their own tenant only: no refresh, and nothing recomputed for others."""
    client = small(seed=16)
    writer = await asyncpg.connect(database_url)
    reader = await asyncpg.connect(database_url)
    try:
        await sync(client, writer, "t")
        await sync(client, writer, "u")
        others = [tuple(r) for r in await reader.fetch(
            "SELECT xmin::text, * FROM analytics.interaction_counts WHERE tenant_id = 'u' ORDER BY 2, 3, 4, 5")]
        days = [tuple(r) for r in await reader.fetch(
            "SELECT xmin::text, * FROM analytics.daily_author_counts WHERE tenant_id = 'u' ORDER BY 2, 3, 4, 5, 6")]
        before = await reader.fetchval("SELECT sum(total) FROM analytics.user_interactions WHERE tenant_id = 't'")
        # A reader holds its transaction open on both views; the writer never waits for it.
        tx = reader.transaction()
        await tx.start()
        await reader.fetchval("SELECT count(*) FROM analytics.user_interactions")
        await reader.fetchval("SELECT count(*) FROM analytics.daily_stats")
        await writer.execute("SET lock_timeout = '3s'")
        guild = client.guilds[0]
        author, mentioned = guild.members[0], guild.members[3]
        await ingest_message(writer, "t", guild.id, guild.text_channels[0].id, MockMessage(
            id=protocols.snowflake_at(client.now), author=author, content="x", created_at=client.now, mentions=[mentioned]))
        await tx.rollback()
        after = await reader.fetchval("SELECT sum(total) FROM analytics.user_interactions WHERE tenant_id = 't'")
        assert after == before + (1 if author.id != mentioned.id else 0)
        assert await reader.fetchval(
            "SELECT sum(messages) FROM analytics.daily_stats WHERE tenant_id = 't' AND channel_id = 0") == client.truth.messages + 1
        # Tenant u's rollup rows were not even rewritten.
        assert [tuple(r) for r in await reader.fetch(
            "SELECT xmin::text, * FROM analytics.interaction_counts WHERE tenant_id = 'u' ORDER BY 2, 3, 4, 5")] == others
        assert [tuple(r) for r in await reader.fetch(
            "SELECT xmin::text, * FROM analytics.daily_author_counts WHERE tenant_id = 'u' ORDER BY 2, 3, 4, 5, 6")] == days
        for tenant in ("t", "u"):
            await assert_rollups_match_raw(reader, tenant)
    finally:
        await writer.close()
        await reader.close()


@pytest.mark.parametrize("batch_size", [7])
async def test_small_batches_give_the_same_rows(db, batch_size):
    client = small(seed=17)
    await sync(client, db, "x", batch_size=1000)
    await sync(client, db, "y", batch_size=batch_size)
    x = await db.fetch("SELECT id, author_id, reply_to_author_id, content, mention_count FROM analytics.messages WHERE tenant_id='x' ORDER BY id")
    y = await db.fetch("SELECT id, author_id, reply_to_author_id, content, mention_count FROM analytics.messages WHERE tenant_id='y' ORDER BY id")
    assert [tuple(r) for r in x] == [tuple(r) for r in y]


async def test_members_who_left_are_marked_inactive(db):
    client = small(seed=18)
    await sync(client, db, "t")
    guild = client.guilds[0]
    gone = guild.members.pop()
    stats = await sync(client, db, "t")
    assert stats.members_departed == 1
    assert await db.fetchval(
        "SELECT is_active FROM analytics.server_members WHERE tenant_id = 't' AND user_id = $1", gone.id) is False
    assert (await sync(client, db, "t")).members_departed == 0
    guild.members.append(gone)
    await sync(client, db, "t")
    assert await db.fetchval(
        "SELECT is_active FROM analytics.server_members WHERE tenant_id = 't' AND user_id = $1", gone.id) is True


DOC_QUERIES = {
    "replies": """SELECT
    u1.username AS replier,
    u2.username AS replied_to,
    COUNT(*) AS reply_count
FROM messages m
JOIN users u1 ON m.author_id = u1.id
JOIN users u2 ON m.reply_to_author_id = u2.id
WHERE m.reply_to_author_id IS NOT NULL
  AND m.author_id != m.reply_to_author_id
GROUP BY u1.username, u2.username
ORDER BY reply_count DESC
LIMIT 10;""",
    "levels": """SELECT
    u.username,
    COUNT(*) AS messages,
    CASE
        WHEN COUNT(*) > 500 THEN 'power_user'
        WHEN COUNT(*) > 100 THEN 'active'
        WHEN COUNT(*) > 20 THEN 'casual'
        ELSE 'lurker'
    END AS activity_level
FROM messages m
JOIN users u ON m.author_id = u.id
WHERE m.created_at > NOW() - INTERVAL '30 days'
GROUP BY u.id, u.username
ORDER BY messages DESC;""",
    "daily": """SELECT
    date_trunc('day', created_at) AS day,
    COUNT(*) AS messages,
    COUNT(DISTINCT author_id) AS active_users
FROM messages
WHERE created_at >= CURRENT_DATE - INTERVAL '30 days'
GROUP BY day
ORDER BY day;""",
    "reactions": """SELECT u.username, COUNT(*) AS reactions_given
FROM reactions r
JOIN users u ON r.user_id = u.id
GROUP BY u.username
ORDER BY reactions_given DESC
LIMIT 10;""",
}


async def test_the_documented_queries_run_verbatim_in_the_console(db):
    client = small(seed=19)
    truth = client.truth
    for tenant in ("t", "other"):
        await sync(client, db, tenant)
    names = {m.id: m.name for m in client.guilds[0].members}
    await db.execute("SET TimeZone = 'UTC'")
    replies = await questions.console_query(db, "t", DOC_QUERIES["replies"])
    truth_replies = {(names[a], names[b]): n for (a, b), n in truth.reply_edges.items()}
    assert replies.columns == ["replier", "replied_to", "reply_count"]
    assert all(truth_replies[(r["replier"], r["replied_to"])] == r["reply_count"] for r in replies.rows)
    assert [r["reply_count"] for r in replies.rows] == sorted(truth_replies.values(), reverse=True)[:10]
    levels = await questions.console_query(db, "t", DOC_QUERIES["levels"])
    assert {r["username"]: r["messages"] for r in levels.rows} == {names[a]: n for a, n in truth.messages_by_author.items()}
    daily = await questions.console_query(db, "t", DOC_QUERIES["daily"])
    assert {r["day"][:10]: r["messages"] for r in daily.rows} == {d.isoformat(): n for d, n in truth.messages_by_day.items()}
    givers = await questions.console_query(db, "t", DOC_QUERIES["reactions"])
    assert [r["reactions_given"] for r in givers.rows] == sorted(truth.reactions_given.values(), reverse=True)[:10]


async def test_concurrent_syncs_of_one_guild_agree_with_a_single_sync(database_url, db):
    client = small(seed=20)
    await sync(client, db, "single")
    conns = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*[sync(client, c, "storm", full=True, batch_size=25) for c in conns])
    finally:
        for c in conns:
            await c.close()

    async def rows(tenant):
        return {
            t: sorted(tuple(r) for r in await db.fetch(
                f"SELECT * FROM analytics.{t} WHERE tenant_id = $1", tenant))
            for t in ("users", "server_members", "channels", "messages", "message_mentions")
        }

    single, storm = await rows("single"), await rows("storm")
    strip = lambda d: {t: [r[1:] for r in v] for t, v in d.items()}  # noqa: E731  (tenant_id differs)
    assert strip(single) == strip(storm)
    assert await db.fetchval("SELECT count(*) FROM analytics.reactions WHERE tenant_id = 'storm'") == sum(
        client.truth.reactions_given.values())
    await assert_rollups_match_raw(db, "storm")
    single_views = [tuple(r) for r in await db.fetch(
        "SELECT server_id, from_user_id, to_user_id, total FROM analytics.user_interactions WHERE tenant_id = 'single' ORDER BY 1, 2, 3")]
    storm_views = [tuple(r) for r in await db.fetch(
        "SELECT server_id, from_user_id, to_user_id, total FROM analytics.user_interactions WHERE tenant_id = 'storm' ORDER BY 1, 2, 3")]
    assert single_views == storm_views
