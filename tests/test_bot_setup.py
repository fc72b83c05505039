"""The onboarding and admin features (setup, achievements, goals, kpis, role_rules, shop, currency,
trust, ticket staff, /config events disable) end to end against the real database: Handlers with the
real typed layer, fake responders, no Discord. Each group's main path, refusals as friendly replies,
and the audit rows naming the admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from bot_support import Handlers
from resonance.bot.errors import FRIENDLY
from resonance.bot.fakes import FakeResponder
from resonance.bot.features.achievements import name_choices
from resonance.bot.models import CommandContext
from resonance.db import create_pool
from resonance.db.models import BotServer

GUILD = "920000000000000001"
ADMIN = "920000000000000011"
MEMBER = "920000000000000012"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ctx(user: str = ADMIN, *, admin: bool = True, server: str = GUILD) -> CommandContext:
    return CommandContext(
        server_id=server,
        channel_id="20",
        user_id=user,
        user_name=f"user{user}",
        role_ids=[],
        is_admin=admin,
        interaction_id=str(uuid4().int % 10**18),
        at=T0,
    )


@pytest.fixture
async def pool(database_url: str):
    p = await create_pool(database_url, max_size=6)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
async def h(pool: asyncpg.Pool) -> Handlers:
    handlers = Handlers(pool, retry_delays=())
    handlers.rt.servers = {}
    return handlers


async def linked(h: Handlers) -> None:
    r = FakeResponder()
    await h.setup_start(ctx(), r, "Guild")
    assert "linked" in r.last.text.lower(), r.last.text


async def audited(pool: asyncpg.Pool, action: str, server: str = GUILD) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT FROM public.discord_audit_log WHERE server_id = $1 AND action = $2 "
            "AND actor_type = 'admin' AND actor_id = $3)",
            server,
            action,
            ADMIN,
        )
    )


# --- /setup ---------------------------------------------------------------------------------------


async def test_setup_on_a_fresh_server_links_it_and_shows_the_checklist(h: Handlers, pool: asyncpg.Pool) -> None:
    r = FakeResponder()
    await h.setup_start(ctx(), r, "Fresh")
    embed = r.last.embed
    assert embed is not None and embed.title.startswith("This server is now linked")
    assert embed.description.count("⬜") == 4 and "/config events set" in embed.description
    assert "self-hosted" in embed.description and "0/4" in (embed.footer or "")
    assert r.last.ephemeral
    assert (
        await pool.fetchval("SELECT brand_id FROM public.discord_server_configs WHERE server_id = $1", GUILD)
        == f"discord:{GUILD}"
    )
    assert h.rt.servers == {GUILD: BotServer(server_id=GUILD)}, "events count at once, no restart"
    assert await audited(pool, "discord_server_configs.insert")

    again = FakeResponder()
    await h.setup_start(ctx(), again, "Fresh")
    assert again.last.embed is not None and again.last.embed.title.startswith("This server was already linked")


async def test_setup_refuses_members(h: Handlers, pool: asyncpg.Pool) -> None:
    r = FakeResponder()
    await h.setup_start(ctx(MEMBER, admin=False), r, "Fresh")
    assert "admins" in r.last.text
    assert await pool.fetchval("SELECT count(*) FROM public.discord_server_configs") == 0


async def test_setup_with_codes_valid_expired_reused_and_another_brands(h: Handlers, pool: asyncpg.Pool) -> None:
    code = (await pool.fetchval("SELECT resonance.create_link_code('portal-brand', 'portal-user')"))["code"]
    r = FakeResponder()
    await h.setup_start(ctx(), r, "Portal guild", code)
    assert r.last.embed is not None and "brand `portal-brand`" in r.last.embed.description

    reused = FakeResponder()
    await h.setup_start(ctx(server="920000000000000002"), reused, "Other", code)
    assert reused.last.text == FRIENDLY["RS703"]

    await pool.execute(
        "INSERT INTO resonance.link_codes (code, brand_id, created_by, created_at, expires_at) "
        "VALUES ('EXPRD234', 'portal-brand', 'p', now() - interval '1 hour', now() - interval '50 minutes')"
    )
    expired = FakeResponder()
    await h.setup_start(ctx(server="920000000000000002"), expired, "Other", "exprd234")
    assert expired.last.text == FRIENDLY["RS702"]

    unknown = FakeResponder()
    await h.setup_start(ctx(server="920000000000000002"), unknown, "Other", "ZZZZ2222")
    assert unknown.last.text == FRIENDLY["RS701"]

    other = (await pool.fetchval("SELECT resonance.create_link_code('another-brand', 'portal-user')"))["code"]
    taken = FakeResponder()
    await h.setup_start(ctx(), taken, "Portal guild", other)
    assert taken.last.text == FRIENDLY["RS704"]
    assert await pool.fetchval("SELECT redeemed_at FROM resonance.link_codes WHERE code = $1", other) is None
    assert await pool.fetchval("SELECT count(*) FROM public.discord_server_configs") == 1


async def test_checklist_fills_in_as_the_server_is_configured(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    await h.config_events_set(ctx(), FakeResponder(), "channel_message", 5)
    await h.roles_effect(ctx(), FakeResponder(), "777", "multiplier", "2", "Booster")
    await h.setup_channel(ctx(), FakeResponder(), "drops", "555")
    await h.reports_schedule(ctx(), FakeResponder(), "daily", "556")
    await h.setup_status(ctx(), r)
    embed = r.last.embed
    assert embed is not None and embed.description.count("✅") == 4 and "4/4" in (embed.footer or ""), embed
    for action in (
        "monitoring_rules.insert",
        "discord_role_configs.insert",
        "discord_server_configs.update",
        "discord_report_schedules.insert",
    ):
        assert await audited(pool, action), action


async def test_status_unlink_and_antifarming(h: Handlers, pool: asyncpg.Pool) -> None:
    r = FakeResponder()
    await h.setup_status(ctx(), r)
    assert "/setup start" in r.last.text
    await linked(h)
    anti = FakeResponder()
    await h.setup_antifarming(ctx(), anti, 0.8, 3, 60)
    assert "3 words" in anti.last.text
    unlink = FakeResponder()
    await h.setup_unlink(ctx(), unlink)
    assert "Unlinked" in unlink.last.text and GUILD not in (h.rt.servers or {})
    assert (
        await pool.fetchval("SELECT is_active FROM public.discord_server_configs WHERE server_id = $1", GUILD) is False
    )
    status = FakeResponder()
    await h.setup_status(ctx(), status)
    assert status.last.embed is not None and "unlinked" in status.last.embed.description


# --- the economy --------------------------------------------------------------------------------


async def test_achievement_set_list_disable(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    await h.achievement_set(ctx(), r, "Chatterbox", "message_count", 100, 50, "100 messages")
    assert "created" in r.last.text
    await h.achievement_set(ctx(), FakeResponder(), "chatterbox", "message_count", 200, 60)
    listing = FakeResponder()
    await h.achievement_list(ctx(), listing)
    assert listing.last.embed is not None and "message_count ≥ 200" in listing.last.embed.description
    choices = await name_choices(h.rt, GUILD, "chat")
    assert [c.value for c in choices] == ["chatterbox"]
    off = FakeResponder()
    await h.achievement_disable(ctx(), off, "CHATTERBOX")
    assert "is off" in off.last.text
    missing = FakeResponder()
    await h.achievement_disable(ctx(), missing, "Nope")
    assert "No achievement named" in missing.last.text
    assert await audited(pool, "discord_achievements.update")


async def test_goal_set_list_disable(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    deadline = date.today() + timedelta(days=30)
    await h.goal_set(ctx(), r, "Big month", "rsnc_distributed", 5000, deadline)
    assert "created" in r.last.text and str(deadline) in r.last.text
    await h.goal_set(ctx(), FakeResponder(), "Big month", "rsnc_distributed", 6000, deadline)
    assert await pool.fetchval("SELECT count(*) FROM public.discord_community_goals") == 1
    listing = FakeResponder()
    await h.goal_list(ctx(), listing)
    assert listing.last.embed is not None and "0/6000" in listing.last.embed.description
    off = FakeResponder()
    await h.goal_disable(ctx(), off, "big month")
    assert "is off" in off.last.text
    bad = FakeResponder()
    await h.goal_set(ctx(), bad, "Past", "dau", 5, date(2020, 1, 1))
    assert "RS721" not in bad.last.text and "deadline" in bad.last.text
    assert await audited(pool, "discord_community_goals.insert")


async def test_kpi_target_set_list_disable(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    await h.kpi_target_set(ctx(), r, "daily_active_users", 50, "week", 20)
    assert "alert when past 20" in r.last.text and "alerts channel" in r.last.text
    listing = FakeResponder()
    await h.kpi_target_list(ctx(), listing)
    assert listing.last.embed is not None and "daily_active_users" in listing.last.embed.description
    off = FakeResponder()
    await h.kpi_target_disable(ctx(), off, "daily_active_users", "week")
    assert "is off" in off.last.text
    assert await audited(pool, "discord_kpi_configs.insert") and await audited(pool, "discord_kpi_configs.update")


async def test_role_rules_and_the_shop(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    await h.role_threshold(ctx(), FakeResponder(), "801", "balance", 1000, "Whale")
    await h.role_threshold(ctx(), FakeResponder(), "802", "messages_count", 50, "Chatty")
    drip = FakeResponder()
    await h.role_drip(ctx(), drip, "803", 5, "week", "Patron")
    assert "every week" in drip.last.text
    price = FakeResponder()
    await h.shop_price(ctx(), price, "804", 500, "VIP")
    assert "500 RSNC" in price.last.text

    view = FakeResponder()
    await h.shop_view(ctx(MEMBER, admin=False), view)
    assert view.last.embed is not None and "<@&804> · **500 RSNC**" in view.last.embed.description
    refused = FakeResponder()
    await h.shop_price(ctx(MEMBER, admin=False), refused, "804", 1)
    assert "admins" in refused.last.text

    listing = FakeResponder()
    await h.role_list(ctx(), listing)
    text = listing.last.embed.description if listing.last.embed else ""
    assert "balance ≥ 1000" in text and "messages_count ≥ 50" in text and "sold for 500 RSNC" in text

    await h.shop_remove(ctx(), FakeResponder(), "804")
    empty = FakeResponder()
    await h.shop_view(ctx(MEMBER, admin=False), empty)
    assert empty.last.embed is not None and "Nothing for sale" in empty.last.embed.description
    off = FakeResponder()
    await h.role_disable(ctx(), off, "801")
    assert "is off" in off.last.text
    assert await audited(pool, "discord_role_configs.insert") and await audited(pool, "discord_role_configs.update")


async def test_event_rule_disable_by_id(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    await h.config_events_set(ctx(), FakeResponder(), "channel_message", 5)
    rule_id = str(await pool.fetchval("SELECT id FROM public.monitoring_rules WHERE server_id = $1", GUILD))
    r = FakeResponder()
    await h.config_events_disable(ctx(), r, rule_id)
    assert "is off" in r.last.text
    assert await pool.fetchval("SELECT is_enabled FROM public.monitoring_rules WHERE id = $1::uuid", rule_id) is False
    wrong = FakeResponder()
    await h.config_events_disable(ctx(), wrong, str(uuid4()))
    assert "not a rule of this server" in wrong.last.text


async def test_currency_add_list_disable(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    await h.currency_add(ctx(), r, "usdc", 6)
    assert "USDC added" in r.last.text
    listing = FakeResponder()
    await h.currency_list(ctx(), listing)
    assert listing.last.embed is not None and "**USDC** · 6 decimals" in listing.last.embed.description
    off = FakeResponder()
    await h.currency_switch(ctx(), off, "USDC", False)
    assert "is off" in off.last.text
    rsnc = FakeResponder()
    await h.currency_switch(ctx(), rsnc, "RSNC", False)
    assert "RSNC" in rsnc.last.text and "cannot be switched off" in rsnc.last.text
    assert await audited(pool, "currency.add")


async def test_ticket_queue_and_triage_record_the_staff_member(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    ticket = await pool.fetchval("SELECT tipping.open_ticket($1, 'Tip missing')", MEMBER)
    ticket_id = int(ticket["ticket"]["id"])
    queue = FakeResponder()
    await h.ticket_queue(ctx(), queue, "open")
    assert queue.last.embed is not None and f"#{ticket_id}" in queue.last.embed.description
    r = FakeResponder()
    await h.ticket_triage(ctx(), r, ticket_id, "in_progress", "high")
    assert "in_progress, priority high" in r.last.text
    assert await pool.fetchval("SELECT handled_by FROM tipping.tickets WHERE id = $1", ticket_id) == ADMIN
    assert await audited(pool, "ticket.update")
    member = FakeResponder()
    await h.ticket_queue(ctx(MEMBER, admin=False), member)
    assert "admins" in member.last.text


async def test_terms_and_reputation(h: Handlers, pool: asyncpg.Pool) -> None:
    await linked(h)
    r = FakeResponder()
    await h.terms(ctx(MEMBER, admin=False), r)
    assert r.last.embed is not None and "Not accepted yet" in r.last.embed.fields[0].value
    accepted = FakeResponder()
    await h.terms(ctx(MEMBER, admin=False), accepted, True)
    assert accepted.last.embed is not None and "you accepted" in accepted.last.embed.description
    badge = FakeResponder()
    await h.reputation(ctx(MEMBER, admin=False), badge)
    assert badge.last.embed is not None and "reputation" in badge.last.embed.description
    nobody = FakeResponder()
    await h.reputation(ctx(MEMBER, admin=False), nobody, "920000000000000099")
    assert "no tipping history" in nobody.last.text


async def test_every_admin_step_of_the_done_when_is_audited_as_the_admin(h: Handlers, pool: asyncpg.Pool) -> None:
    """Linked server, a message rule, a role multiplier, a milestone, a drop, a goal, an achievement, a
    shop role, a report schedule: only commands, and every configuration row names the admin."""
    await linked(h)
    await h.config_events_set(ctx(), FakeResponder(), "channel_message", 5)
    await h.roles_effect(ctx(), FakeResponder(), "777", "multiplier", "2", "Booster")
    await h.milestone_create(ctx(), FakeResponder(), "778", "Spark", "rsnc_earned", 100, 10, "Spark")
    await h.goal_set(ctx(), FakeResponder(), "First 1000", "rsnc_distributed", 1000)
    await h.achievement_set(ctx(), FakeResponder(), "Chatty", "message_count", 10, 5)
    await h.shop_price(ctx(), FakeResponder(), "779", 50, "VIP")
    await h.reports_schedule(ctx(), FakeResponder(), "daily", "556")
    drop = FakeResponder()
    await h.create(ctx(), drop, 25, 3, 30)
    assert drop.posts, drop.replies
    actors: list[Any] = await pool.fetch(
        "SELECT DISTINCT action, actor_type, actor_id FROM public.discord_audit_log WHERE server_id = $1", GUILD
    )
    # The drop's message id is attached after Discord accepted the post: the bot's own bookkeeping, not
    # the admin's decision (it is audited as system until the bot names itself as actor).
    decisions = [a for a in actors if a["action"] != "discord_drops.update"]
    assert {(a["actor_type"], a["actor_id"]) for a in decisions} == {("admin", ADMIN)}, [dict(a) for a in decisions]
    assert {a["action"] for a in actors} >= {
        "discord_server_configs.insert",
        "monitoring_rules.insert",
        "discord_role_configs.insert",
        "discord_community_goals.insert",
        "discord_achievements.insert",
        "discord_report_schedules.insert",
        "discord_drops.insert",
    }
