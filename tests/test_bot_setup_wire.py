"""Onboarding on the wire: the real `resonance bot` process against the fake Discord and a migrated
database. A fresh guild is welcomed, /setup start links it (without a code, and with a Partner Portal
code: valid, expired, reused, another brand's), /setup status shows the checklist, a member's message
counts right after the link, and autocomplete answers from the database."""

from __future__ import annotations

from typing import Any

import asyncpg

from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotRunner, eventually
from fakediscord.server import TEXT


async def query(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def link_code(database_url: str, brand: str) -> str:
    return str(await query(database_url, "SELECT resonance.create_link_code($1, 'portal-user') ->> 'code'", brand))


async def answer(fake: FakeDiscord, command: str, world: World, **options: Any) -> str:
    interaction = await fake.slash(command, world.admin, world.general, **options)
    await fake.wait_for(lambda: interaction.texts(), what=f"the answer to /{command}")
    return interaction.texts()[-1]


async def test_setup_on_a_fresh_server_links_it_and_shows_the_checklist(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await bot_runner.start()
    before = await fake_discord.slash("checkin", world.alice, world.general)
    await fake_discord.wait_for(lambda: before.texts(), what="the unlinked answer")
    assert "/setup" in before.texts()[0]

    text = await answer(fake_discord, "setup start", world)
    assert "This server is now linked" in text and "/config events set" in text and "⬜" in text
    guild = str(world.guild.id)
    assert (
        await query(database_url, "SELECT brand_id FROM public.discord_server_configs WHERE server_id = $1", guild)
        == f"discord:{guild}"
    )
    assert await query(
        database_url,
        "SELECT actor_id FROM public.discord_audit_log WHERE server_id = $1 "
        "AND action = 'discord_server_configs.insert'",
        guild,
    ) == str(world.admin.id)

    # A rule through the bot, then a member's message earns at once (no restart needed after /setup).
    assert "created" in await answer(
        fake_discord, "config events set", world, event_type="channel_message", reward_amount=5
    )
    status = await answer(fake_discord, "setup status", world)
    assert "✅ **Reward rules**" in status and "⬜ **Drops channel**" in status
    await fake_discord.send_message(world.general, world.alice, "hello everyone, how is the week going?")

    async def alice_balance() -> Any:
        return await query(database_url, "SELECT tipping.balance($1, 'RSNC')", str(world.alice.id))

    assert await eventually(alice_balance, what="alice's reward") == 5


async def test_setup_with_link_codes_valid_expired_reused_and_another_brands(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await bot_runner.start()
    await query(
        database_url,
        "INSERT INTO resonance.link_codes (code, brand_id, created_by, created_at, expires_at) "
        "VALUES ('EXPRD234', 'portal-brand', 'p', now() - interval '1 hour', now() - interval '50 minutes')",
    )
    assert "expired" in await answer(fake_discord, "setup start", world, code="EXPRD234")
    assert "Unknown link code" in await answer(fake_discord, "setup start", world, code="ZZZZ2222")
    assert await query(database_url, "SELECT count(*) FROM public.discord_server_configs") == 0

    code = await link_code(database_url, "portal-brand")
    text = await answer(fake_discord, "setup start", world, code=code)
    assert "This server is now linked" in text and "portal-brand" in text
    assert "already used" in await answer(fake_discord, "setup start", world, code=code)

    other = await link_code(database_url, "another-brand")
    assert "linked to another brand" in await answer(fake_discord, "setup start", world, code=other)
    assert (
        await query(
            database_url, "SELECT brand_id FROM public.discord_server_configs WHERE server_id = $1", str(world.guild.id)
        )
        == "portal-brand"
    )


async def test_a_member_cannot_run_setup(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await bot_runner.start()
    interaction = await fake_discord.slash("setup start", world.alice, world.general)
    await fake_discord.wait_for(lambda: interaction.texts(), what="the refusal")
    assert "admins" in interaction.texts()[0]
    assert await query(database_url, "SELECT count(*) FROM public.discord_server_configs") == 0


async def test_joining_a_guild_posts_one_welcome_to_its_system_channel(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner
) -> None:
    bot = await bot_runner.start()
    state = fake_discord.state
    guild = state.add_guild("New Guild", world.admin)
    lobby = state.add_channel(guild, "lobby", TEXT)
    state.add_member(guild, world.admin)
    state.add_member(guild, state.bot)
    # A join, as Discord sends it: no "unavailable" key (that marks a guild coming back after an outage).
    payload = guild.payload() | {"system_channel_id": str(lobby.id)}
    payload.pop("unavailable")
    await fake_discord.gateway.dispatch("GUILD_CREATE", payload)
    try:
        await fake_discord.wait_for(lambda: fake_discord.bot_messages(lobby), what="the welcome")
    except TimeoutError:
        raise AssertionError(bot.output) from None
    (welcome,) = fake_discord.bot_messages(lobby)
    assert "/setup start" in str(welcome.payload())


async def test_autocomplete_offers_the_servers_achievements(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await bot_runner.start()
    await answer(fake_discord, "setup start", world)
    await answer(fake_discord, "achievement set", world, name="Chatterbox", type="message_count", threshold=100)
    await answer(fake_discord, "achievement set", world, name="Regular", type="streak_days", threshold=7)

    registered = fake_discord.state.commands.get(world.guild.id, []) + fake_discord.state.commands.get(None, [])
    top = next(c for c in registered if c["name"] == "achievement")
    data = {
        "id": top["id"],
        "name": "achievement",
        "type": 1,
        "options": [
            {"name": "disable", "type": 1, "options": [{"name": "name", "type": 3, "value": "chat", "focused": True}]}
        ],
    }
    record = fake_discord._interaction(4, world.guild, world.general, world.admin, data)
    await fake_discord.gateway.dispatch("INTERACTION_CREATE", record.payload)
    await fake_discord.wait_for(lambda: record.callbacks, what="the autocomplete answer")
    (callback,) = record.callbacks
    assert callback["type"] == 8
    assert [c["value"] for c in callback["data"]["choices"]] == ["Chatterbox"]
