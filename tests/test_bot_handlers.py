"""Handlers without Discord: fake responders and members, the real database where the SQL is on main."""

from __future__ import annotations

import asyncio
import types
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from bot_support import Handlers, NoTransaction
from resonance.bot import api
from resonance.bot.errors import APOLOGY, BUG
from resonance.bot.fakes import FakeResponder
from resonance.bot.features.voice import counting
from resonance.bot.models import (
    CommandContext,
    MemberJoin,
    MessageEvent,
    ReactionEvent,
    VoiceMember,
    VoiceSnapshot,
    time_snowflake,
)
from resonance.db import create_pool
from resonance.db.models import BotServer, Outcome

SERVER = "900000000000000001"
BRAND = "brand-bot"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def api_with(**overrides: Any) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(**{n: getattr(api, n) for n in dir(api) if not n.startswith("_")})
    ns.__dict__.update(overrides)
    return ns


def recorder(result: Any = None, calls: list | None = None):
    calls = calls if calls is not None else []

    async def fn(_pool: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return result() if callable(result) else result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def claims() -> dict[str, Any]:
    """Interaction claims that always claim (the typed layer is faked)."""
    return {"claim_interaction": recorder(Outcome(status="claimed")), "finish_interaction": recorder(None)}


def ctx(user: str = "111", *, admin: bool = False, server: str | None = SERVER, **kw: Any) -> CommandContext:
    return CommandContext(
        server_id=server,
        channel_id="555",
        user_id=user,
        user_name=f"u{user}",
        role_ids=["r1"],
        is_admin=admin,
        interaction_id=str(uuid4().int % 10**18),
        at=T0,
        **kw,
    )


@pytest.fixture
async def bot_pool(database_url: str):
    pool = await create_pool(database_url, max_size=5)
    await pool.execute(
        "INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ($1, $2, 'Bot test')",
        SERVER,
        BRAND,
    )
    try:
        yield pool
    finally:
        await pool.close()


# --- listeners -------------------------------------------------------------------------------------


async def test_message_listener_passes_roles_reply_author_and_snowflake_time() -> None:
    call = recorder(Outcome(status="rewarded", amount=5))
    h = Handlers(None, api=api_with(record_message=call))
    message_id = str(time_snowflake(T0, low=7))
    await h.handle_message(
        MessageEvent(
            server_id=SERVER,
            channel_id="10",
            message_id=message_id,
            user_id="111",
            content="hello there",
            role_ids=["r1", "r2"],
            reply_to_user_id="222",
        )
    )
    ((args, kwargs),) = call.calls
    assert args == () and kwargs == {
        "server_id": SERVER,
        "user_id": "111",
        "channel_id": "10",
        "message_id": message_id,
        "content": "hello there",
        "role_ids": ["r1", "r2"],
        "reply_to_user_id": "222",
        "occurred_at": T0,
        "channel_name": None,
    }
    base = {"server_id": SERVER, "channel_id": "10", "message_id": message_id, "user_id": "9", "content": "hello there"}
    await h.handle_message(MessageEvent(**base, author_is_bot=True))
    await h.handle_message(MessageEvent(**base, author_is_system=True))
    await h.handle_message(MessageEvent(**base, webhook_id="42"))
    await h.handle_message(MessageEvent(**base | {"content": "alice joined the server"}, type=7))
    await h.handle_message(MessageEvent(**base | {"content": "  "}))
    assert len(call.calls) == 1, "bots, system users, webhooks, join notices and text-less messages never count"
    await h.handle_message(MessageEvent(**base, type=19))
    assert len(call.calls) == 2, "a reply is a member's message"


async def test_reaction_listener_takes_author_from_event_and_ignores_bots_and_self() -> None:
    call = recorder(Outcome(status="rewarded"))
    drop = recorder(Outcome(status="no_drop"))
    h = Handlers(None, api=api_with(record_reaction=call, claim_reaction_drop=drop))
    base = {"server_id": SERVER, "channel_id": "10", "message_id": "77", "emoji": "🔥", "role_ids": ["r1"]}
    await h.handle_reaction(ReactionEvent(reactor_id="111", author_id="222", **base))
    await h.handle_reaction(ReactionEvent(reactor_id="111", author_id="111", **base))
    await h.handle_reaction(ReactionEvent(reactor_id="333", author_id="222", reactor_is_bot=True, **base))
    await h.handle_reaction(ReactionEvent(reactor_id="111", author_id="444", author_is_bot=True, **base))
    ((args, _),) = call.calls
    assert args[:6] == (SERVER, "111", "222", "10", "77", "🔥")
    # record_reaction claims a reaction drop itself; a reaction on a bot's message (our drop messages)
    # pays nobody "reaction received" and goes straight to claim_reaction_drop.
    assert [a[:4] for a, _ in drop.calls] == [(SERVER, "77", "🔥", "111")]


async def test_member_join_records_one_event_per_member() -> None:
    call = recorder(Outcome(status="no_rule"))
    h = Handlers(None, api=api_with(record_event=call))
    await h.handle_member_join(MemberJoin(server_id=SERVER, user_id="111", joined_at=T0))
    await h.handle_member_join(MemberJoin(server_id=SERVER, user_id="999", joined_at=T0, is_bot=True))
    ((args, _),) = call.calls
    assert args[:4] == (SERVER, "111", "member_join", "join:111") and args[-1] == T0


async def test_listener_outage_queues_the_event_and_replays_it() -> None:
    state = {"down": True}
    seen: list[tuple] = []

    async def flaky(_pool: Any, **item: Any) -> Outcome:
        if state["down"]:
            raise ConnectionRefusedError("db down")
        seen.append(item)
        return Outcome(status="rewarded")

    h = Handlers(None, api=api_with(record_message=flaky), retry_delays=(0.01,))
    event = MessageEvent(
        server_id=SERVER, channel_id="10", message_id=str(time_snowflake(T0)), user_id="111", content="hello there"
    )
    assert await h.handle_message(event) is None  # no crash
    assert len(h.rt.pending) == 1
    assert await h.rt.replay_pending() == 0 and len(h.rt.pending) == 1  # still down
    state["down"] = False
    assert await h.rt.replay_pending() == 1
    assert not h.rt.pending and len(seen) == 1


# --- voice (real database: the bot's session table) ---------------------------------------------------


def snap(at: datetime, *members: tuple[str, str] | VoiceMember, afk: str | None = None) -> VoiceSnapshot:
    ms = [m if isinstance(m, VoiceMember) else VoiceMember(user_id=m[0], channel_id=m[1]) for m in members]
    return VoiceSnapshot(server_id=SERVER, afk_channel_id=afk, members=ms, at=at)


def test_only_counting_voice_time_counts() -> None:
    s = snap(
        T0,
        ("1", "v1"),
        ("2", "v1"),
        ("3", "v2"),
        ("4", "afk"),
        ("5", "afk"),
        VoiceMember(user_id="6", channel_id="v3", self_deaf=True),
        ("7", "v3"),
        VoiceMember(user_id="8", channel_id="v2", is_bot=True),
        afk="afk",
    )
    assert sorted(counting(s, None)) == ["1", "2"], "alone (bots don't count), AFK and deafened earn nothing"
    policy = BotServer(server_id=SERVER, voice_count_alone=True, voice_count_deafened=True)
    assert sorted(counting(s, policy)) == ["1", "2", "3", "6", "7"], "a server may count alone and deafened time"


async def test_voice_sessions_follow_counting_time_and_credit_once(bot_pool: asyncpg.Pool) -> None:
    credit = recorder(Outcome(status="rewarded", amount=10))
    h = Handlers(bot_pool, api=api_with(record_voice=credit))
    await h.handle_snapshot(snap(T0, ("1", "v1")))  # alone: nothing opens
    assert await bot_pool.fetchval("SELECT count(*) FROM resonance.voice_sessions") == 0
    await h.handle_snapshot(snap(T0 + timedelta(minutes=1), ("1", "v1"), ("2", "v1")))
    await h.handle_snapshot(snap(T0 + timedelta(minutes=5), ("1", "v2"), ("2", "v2")))  # both moved: same sessions
    deaf = VoiceMember(user_id="2", channel_id="v2", self_deaf=True)
    await h.handle_snapshot(snap(T0 + timedelta(minutes=26, seconds=40), ("1", "v2"), deaf))
    assert sorted((a[1], a[4]) for a, _ in credit.calls) == [("1", 25), ("2", 25)], "deafened: both stop counting"
    # The same state again (a duplicate gateway event) credits nothing more.
    await h.handle_snapshot(snap(T0 + timedelta(minutes=30), ("1", "v2"), deaf))
    assert len(credit.calls) == 2
    assert await bot_pool.fetchval("SELECT count(*) FROM resonance.voice_sessions") == 0


async def test_voice_two_replicas_leaving_at_once_credit_one_session(bot_pool: asyncpg.Pool) -> None:
    credit = recorder(Outcome(status="rewarded"))
    replicas = [Handlers(bot_pool, api=api_with(record_voice=credit)) for _ in range(2)]
    joined = snap(T0, ("1", "v1"), ("2", "v1"))
    await asyncio.gather(*(r.handle_snapshot(joined) for r in replicas))
    left = snap(T0 + timedelta(minutes=12))
    await asyncio.gather(*(r.handle_snapshot(left) for r in replicas))
    assert sorted((a[1], a[4]) for a, _ in credit.calls) == [("1", 12), ("2", 12)]


async def test_voice_recovery_credits_only_observed_time(bot_pool: asyncpg.Pool) -> None:
    credit = recorder(Outcome(status="rewarded"))
    h = Handlers(bot_pool, api=api_with(record_voice=credit))
    await h.handle_snapshot(snap(T0, ("1", "v1"), ("2", "v1"), ("3", "v2"), ("5", "v2")))
    await api.voice_checkpoint(bot_pool, [SERVER], T0 + timedelta(minutes=7))
    # A crash after ending a session but before crediting it:
    await api.voice_session_leave(bot_pool, SERVER, "3", T0 + timedelta(minutes=3))
    # The bot was down from minute 7 to 480: 1 is still in voice (with 4, who joined meanwhile);
    # 2 and 5 left while it was away and are paid until the last checkpoint, not the restart.
    now = T0 + timedelta(hours=8)
    restarted = Handlers(bot_pool, api=api_with(record_voice=credit))
    counts = await restarted.recover(snap(now, ("1", "v1"), ("4", "v1")))
    assert counts == {"credited": 3, "closed": 2, "opened": 1, "kept": 1}
    assert sorted((a[1], a[4]) for a, _ in credit.calls) == [("2", 7), ("3", 3), ("5", 7)]
    open_now = await bot_pool.fetch("SELECT discord_user_id, started_at FROM resonance.voice_sessions ORDER BY 1")
    assert [(r["discord_user_id"], r["started_at"]) for r in open_now] == [("1", T0), ("4", now)]
    # Recovery twice is harmless.
    again = await Handlers(bot_pool, api=api_with(record_voice=credit)).recover(snap(now, ("1", "v1"), ("4", "v1")))
    assert again == {"credited": 0, "closed": 0, "opened": 0, "kept": 2}


# --- answers: acknowledgement, statuses, errors, outages -----------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("checked_in", "Checked in: +10 RSNC. Streak 3 day(s), best 5."),
        ("already_checked_in", "already checked in today"),
    ],
)
async def test_checkin_defers_then_answers_status(status: str, expected: str) -> None:
    call = recorder(Outcome(status=status, amount=Decimal("10.00000000"), current_streak=3, longest_streak=5))
    h = Handlers(None, api=api_with(daily_checkin=call))
    r = FakeResponder()
    await h.checkin(ctx(), r)
    assert r.deferred and r.deferred_ephemeral
    assert expected in r.last.text and r.last.ephemeral
    assert call.calls[0][0] == (SERVER, "111", ["r1"], T0)


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        ("sold_out", "sold out"),
        ("already_claimed", "already claimed"),
        ("expired", "expired"),
        ("not_eligible", "not eligible"),
        ("claimed", "claimed 25 RSNC"),
    ],
)
async def test_drop_button_statuses_are_friendly_and_ephemeral(status: str, needle: str) -> None:
    h = Handlers(None, api=api_with(claim_drop=recorder(Outcome(status=status, amount=25))))
    r = FakeResponder()
    await h.claim(ctx(), r, uuid4())
    assert needle in r.last.text and r.last.ephemeral


