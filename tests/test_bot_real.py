"""Every listener and command end to end against the real database: Handlers with the default
typed-layer seam, fake responders and members, no Discord. A command whose SQL is not on this
branch yet is skipped with the missing function named (see `require`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import base58
import pytest
from nacl.signing import SigningKey

from bot_support import Handlers
from resonance.bot import api
from resonance.bot.fakes import FakeGuild, FakeResponder
from resonance.bot.models import (
    CommandContext,
    MemberJoin,
    MessageEvent,
    ReactionEvent,
    RolesChanged,
    VoiceMember,
    VoiceSnapshot,
    time_snowflake,
)
from resonance.bot.outbox import OutboxWorker, ReportWorker
from resonance.db import create_pool

SERVER = "910000000000000001"
BRAND = "brand-real"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ALICE, BOB = "1001", "1002"


async def require(pool: asyncpg.Pool, *functions: str) -> None:
    missing = []
    for qualified in functions:
        schema, name = qualified.split(".")
        found = await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = $1 AND p.proname = $2)",
            schema,
            name,
        )
        if not found:
            missing.append(qualified)
    if missing:
        pytest.skip(f"SQL not on this branch yet: {', '.join(missing)}")


def ctx(user: str = ALICE, *, admin: bool = False, at: datetime = T0) -> CommandContext:
    return CommandContext(
        server_id=SERVER,
        channel_id="20",
        user_id=user,
        user_name=f"user{user}",
        role_ids=[],
        is_admin=admin,
        interaction_id=str(uuid4().int % 10**18),
        at=at,
    )


@pytest.fixture
async def pool(database_url: str):
    p = await create_pool(database_url, max_size=6)
    await p.execute(
        "INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ($1, $2, 'Real')",
        SERVER,
        BRAND,
    )
    await p.execute(
        """INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, detection_config,
                                                rule_metadata)
           VALUES ($1, $2, 'channel_message', 5, '{"channels": []}', '{}'),
                  ($1, $2, 'reaction_given', 1, NULL, '{}'),
                  ($1, $2, 'reaction_received', 2, NULL, '{}'),
                  ($1, $2, 'voice_minutes', 1, '{"min_minutes": 5}', '{"per_minute": true}'),
                  ($1, $2, 'daily_checkin', 10, NULL, '{}'),
                  ($1, $2, 'member_join', 50, NULL, '{}')""",
        BRAND,
        SERVER,
    )
    try:
        yield p
    finally:
        await p.close()


async def balance(pool: asyncpg.Pool, user: str) -> Decimal:
    return await pool.fetchval("SELECT tipping.balance($1, 'RSNC')", user)


# --- listeners ---------------------------------------------------------------------------------------


async def test_message_listener_rewards_once_at_the_snowflake_time(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    event = MessageEvent(
        server_id=SERVER,
        channel_id="20",
        message_id=str(time_snowflake(T0, 1)),
        user_id=ALICE,
        content="hello everyone, how are you today?",
        reply_to_user_id=BOB,
    )
    first = await h.handle_message(event)
    again = await h.handle_message(event)
    assert first.status == "rewarded" and Decimal(first.amount) == 5
    assert again.status == "duplicate"
    assert await balance(pool, ALICE) == 5
    stats = await pool.fetchrow(
        "SELECT messages_count, last_active_at FROM public.discord_user_stats "
        "WHERE server_id = $1 AND discord_user_id = $2",
        SERVER,
        ALICE,
    )
    assert stats["messages_count"] == 1 and stats["last_active_at"] == T0


async def test_reaction_listener_pays_reactor_and_author(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    outcome = await h.handle_reaction(
        ReactionEvent(
            server_id=SERVER,
            channel_id="20",
            message_id="5001",
            reactor_id=BOB,
            author_id=ALICE,
            emoji="🔥",
            occurred_at=T0,
        )
    )
    assert outcome.status == "rewarded"
    assert await balance(pool, BOB) == 1 and await balance(pool, ALICE) == 2
    # Replay: nothing more.
    await h.handle_reaction(
        ReactionEvent(
            server_id=SERVER,
            channel_id="20",
            message_id="5001",
            reactor_id=BOB,
            author_id=ALICE,
            emoji="🔥",
            occurred_at=T0,
        )
    )
    assert await balance(pool, BOB) == 1


def voice(at: datetime, *users: str, channel: str = "v1") -> VoiceSnapshot:
    return VoiceSnapshot(server_id=SERVER, at=at, members=[VoiceMember(user_id=u, channel_id=channel) for u in users])


async def test_voice_listener_credits_minutes_on_leave(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    await h.handle_snapshot(voice(T0, ALICE, BOB))
    counts = await h.handle_snapshot(voice(T0 + timedelta(minutes=12, seconds=30)))
    assert counts == {"opened": 0, "credited": 2}
    assert await balance(pool, ALICE) == 12
    assert (
        await pool.fetchval("SELECT voice_minutes FROM public.discord_user_stats WHERE discord_user_id = $1", ALICE)
        == 12
    )
    assert await pool.fetchval("SELECT count(*) FROM resonance.voice_sessions") == 0


async def test_voice_recovery_credits_through_record_voice(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    await h.handle_snapshot(voice(T0, ALICE, BOB))
    await api.voice_checkpoint(pool, [SERVER], T0 + timedelta(minutes=30))
    # Down for 8 hours; both left meanwhile: paid until the last checkpoint, not the restart.
    counts = await Handlers(pool).recover(voice(T0 + timedelta(hours=8)))
    assert counts == {"credited": 2, "closed": 2, "opened": 0, "kept": 0}
    assert await balance(pool, BOB) == 30


async def test_member_join_listener(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    first = await h.handle_member_join(MemberJoin(server_id=SERVER, user_id=BOB, joined_at=T0))
    second = await h.handle_member_join(MemberJoin(server_id=SERVER, user_id=BOB, joined_at=T0 + timedelta(hours=1)))
    assert first.status == "rewarded" and second.status == "duplicate"
    assert await balance(pool, BOB) == 50


# --- member commands ----------------------------------------------------------------------------------


async def test_checkin_then_already_checked_in(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    r = FakeResponder()
    await h.checkin(ctx(), r)
    assert r.deferred and "Checked in: +10 RSNC. Streak 1 day(s), best 1." in r.last.text
    r = FakeResponder()
    await h.checkin(ctx(at=T0 + timedelta(hours=2)), r)
    assert "already checked in today" in r.last.text and r.last.ephemeral
    r = FakeResponder()
    await h.checkin(ctx(at=T0 + timedelta(days=1)), r)
    assert "Streak 2 day(s)" in r.last.text


async def test_balance_tip_and_history(pool: asyncpg.Pool) -> None:
    await pool.execute("SELECT tipping.mint($1, 100, 'RSNC', 'test')", ALICE)
    h = Handlers(pool)
    r = FakeResponder()
    await h.balance(ctx(), r)
    assert "**100 RSNC**" in r.last.text and r.last.ephemeral

    r = FakeResponder()
    await h.tip(ctx(), r, BOB, "12.5")
    assert "tipped <@1002> **12.5 RSNC**" in r.last.text and not r.last.ephemeral
    assert await balance(pool, ALICE) == Decimal("87.5") and await balance(pool, BOB) == Decimal("12.5")

    r = FakeResponder()
    await h.tip(ctx(BOB), r, ALICE, "1000")  # RT001: friendly, nothing moves
    assert r.last.text.startswith("Insufficient funds") and r.last.ephemeral
    assert await balance(pool, BOB) == Decimal("12.5")

    r = FakeResponder()
    await h.tip(ctx(), r, BOB, "5", "NOPE")
    assert r.last.text == "Unknown currency."

    r = FakeResponder()
    await h.history(ctx(), r)
    assert "-12.5 RSNC · tip" in r.last.text and "+100 RSNC · mint" in r.last.text


async def test_wallet_register_and_verify(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    key = SigningKey.generate()
    address = base58.b58encode(bytes(key.verify_key)).decode()
    r = FakeResponder()
    await h.wallet_register(ctx(), r)
    text = r.last.text
    nonce = text.split("Nonce: `")[1].split("`")[0]
    message = await pool.fetchval("SELECT tipping.registration_message($1, $2)", ALICE, nonce)
    assert message in text

    bad = base58.b58encode(SigningKey.generate().sign(message.encode()).signature).decode()
    r = FakeResponder()
    await h.wallet_verify(ctx(), r, address, nonce, bad)
    assert "signature doesn't match" in r.last.text

    good = base58.b58encode(key.sign(message.encode()).signature).decode()
    r = FakeResponder()
    await h.wallet_verify(ctx(), r, address, nonce, good)
    assert f"Wallet `{address}` is linked" in r.last.text
    assert (
        await pool.fetchval("SELECT wallet_address FROM tipping.wallet_registrations WHERE discord_user_id = $1", ALICE)
        == address
    )
    r = FakeResponder()
    await h.wallet_verify(ctx(), r, address, nonce, good)
    assert "already used" in r.last.text


async def test_tickets_open_list_close_only_your_own(pool: asyncpg.Pool) -> None:
    h = Handlers(pool)
    r = FakeResponder()
    await h.ticket_open(ctx(), r, "Lost my RSNC", "It vanished")
    ticket_id = int(r.last.text.split("#")[1].split(" ")[0])
    r = FakeResponder()
    await h.ticket_list(ctx(), r)
    assert f"#{ticket_id} · **Lost my RSNC** · open" in r.last.text
    r = FakeResponder()
    await h.ticket_close(ctx(BOB), r, ticket_id)
    assert "no ticket" in r.last.text
    r = FakeResponder()
    await h.ticket_close(ctx(), r, ticket_id)
    assert f"Ticket #{ticket_id} closed." == r.last.text
    assert await pool.fetchval("SELECT status FROM tipping.tickets WHERE id = $1", ticket_id) == "closed"


async def test_leaderboard_stats_achievements_goals(pool: asyncpg.Pool) -> None:
    await require(
        pool, "resonance.leaderboard", "resonance.member_stats", "resonance.list_achievements", "resonance.list_goals"
    )
    await pool.execute(
        """INSERT INTO public.discord_achievements (server_id, name, achievement_type, threshold, reward_amount)
           VALUES ($1, 'First words', 'message_count', 1, 3), ($1, 'Regular', 'message_count', 100, 50)""",
        SERVER,
    )
    await pool.execute(
        """INSERT INTO public.discord_community_goals (server_id, name, goal_type, target_value, starts_at)
           VALUES ($1, 'Hundred RSNC', 'rsnc_distributed', 100, '2026-03-01')""",  # goals count from starts_at
        SERVER,
    )
    h = Handlers(pool)
    await h.handle_message(
        MessageEvent(
            server_id=SERVER,
            channel_id="20",
            message_id=str(time_snowflake(T0, 9)),
            user_id=ALICE,
            content="a message that counts",
        )
    )
    r = FakeResponder()
    await h.leaderboard(ctx(), r, "all")
    assert "**1.** <@1001> · 8 RSNC" in r.last.text  # 5 for the message + 3 for the achievement
    r = FakeResponder()
    await h.stats(ctx(), r)
    assert "messages count: 1" in r.last.text
    r = FakeResponder()
    await h.achievements(ctx(), r)
    assert "✅ **First words** · 1/1 · 3 RSNC" in r.last.text
    assert "▫️ **Regular** · 1/100 · 50 RSNC" in r.last.text
    r = FakeResponder()
    await h.goals(ctx(), r)
    assert "🎯 **Hundred RSNC** · 8/100" in r.last.text and not r.last.ephemeral


async def test_buy_role_and_outbox_adds_it(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.purchase_role", "resonance.take_outbox")
    await pool.execute(
        """INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, discord_role_name,
                                                    effect_type, effect_config, assignment_type, assignment_config)
           VALUES ($1, $2, '777', 'VIP', 'multiplier', '{"value": 2}', 'purchase', '{"price": 30}')""",
        SERVER,
        BRAND,
    )
    await pool.execute("SELECT tipping.mint($1, 40, 'RSNC', 'test')", ALICE)
    h = Handlers(pool)
    r = FakeResponder()
    await h.buy_role(ctx(), r, "777")
    assert "Role bought for 30 RSNC" in r.last.text
    r = FakeResponder()
    await h.buy_role(ctx(BOB), r, "777")
    assert r.last.text.startswith("Insufficient funds")
    guild = FakeGuild()
    worker = OutboxWorker(pool, guild, worker_id="w1", pace_seconds=0)
    assert (await worker.run_once())["done"] == 1
    assert guild.members[ALICE] == {"777"}


async def test_outbox_retry_backoff_against_the_real_queue(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.take_outbox", "resonance.fail_outbox", "resonance.complete_outbox")
    await pool.execute(
        """INSERT INTO resonance.outbox (server_id, kind, payload) VALUES
           ($1, 'add_role', '{"user_id": "1001", "role_id": "r1"}'),
           ($1, 'send_message', '{"type": "milestone_reached", "user_id": "1001", "name": "Chatterbox",
                                  "bonus_amount": 100}')""",
        SERVER,
    )
    guild = FakeGuild(fail_next=[RuntimeError("503 Service Unavailable")])
    a = OutboxWorker(pool, guild, worker_id="replica-a", pace_seconds=0)
    b = OutboxWorker(pool, guild, worker_id="replica-b", pace_seconds=0)
    assert await a.run_once() == {"taken": 2, "done": 1, "failed": 1}
    row = await pool.fetchrow(
        "SELECT status, attempts, available_at > now() AS later, last_error "
        "FROM resonance.outbox WHERE kind = 'add_role'"
    )
    assert row["status"] == "pending" and row["attempts"] == 1 and row["later"] and "503" in row["last_error"]
    assert await b.run_once() == {"taken": 0, "done": 0, "failed": 0}  # backing off
    await pool.execute("UPDATE resonance.outbox SET available_at = now() WHERE status = 'pending'")
    assert await b.run_once() == {"taken": 1, "done": 1, "failed": 0}
    assert guild.members[ALICE] == {"r1"}
    dm = next(m for m in guild.messages if m.get("user_id") == ALICE)
    assert "Chatterbox" in dm["content"] and "100 RSNC" in dm["content"]


