"""Storms: cooldowns, achievements and goals decided exactly once across many real connections."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from resonance.db import create_pool

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)


async def test_fifty_messages_from_twenty_connections_pay_once_per_cooldown(database_url: str) -> None:
    async with await create_pool(database_url, min_size=20, max_size=20) as pool:
        await pool.execute(
            """
            INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s1', 'b1');
            INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours)
            VALUES ('b1', 's1', 'channel_message', 10, 1), ('b1', 's1', 'storm', 25, 1);
            """
        )
        words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november".split()

        async def message(i: int) -> dict:
            text = " ".join(words[(i * k) % len(words)] for k in range(1, 8)) + f" number {i} " + "x" * i
            return await pool.fetchval(
                "SELECT resonance.record_message('s1', 'u1', 'c1', $1, $2, '{}', NULL, $3)",
                f"m{i}", text, T0 + timedelta(seconds=i),
            )

        async def event(i: int) -> dict:
            return await pool.fetchval(
                "SELECT resonance.record_event('s1', 'u1', 'storm', $1, '{}', NULL, '{}', $2)", f"e{i}", T0 + timedelta(seconds=i)
            )

        results = await asyncio.gather(*(message(i) for i in range(50)), *(event(i) for i in range(50)))
        paid_messages = [r for r in results[:50] if r["status"] == "rewarded"]
        paid_events = [r for r in results[50:] if r["status"] == "rewarded"]
        assert len(paid_messages) == 1
        assert len(paid_events) == 1
        assert all(r["status"] in ("recorded", "farmed") for r in results[:50] if r is not paid_messages[0])
        assert sorted({r["status"] for r in results[50:]}) == ["cooldown", "rewarded"]
        row = await pool.fetchrow(
            "SELECT count(*) AS n, sum(amount) AS total FROM resonance.reward_ledger WHERE discord_user_id = 'u1'"
        )
        assert (row["n"], row["total"]) == (2, 35)
        assert await pool.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'u1'") == 35
        assert await pool.fetchval("SELECT rsnc_earned FROM public.discord_user_stats WHERE discord_user_id = 'u1'") == 35
        counted = await pool.fetchval("SELECT messages_count FROM public.discord_user_stats WHERE discord_user_id = 'u1'")
        farmed = sum(1 for r in results[:50] if r["status"] == "farmed")
        assert counted + farmed == 50
        # After the window (the winner may be any of the 50 times), the member earns again.
        later = await pool.fetchval(
            "SELECT resonance.record_event('s1', 'u1', 'storm', 'late', '{}', NULL, '{}', $1)", T0 + timedelta(hours=1, seconds=50)
        )
        assert later["status"] == "rewarded"


async def test_achievement_and_goal_complete_exactly_once_under_concurrency(database_url: str) -> None:
    async with await create_pool(database_url, min_size=20, max_size=20) as pool:
        await pool.execute(
            """
            INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s1', 'b1');
            INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('b1', 's1', 'voice_minutes', 2);
            INSERT INTO public.discord_achievements (server_id, name, achievement_type, threshold, reward_amount)
            VALUES ('s1', 'Listener', 'voice_hours', 1, 50), ('s1', 'Earner', 'rsnc_earned', 20, 7);
            INSERT INTO public.discord_community_goals (server_id, name, goal_type, target_value, starts_at)
            VALUES ('s1', 'Twenty members', 'users', 20, '2020-01-01'), ('s1', 'Hundred', 'rsnc_distributed', 100, '2020-01-01');
            CREATE TABLE public.test_completions (kind text, id text, member text);
            CREATE FUNCTION public.test_log_goal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL THEN
                    INSERT INTO public.test_completions VALUES ('goal', NEW.goal_id::text, NULL);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_log_goal AFTER UPDATE ON public.discord_community_goals FOR EACH ROW EXECUTE FUNCTION public.test_log_goal();
            CREATE FUNCTION public.test_log_achievement() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL THEN
                    INSERT INTO public.test_completions VALUES ('achievement', NEW.achievement_id::text, NEW.discord_user_id);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_log_achievement AFTER UPDATE ON public.discord_user_achievements
            FOR EACH ROW EXECUTE FUNCTION public.test_log_achievement();
            """
        )

        async def voice(member: str, i: int) -> dict:
            return await pool.fetchval(
                "SELECT resonance.record_voice('s1', $1, 'vc', $2, 20, '{}', $3)", member, f"{member}-s{i}", T0 + timedelta(minutes=i)
            )

        # Member m0 reaches one voice hour with three 20-minute sessions racing, six times over;
        # nineteen other members join at the same time.
        calls = [voice("m0", i) for i in range(6)] + [voice(f"m{k}", 0) for k in range(1, 20)]
        results = await asyncio.gather(*calls)
        assert all(r["status"] == "rewarded" for r in results)
        await pool.execute("SELECT resonance.refresh_goals('s1', $1)", T0 + timedelta(hours=1))

        done = await pool.fetch("SELECT kind, id, member FROM public.test_completions ORDER BY 1, 2, 3")
        listener = await pool.fetchval("SELECT achievement_id::text FROM public.discord_achievements WHERE name = 'Listener'")
        assert sum(1 for r in done if r["kind"] == "achievement" and r["id"] == listener) == 1
        assert sum(1 for r in done if r["kind"] == "goal") == 2  # each goal completed once
        assert await pool.fetchval(
            "SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'achievement' AND discord_user_id = 'm0'"
        ) == 2  # Listener and Earner, once each
        goals = await pool.fetch("SELECT name, current_value, completed_at FROM public.discord_community_goals ORDER BY name")
        assert all(g["completed_at"] is not None for g in goals)
        # More rewards and refreshes never complete or pay them again.
        await asyncio.gather(*(voice(f"m{k}", 1) for k in range(1, 20)))
        await pool.execute("SELECT resonance.refresh_goals('s1', $1)", T0 + timedelta(hours=2))
        assert await pool.fetchval("SELECT count(*) FROM public.test_completions WHERE kind = 'goal'") == 2
        after = await pool.fetch("SELECT name, completed_at FROM public.discord_community_goals ORDER BY name")
        assert [(g["name"], g["completed_at"]) for g in goals] == [(a["name"], a["completed_at"]) for a in after]


async def test_reaction_threshold_pays_the_author_once_under_a_reaction_storm(database_url: str) -> None:
    async with await create_pool(database_url, min_size=20, max_size=20) as pool:
        await pool.execute(
            """
            INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s1', 'b1');
            INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, detection_config)
            VALUES ('b1', 's1', 'reaction_threshold', 30, '{"trigger": "reaction_count", "min_reactions": 5}');
            """
        )
        # 20 members react (two emojis each, every event delivered twice), all at once.
        calls = [
            pool.fetchval(
                "SELECT resonance.record_reaction('s1', $1, 'author', 'c1', 'msg', $2, '{}', $3)",
                f"r{k}", emoji, T0 + timedelta(seconds=k),
            )
            for k in range(20) for emoji in ("👍", "🔥") for _ in range(2)
        ]
        results = await asyncio.gather(*calls)
        assert sum(1 for r in results if r["status"] == "duplicate") == 40
        assert sum(1 for r in results if r["status"] == "rewarded") == 1
        assert await pool.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'author'") == 30
        row = await pool.fetchrow(
            "SELECT reactions_received FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'author'"
        )
        assert row["reactions_received"] == 40
        assert await pool.fetchval("SELECT unique_reactors FROM resonance.message_reaction_counts WHERE message_id = 'msg'") == 20