async def test_cooldown_status_from_buy_role() -> None:
    h = Handlers(None, api=api_with(purchase_role=recorder(Outcome(status="insufficient_funds", price=500))))
    r = FakeResponder()
    await h.buy_role(ctx(), r, "role9")
    assert "Insufficient funds: you need 500 RSNC" in r.last.text and r.last.ephemeral


async def test_insufficient_funds_sqlstate_is_a_friendly_reply() -> None:
    async def broke(*_a: Any, **_k: Any) -> Any:
        exc = asyncpg.exceptions.RaiseError("insufficient funds: balance 3 < 10")
        exc.sqlstate = "RT001"  # type: ignore[attr-defined]
        raise exc

    h = Handlers(None, api=api_with(tip=broke))
    r = FakeResponder()
    await h.tip(ctx(), r, "222", "10")
    assert r.last.text.startswith("Insufficient funds") and r.last.ephemeral


async def test_database_outage_gets_an_apology_after_retries_never_a_crash() -> None:
    attempts = []

    async def down(*_a: Any, **_k: Any) -> Any:
        attempts.append(1)
        raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")

    h = Handlers(None, api=api_with(balance=down), retry_delays=(0.01, 0.01))
    r = FakeResponder()
    await h.balance(ctx(), r)
    assert len(attempts) == 3
    assert r.deferred and r.last.content == APOLOGY and r.last.ephemeral


