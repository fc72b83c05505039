"""The onboarding and admin API through the typed layer (resonance.db.setup), against a real
database: /setup from a fresh guild to a configured economy, every step audited as the admin, and
link codes under concurrency (a code is used once, a guild is linked once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from resonance.db import create_pool, setup

ADMIN = "200000000000000001"
GUILD = "300000000000000001"
OTHER_GUILD = "300000000000000002"


@pytest.fixture
async def apool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=12)
    try:
        yield pool
    finally:
        await pool.close()


async def audit_actions(pool: asyncpg.Pool, server_id: str) -> set[tuple[str, str, str]]:
    rows = await pool.fetch(
        "SELECT actor_type, actor_id, action FROM public.discord_audit_log WHERE server_id = $1", server_id
    )
    return {(r["actor_type"], r["actor_id"], r["action"]) for r in rows}


async def test_fresh_guild_to_working_economy(apool: asyncpg.Pool) -> None:
    """Every step of the issue's "done when", through the typed calls the bot makes."""
    first = await setup.setup_server(apool, GUILD, "Fresh Guild", actor_id=ADMIN)
    assert first.status == "linked"
    assert first.get("brand_id") == f"discord:{GUILD}"
    assert [item["done"] for item in first.get("checklist")["items"]] == [False, False, False, False]

    rule = await apool.fetchval(
        "SELECT resonance.set_event_rule($1, $2, 'channel_message', 5, 0)", GUILD, ADMIN
    )
    assert rule["status"] == "created"
    effect = await apool.fetchval(
        "SELECT resonance.set_role_effect($1, $2, '400', 'multiplier', '{\"value\": 2}'::jsonb, 'Booster')", GUILD, ADMIN
    )
    assert effect["status"] == "created"
    milestone = await setup.create_milestone(
        apool, GUILD, "401", "Spark", [{"type": "rsnc_earned", "threshold": 100}], actor_id=ADMIN, bonus=10
    )
    assert milestone.status == "saved"
    assert (await setup.set_server_channel(apool, GUILD, "drops", "500", actor_id=ADMIN)).status == "set"
    goal = await setup.set_goal(apool, GUILD, "First 1000", "rsnc_distributed", 1000, actor_id=ADMIN)
    assert goal.status == "created"
    ach = await setup.set_achievement(apool, GUILD, "Chatty", "message_count", 10, 5, actor_id=ADMIN)
    assert ach.status == "created"
    assert (await setup.set_role_price(apool, GUILD, "402", 50, actor_id=ADMIN, role_name="VIP")).status == "created"
    assert (await setup.set_report_schedule(apool, GUILD, "daily", "501", actor_id=ADMIN)).get("channel_id") == "501"
    assert (await setup.set_kpi_target(apool, GUILD, "daily_active_users", 10, actor_id=ADMIN)).get("metric") == "daily_active_users"

    checklist = await setup.setup_checklist(apool, GUILD)
    assert all(item["done"] for item in checklist["items"]), checklist
    assert [r.get("role_id") for r in await setup.shop_items(apool, GUILD)] == ["402"]
    assert [r.get("name") for r in await setup.list_achievement_configs(apool, GUILD)] == ["Chatty"]
    assert [r.get("name") for r in await setup.list_goal_configs(apool, GUILD)] == ["First 1000"]
    assert len(await setup.list_event_rules(apool, GUILD)) == 1
    assert [r.get("metric") for r in await setup.list_kpi_targets(apool, GUILD)] == ["daily_active_users"]

    # The economy works: a message earns the rule's 5 RSNC, doubled by the Booster role.
    paid = await apool.fetchval(
        "SELECT resonance.record_message($1, '600', '500', 'm1', 'hello there friends', ARRAY['400'])", GUILD
    )
    assert paid["status"] == "rewarded" and float(paid["amount"]) == 10.0

    # Every configuration step is audited as the admin, including the functions without an actor argument.
    actions = await audit_actions(apool, GUILD)
    for action in (
        "discord_server_configs.insert", "monitoring_rules.insert", "discord_role_configs.insert",
        "discord_community_goals.insert", "discord_achievements.insert", "discord_report_schedules.insert",
        "discord_kpi_configs.insert", "discord_server_configs.update",
    ):
        assert ("admin", ADMIN, action) in actions, action
    assert not any(actor_type == "system" for actor_type, _, _ in actions), actions


