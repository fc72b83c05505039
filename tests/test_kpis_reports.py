"""Scheduled reports under concurrency: two (or ten) due_reports callers never get the same schedule."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone

import asyncpg

SERVERS = 30
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)  # a Monday and the 1st: daily, weekly (1) and monthly all due


async def _seed(conn: asyncpg.Connection) -> list[str]:
    ids = [f"rep-{i:02d}" for i in range(SERVERS)]
    await conn.executemany("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, 'b')", [(s,) for s in ids])
    frequencies = ("daily", "weekly", "monthly")
    for i, server in enumerate(ids):
        freq = frequencies[i % 3]
        await conn.execute(
            "SELECT resonance.set_report_schedule($1, $2, $3, $4)",
            server,
            freq,
            f"chan-{server}",
            1 if freq == "weekly" else None,
        )
    await conn.execute(
        "INSERT INTO resonance.daily_activity (server_id, activity_date, discord_user_id, messages_count, rsnc_earned, actions) "
        "SELECT s, date '2026-05-31', 'u' || g, 1, g, 1 FROM unnest($1::text[]) AS s, generate_series(1, 20) AS g",
        ids,
    )
    return ids


async def test_concurrent_callers_never_share_a_schedule(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        ids = await _seed(conn)

    start = asyncio.Event()

    async def caller(worker: str) -> list[str]:
        async with pool.acquire() as conn:
            await start.wait()
            async with conn.transaction():
                rows = await conn.fetch("SELECT server_id FROM resonance.due_reports($1, $2, 7)", NOW, worker)
                # Hold the claimed rows a moment so the others run into the locks.
                await asyncio.sleep(0.05)
            return [r["server_id"] for r in rows]

    claimed: list[str] = []
    # Rounds of ten parallel callers until nothing is due: every schedule is claimed exactly once.
    for _ in range(10):
        tasks = [asyncio.create_task(caller(f"w{i}")) for i in range(10)]
        await asyncio.sleep(0.01)
        start.set()
        results = await asyncio.gather(*tasks)
        start.clear()
        got = [s for r in results for s in r]
        claimed.extend(got)
        if not got:
            break

    counts = Counter(claimed)
    assert [s for s, n in counts.items() if n > 1] == []
    assert sorted(counts) == ids

    async with pool.acquire() as conn:
        stamped = await conn.fetch("SELECT server_id, last_sent_at, last_sent_by FROM public.discord_report_schedules")
        assert all(r["last_sent_at"] == NOW and r["last_sent_by"].startswith("w") for r in stamped)
        # Later the same day nothing is due any more.
        assert await conn.fetch("SELECT * FROM resonance.due_reports($1, 'late', 100)", NOW.replace(hour=23)) == []


async def test_two_callers_one_schedule(pool: asyncpg.Pool) -> None:
    """The classic pair: A claims and holds its transaction open; B, started meanwhile and after, gets nothing."""
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('solo', 'b')")
        await conn.execute("SELECT resonance.set_report_schedule('solo', 'daily', 'chan')")

    async with pool.acquire() as a, pool.acquire() as b:
        tx = a.transaction()
        await tx.start()
        got_a = await a.fetch("SELECT server_id, report FROM resonance.due_reports($1, 'A')", NOW)
        got_b_locked = await b.fetch("SELECT server_id FROM resonance.due_reports($1, 'B')", NOW)
        await tx.commit()
        got_b_after = await b.fetch("SELECT server_id FROM resonance.due_reports($1, 'B')", NOW)

    assert [r["server_id"] for r in got_a] == ["solo"]
    assert got_b_locked == []
    assert got_b_after == []


async def test_waiting_caller_rechecks_after_commit(database_url: str) -> None:
    """B blocks behind A's lock (a plain UPDATE holding the row), then must see the fresh last_sent_at."""
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    try:
        await a.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('w1', 'b')")
        await a.execute("SELECT resonance.set_report_schedule('w1', 'monthly', 'chan')")
        tx = a.transaction()
        await tx.start()
        claimed = await a.fetch("SELECT server_id FROM resonance.due_reports($1, 'A')", NOW)
        # B in its own transaction: skips the locked row now...
        assert await b.fetch("SELECT server_id FROM resonance.due_reports($1, 'B')", NOW) == []
        await tx.commit()
        # ...and after A's commit the schedule is no longer due (the 1st's report went out).
        assert await b.fetch("SELECT server_id FROM resonance.due_reports($1, 'B')", NOW.replace(day=20)) == []
        assert [r["server_id"] for r in claimed] == ["w1"]
        # Next month it is due again.
        again = await b.fetch("SELECT server_id FROM resonance.due_reports($1, 'B')", datetime(2026, 7, 1, 0, 0, 1, tzinfo=timezone.utc))
        assert [r["server_id"] for r in again] == ["w1"]
    finally:
        await a.close()
        await b.close()