async def test_a_bug_is_logged_and_answered_not_raised() -> None:
    async def bug(*_a: Any, **_k: Any) -> Any:
        raise KeyError("oops")

    h = Handlers(None, api=api_with(member_stats=bug))
    r = FakeResponder()
    await h.stats(ctx(), r)
    assert r.last.content == BUG


async def test_tip_input_checked_before_the_database() -> None:
    call = recorder(uuid4())
    h = Handlers(None, api=api_with(tip=call))
    for amount, receiver, needle in (
        ("-1", "222", "above 0"),
        ("abc", "222", "above 0"),
        ("1e9", "222", "at most"),
        ("5", "111", "yourself"),
    ):
        r = FakeResponder()
        await h.tip(ctx(), r, receiver, amount)
        assert needle in r.last.text
    r = FakeResponder()
    await h.tip(ctx(), r, "222", "2.5", "rsnc")
    ((args, _),) = call.calls
    assert args[:5] == ("111", "222", Decimal("2.5"), "RSNC", SERVER) and args[5].startswith("tip:")
    assert "tipped <@222> **2.5 RSNC**" in r.last.text and not r.last.ephemeral


async def test_admin_commands_refuse_non_admins_and_dms() -> None:
    h = Handlers(None, api=api_with())
    r = FakeResponder()
    await h.reward(ctx(admin=False), r, "222", 10, "thanks")
    assert "admins" in r.last.text
    r = FakeResponder()
    await h.audit(ctx(admin=True, server=None), r)
    assert "server" in r.last.text