async def test_link_code_redeemed_once_under_concurrency(apool: asyncpg.Pool) -> None:
    code = (await setup.create_link_code(apool, "portal-brand", actor_id="portal-user")).get("code")
    guilds = [f"31000000000000{i:04d}" for i in range(8)]

    async def redeem(guild: str) -> str:
        try:
            return (await setup.setup_server(apool, guild, None, actor_id=ADMIN, code=code)).status or ""
        except asyncpg.PostgresError as exc:
            return exc.sqlstate or ""

    outcomes = sorted(await asyncio.gather(*(redeem(g) for g in guilds)))
    assert outcomes == ["RS703"] * 7 + ["linked"]
    linked = await apool.fetchval("SELECT count(*) FROM public.discord_server_configs WHERE brand_id = 'portal-brand'")
    assert linked == 1


async def test_concurrent_setup_of_one_guild_links_once(apool: asyncpg.Pool) -> None:
    outcomes = await asyncio.gather(
        *(setup.setup_server(apool, OTHER_GUILD, "Busy", actor_id=ADMIN) for _ in range(6))
    )
    assert sorted(o.status for o in outcomes) == ["already_linked"] * 5 + ["linked"]


async def test_refusals_surface_as_sqlstates(apool: asyncpg.Pool) -> None:
    await setup.link_server(apool, GUILD, "brand-a", "G", actor_id=ADMIN)
    with pytest.raises(asyncpg.PostgresError) as other_brand:
        await setup.link_server(apool, GUILD, "brand-b", "G", actor_id=ADMIN)
    assert other_brand.value.sqlstate == "RS704"
    with pytest.raises(asyncpg.PostgresError) as bad_price:
        await setup.set_role_price(apool, GUILD, "402", 0, actor_id=ADMIN)
    assert bad_price.value.sqlstate == "RS731"
    with pytest.raises(asyncpg.PostgresError) as bad_code:
        await setup.setup_server(apool, OTHER_GUILD, None, actor_id=ADMIN, code="NOPE2345")
    assert bad_code.value.sqlstate == "RS701"
    assert (await setup.unlink_server(apool, GUILD, actor_id=ADMIN)).status == "unlinked"
    assert (await setup.link_server(apool, GUILD, "brand-b", "G", actor_id=ADMIN)).status == "relinked"


async def test_currencies_and_ticket_triage(apool: asyncpg.Pool) -> None:
    assert (await setup.add_currency(apool, "usdc", 6, actor_id=ADMIN)).status == "added"
    assert "USDC" in [r.get("code") for r in await setup.list_currencies(apool)]
    assert (await setup.set_currency_active(apool, "USDC", False, actor_id=ADMIN)).status == "disabled"
    ticket = await apool.fetchval("SELECT tipping.open_ticket('700', 'help')")
    ticket_id = int(ticket["ticket"]["id"])
    assert [r.get("id") for r in await setup.staff_list_tickets(apool, "open")] == [ticket_id]
    updated = await setup.update_ticket(apool, ticket_id, staff_id=ADMIN, status="resolved", priority="high")
    assert updated.status == "updated" and updated.get("ticket")["handled_by"] == ADMIN


async def test_terms_and_reputation(apool: asyncpg.Pool) -> None:
    assert (await setup.verification_status(apool, "701")).status == "not_accepted"
    assert (await setup.accept_terms(apool, "701", "2026-01")).status == "accepted"
    assert (await setup.accept_terms(apool, "701", "2026-01")).status == "already_accepted"
    status = await setup.verification_status(apool, "701")
    assert status.status == "accepted" and status.get("terms_version") == "2026-01"
    badge = await setup.reputation(apool, "701")
    assert badge.get("discord_id") == "701" and badge.get("reputation_score") is not None
