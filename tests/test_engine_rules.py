"""Streaks across UTC midnight and missed days, role-effect stacking, anti-farming."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from resonance.db import connect, create_pool


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


SERVER = """
INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata)
VALUES ('s1', 'b1', '{"anti_farming": {"min_words": 3, "similarity": 0.7, "window_minutes": 60}}');
"""


async def test_streaks_across_midnight_and_a_missed_day(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        await conn.execute(SERVER)
        await conn.execute(
            "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, rule_metadata)"
            " VALUES ('b1', 's1', 'daily_checkin', 10, '{\"streak_bonus\": 5}')"
        )

        async def checkin(at: datetime) -> dict:
            return await conn.fetchval("SELECT resonance.daily_checkin('s1', 'u1', '{}', $1)", at)

        first = await checkin(utc(2026, 5, 1, 23, 59, 59))
        assert (first["status"], first["current_streak"], first["amount"]) == ("checked_in", 1, 10)
        midnight = await checkin(utc(2026, 5, 2, 0, 0, 0))  # one second later, the next UTC day
        assert (midnight["status"], midnight["current_streak"], midnight["amount"]) == ("checked_in", 2, 15)
        same = await checkin(utc(2026, 5, 2, 23, 59, 59))
        assert (same["status"], same["current_streak"], same["amount"]) == ("already_checked_in", 2, 0)
        third = await checkin(utc(2026, 5, 3, 6, 0))
        assert (third["current_streak"], third["longest_streak"], third["amount"]) == (3, 3, 20)
        gap = await checkin(utc(2026, 5, 5, 6, 0))  # May 4 missed
        assert (gap["status"], gap["current_streak"], gap["longest_streak"], gap["amount"]) == ("checked_in", 1, 3, 10)
        stale = await checkin(utc(2026, 5, 4, 6, 0))  # a late delivery for the missed day changes nothing
        assert stale["status"] == "already_checked_in"
        row = await conn.fetchrow("SELECT current_streak, longest_streak FROM public.discord_user_streaks WHERE discord_user_id = 'u1'")
        assert tuple(row) == (1, 3)
        assert await conn.fetchval("SELECT sum(checkins) FROM resonance.daily_activity WHERE discord_user_id = 'u1'") == 4
        assert await conn.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'u1'") == 55
    finally:
        await conn.close()


async def test_same_day_checkins_racing_count_once(database_url: str) -> None:
    async with await create_pool(database_url, min_size=10, max_size=10) as pool:
        await pool.execute(SERVER)
        await pool.execute(
            "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('b1', 's1', 'daily_checkin', 10)"
        )
        results = await asyncio.gather(
            *(pool.fetchval("SELECT resonance.daily_checkin('s1', 'u1', '{}', $1)", utc(2026, 5, 1, 8, i)) for i in range(20))
        )
        assert sorted(r["status"] for r in results).count("checked_in") == 1
        assert await pool.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'u1'") == 10


async def test_role_effects_stack(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        await conn.execute(SERVER)
        await conn.execute(
            """
            INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours, rule_metadata)
            VALUES ('b1', 's1', 'bounty', 10, 4, NULL), ('b1', 's1', 'vip', 10, NULL, '{"requires_event_access": true}');
            INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config, is_active) VALUES
                ('s1', 'b1', 'm15', 'multiplier', '{"value": 1.5}', TRUE),
                ('s1', 'b1', 'm2', 'multiplier', '{"value": 2}', TRUE),
                ('s1', 'b1', 'm5', 'multiplier', '{"value": 5}', FALSE),
                ('s1', 'b1', 'b3', 'bonus_flat', '{"value": 3}', TRUE),
                ('s1', 'b1', 'b4', 'bonus_flat', '{"value": 4}', TRUE),
                ('s1', 'b1', 'c25', 'cooldown_reduction', '{"percent": 25}', TRUE),
                ('s1', 'b1', 'c75', 'cooldown_reduction', '{"percent": 75}', TRUE),
                ('s1', 'b1', 'all', 'event_access', '{}', TRUE);
            """
        )

        async def bounty(source: str, roles: list[str], at: datetime) -> dict:
            return await conn.fetchval(
                "SELECT resonance.record_event('s1', $1, 'bounty', $2, $3::text[], NULL, '{}', $4)", "u-" + "-".join(roles), source, roles, at
            )

        t = utc(2026, 6, 1, 10)
        # largest multiplier (2, the inactive 5 ignored) and the sum of bonuses (3 + 4): 10 * 2 + 7
        assert (await bounty("a", ["m15", "m2", "m5", "b3", "b4"], t))["amount"] == 27
        assert (await bounty("b", ["m15"], t))["amount"] == 15
        assert (await bounty("c", ["b3", "unknown-role"], t))["amount"] == 13
        assert (await bounty("d", [], t))["amount"] == 10
        # largest cooldown reduction (75%): a 4h cooldown lasts 1h
        roles = ["c25", "c75"]
        assert (await bounty("e1", roles, t))["status"] == "rewarded"
        assert (await bounty("e2", roles, t + timedelta(minutes=59)))["status"] == "cooldown"
        assert (await bounty("e3", roles, t + timedelta(minutes=60)))["status"] == "rewarded"
        # event_access with no list grants every event
        vip = "SELECT resonance.record_event('s1', 'u9', 'vip', $1, $2::text[], NULL, '{}', $3)"
        assert (await conn.fetchval(vip, "v1", [], t))["status"] == "no_access"
        assert (await conn.fetchval(vip, "v2", ["all"], t))["status"] == "rewarded"
    finally:
        await conn.close()


async def test_anti_farming(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        await conn.execute(SERVER)
        await conn.execute(
            "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('b1', 's1', 'channel_message', 5)"
        )

        async def say(member: str, mid: str, text: str, at: datetime) -> dict:
            return await conn.fetchval(
                "SELECT resonance.record_message('s1', $1, 'c1', $2, $3, '{}', NULL, $4)", member, mid, text, at
            )

        t = utc(2026, 7, 1, 10)
        assert (await say("u1", "1", "buy my great token now please", t))["status"] == "rewarded"
        farmed = await say("u1", "2", "buy my great token now please!!", t + timedelta(minutes=1))
        assert (farmed["status"], farmed["reason"], farmed["amount"]) == ("farmed", "similar", 0)
        assert farmed["similarity"] >= 0.7
        assert (await say("u1", "3", "BUY MY GREAT TOKEN NOW PLEASE", t + timedelta(minutes=2)))["reason"] == "similar"
        short = await say("u1", "4", "ok sure", t + timedelta(minutes=3))
        assert (short["status"], short["reason"], short["words"], short["min_words"]) == ("farmed", "too_short", 2, 3)
        # another member may say the same thing; the same member may repeat after the window
        assert (await say("u2", "5", "buy my great token now please", t + timedelta(minutes=4)))["status"] == "rewarded"
        assert (await say("u1", "6", "buy my great token now please", t + timedelta(minutes=62)))["status"] == "rewarded"
        assert (await say("u1", "7", "a genuinely different sentence about gardening", t + timedelta(minutes=63)))["status"] == "rewarded"
        stats = await conn.fetchrow("SELECT messages_count, rsnc_earned FROM public.discord_user_stats WHERE discord_user_id = 'u1'")
        assert tuple(stats) == (3, 15)
        # thresholds come from config_metadata: raise the similarity bar and the same repeat pays
        await conn.execute(
            "UPDATE public.discord_server_configs SET config_metadata = '{\"anti_farming\": {\"similarity\": 1.01}}' WHERE server_id = 's1'"
        )
        assert (await say("u1", "8", "a genuinely different sentence about gardening", t + timedelta(minutes=64)))["status"] == "rewarded"
        assert (await say("u1", "9", "ok", t + timedelta(minutes=65)))["status"] == "rewarded"
        # the window is pruned by retention
        assert await conn.fetchval("SELECT resonance.prune_message_window($1)", t + timedelta(minutes=61)) == 5
    finally:
        await conn.close()
