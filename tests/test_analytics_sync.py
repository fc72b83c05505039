"""`resonance analytics sync` as a user runs it: the real console script, in its own process, against
the fake Discord (tests/fakediscord, its history routes in rest_history.py) and a migrated database.
A full sync lands exactly what an in-process extraction of the same guild lands; an interrupted
sync resumes; a second sync changes nothing; live edits, deletes and reactions from the bot's path
are what a later sync finds; forbidden channels are skipped with a line; a bad token, a missing
token or a guild the bot is not in end with one line; rate limits are waited out; memory stays flat."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from analytics_support import assert_rollups_match_raw
from fakediscord.rest_history import HistoryWorld, attach, large_guild, put_mock_message
from fakediscord.server import FakeDiscord
from fakediscord.state import Message

from resonance.analytics import live
from resonance.analytics.extractor import run_extraction
from resonance.analytics.mock import create_mock_client
from resonance.analytics.rest import RestMessage

RESONANCE = str(Path(sys.executable).with_name("resonance"))

# Every warehouse table, compared without its tenant (emojis by name, not by their internal id).
COMPARED = {
    "servers": "SELECT id, name, icon, owner_id, member_count FROM analytics.servers WHERE tenant_id = $1 ORDER BY 1",
    "users": "SELECT id, username, discriminator, avatar, is_bot FROM analytics.users WHERE tenant_id = $1 ORDER BY 1",
    "server_members": "SELECT server_id, user_id, nickname, joined_at, is_active FROM analytics.server_members "
                      "WHERE tenant_id = $1 ORDER BY 1, 2",
    "channels": "SELECT id, server_id, name, type, topic, position, is_nsfw FROM analytics.channels WHERE tenant_id = $1 ORDER BY 1",
    "messages": "SELECT id, server_id, channel_id, author_id, content, created_at, edited_at, message_type, "
                "reply_to_message_id, reply_to_author_id, mention_count, attachment_count, embed_count, word_count, "
                "deleted_at IS NOT NULL FROM analytics.messages WHERE tenant_id = $1 ORDER BY 1",
    "message_mentions": "SELECT message_id, user_id FROM analytics.message_mentions WHERE tenant_id = $1 ORDER BY 1, 2",
    "reactions": "SELECT r.message_id, e.name, e.discord_id, r.user_id FROM analytics.reactions r JOIN analytics.emojis e "
                 "ON e.tenant_id = r.tenant_id AND e.id = r.emoji_id WHERE r.tenant_id = $1 ORDER BY 1, 2, 3, 4",
    "interactions": "SELECT server_id, from_user_id, to_user_id, replies, reactions, mentions FROM analytics.user_interactions "
                    "WHERE tenant_id = $1 ORDER BY 1, 2, 3",
    "daily": "SELECT server_id, channel_id, day, messages, active_members FROM analytics.daily_stats WHERE tenant_id = $1 ORDER BY 1, 2, 3",
}


async def contents(db, tenant: str) -> dict[str, list[tuple]]:
    return {name: [tuple(r) for r in await db.fetch(sql, tenant)] for name, sql in COMPARED.items()}


async def xmins(db, tenant: str) -> dict[str, list[tuple]]:
    out = {}
    for table, key in (("messages", "id"), ("users", "id"), ("server_members", "user_id"), ("reactions", "message_id, emoji_id, user_id"),
                       ("message_mentions", "message_id, user_id"), ("emojis", "id"), ("channels", "id"),
                       ("interaction_counts", "server_id, from_user_id, to_user_id"),
                       ("daily_author_counts", "server_id, day, channel_id, author_id")):
        out[table] = [tuple(r) for r in await db.fetch(
            f"SELECT xmin::text, * FROM analytics.{table} WHERE tenant_id = $1 ORDER BY {key}", tenant)]
    return out


class Fake:
    """The fake Discord with a history world attached, and the sync command run against it."""

    def __init__(self, world: HistoryWorld, discord: FakeDiscord, database_url: str) -> None:
        self.world, self.discord, self.database_url = world, discord, database_url

    @classmethod
    async def start(cls, world: HistoryWorld, database_url: str) -> Fake:
        discord = FakeDiscord()
        attach(discord, world)
        await discord.start()
        return cls(world, discord, database_url)

    async def stop(self) -> None:
        await self.discord.stop()

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_BOT_TOKEN", "SYNC_DAYS", "FETCH_REACTIONS")}
        env.update(DISCORD_BOT_TOKEN=self.discord.state.token, RESONANCE_DISCORD_API_BASE=self.discord.api_base,
                   DATABASE_URL=self.database_url, COLUMNS="120")
        env.update(extra)
        return env

    async def run(self, *args: str, **env: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            RESONANCE, "analytics", "sync", *args, env=self.env(**env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )

    async def sync(self, *args: str, **env: str) -> tuple[int, str, str]:
        proc = await self.run(*args, **env)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
        return proc.returncode, out.decode(), err.decode()


def mock_guild(seed: int = 21, messages: int = 60):
    return create_mock_client(user_count=30, channel_count=3, messages_per_channel=messages, days=4, seed=seed)


@pytest.fixture
async def fake(database_url):
    client = mock_guild()
    fake = await Fake.start(HistoryWorld.from_mock(client), database_url)
    fake.client = client
    try:
        yield fake
    finally:
        await fake.stop()


async def test_a_full_sync_lands_what_an_in_process_extraction_lands(fake, db):
    guild = fake.client.guilds[0]
    code, out, err = await fake.sync("--guild", str(guild.id), "--days", "5", "--tenant", "rest")
    assert (code, err) == (0, "")
    assert f"synced guild {guild.id} for tenant 'rest'" in out
    for channel in guild.text_channels:
        assert f"#{channel.name}" in out  # a progress bar per channel
    await run_extraction(fake.client, db, guild.id, "mock", sync_days=5, now=fake.client.now)
    got, want = await contents(db, "rest"), await contents(db, "mock")
    for table in COMPARED:
        assert got[table] == want[table], table
    truth = fake.client.truth
    assert len(got["messages"]) == truth.messages
    assert sum(r[3] for r in got["interactions"]) == sum(v for (a, b), v in truth.reply_edges.items())
    await assert_rollups_match_raw(db, "rest")
    # Resume points: each channel's newest message.
    state = {r["channel_id"]: r["last_message_id"] for r in await db.fetch(
        "SELECT channel_id, last_message_id FROM analytics.sync_state WHERE tenant_id = 'rest'")}
    assert state == {c.id: max(m.id for m in c.visible()) for c in guild.text_channels}


async def test_the_tenant_defaults_to_the_brand_linked_to_the_guild(fake, db):
    guild = fake.client.guilds[0]
    code, _, err = await fake.sync("--guild", str(guild.id), "--days", "5")
    assert code == 1 and err.count("\n") == 1 and "not linked to a brand" in err and "--tenant" in err
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, 'brand-linked')", str(guild.id))
    code, out, err = await fake.sync("--guild", str(guild.id), "--no-reactions", SYNC_DAYS="5")
    assert (code, err) == (0, "")
    assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 'brand-linked'") == fake.client.truth.messages
    assert await db.fetchval("SELECT count(*) FROM analytics.reactions WHERE tenant_id = 'brand-linked'") == 0  # --no-reactions
    # FETCH_REACTIONS=false does the same; true (the default) fetches them.
    code, _, _ = await fake.sync("--guild", str(guild.id), "--full", SYNC_DAYS="5", FETCH_REACTIONS="false")
    assert code == 0 and await db.fetchval("SELECT count(*) FROM analytics.reactions WHERE tenant_id = 'brand-linked'") == 0
    code, _, _ = await fake.sync("--guild", str(guild.id), "--full", SYNC_DAYS="5")
    assert code == 0 and await db.fetchval("SELECT count(*) FROM analytics.reactions WHERE tenant_id = 'brand-linked'") > 0


async def test_a_second_sync_changes_nothing(fake, db):
    guild = str(fake.client.guilds[0].id)
    assert (await fake.sync("--guild", guild, "--days", "5", "--tenant", "t"))[0] == 0
    before = await xmins(db, "t")
    pages = fake.world.message_pages
    code, out, _ = await fake.sync("--guild", guild, "--days", "5", "--tenant", "t")
    assert code == 0 and "0 messages read" in out
    assert fake.world.message_pages - pages == len(fake.client.guilds[0].text_channels)  # one empty page each
    code, out, _ = await fake.sync("--guild", guild, "--days", "5", "--tenant", "t", "--full")
    assert code == 0 and f"{fake.client.truth.messages} messages read (0 new, 0 updated)" in out
    assert await xmins(db, "t") == before  # no row rewritten, rollups included


async def test_an_interrupted_sync_resumes_where_it_stopped(database_url, db):
    client = mock_guild(seed=23, messages=250)  # three pages per channel
    fake = await Fake.start(HistoryWorld.from_mock(client), database_url)
    world = fake.world
    guild = str(client.guilds[0].id)
    try:
        world.stall_after_pages = 2
        proc = await fake.run("--guild", guild, "--days", "5", "--tenant", "t", "--batch-size", "50")
        await asyncio.wait_for(world.stalled.wait(), timeout=120)
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGKILL)  # no clean-up of any kind
        await proc.wait()
        partial = await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 't'")
        assert 0 < partial < client.truth.messages
        world.stall_after_pages = None
        pages = world.message_pages
        code, out, err = await fake.sync("--guild", guild, "--days", "5", "--tenant", "t", "--batch-size", "50")
        assert (code, err) == (0, "")
        assert f"{client.truth.messages - partial} messages read" in out  # only what was missing
        assert world.message_pages - pages < 9  # not a full re-read (three pages in each of three channels)
    finally:
        await fake.stop()
    await run_extraction(client, db, client.guilds[0].id, "ref", sync_days=5, now=client.now)
    got, want = await contents(db, "t"), await contents(db, "ref")
    for table in COMPARED:
        assert got[table] == want[table], table


async def test_live_edits_deletes_and_reactions_are_what_a_later_sync_finds(fake, db):
    guild = fake.client.guilds[0]
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, 'brand-live')", str(guild.id))
    assert (await fake.sync("--guild", str(guild.id), "--days", "5"))[0] == 0
    channel = guild.text_channels[0]
    source = fake.world.guilds[guild.id].channels[0].source
    edited, deleted, reacted = channel.visible()[3], channel.visible()[4], channel.visible()[5]

    # The bot sees an edit, a delete, a reaction and a new message as they happen (and Discord changes too).
    fake.client.edit_message(edited.id, "edited while the bot watched")
    put_mock_message(source, channel.id, edited)
    r = await live.message(db, guild.id, channel.id, RestMessage(None, channel.id, source.messages[edited.id]))
    assert r == {"status": "updated", "message_id": edited.id, "tenant_id": "brand-live"}
    source.remove(deleted.id)
    assert (await live.message_deleted(db, guild.id, deleted.id))["status"] == "deleted"
    reactor = guild.members[-1]
    from resonance.analytics.mock import MockEmoji, MockReaction

    reacted.reactions.append(MockReaction(MockEmoji(None, "\N{EYES}"), [reactor]))
    put_mock_message(source, channel.id, reacted)
    assert (await live.reaction(db, guild.id, reacted.id, reactor, MockEmoji(None, "\N{EYES}")))["status"] == "added"
    fresh = RestMessage(None, channel.id, dict(source.messages[reacted.id], id=str(reacted.id + 1000), reactions=[]))
    source.put(dict(source.messages[reacted.id], id=str(reacted.id + 1000), reactions=[]))
    assert (await live.message(db, guild.id, channel.id, fresh))["status"] == "inserted"

    row = await db.fetchrow("SELECT content, edited_at FROM analytics.messages WHERE tenant_id = 'brand-live' AND id = $1", edited.id)
    assert row["content"] == "edited while the bot watched" and row["edited_at"] is not None
    assert await db.fetchval("SELECT deleted_at IS NOT NULL FROM analytics.messages WHERE tenant_id = 'brand-live' AND id = $1", deleted.id)
    await assert_rollups_match_raw(db, "brand-live")

    # A sync afterwards (resumed, then a full re-read of the window) finds nothing to change.
    before = await xmins(db, "brand-live")
    for extra in ((), ("--full",)):
        code, out, err = await fake.sync("--guild", str(guild.id), "--days", "5", *extra)
        assert (code, err) == (0, "")
        assert "(0 new, 0 updated), 0 reactions" in out
    assert await xmins(db, "brand-live") == before

    # And an edit made in Discord while the bot was away is picked up by a full sync, in place.
    other = channel.visible()[6]
    fake.client.edit_message(other.id, "edited while the bot was down")
    put_mock_message(source, channel.id, other)
    code, out, _ = await fake.sync("--guild", str(guild.id), "--days", "5", "--full")
    assert code == 0 and "(0 new, 1 updated)" in out
    await assert_rollups_match_raw(db, "brand-live")


async def test_a_forbidden_channel_is_skipped_with_a_line(fake, db):
    guild = fake.client.guilds[0]
    hidden = fake.world.guilds[guild.id].channels[1]
    hidden.readable = False
    code, out, err = await fake.sync("--guild", str(guild.id), "--days", "5", "--tenant", "t")
    assert (code, err) == (0, "")
    assert f"skipped #{hidden.name} ({hidden.id}): no access (403 Missing Access)" in out
    assert "1 skipped" in out
    by_channel = dict(await db.fetch("SELECT channel_id, count(*) FROM analytics.messages WHERE tenant_id = 't' GROUP BY 1"))
    assert by_channel == {c.id: len(c.visible()) for c in guild.text_channels if c.id != hidden.id}


async def test_a_bad_or_missing_token_or_an_unknown_guild_ends_with_one_line(fake, db):
    guild = str(fake.client.guilds[0].id)
    code, out, err = await fake.sync("--guild", guild, "--tenant", "t", DISCORD_BOT_TOKEN="not-the-token")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err + out
    assert "Discord refused DISCORD_BOT_TOKEN (401 Unauthorized)" in err
    code, out, err = await fake.sync("--guild", guild, "--tenant", "t", DISCORD_BOT_TOKEN="")
    assert code == 1 and err.count("\n") == 1 and "DISCORD_BOT_TOKEN is not set" in err
    code, out, err = await fake.sync("--guild", "123", "--tenant", "t")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err + out
    assert "the bot is not in guild 123 (Discord answered 404" in err
    assert f"client_id={fake.discord.state.bot.id}&scope=bot" in err
    assert await db.fetchval("SELECT count(*) FROM analytics.messages") == 0


async def test_rate_limits_are_waited_out_and_shown(fake, db):
    fake.world.rate_limit_every = 4
    guild = fake.client.guilds[0]
    code, out, err = await fake.sync("--guild", str(guild.id), "--days", "5", "--tenant", "t")
    assert (code, err) == (0, "")
    assert fake.world.rate_limited > 3
    waits = int(out.split(" rate-limit wait(s)")[0].rsplit(" ", 1)[-1])
    assert waits == fake.world.rate_limited
    assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 't'") == fake.client.truth.messages


MEASURE = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
           "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
           "sys.exit(r.returncode)")


async def peak_rss_kb(fake: Fake, *args: str) -> int:
    """Run a sync and return its process's peak resident set (KiB): the rusage of the one child a
    small wrapper process waited for."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", MEASURE, RESONANCE, "analytics", "sync", *args, env=fake.env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=1800)
    assert proc.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
    return int(err.decode().split("peak-rss-kib ")[1].split()[0])