async def test_drop_create_posts_persistent_button_carrying_the_drop_id() -> None:
    drop_id = uuid4()
    create = recorder(drop_id)
    attach = recorder(Outcome(status="attached"))
    h = Handlers(NoTransaction(), api=api_with(create_drop=create, attach_drop_message=attach, **claims()))
    r = FakeResponder()
    await h.create(ctx(admin=True), r, 25, 3, 30)
    (post,) = r.posts
    assert post["button"].custom_id == f"resonance:drop:{drop_id}" and post["channel_id"] == "555"
    assert "3 of 3" in post["embed"].fields[0].value and "<t:" in post["embed"].fields[1].value
    assert attach.calls == [((drop_id, "555", post["message_id"]), {})]
    ((args, kwargs),) = create.calls
    assert args == (SERVER,) and kwargs["drop_type"] == "button" and kwargs["reward_amount"] == 25
    assert kwargs["max_claims"] == 3 and kwargs["expires_at"] == T0 + timedelta(minutes=30)
    assert str(drop_id) in r.last.text


async def test_reaction_drop_posts_first_then_creates_with_the_message_id() -> None:
    create = recorder(uuid4())
    h = Handlers(NoTransaction(), api=api_with(create_drop=create, **claims()))
    r = FakeResponder()
    await h.create(ctx(admin=True), r, 25, 3, 30, kind="reaction", emoji="🎉")
    (post,) = r.posts
    assert post["reaction"] == "🎉" and post["button"] is None
    assert create.calls[0][1]["message_id"] == post["message_id"] and create.calls[0][1]["emoji"] == "🎉"


