"""Operating the real process against the fake Discord: clean stops, one actionable line for each
way a start can fail (no traceback), command sync only on change, a resumed gateway session."""

from __future__ import annotations

import signal
from typing import Any

import asyncpg
import pytest

from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotProcess, BotRunner, eventually, link_guild


async def q(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def one_line(bot: BotProcess) -> str:
    """A failed start prints exactly one `resonance bot: ...` line and no traceback."""
    assert not [line for line in bot.lines if "Traceback" in line], bot.output
    mine = [line for line in bot.lines if line.startswith("resonance bot: ")]
    assert len(mine) == 1, bot.output
    return mine[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_bot_cleanly_with_exit_0(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str, sig: int
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    # A row the outbox worker holds when the signal comes is handed back, not left leased.
    await q(
        database_url,
        "INSERT INTO resonance.outbox (server_id, kind, payload, status, taken_by, available_at) "
        "VALUES ($1, 'add_role', '{}', 'taken', $2, now() + interval '5 minutes')",
        str(world.guild.id),
        bot_worker(bot),
    )
    assert await bot.stop(sig) == 0
    assert bot.logged("stopped") and bot.problems() == []
    assert await q(database_url, "SELECT status FROM resonance.outbox") == "pending"


def bot_worker(bot: BotProcess) -> str:
    (ready,) = bot.logged("ready")
    return str(ready["worker"])


async def test_database_url_is_required(bot_runner: BotRunner) -> None:
    bot = await bot_runner.spawn(DATABASE_URL=None)
    assert await bot.wait_exit() == 2
    assert "DATABASE_URL is not set" in one_line(bot)


async def test_a_bad_database_url_stops_before_logging_in(fake_discord: FakeDiscord, bot_runner: BotRunner) -> None:
    bot = await bot_runner.spawn(
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere", RESONANCE_DB_CONNECT_TIMEOUT="5"
    )
    assert await bot.wait_exit() == 3
    line = one_line(bot)
    assert "cannot connect to the database at 127.0.0.1:1/nowhere (DATABASE_URL)" in line and "nobody" not in line
    assert fake_discord.requests_to("GET", "/users/@me") == [], "the database is checked before Discord"


async def test_an_unmigrated_database_is_named(
    fake_discord: FakeDiscord, bot_runner: BotRunner, empty_database_url: str
) -> None:
    bot = await bot_runner.spawn(DATABASE_URL=empty_database_url)
    assert await bot.wait_exit() == 3
    assert "run `resonance migrate` first" in one_line(bot)


async def test_a_rejected_token_is_one_line(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    bot = await bot_runner.spawn(DISCORD_TOKEN="not-the-token")
    assert await bot.wait_exit() == 4
    assert "Discord rejected DISCORD_TOKEN" in one_line(bot)


async def test_refused_privileged_intents_are_one_line(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    fake_discord.state.allowed_intents = 0  # the portal's toggles are off
    bot = await bot_runner.spawn()
    assert await bot.wait_exit() == 4
    assert fake_discord.gateway.closed_with == [4014]
    line = one_line(bot)
    assert "4014" in line and "Message Content Intent" in line


async def test_commands_are_synced_only_when_they_changed_and_stale_ones_cleared(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    bot = await bot_runner.start()
    assert await bot.stop() == 0
    assert fake_discord.command_syncs == [None]
    bot = await bot_runner.start()
    assert bot.logged("commands unchanged") and await bot.stop() == 0
    assert fake_discord.command_syncs == [None], "the same definitions are not synced again"
    # Switching to guild commands: the guild gets them once, the global ones are cleared.
    guild = str(world.guild.id)
    bot = await bot_runner.start(RESONANCE_GUILD_IDS=guild)
    assert await bot.stop() == 0
    assert fake_discord.command_syncs == [None, world.guild.id, None]
    assert fake_discord.state.commands[None] == []
    assert {c["name"] for c in fake_discord.state.commands[world.guild.id]} >= {"checkin", "drop", "help"}
    bot = await bot_runner.start(RESONANCE_GUILD_IDS=guild)
    assert await bot.stop() == 0
    assert fake_discord.command_syncs == [None, world.guild.id, None]


async def test_a_dropped_gateway_connection_is_resumed_without_losing_events(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    session = fake_discord.gateway.current
    assert session is not None
    await fake_discord.gateway.drop_connection()
    await fake_discord.send_message(world.general, world.alice, "sent while the bot was reconnecting to us")
    await eventually(lambda: session.resumed, timeout=20, what="the RESUME")
    await eventually(lambda: _earned(database_url, world.alice.id), what="the replayed message's reward")
    assert fake_discord.gateway.connections == 2 and bot.proc.returncode is None


async def _earned(database_url: str, user_id: int) -> bool:
    return bool(await q(database_url, "SELECT tipping.balance($1, 'RSNC') > 0", str(user_id)))