async def test_drop_button_claims_until_sold_out(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.create_drop", "resonance.claim_drop", "resonance.attach_drop_message")
    h = Handlers(pool)
    r = FakeResponder()
    await h.create(ctx(admin=True), r, 25, 1, 30)
    (post,) = r.posts
    drop_id = post["button"].custom_id.removeprefix("resonance:drop:")
    assert (
        await pool.fetchval("SELECT message_id FROM public.discord_drops WHERE drop_id = $1::uuid", drop_id)
        == post["message_id"]
    )
    from uuid import UUID

    answers = []
    for user in (ALICE, ALICE, BOB):
        r = FakeResponder()
        await h.claim(ctx(user, at=T0 + timedelta(minutes=1)), r, UUID(drop_id))
        answers.append(r.last.text)
    assert "You claimed 25 RSNC" in answers[0]
    assert "already claimed" in answers[1] and "sold out" in answers[2]
    assert await balance(pool, ALICE) == 25


async def test_reaction_drop_claimed_by_reacting(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.create_drop", "resonance.claim_reaction_drop")
    h = Handlers(pool)
    r = FakeResponder()
    await h.create(ctx(admin=True), r, 7, 5, 30, kind="reaction", emoji="🎉")
    (post,) = r.posts
    await h.handle_reaction(
        ReactionEvent(
            server_id=SERVER,
            channel_id="20",
            message_id=post["message_id"],
            reactor_id=BOB,
            author_id="bot",
            emoji="🎉",
            occurred_at=T0 + timedelta(minutes=1),
        )
    )
    assert await pool.fetchval("SELECT count(*) FROM public.discord_drop_claims WHERE discord_user_id = $1", BOB) == 1


async def test_admin_config_roles_milestone_reward_audit(pool: asyncpg.Pool) -> None:
    await require(
        pool,
        "resonance.set_event_rule",
        "resonance.set_role_effect",
        "resonance.create_milestone",
        "resonance.manual_reward",
        "resonance.recent_audit",
    )
    h = Handlers(pool)

    def admin_ctx() -> CommandContext:  # every command is its own interaction
        return ctx("9", admin=True)

    r = FakeResponder()
    await h.config_events_set(admin_ctx(), r, "keyword", 3, keywords="gm, wagmi", min_length=5)
    assert "at most one trigger" in r.last.text
    r = FakeResponder()
    await h.config_events_set(admin_ctx(), r, "keyword", 3, cooldown_hours=1, keywords="gm, wagmi", channel_id="20")
    assert r.last.content == "Rule `keyword` created: 3 RSNC, cooldown 1h, trigger keyword, only in <#20>."
    said = [
        await h.handle_message(
            MessageEvent(
                server_id=SERVER,
                channel_id=channel,
                user_id=user,
                content="gm frens",
                message_id=str(time_snowflake(T0, n)),
            )
        )
        for n, (channel, user) in enumerate((("20", ALICE), ("21", BOB)), start=40)
    ]
    assert [Decimal(o.amount) for o in said] == [8, 5]  # channel_message 5 (+ keyword 3 in <#20> only)
    r = FakeResponder()
    await h.config_events_list(admin_ctx(), r)
    assert "`keyword` · 3 RSNC" in r.last.text
    r = FakeResponder()
    await h.roles_effect(admin_ctx(), r, "888", "multiplier", "2", "Booster")
    assert "multiplier" in r.last.text
    assert (
        await pool.fetchval(
            "SELECT effect_config ->> 'value' FROM public.discord_role_configs WHERE discord_role_id = '888'"
        )
        == "2.0"
    )
    r = FakeResponder()
    await h.config_events_set(admin_ctx(), r, "keyword", 4)  # the same event type: replaced, not doubled
    assert r.last.content == "Rule `keyword` set: 4 RSNC."
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM public.monitoring_rules WHERE server_id = $1 AND event_type = 'keyword'", SERVER
        )
        == 1
    )
    r = FakeResponder()
    await h.milestone_create(admin_ctx(), r, "889", "Chatter", "messages_count", 10, 100, "Chatter")
    assert "Milestone **Chatter**" in r.last.text
    r = FakeResponder()
    await h.reward(admin_ctx(), r, BOB, 15, "great help")
    assert "received **15 RSNC**" in r.last.text
    assert await balance(pool, BOB) == 20
    r = FakeResponder()
    await h.audit(admin_ctx(), r)
    assert "**manual_reward** by 9 → <@1002>" in r.last.text
    # One interaction delivered (or retried) twice acts once: the second gets the first answer.
    twice = admin_ctx()
    for _ in range(2):
        r = FakeResponder()
        await h.reward(twice, r, BOB, 7, "only once")
        assert "received **7 RSNC**" in r.last.text
    assert await balance(pool, BOB) == 27


