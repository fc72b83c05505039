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
    return int(
        await q(
            database_url,
            "SELECT coalesce(sum(messages_count), 0) FROM public.discord_user_stats WHERE discord_user_id = $1",
            str(user_id),
        )
    )


async def test_a_member_message_on_the_gateway_earns(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
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
    await fake_discord.send_message(
        g,
        world.bob,
        "",
        attachments=[{"id": "1", "filename": "cat.png", "size": 10, "url": "http://x/cat.png", "proxy_url": "x"}],
    )
    await fake_discord.send_message(g, world.bob, "", stickers=[{"id": "2", "name": "wave", "format_type": 1}])
    # A member's real message afterwards, so the bot has processed everything before it.
    await fake_discord.send_message(g, world.admin, "a real message from a real member of this server")
    await eventually(lambda: balance(database_url, world.admin.id), what="the admin's reward")
    for user in (world.other_bot, world.alice, world.bob):
        assert await balance(database_url, user.id) == 0, user.username
        assert await messages_count(database_url, user.id) == 0, user.username
    assert bot.problems() == []


async def test_reactions_on_a_bots_message_pay_nobody(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
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
    assert (
        await q(
            database_url,
            "SELECT count(*) FROM public.discord_user_stats WHERE discord_user_id = $1",
            str(world.other_bot.id),
        )
        == 0
    )


async def test_a_reply_passes_the_replied_author_and_roles_follow_the_member(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        """INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type,
                          effect_config) VALUES ($1, 'brand-e2e', $2, 'multiplier', '{"value": 2}')""",
        str(world.guild.id),
        str(world.vip_role.id),
    )
    await conn.close()
    world.guild.members[world.alice.id].roles = [world.vip_role.id]
    await bot_runner.start()
    first = await fake_discord.send_message(world.general, world.bob, "has anyone tried the new event yet?")
    await fake_discord.send_message(world.general, world.alice, "yes, it was really fun last night", reply_to=first)
    await eventually(lambda: balance(database_url, world.alice.id), what="alice's reward")
    assert await balance(database_url, world.alice.id) == 10, "the VIP multiplier applies: roles come from Discord"


async def voice_rows(database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT discord_user_id, channel_id, started_at, checkpoint_at, ended_at "
            "FROM resonance.voice_sessions ORDER BY discord_user_id"
        )
        return [dict(r) for r in rows]
    finally:
        await conn.close()


async def test_voice_counts_only_with_company_outside_afk_and_undeafened(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    await fake_discord.voice(world.alice, world.voice)  # alone: nothing opens
    await fake_discord.voice(world.bob, world.afk)  # the AFK channel never counts
    await fake_discord.voice(world.other_bot, world.voice)  # a bot is no company
    await fake_discord.send_message(world.general, world.admin, "a message so we know the events above were seen")
    await eventually(lambda: balance(database_url, world.admin.id), what="the marker message")
    assert await voice_rows(database_url) == []
    await fake_discord.voice(world.bob, world.voice)  # company: both count
    rows = await eventually(lambda: _two(voice_rows(database_url)), what="two sessions")
    assert {r["discord_user_id"] for r in rows} == {str(world.alice.id), str(world.bob.id)}
    await fake_discord.voice(world.bob, world.voice, self_deaf=True)  # deafened: both stop (alice is alone again)
    await eventually(lambda: _none(voice_rows(database_url)), what="both sessions credited")
    assert bot.problems() == []


async def _two(rows: Any) -> Any:
    found = await rows
    return found if len(found) == 2 else None


async def _none(rows: Any) -> bool:
    return await rows == []


async def test_voice_across_a_restart_pays_only_observed_time(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start(RESONANCE_VOICE_CHECKPOINT="0.5")
    await fake_discord.voice(world.alice, world.voice)
    await fake_discord.voice(world.bob, world.voice)
    await fake_discord.voice(world.admin, world.voice)
    await eventually(lambda: _checkpointed(database_url, 3), what="three checkpointed sessions")
    assert await bot.stop() == 0
    # The bot was down for 8 hours: shift the sessions back as if it had stopped then, 15 minutes in.
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        "UPDATE resonance.voice_sessions SET started_at = started_at - interval '8 hours 15 minutes', "
        "checkpoint_at = checkpoint_at - interval '8 hours'"
    )
    await conn.close()
    # Meanwhile alice left; bob and the admin are still there.
    world.guild.voice_states.pop(world.alice.id)
    bot = await bot_runner.start()
    await bot.wait_log("voice recovered")
    await eventually(lambda: balance(database_url, world.alice.id), what="alice's voice credit")
    assert await balance(database_url, world.alice.id) == 15, "15 observed minutes, not 8 hours"
    assert await balance(database_url, world.bob.id) == 0, "still in voice: the session continues"
    assert {r["discord_user_id"] for r in await voice_rows(database_url)} == {str(world.bob.id), str(world.admin.id)}
    assert bot.problems() == []


async def _checkpointed(database_url: str, count: int) -> bool:
    return (
        int(await q(database_url, "SELECT count(*) FROM resonance.voice_sessions WHERE checkpoint_at IS NOT NULL"))
        == count
    )


async def test_roles_added_and_removed_follow_discord_and_reconcile_on_startup(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        """INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type,
                          effect_config) VALUES ($1, 'brand-e2e', $2, 'one_time_bonus', '{"amount": 40}')""",
        str(world.guild.id),
        str(world.vip_role.id),
    )
    await conn.close()

    async def held(user_id: int) -> Any:
        return await q(
            database_url,
            "SELECT removed_at IS NULL FROM public.discord_role_assignments "
            "WHERE discord_user_id = $1 AND discord_role_id = $2",
            str(user_id),
            str(world.vip_role.id),
        )

    # bob got the role while the bot was away: reconciled (and paid) at startup.
    world.guild.members[world.bob.id].roles = [world.vip_role.id]
    bot = await bot_runner.start()
    await bot.wait_log("roles reconciled")
    assert await held(world.bob.id) is True and await balance(database_url, world.bob.id) == 40
    await fake_discord.set_roles(world.guild, world.alice, [world.vip_role])
    await eventually(lambda: held(world.alice.id), what="alice's role recorded")
    assert await balance(database_url, world.alice.id) == 40
    await fake_discord.set_roles(world.guild, world.alice, [])
    await eventually(lambda: _is_false(held(world.alice.id)), what="alice's role removed")
    await fake_discord.set_roles(world.guild, world.alice, [world.vip_role])
    await eventually(lambda: held(world.alice.id), what="alice's role back")
    assert await balance(database_url, world.alice.id) == 40, "the one-time bonus is paid once ever"
    assert await bot.stop() == 0
    # bob lost it while the bot was away.
    world.guild.members[world.bob.id].roles = []
    bot = await bot_runner.start()
    await bot.wait_log("roles reconciled")
    assert await held(world.bob.id) is False
    assert bot.problems() == []


async def _is_false(value: Any) -> bool:
    return await value is False


async def test_a_server_that_is_not_linked_is_ignored_quietly_and_told_how_to_set_up(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    bot = await bot_runner.start()
    for n in range(3):
        await fake_discord.send_message(world.general, world.alice, f"hello number {n} in a server not linked yet")
    await fake_discord.voice(world.alice, world.voice)
    await fake_discord.voice(world.bob, world.voice)
    interaction = await fake_discord.slash("checkin", world.alice, world.general)
    await fake_discord.wait_for(interaction.texts, what="the check-in answer")
    assert "an admin can run /setup" in interaction.texts()[0]
    assert len(bot.logged("server not linked: its events are ignored until an admin runs /setup")) == 1
    assert await voice_rows(database_url) == []
    assert bot.problems() == []
    json.dumps(bot.logs)  # every line is structured


async def test_a_server_linked_while_the_bot_runs_starts_counting(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    bot = await bot_runner.start(RESONANCE_SERVERS_REFRESH="0.5")
    await fake_discord.send_message(world.general, world.alice, "before the server is linked, nothing counts")
    await link_guild(database_url, world.guild.id)  # what /setup does
    await bot.wait_log("linked servers changed")
    await fake_discord.send_message(world.general, world.alice, "after the link, this message earns its reward")
    await eventually(lambda: balance(database_url, world.alice.id), what="the reward after linking")
    assert await balance(database_url, world.alice.id) == 5
    await fake_discord.voice(world.alice, world.voice)
    await fake_discord.voice(world.bob, world.voice)
    await eventually(lambda: _two(voice_rows(database_url)), what="voice sessions in the newly linked server")
    assert bot.problems() == []


async def test_a_server_that_adds_the_bot_unlinked_is_told_once_how_to_set_up(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    state = fake_discord.state
    new = state.add_guild("A new community", world.admin)
    lobby = state.add_channel(new, "lobby")
    new.system_channel_id = lobby.id
    state.add_member(new, world.alice)
    await fake_discord.join_guild(new)
    (welcome,) = await fake_discord.wait_for(lambda: fake_discord.bot_messages(lobby), what="the welcome")
    assert "/setup start" in welcome.embeds[0]["description"]
    await fake_discord.send_message(lobby, world.alice, "hello, is anyone here in this new server?")
    await fake_discord.send_message(world.general, world.alice, "meanwhile the linked server still counts")
    await eventually(lambda: balance(database_url, world.alice.id), what="the linked server's reward")
    assert await balance(database_url, world.alice.id) == 5
    assert len(fake_discord.bot_messages(lobby)) == 1, "said once"
    assert bot.problems() == []