@pytest.mark.slow
async def test_memory_stays_flat_whatever_the_guilds_size(database_url, db):
    """Ten times the messages, about the same peak RSS: pages are streamed into the database."""
    small, large = large_guild(3_000, guild_id=880_000_000_000_000_001), large_guild(30_000, guild_id=880_000_000_000_001_001)
    fake = await Fake.start(HistoryWorld(guilds={small.id: small, large.id: large}), database_url)
    try:
        rss_small = await peak_rss_kb(fake, "--guild", str(small.id), "--tenant", "s", "--quiet")
        rss_large = await peak_rss_kb(fake, "--guild", str(large.id), "--tenant", "l", "--quiet")
    finally:
        await fake.stop()
    assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 'l'") == 30_000
    print(f"peak RSS: {rss_small / 1024:.1f} MiB for 3,000 messages, {rss_large / 1024:.1f} MiB for 30,000")
    assert rss_large - rss_small < 15 * 1024  # 27,000 more messages held at once would cost far more
    await assert_rollups_match_raw(db, "l")



async def test_the_bot_tests_world_syncs_from_the_same_fake_discord(database_url, db):
    """One fake Discord: a guild arranged in its own State (as the bot's end-to-end tests arrange
    theirs) is read by the same history routes."""
    fake = await Fake.start(HistoryWorld(), database_url)
    try:
        world = fake.discord.default_world()
        state = fake.discord.state
        first = Message(id=state_snowflake(), channel_id=world.general.id, author=world.alice, content="hello there",
                        guild_id=world.guild.id)
        reply = Message(id=state_snowflake(), channel_id=world.general.id, author=world.bob, content="hi alice",
                        guild_id=world.guild.id, type=19, referenced=first, reactions={"\N{FIRE}": {world.alice.id}})
        for m in (first, reply):
            state.messages[m.id] = m
        world.other_text.bot_can_send = False
        code, out, err = await fake.sync("--guild", str(world.guild.id), "--tenant", "native")
        assert (code, err) == (0, "")
        assert f"skipped #{world.other_text.name}" in out
    finally:
        await fake.stop()
    rows = await db.fetch("SELECT author_id, content, reply_to_author_id FROM analytics.messages WHERE tenant_id = 'native' ORDER BY id")
    assert [tuple(r) for r in rows] == [(world.alice.id, "hello there", None), (world.bob.id, "hi alice", world.alice.id)]
    assert await db.fetchval("SELECT count(*) FROM analytics.server_members WHERE tenant_id = 'native'") == len(world.guild.members)
    assert await db.fetchval("SELECT reactions FROM analytics.user_interactions WHERE tenant_id = 'native' "
                             "AND from_user_id = $1 AND to_user_id = $2", world.alice.id, world.bob.id) == 1


def state_snowflake() -> int:
    from fakediscord.state import snowflake

    return snowflake()


async def test_sync_guild_is_the_same_sync_in_one_call(fake, db):
    """resonance.analytics.rest.sync_guild (for the web's extraction jobs): one call, the same rows."""
    import discord

    from resonance.analytics.rest import GuildUnavailable, sync_guild

    guild = fake.client.guilds[0]
    stats = await sync_guild(fake.discord.state.token, guild.id, db, "one-call", sync_days=5, api_base=fake.discord.api_base)
    assert stats.messages_inserted == fake.client.truth.messages and stats.skipped == []
    with pytest.raises(discord.LoginFailure):
        await sync_guild("wrong", guild.id, db, "one-call", api_base=fake.discord.api_base)
    with pytest.raises(GuildUnavailable):
        await sync_guild(fake.discord.state.token, 123, db, "one-call", api_base=fake.discord.api_base)
    from discord.http import Route

    assert Route.BASE == "https://discord.com/api/v10"  # the fake's address did not outlive the calls
