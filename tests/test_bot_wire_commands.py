"""Slash commands and buttons through the fake Discord: acknowledged within Discord's 3 seconds,
answered within its limits; drops never half made, their message kept current and ended by the outbox."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from fakediscord import FakeDiscord, World
from fakediscord.fixtures import BotRunner, eventually, link_guild
from fakediscord.state import Message

DEADLINE = 3.0


async def q(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def button(message: Message) -> dict[str, Any]:
    (row,) = message.components
    (component,) = row["components"]
    return component


def acknowledged_in_time(interaction: Any) -> bool:
    return bool(interaction.callback_at) and interaction.callback_at[0] - interaction.sent_at < DEADLINE


async def test_drop_button_claims_until_sold_out_and_the_message_follows(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    create = await fake_discord.slash("drop create", world.admin, world.general, amount=25, max_claims=3, minutes=30)
    await fake_discord.wait_for(create.texts, what="the drop create answer")
    assert acknowledged_in_time(create) and create.ephemeral_defer and "Drop posted" in create.texts()[0]
    (drop_message,) = fake_discord.bot_messages(world.general)
    claim = button(drop_message)
    assert claim["custom_id"].startswith("resonance:drop:") and not claim.get("disabled")
    fields = {f["name"]: f["value"] for f in drop_message.embeds[0]["fields"]}
    assert fields["Claims left"] == "3 of 3" and fields["Ends"].startswith("<t:")

    first = await fake_discord.click(drop_message, claim["custom_id"], world.alice)
    await fake_discord.wait_for(first.texts, what="alice's claim answer")
    assert acknowledged_in_time(first) and "You claimed 25 RSNC" in first.texts()[0]
    await fake_discord.wait_for(lambda: drop_message.edits, what="the claims counter")
    assert {f["name"]: f["value"] for f in drop_message.embeds[0]["fields"]}["Claims left"] == "2 of 3"

    again = await fake_discord.click(drop_message, claim["custom_id"], world.alice)
    await fake_discord.wait_for(again.texts, what="the repeat click answer")
    assert "already claimed" in again.texts()[0]
    for member in (world.bob, world.admin):
        click = await fake_discord.click(drop_message, claim["custom_id"], member)
        await fake_discord.wait_for(click.texts, what="a claim answer")
    late = await fake_discord.click(drop_message, claim["custom_id"], world.other_bot)
    await fake_discord.wait_for(late.texts, what="the late click answer")
    assert "sold out" in late.texts()[0]
    # The outbox ends the message: sold out, button disabled.
    await fake_discord.wait_for(lambda: button(drop_message).get("disabled"), what="the disabled button")
    assert button(drop_message)["label"] == "Sold out" and "sold out" in drop_message.embeds[0]["title"]
    assert await q(database_url, "SELECT claims_count FROM public.discord_drops") == 3
    assert bot.problems() == []


async def test_a_drop_button_works_after_a_restart_and_expiry_ends_the_message(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    create = await fake_discord.slash("drop create", world.admin, world.general, amount=5, max_claims=10)
    await fake_discord.wait_for(create.texts, what="the drop create answer")
    (drop_message,) = fake_discord.bot_messages(world.general)
    assert await bot.stop() == 0
    bot = await bot_runner.start()
    click = await fake_discord.click(drop_message, button(drop_message)["custom_id"], world.bob)
    await fake_discord.wait_for(click.texts, what="the claim answer after the restart")
    assert acknowledged_in_time(click) and "You claimed 5 RSNC" in click.texts()[0]
    assert await q(database_url, "SELECT resonance.close_expired_drops(now() + interval '2 hours')") == 1
    await fake_discord.wait_for(lambda: button(drop_message).get("disabled"), what="the expired drop's button")
    assert button(drop_message)["label"] == "Expired" and "1 of 10 claimed" in drop_message.embeds[0]["description"]
    assert bot.problems() == []


async def test_drop_create_never_leaves_half_a_drop(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start()
    bad_emoji = await fake_discord.slash(
        "drop create", world.admin, world.general, amount=5, max_claims=2, kind="reaction", emoji="notanemoji"
    )
    await fake_discord.wait_for(bad_emoji.texts, what="the bad emoji answer")
    assert "emoji can't be used" in bad_emoji.texts()[0]
    assert fake_discord.bot_messages(world.general) == [], "the message was taken back"
    world.other_text.bot_can_send = False
    forbidden = await fake_discord.slash(
        "drop create", world.admin, world.general, amount=5, max_claims=2, channel=world.other_text
    )
    await fake_discord.wait_for(forbidden.texts, what="the forbidden channel answer")
    assert "can't post in" in forbidden.texts()[0]
    assert await q(database_url, "SELECT count(*) FROM public.discord_drops") == 0, "no drop without a message"
    reaction = await fake_discord.slash(
        "drop create", world.admin, world.general, amount=5, max_claims=2, kind="reaction", emoji="🎉"
    )
    await fake_discord.wait_for(reaction.texts, what="the reaction drop answer")
    (message,) = fake_discord.bot_messages(world.general)
    assert message.reactions == {"🎉": {fake_discord.state.bot.id}}
    await fake_discord.react(message, world.alice, "🎉")
    await eventually(lambda: _balance_is(database_url, world.alice.id, 5), what="the reaction drop claim")
    assert (
        await q(
            database_url,
            "SELECT coalesce(sum(reactions_received), 0) FROM public.discord_user_stats WHERE discord_user_id = $1",
            str(fake_discord.state.bot.id),
        )
        == 0
    )
    assert bot.problems() == []


async def _balance_is(database_url: str, user_id: int, amount: int) -> bool:
    return await q(database_url, "SELECT tipping.balance($1, 'RSNC')", str(user_id)) == amount


async def test_every_option_is_described_and_help_answers(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    await bot_runner.start()
    missing = []

    def visit(node: dict[str, Any], path: str) -> None:
        for option in node.get("options") or []:
            where = f"{path} {option['name']}"
            if option.get("type") in (1, 2):
                visit(option, where)
            elif not option.get("description") or option["description"] == "…":
                missing.append(where)

    for command in fake_discord.state.commands[None]:
        visit(command, "/" + command["name"])
    assert missing == []
    helped = await fake_discord.slash("help", world.alice, world.general)
    await fake_discord.wait_for(helped.texts, what="the help answer")
    text = helped.texts()[0]
    assert "/checkin" in text and "/drop create" not in text, "members see member commands"
    admin_help = await fake_discord.slash("help", world.admin, world.general)
    await fake_discord.wait_for(admin_help.texts, what="the admin help answer")
    assert "/drop create" in admin_help.texts()[0]


async def test_a_held_lock_gets_a_friendly_answer_not_an_endless_thinking(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    bot = await bot_runner.start(RESONANCE_DB_LOCK_TIMEOUT_MS="300")
    conn = await asyncpg.connect(database_url)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("LOCK TABLE public.discord_user_streaks IN ACCESS EXCLUSIVE MODE")
        checkin = await fake_discord.slash("checkin", world.alice, world.general)
        await fake_discord.wait_for(checkin.texts, timeout=5, what="the check-in answer under a held lock")
        await tx.rollback()
    finally:
        await conn.close()
    assert acknowledged_in_time(checkin) and "busy" in checkin.texts()[0]
    assert bot.problems() == []
    retry = await fake_discord.slash("checkin", world.alice, world.general)
    await fake_discord.wait_for(retry.texts, what="the retried check-in")
    assert "Checked in" in retry.texts()[0]
    await asyncio.sleep(0)


async def test_long_answers_fit_discords_limits(
    fake_discord: FakeDiscord, world: World, bot_runner: BotRunner, database_url: str
) -> None:
    await link_guild(database_url, world.guild.id)
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours) "
        "SELECT 'brand-e2e', $1, 'custom_event_with_a_rather_long_name_' || g, g, 1 FROM generate_series(1, 300) g",
        str(world.guild.id),
    )
    await conn.close()
    bot = await bot_runner.start()
    listing = await fake_discord.slash("config events list", world.admin, world.general)
    await fake_discord.wait_for(listing.texts, what="the long listing")
    (answer,) = listing.answers()
    description = answer["embeds"][0]["description"]
    assert len(description) <= 4096 and description.rstrip().endswith("more")
    reward = await fake_discord.slash(
        "reward", world.admin, world.general, member=world.alice, amount=3, reason="x" * 200
    )
    await fake_discord.wait_for(reward.texts, what="the reward answer")
    assert "received **3 RSNC**" in reward.texts()[0]
    assert bot.problems() == []