# --- admin listing against the real database -------------------------------------------------------


async def test_config_events_list_reads_the_servers_rules(bot_pool: asyncpg.Pool) -> None:
    await bot_pool.execute(
        """INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours,
                                                max_claims_per_user, is_enabled)
           VALUES ($1, $2, 'channel_message', 2, 1, NULL, TRUE), ($1, NULL, 'daily_checkin', 10, NULL, 1, FALSE),
                  ('other-brand', NULL, 'voice_minutes', 99, NULL, NULL, TRUE)""",
        BRAND,
        SERVER,
    )
    h = Handlers(bot_pool)
    r = FakeResponder()
    await h.config_events_list(ctx(admin=True), r)
    text = r.last.text
    assert "`channel_message` · 2 RSNC · cooldown 1h" in text
    assert "`daily_checkin` · 10 RSNC · max 1" in text
    assert "voice_minutes" not in text


async def test_kpi_shows_missing_ratios_as_na_and_defaults_to_yesterday() -> None:
    call = recorder(Outcome(daily_active_users=3, churn_rate=None, reward_efficiency=0.123456))
    h = Handlers(None, api=api_with(compute_kpis=call))
    r = FakeResponder()
    await h.kpi(ctx(admin=True), r)
    assert call.calls[0][0] == (SERVER, (T0 - timedelta(days=1)).date())
    assert "daily active users: 3" in r.last.text and "churn rate: n/a" in r.last.text
    assert "reward efficiency: 0.1235" in r.last.text


async def test_the_outage_queue_is_bounded_ordered_and_ages_out_with_log_lines(caplog: Any) -> None:
    state = {"down": True}
    seen: list[str] = []

    async def flaky(_pool: Any, **item: Any) -> Outcome:
        if state["down"]:
            raise ConnectionRefusedError("db down")
        seen.append(item["message_id"])
        return Outcome(status="recorded")

    h = Handlers(None, api=api_with(record_message=flaky), retry_delays=(0.001,), outage_queue_limit=2)
    events = [
        MessageEvent(
            server_id=SERVER,
            channel_id="10",
            message_id=str(time_snowflake(T0, n)),
            user_id="1",
            content=f"message {n}",
        )
        for n in range(3)
    ]
    for event in events:
        await h.handle_message(event)
    assert [p.what for p in h.rt.pending] == [f"message:{e.message_id}" for e in events[1:]]
    assert h.rt.dropped == 1 and "outage queue full: oldest event dropped" in caplog.text
    state["down"] = False
    assert await h.rt.replay_pending() == 2
    assert seen == [e.message_id for e in events[1:]], "replayed in order"
    # Events past the maximum age are dropped at replay, with a log line.
    state["down"] = True
    old = Handlers(None, api=api_with(record_message=flaky), retry_delays=(0.001,), outage_max_age=0.0)
    await old.handle_message(events[0])
    state["down"] = False
    assert await old.rt.replay_pending() == 0 and old.rt.dropped == 1
    assert "outage queue: event too old, dropped" in caplog.text