async def test_kpi_and_reports(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.compute_kpis", "resonance.set_report_schedule", "resonance.due_reports")
    h = Handlers(pool)
    admin = ctx("9", admin=True)
    await h.handle_message(
        MessageEvent(
            server_id=SERVER,
            channel_id="20",
            message_id=str(time_snowflake(T0, 3)),
            user_id=ALICE,
            content="counting for the kpis",
        )
    )
    r = FakeResponder()
    await h.kpi(admin, r, T0.date())
    assert "daily active users: 1" in r.last.text
    r = FakeResponder()
    await h.reports_schedule(admin, r, "daily", "30")
    assert "Daily reports will be posted in <#30>" in r.last.text
    guild = FakeGuild()
    posted = await ReportWorker(pool, guild, worker_id="w1").run_once(T0 + timedelta(days=1, hours=1))
    assert posted == 1 and guild.messages[0]["channel_id"] == "30"
    assert "report" in guild.messages[0]["embed"].title


async def test_role_gained_pays_its_one_time_bonus_once(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.claim_one_time_bonus")
    await pool.execute(
        """INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
           VALUES ($1, $2, '555', 'one_time_bonus', '{"amount": 40}')""",
        SERVER,
        BRAND,
    )
    h = Handlers(pool)
    event = RolesChanged(server_id=SERVER, user_id=ALICE, role_ids=["555", "556"], at=T0)
    first = await h.handle_roles(event)
    assert first.get("added") == ["555"] and [b["status"] for b in first.get("bonuses")] == ["paid"]
    removed = await h.handle_roles(event.model_copy(update={"role_ids": ["556"]}))
    assert removed.get("removed") == ["555"]
    again = await h.handle_roles(event)
    assert again.get("added") == ["555"] and again.get("bonuses") == [], "the bonus is paid once ever"
    assert await balance(pool, ALICE) == 40


async def test_two_replicas_drain_the_outbox_once(pool: asyncpg.Pool) -> None:
    await require(pool, "resonance.take_outbox")
    import asyncio

    await pool.execute(
        """INSERT INTO resonance.outbox (server_id, kind, payload)
           SELECT $1, 'add_role', jsonb_build_object('user_id', 'u' || g, 'role_id', 'r1')
           FROM generate_series(1, 40) AS g""",
        SERVER,
    )
    guild = FakeGuild()
    replicas = [OutboxWorker(pool, guild, worker_id=f"replica-{i}", batch=7, pace_seconds=0) for i in range(2)]
    for _ in range(5):
        await asyncio.gather(*(w.run_once() for w in replicas))
    applied = [c for c in guild.calls if c[0] == "add_role"]
    assert len(applied) == 40 and len(set(applied)) == 40
    assert await pool.fetchval("SELECT count(*) FROM resonance.outbox WHERE status = 'done'") == 40


async def test_the_bot_runs_as_its_least_privileged_login_role(pool: asyncpg.Pool, database_url: str) -> None:
    """The same handlers through the `resonance_bot` login role (service_role, RLS forced), as deployed."""
    from urllib.parse import urlsplit, urlunsplit

    from resonance.localdb import BOT_PASSWORD, BOT_ROLE

    if not await pool.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", BOT_ROLE):
        pytest.skip("no bot login role on this server (created by `resonance db up`)")
    parts = urlsplit(database_url)
    host = parts.netloc.rpartition("@")[2]
    bot_url = urlunsplit((parts.scheme, f"{BOT_ROLE}:{BOT_PASSWORD}@{host}", parts.path, parts.query, ""))
    bot_pool = await create_pool(bot_url, max_size=3)
    try:
        assert await bot_pool.fetchval("SELECT current_user") == "service_role"
        h = Handlers(bot_pool)
        message = await h.handle_message(
            MessageEvent(
                server_id=SERVER,
                channel_id="20",
                message_id=str(time_snowflake(T0, 11)),
                user_id=ALICE,
                content="hello from the bot role",
            )
        )
        assert message.status == "rewarded"
        await h.handle_snapshot(voice(T0, ALICE, BOB))
        assert (await h.handle_snapshot(voice(T0 + timedelta(minutes=6))))["credited"] == 2
        await h.rt.load_servers([SERVER])
        assert h.rt.server(SERVER) is not None
        r = FakeResponder()
        await h.checkin(ctx(), r)
        assert "Checked in" in r.last.text
        r = FakeResponder()
        await h.tip(ctx(), r, BOB, "3")
        assert "tipped" in r.last.text
        r = FakeResponder()
        await h.config_events_list(ctx(admin=True), r)
        assert "`channel_message` · 5 RSNC" in r.last.text
        await bot_pool.execute(
            "INSERT INTO resonance.outbox (server_id, kind, payload) VALUES "
            '($1, \'add_role\', \'{"user_id": "1001", "role_id": "r1"}\')',
            SERVER,
        )
        guild = FakeGuild()
        assert (await OutboxWorker(bot_pool, guild, worker_id="w", pace_seconds=0).run_once())["done"] == 1
    finally:
        await bot_pool.close()
