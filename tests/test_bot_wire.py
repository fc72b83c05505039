"""The real `resonance bot` process against the fake Discord (tests/fakediscord) and a migrated database."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotRunner, eventually, link_guild


async def balance(database_url: str, user_id: int) -> Decimal:
    conn = await asyncpg.connect(database_url)
    try:
        return Decimal(await conn.fetchval("SELECT tipping.balance($1, 'RSNC')", str(user_id)))
    finally:
        await conn.close()


async def test_a_member_message_on_the_gateway_earns(fake_discord: FakeDiscord, world: World, bot_runner: BotRunner,
                                                       database_url: str) -> None:
    await link_guild(database_url, world.guild.id)
    await bot_runner.start()
    await fake_discord.send_message(world.general, world.alice, "hello everyone, how is the week going?")
    await eventually(lambda: balance(database_url, world.alice.id), what="alice's reward")
    assert await balance(database_url, world.alice.id) == 5


async def test_a_slash_command_is_deferred_within_3_seconds_then_answered(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    await bot_runner.start()
    interaction = await fake_discord.slash("checkin", world.alice, world.general)
    await fake_discord.wait_for(lambda: interaction.texts(), what="the check-in answer")
    assert interaction.deferred and interaction.ephemeral_defer
    assert interaction.callback_at[0] - interaction.sent_at < 3
    assert "Checked in" in interaction.texts()[0]
    assert await balance(database_url, world.alice.id) == 10
