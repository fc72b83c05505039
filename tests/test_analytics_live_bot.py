"""The running bot keeps the warehouse current: the real `resonance bot` process against the fake
Discord's gateway, its analytics feature (resonance/bot/features/analytics.py) calling
analytics.ingest_event once per event; then `resonance analytics sync` against the same fake Discord
finds nothing to change. A server whose admin turned analytics off is left alone (rewards go on)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from analytics_support import assert_rollups_match_raw
from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotRunner, eventually, link_guild

TENANT = "brand-e2e"  # link_guild's brand


async def q(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def sync(fake: FakeDiscord, database_url: str, guild_id: int) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SYNC_DAYS", "FETCH_REACTIONS")}
    env.update(DISCORD_BOT_TOKEN=fake.state.token, RESONANCE_DISCORD_API_BASE=fake.api_base,
               DATABASE_URL=database_url, COLUMNS="160")
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("resonance")), "analytics", "sync", "--guild", str(guild_id), "--quiet",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_bot_feeds_the_warehouse_live_and_a_sync_afterwards_changes_nothing(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    g = world.general

    first = await fake_discord.send_message(g, world.alice, "who is coming to the stream tonight?")
    reply = await fake_discord.send_message(g, world.bob, "count me in", reply_to=first)
    await fake_discord.send_message(g, world.other_bot, "a bot's message counts in the warehouse, not for rewards")
    await fake_discord.react(first, world.bob, "\N{FIRE}")
    await eventually(lambda: q(database_url, "SELECT count(*) = 3 FROM analytics.messages WHERE tenant_id = $1", TENANT),
                     what="three messages in the warehouse")
    await eventually(lambda: q(database_url, "SELECT count(*) = 1 FROM analytics.reactions WHERE tenant_id = $1", TENANT),
                     what="the reaction in the warehouse")
    assert await q(database_url, "SELECT reply_to_author_id FROM analytics.messages WHERE tenant_id = $1 AND id = $2",
                   TENANT, reply.id) == world.alice.id
    assert await q(database_url, "SELECT replies + reactions FROM analytics.user_interactions "
                                 "WHERE tenant_id = $1 AND from_user_id = $2 AND to_user_id = $3",
                   TENANT, world.bob.id, world.alice.id) == 2

    # The sync reads the same fake Discord over REST: everything is already there.
    code, out, err = await sync(fake_discord, database_url, world.guild.id)
    assert (code, err) == (0, "")
    assert "3 messages read (0 new, 0 updated), 0 reactions" in out

    # An edit, a reaction taken back, a delete, a member joining, a channel renamed: as they happen.
    first.content = "who is coming to the stream tomorrow?"
    await fake_discord.gateway.dispatch("MESSAGE_UPDATE", first.payload() | {"edited_timestamp": datetime.now(UTC).isoformat()})
    first.reactions["\N{FIRE}"].discard(world.bob.id)
    await fake_discord.gateway.dispatch("MESSAGE_REACTION_REMOVE", {
        "user_id": str(world.bob.id), "channel_id": str(g.id), "message_id": str(first.id), "guild_id": str(world.guild.id),
        "emoji": {"id": None, "name": "\N{FIRE}"}, "burst": False, "type": 0})
    fake_discord.state.messages.pop(reply.id)
    await fake_discord.gateway.dispatch("MESSAGE_DELETE", {"id": str(reply.id), "channel_id": str(g.id),
                                                           "guild_id": str(world.guild.id)})
    newcomer = fake_discord.state.add_user("carol")
    member = fake_discord.state.add_member(world.guild, newcomer)
    await fake_discord.gateway.dispatch("GUILD_MEMBER_ADD", {"guild_id": str(world.guild.id)} | member.payload())
    g.name = "general-chat"
    await fake_discord.gateway.dispatch("CHANNEL_UPDATE", g.payload())

    await eventually(lambda: q(database_url, "SELECT content FROM analytics.messages WHERE tenant_id = $1 AND id = $2",
                               TENANT, first.id), what="the edit")
    await eventually(lambda: q(database_url, "SELECT deleted_at IS NOT NULL FROM analytics.messages "
                                             "WHERE tenant_id = $1 AND id = $2", TENANT, reply.id), what="the delete")
    await eventually(lambda: q(database_url, "SELECT count(*) = 0 FROM analytics.reactions WHERE tenant_id = $1", TENANT),
                     what="the reaction removed")
    await eventually(lambda: q(database_url, "SELECT is_active FROM analytics.server_members WHERE tenant_id = $1 "
                                             "AND user_id = $2", TENANT, newcomer.id), what="the member who joined")
    await eventually(lambda: q(database_url, "SELECT name = 'general-chat' FROM analytics.channels WHERE tenant_id = $1 "
                                             "AND id = $2", TENANT, g.id), what="the renamed channel")
    assert await q(database_url, "SELECT content FROM analytics.messages WHERE tenant_id = $1 AND id = $2",
                   TENANT, first.id) == "who is coming to the stream tomorrow?"
    assert await q(database_url, "SELECT count(*) FROM analytics.user_interactions WHERE tenant_id = $1", TENANT) == 0
    conn = await asyncpg.connect(database_url)
    try:
        await assert_rollups_match_raw(conn, TENANT)
    finally:
        await conn.close()
    assert bot.problems() == []


async def test_a_server_with_analytics_off_is_left_alone(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    await q(database_url, "SELECT analytics.set_server_analytics($1, false, 'admin')", str(world.guild.id))
    bot = await bot_runner.start()
    await fake_discord.send_message(world.general, world.alice, "hello everyone, how is the week going?")
    await eventually(lambda: q(database_url, "SELECT tipping.balance($1, 'RSNC') > 0", str(world.alice.id)),
                     what="alice's reward")
    await asyncio.sleep(0.5)
    assert await q(database_url, "SELECT count(*) FROM analytics.messages") == 0
    assert bot.problems() == []
