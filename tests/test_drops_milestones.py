"""Milestones under concurrency: one assignment and one bonus however many events cross at once."""

from __future__ import annotations

import asyncio

import asyncpg
from drops_support import add_server


async def setup_whale(db: asyncpg.Connection) -> None:
    await add_server(db, "sm")
    await db.execute(
        """SELECT resonance.create_milestone('sm', 'r-whale', 'Whale', '[{"type":"rsnc_earned","threshold":100}]', 500)"""
    )
    await db.execute("SELECT resonance.apply_reward('sm', 'u1', 'seed', 'seed', 90, '2030-01-01')")


async def assert_crossed_once(db: asyncpg.Connection) -> None:
    row = await db.fetchrow(
        """SELECT count(*) AS n, bool_and(one_time_bonus_claimed) AS claimed, max(one_time_bonus_amount) AS amount,
                  max(assigned_by) AS assigned_by
           FROM public.discord_role_assignments WHERE discord_user_id = 'u1' AND discord_role_id = 'r-whale'"""
    )
    assert (row["n"], row["claimed"], row["amount"], row["assigned_by"]) == (1, True, 500, "auto:milestone")
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'one_time_bonus'") == 1
    assert await db.fetchval(
        "SELECT count(*) FROM tipping.transactions WHERE recipient_id = 'u1' AND amount = 500"
    ) == 1
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE kind = 'add_role'") == 1


async def test_20_concurrent_events_crossing_the_same_milestone(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await setup_whale(db)

    results = await asyncio.gather(
        *(
            pool.fetchval(
                "SELECT resonance.apply_reward('sm', 'u1', 'message', $1, 20, '2030-01-02') ->> 'status'", f"msg-{i}"
            )
            for i in range(20)
        )
    )

    assert results == ["rewarded"] * 20
    await assert_crossed_once(db)
    # 90 + 20 * 20 + the bonus once.
    assert await db.fetchval("SELECT rsnc_earned FROM public.discord_user_stats WHERE discord_user_id = 'u1'") == 990


async def test_20_concurrent_evaluations_without_the_stats_lock(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await setup_whale(db)
    await db.execute("UPDATE public.discord_user_stats SET rsnc_earned = 150 WHERE discord_user_id = 'u1'")

    await asyncio.gather(
        *(pool.execute("SELECT resonance.evaluate_milestones('sm', 'u1', '2030-01-02')") for _ in range(20))
    )

    await assert_crossed_once(db)


async def test_a_server_without_milestones_reads_only_the_role_configs(db: asyncpg.Connection) -> None:
    await add_server(db, "sm")
    await db.execute("SELECT resonance.apply_reward('sm', 'u1', 'seed', 'seed', 90, '2030-01-01')")
    scans = """SELECT relname, seq_scan + coalesce(idx_scan, 0) AS scans FROM pg_stat_xact_user_tables
               WHERE relname IN ('discord_role_configs', 'discord_user_stats', 'discord_user_streaks',
                                 'discord_role_assignments', 'balances')"""
    async with db.transaction():
        before = {r["relname"]: r["scans"] for r in await db.fetch(scans)}
        for _ in range(100):
            await db.execute("SELECT resonance.evaluate_milestones('sm', 'u1', '2030-01-01')")
        after = {r["relname"]: r["scans"] for r in await db.fetch(scans)}

    touched = {name for name in after if after[name] != before.get(name, 0)}
    assert touched == {"discord_role_configs"}
    assert after["discord_role_configs"] - before.get("discord_role_configs", 0) == 100
