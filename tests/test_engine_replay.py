"""Replays: every event delivered three times, in random order, leaves the state of one delivery."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from resonance import testing
from resonance.db import connect, create_pool

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

SETUP = """
INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata)
VALUES ('s1', 'b1', '{"anti_farming": {"min_words": 2, "similarity": 0.8}, "goals": {"refresh_seconds": 0}}');
INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours, max_claims_per_user,
    detection_config, rule_metadata) VALUES
    ('b1', 's1', 'channel_message', 10, 1, NULL, NULL, NULL),
    ('b1', 's1', 'channel_message', 3, NULL, NULL, '{"trigger": "keyword", "keywords": ["gm"]}', NULL),
    ('b1', 's1', 'message_quality', 7, NULL, 2, '{"trigger": "min_length", "min_length": 30}', '{"claims_period": "day"}'),
    ('b1', 's1', 'reaction_threshold', 20, NULL, NULL, '{"trigger": "reaction_count", "min_reactions": 2}', NULL),
    ('b1', 's1', 'reaction_given', 1, NULL, 5, NULL, NULL),
    ('b1', 's1', 'voice_minutes', 1, NULL, NULL, '{"min_minutes": 5}', '{"per_minute": true}'),
    ('b1', NULL, 'daily_checkin', 5, NULL, NULL, NULL, '{"streak_bonus": {"per_day": 2, "max": 6}}'),
    ('b1', 's1', 'quiz', 40, 24, 3, NULL, NULL);
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES
    ('s1', 'b1', 'x2', 'multiplier', '{"value": 2}'),
    ('s1', 'b1', 'plus', 'bonus_flat', '{"value": 1}');
INSERT INTO public.discord_achievements (server_id, name, achievement_type, threshold, reward_amount) VALUES
    ('s1', 'Chatty', 'message_count', 3, 15), ('s1', 'Rich', 'rsnc_earned', 60, 4), ('s1', 'Regular', 'streak_days', 3, 9);
INSERT INTO public.discord_community_goals (server_id, name, goal_type, target_value) VALUES
    ('s1', 'Three members', 'users', 3);
