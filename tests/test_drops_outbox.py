"""The outbox under two racing workers: every row is taken exactly once and completed."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg


async def worker(url: str, name: str, taken: Counter) -> None:
    conn = await asyncpg.connect(url)
    try:
        while True:
            rows = await conn.fetch("SELECT id FROM resonance.take_outbox(25, $1)", name)
            if not rows:
                return
            for row in rows:
                taken[row["id"]] += 1
                status = await conn.fetchval("SELECT resonance.complete_outbox($1, $2) ->> 'status'", row["id"], name)
                assert status == "done"
    finally:
        await conn.close()


async def test_two_workers_racing_over_1000_rows_take_each_once(db: asyncpg.Connection, database_url: str) -> None:
    await db.execute(
        """INSERT INTO resonance.outbox (server_id, kind, payload, dedup_key)
           SELECT 'so', 'add_role', jsonb_build_object('n', n), 'k' || n FROM generate_series(1, 1000) AS n"""
    )
    counts: dict[str, Counter] = {"w1": Counter(), "w2": Counter()}

    await asyncio.gather(*(worker(database_url, name, counts[name]) for name in counts))

    both = counts["w1"] + counts["w2"]
    assert len(both) == 1000
    assert set(both.values()) == {1}
    assert not set(counts["w1"]) & set(counts["w2"])
    assert counts["w1"] and counts["w2"], "both workers took part"
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE status = 'done' AND attempts = 1") == 1000


async def test_a_dead_workers_rows_come_back_after_the_lease(db: asyncpg.Connection) -> None:
    await db.execute("SELECT resonance.enqueue_outbox('so', 'add_role', '{}', 'only')")
    first = await db.fetchval("SELECT id FROM resonance.take_outbox(10, 'dies', interval '1 second')")
    assert await db.fetchval("SELECT count(*) FROM resonance.take_outbox(10, 'other')") == 0
    await asyncio.sleep(1.1)
    assert await db.fetchval("SELECT id FROM resonance.take_outbox(10, 'other')") == first
    assert await db.fetchval("SELECT resonance.complete_outbox($1, 'dies') ->> 'status'", first) == "not_taken"
    assert await db.fetchval("SELECT resonance.complete_outbox($1, 'other') ->> 'status'", first) == "done"