async def test_a_drop_whose_message_cannot_be_posted_is_cancelled() -> None:
    drop_id = uuid4()
    cancel = recorder(Outcome(status="cancelled"))
    h = Handlers(NoTransaction(), api=api_with(create_drop=recorder(drop_id), cancel_drop=cancel, **claims()))

    class Forbidden(FakeResponder):
        async def post(self, *args: Any, **kwargs: Any) -> str:
            raise PermissionError("Missing Permissions")

    r = Forbidden()
    await h.create(ctx(admin=True), r, 25, 3, 30)
    assert cancel.calls == [((drop_id,), {})]
    assert "can't post in <#555>" in r.last.text and "No drop was created" in r.last.text


async def test_a_statement_or_lock_timeout_is_a_friendly_answer_not_retried() -> None:
    attempts: list[int] = []

    async def busy(*_args: Any) -> Any:
        attempts.append(1)
        raise asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout")

    h = Handlers(None, api=api_with(daily_checkin=busy), retry_delays=(0.001, 0.001))
    r = FakeResponder()
    await h.checkin(ctx(), r)
    assert len(attempts) == 1 and "busy" in r.last.text and r.last.ephemeral


async def test_messages_waiting_for_the_database_go_as_one_batch() -> None:
    singles: list[str] = []
    batches: list[list[str]] = []

    async def record_message(_pool: Any, **item: Any) -> Outcome:
        singles.append(item["message_id"])
        await asyncio.sleep(0.05)  # the database is busy: the next messages wait
        return Outcome(status="recorded")

    async def record_messages(_pool: Any, items: list[dict[str, Any]]) -> list[Outcome]:
        batches.append([i["message_id"] for i in items])
        return [Outcome(status="rewarded", amount=n) for n, _ in enumerate(items)]

    h = Handlers(None, api=api_with(record_message=record_message, record_messages=record_messages))
    events = [
        MessageEvent(server_id=SERVER, channel_id="10", message_id=str(n), user_id="1", content=f"hi {n}")
        for n in range(5)
    ]
    outcomes = await asyncio.gather(*(h.handle_message(e) for e in events))
    assert singles == ["0"] and batches == [["1", "2", "3", "4"]], "the first alone, the waiting four together"
    assert [o.status for o in outcomes] == ["recorded"] + ["rewarded"] * 4
    assert [o.amount for o in outcomes[1:]] == [0, 1, 2, 3], "each answer goes back to its own message"


async def test_a_batch_a_bad_item_fails_is_sent_one_by_one(bot_pool: asyncpg.Pool) -> None:
    """record_messages raises for the whole batch when one item is bad (an unlinked server): each
    message then goes alone, and the good ones count."""
    h = Handlers(bot_pool)
    events = [
        MessageEvent(
            server_id=server,
            channel_id="10",
            message_id=str(time_snowflake(T0, n)),
            user_id="1",
            content=f"a message worth counting number {n}",
        )
        for n, server in enumerate([SERVER, SERVER, "not-linked", SERVER])
    ]
    outcomes = await asyncio.gather(*(h.handle_message(e) for e in events))
    assert [o.status if o else None for o in outcomes] == ["recorded", "recorded", None, "recorded"]
    assert (
        await bot_pool.fetchval(
            "SELECT messages_count FROM public.discord_user_stats WHERE server_id = $1 AND discord_user_id = '1'",
            SERVER,
        )
        == 3
    )