"""

WORDS = "apple river stone cloud maple ember quartz tide lantern meadow orbit violet".split()


def events() -> list[tuple[str, tuple]]:
    """A day-spanning mix of every event kind for three members."""
    out: list[tuple[str, tuple]] = []
    for i in range(12):
        user = f"u{i % 3}"
        at = T0 + timedelta(minutes=25 * i)
        text = f"gm {WORDS[i]} {WORDS[(i * 5) % 12]} thoughts about {WORDS[(i * 7) % 12]} and more words here {i}"
        roles = ["x2", "plus"] if i % 2 else []
        out.append(("record_message", ("s1", user, "c1", f"m{i}", text, roles, None, at)))
    for i, (reactor, author, msg) in enumerate([("u1", "u0", "m0"), ("u2", "u0", "m0"), ("u0", "u1", "m1"), ("u2", "u1", "m1")]):
        at = T0 + timedelta(hours=6, minutes=i)
        out.append(("record_reaction", ("s1", reactor, author, "c1", msg, "👍", ["x2"], at)))
    for i in range(3):
        out.append(("record_voice", ("s1", f"u{i}", "vc", f"sess{i}", 10 + i, [], T0 + timedelta(hours=7, minutes=i))))
    for day in range(4):
        for user in ("u0", "u1"):
            if user == "u1" and day == 1:
                continue  # a missed day
            out.append(("daily_checkin", ("s1", user, [], T0 + timedelta(days=day, hours=1))))
    for i in range(3):
        out.append(("record_event", ("s1", "u2", "quiz", f"q{i}", [], None, {}, T0 + timedelta(days=i, hours=2))))
    return out


SIGNATURES = {
    "record_message": "resonance.record_message($1, $2, $3, $4, $5, $6::text[], $7, $8)",
    "record_reaction": "resonance.record_reaction($1, $2, $3, $4, $5, $6, $7::text[], $8)",
    "record_voice": "resonance.record_voice($1, $2, $3, $4, $5, $6::text[], $7)",
    "daily_checkin": "resonance.daily_checkin($1, $2, $3::text[], $4)",
    "record_event": "resonance.record_event($1, $2, $3, $4, $5::text[], $6, $7, $8)",
}


async def deliver(conn, event: tuple[str, tuple]) -> dict:
    name, args = event
    return await conn.fetchval(f"SELECT {SIGNATURES[name]}", *args)


async def snapshot(conn) -> dict:
    queries = {
        "stats": "SELECT discord_user_id, messages_count, voice_minutes, reactions_count, reactions_received, rsnc_earned,"
        " first_seen_at, last_active_at FROM public.discord_user_stats ORDER BY 1",
        "streaks": "SELECT discord_user_id, current_streak, longest_streak, last_checkin FROM public.discord_user_streaks ORDER BY 1",
        "daily": "SELECT activity_date, discord_user_id, messages_count, voice_minutes, reactions_given, reactions_received, checkins,"
        " rewards_count, rsnc_earned FROM resonance.daily_activity ORDER BY 1, 2",
        "ledger": "SELECT discord_user_id, event_type, regexp_replace(source_id, '[0-9a-f-]{36}', 'rule', 'g'), amount, occurred_at"
        " FROM resonance.reward_ledger ORDER BY 1, 2, 3",
        "balances": "SELECT user_id, amount FROM tipping.balances ORDER BY 1",
        "achievements": "SELECT ua.discord_user_id, a.name, ua.progress, ua.completed_at, ua.claimed_at"
        " FROM public.discord_user_achievements AS ua JOIN public.discord_achievements AS a USING (achievement_id) ORDER BY 1, 2",
        "goals": "SELECT name, current_value, completed_at FROM public.discord_community_goals ORDER BY 1",
    }
    return {key: sorted((tuple(r) for r in await conn.fetch(sql)), key=repr) for key, sql in queries.items()}


async def fresh_database(admin_url: str, template: str) -> str:
    return await testing.create_test_database(admin_url, template)


async def test_three_deliveries_in_random_order_equal_one(database_url: str, admin_url: str, template: str) -> None:
    rng = random.Random(20260302)
    evs = events()
    shuffled = [e for e in evs for _ in range(3)]
    rng.shuffle(shuffled)
    first_order: list = []
    seen: set[int] = set()
    for e in shuffled:
        if id(e) not in seen:
            seen.add(id(e))
            first_order.append(e)

    conn = await connect(database_url)
    try:
        await conn.execute(SETUP)
        statuses = [(await deliver(conn, e))["status"] for e in shuffled]
        replayed = await snapshot(conn)
    finally:
        await conn.close()
    assert statuses.count("duplicate") + statuses.count("already_checked_in") >= 2 * len(evs)

    other = await fresh_database(admin_url, template)
    try:
        conn = await connect(testing.with_database(admin_url, other))
        try:
            await conn.execute(SETUP)
            for e in first_order:
                await deliver(conn, e)
            once = await snapshot(conn)
        finally:
            await conn.close()
    finally:
        await testing.drop_database(admin_url, other)

    assert replayed == once
    assert len(once["ledger"]) > 15  # the scenario pays many rules, not nothing
    assert any(name == "Chatty" and done for _, name, _, done, _ in once["achievements"])


async def test_concurrent_copies_of_each_event_count_once(database_url: str) -> None:
    """The three copies of each event race on three connections; the result equals one delivery."""
    async with await create_pool(database_url, min_size=3, max_size=3) as pool:
        async with pool.acquire() as conn:
            await conn.execute(SETUP)
        for e in events():
            results = await asyncio.gather(*(_deliver_pooled(pool, e) for _ in range(3)))
            first = [r for r in results if r["status"] not in ("duplicate", "already_checked_in")]
            assert len(first) == 1, (e, results)
        async with pool.acquire() as conn:
            raced = await snapshot(conn)
            messages = await conn.fetchval("SELECT sum(messages_count) FROM public.discord_user_stats")
            dedup = await conn.fetchval("SELECT count(*) FROM resonance.processed_events")
    assert messages == 12  # every message is distinct and none farmed
    assert dedup == 12 + 4 + 3 + 3
    assert len(raced["ledger"]) > 15


async def _deliver_pooled(pool, event) -> dict:
    async with pool.acquire() as conn:
        try:
            return await deliver(conn, event)
        except asyncpg.PostgresError as exc:  # pragma: no cover - a failure here is the bug
            pytest.fail(f"{event[0]} raised {exc!r}")
