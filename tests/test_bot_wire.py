"""The real `resonance bot` process against the fake Discord (tests/fakediscord) and a migrated database:
gateway traffic as Discord sends it, the bot's answers as Discord receives them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import asyncpg

from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotRunner, eventually, link_guild


async def q(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def balance(database_url: str, user_id: int) -> Decimal:
    return Decimal(await q(database_url, "SELECT tipping.balance($1, 'RSNC')", str(user_id)))


async def balance_is(database_url: str, user_id: int, amount: int) -> bool:
    return await balance(database_url, user_id) == amount


async def messages_count(database_url: str, user_id: int) -> int:
    return int(await q(database_url, "SELECT coalesce(sum(messages_count), 0) FROM public.discord_user_stats "
                                     "WHERE discord_user_id = $1", str(user_id)))


async def test_a_member_message_on_the_gateway_earns(fake_discord: FakeDiscord, world: World, bot_runner: BotRunner,
                                                       database_url: str) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    await fake_discord.send_message(world.general, world.alice, "hello everyone, how is the week going?")
    await eventually(lambda: balance(database_url, world.alice.id), what="alice's reward")
    assert await balance(database_url, world.alice.id) == 5
    assert bot.problems() == []


async def test_bots_webhooks_system_and_text_less_messages_never_count(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    g = world.general
    await fake_discord.send_message(g, world.other_bot, "beep boop, I am a bot with plenty to say")
    await fake_discord.send_message(g, world.bob, "posted through a webhook by an integration", webhook_id=4242)
    await fake_discord.send_message(g, world.alice, "", type=7)  # "alice joined the server"
    await fake_discord.send_message(g, world.bob, "", attachments=[{"id": "1", "filename": "cat.png", "size": 10,
                                                                    "url": "http://x/cat.png", "proxy_url": "x"}])
    await fake_discord.send_message(g, world.bob, "", stickers=[{"id": "2", "name": "wave", "format_type": 1}])
    # A member's real message afterwards, so the bot has processed everything before it.
    await fake_discord.send_message(g, world.admin, "a real message from a real member of this server")
    await eventually(lambda: balance(database_url, world.admin.id), what="the admin's reward")
    for user in (world.other_bot, world.alice, world.bob):
        assert await balance(database_url, user.id) == 0, user.username
        assert await messages_count(database_url, user.id) == 0, user.username
    assert bot.problems() == []


async def test_reactions_on_a_bots_message_pay_nobody(fake_discord: FakeDiscord, world: World, bot_runner: BotRunner,
                                                      database_url: str) -> None:
    await link_guild(database_url, world.guild.id)
    await bot_runner.start()
    bot_message = await fake_discord.send_message(world.general, world.other_bot, "a bot announcement")
    await fake_discord.react(bot_message, world.alice, "🔥")
    await fake_discord.react(bot_message, world.bob, "👍")
    member_message = await fake_discord.send_message(world.general, world.alice, "what a great community this is")
    await fake_discord.react(member_message, world.other_bot, "🤖")  # a bot reacting earns nothing for anyone
    await fake_discord.react(member_message, world.bob, "❤️")  # the control: bob gives 1, alice receives 2
    await eventually(lambda: balance(database_url, world.bob.id), what="bob's reaction reward")
    assert await balance(database_url, world.bob.id) == 1
    await eventually(lambda: balance_is(database_url, world.alice.id, 7), what="alice's 5 + 2")
    assert await balance(database_url, world.other_bot.id) == 0
    assert await q(database_url, "SELECT count(*) FROM public.discord_user_stats WHERE discord_user_id = $1",
                   str(world.other_bot.id)) == 0


async def test_a_reply_passes_the_replied_author_and_roles_follow_the_member(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    conn = await asyncpg.connect(database_url)
    await conn.execute("""INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type,
                          effect_config) VALUES ($1, 'brand-e2e', $2, 'multiplier', '{"value": 2}')""",
                       str(world.guild.id), str(world.vip_role.id))
    await conn.close()
    world.guild.members[world.alice.id].roles = [world.vip_role.id]
    await bot_runner.start()
    first = await fake_discord.send_message(world.general, world.bob, "has anyone tried the new event yet?")
    await fake_discord.send_message(world.general, world.alice, "yes, it was really fun last night", reply_to=first)
    await eventually(lambda: balance(database_url, world.alice.id), what="alice's reward")
    assert await balance(database_url, world.alice.id) == 10, "the VIP multiplier applies: roles come from Discord"
