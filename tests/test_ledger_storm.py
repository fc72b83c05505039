"""The ledger under real concurrency: money conserved to 1e-8, no negative balance, reconcile() empty,
no deadlock or serialization failure escaping, and idempotency keys that hold when replayed at once."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal

import asyncpg
import pytest

MEMBERS = 300
WORKERS = 30
TIPS_PER_WORKER = 100  # 3,000 tips
SEED_EACH = Decimal("100")
QUANTUM = Decimal("0.00000001")


async def seed(conn: asyncpg.Connection, members: list[str], amount: Decimal) -> None:
    await conn.executemany(
        "SELECT tipping.mint($1, $2, 'RSNC', 'seed', $3)", [(m, amount, f"seed:{m}") for m in members]
    )


async def totals(conn: asyncpg.Connection) -> tuple[Decimal, Decimal, int]:
    row = await conn.fetchrow(
        "SELECT coalesce(sum(amount), 0) AS total, coalesce(min(amount), 0) AS lowest, count(*) AS n "
        "FROM tipping.balances WHERE currency = 'RSNC'"
    )
    return row["total"], row["lowest"], row["n"]


async def test_tip_storm_conserves_money(pool: asyncpg.Pool) -> None:
    members = [f"storm-{i:03d}" for i in range(MEMBERS)]
    hot = members[:8]  # a few members everyone tips, in both directions, to force lock contention
    async with pool.acquire() as conn:
        await seed(conn, members, SEED_EACH)
        total_before, _, _ = await totals(conn)
    assert total_before == SEED_EACH * MEMBERS

    outcomes: dict[str, int] = {"ok": 0, "insufficient": 0}
    unexpected: list[BaseException] = []
    sent_ok: list[Decimal] = []

    async def worker(w: int) -> None:
        rng = random.Random(1000 + w)
        async with pool.acquire() as conn:
            for i in range(TIPS_PER_WORKER):
                pool_a = hot if rng.random() < 0.3 else members
                sender = rng.choice(pool_a)
                receiver = rng.choice(hot if rng.random() < 0.3 else members)
                if receiver == sender:
                    receiver = members[(members.index(sender) + 1) % MEMBERS]
                amount = Decimal(rng.randint(1, 40 * 10**8)) * QUANTUM
                try:
                    await conn.fetchval(
                        "SELECT tipping.tip($1, $2, $3, 'RSNC', 'storm-server', $4)", sender, receiver, amount, f"storm:{w}:{i}"
                    )
                    outcomes["ok"] += 1
                    sent_ok.append(amount)
                except asyncpg.PostgresError as exc:
                    if exc.sqlstate == "RT001":
                        outcomes["insufficient"] += 1
                    else:
                        unexpected.append(exc)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(WORKERS)))
    elapsed = time.perf_counter() - started

    assert unexpected == [], f"errors escaped the ledger: {unexpected[:3]}"
    assert outcomes["ok"] + outcomes["insufficient"] == WORKERS * TIPS_PER_WORKER
    assert outcomes["ok"] > 1000

    async with pool.acquire() as conn:
        total_after, lowest, _ = await totals(conn)
        reconcile = await conn.fetch("SELECT * FROM tipping.reconcile()")
        tips = await conn.fetchrow("SELECT count(*) AS n, coalesce(sum(amount), 0) AS s FROM tipping.tips")
        issued = await conn.fetchval(
            "SELECT sum(amount) FROM tipping.transactions WHERE transaction_type = 'mint' AND currency = 'RSNC'"
        )
    assert abs(total_after - total_before) < Decimal("1e-8")
    assert total_after == issued
    assert lowest >= 0
    assert reconcile == []
    assert tips["n"] == outcomes["ok"]
    assert tips["s"] == sum(sent_ok, Decimal(0))
    print(
        f"\nstorm: {WORKERS * TIPS_PER_WORKER} tips from {WORKERS} connections among {MEMBERS} members in "
        f"{elapsed:.2f}s ({WORKERS * TIPS_PER_WORKER / elapsed:.0f}/s); {outcomes}"
    )


async def test_opposite_tips_do_not_deadlock(pool: asyncpg.Pool) -> None:
    """pgledger's check: A->B and B->A at once, many times, must queue (fixed lock order), never deadlock."""
    async with pool.acquire() as conn:
        await seed(conn, ["opp-a", "opp-b"], Decimal("50"))
    errors: list[BaseException] = []

    async def flip(sender: str, receiver: str, n: int) -> None:
        async with pool.acquire() as conn:
            for _ in range(n):
                try:
                    await conn.fetchval("SELECT tipping.tip($1, $2, 1, 'RSNC')", sender, receiver)
                except asyncpg.PostgresError as exc:
                    if exc.sqlstate != "RT001":
                        errors.append(exc)

    await asyncio.gather(*(flip(*(("opp-a", "opp-b") if k % 2 else ("opp-b", "opp-a")), 40) for k in range(10)))
    assert errors == []
    async with pool.acquire() as conn:
        a = await conn.fetchval("SELECT tipping.balance('opp-a', 'RSNC')")
        b = await conn.fetchval("SELECT tipping.balance('opp-b', 'RSNC')")
        assert a + b == Decimal("100")
        assert a >= 0 and b >= 0
        assert await conn.fetch("SELECT * FROM tipping.reconcile()") == []


async def test_overdraw_race_never_goes_negative(pool: asyncpg.Pool) -> None:
    """20 connections try to spend the same 10 RSNC at once: exactly 10 succeed."""
    async with pool.acquire() as conn:
        await seed(conn, ["race"], Decimal("10"))

    async def one(k: int) -> str:
        async with pool.acquire() as conn:
            try:
                await conn.fetchval("SELECT tipping.tip('race', $1, 1, 'RSNC')", f"race-to-{k}")
                return "ok"
            except asyncpg.PostgresError as exc:
                return exc.sqlstate

    results = await asyncio.gather(*(one(k) for k in range(20)))
    assert results.count("ok") == 10
    assert results.count("RT001") == 10
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT tipping.balance('race', 'RSNC')") == 0


async def test_replays_return_the_first_result(db: asyncpg.Connection) -> None:
    mint_id = await db.fetchval("SELECT tipping.mint('rep-a', 10, 'RSNC', 'seed', 'rep:mint')")
    tip_id = await db.fetchval("SELECT tipping.tip('rep-a', 'rep-b', 3, 'RSNC', NULL, 'rep:tip')")
    spend_id = await db.fetchval("SELECT tipping.spend('rep-a', 2, 'RSNC', 'brand', NULL, 'role', 'rep:spend')")
    for _ in range(3):
        assert await db.fetchval("SELECT tipping.mint('rep-a', 10, 'RSNC', 'seed', 'rep:mint')") == mint_id
        assert await db.fetchval("SELECT tipping.tip('rep-a', 'rep-b', 3, 'RSNC', NULL, 'rep:tip')") == tip_id
        assert await db.fetchval("SELECT tipping.spend('rep-a', 2, 'RSNC', 'brand', NULL, 'role', 'rep:spend')") == spend_id
    assert await db.fetchval("SELECT tipping.balance('rep-a', 'RSNC')") == Decimal("5")
    assert await db.fetchval("SELECT tipping.balance('rep-b', 'RSNC')") == Decimal("3")
    assert await db.fetchval("SELECT count(*) FROM tipping.transactions") == 3
    # A replay is honoured even when the first call could no longer succeed.
    await db.fetchval("SELECT tipping.spend('rep-a', 5, 'RSNC', 'brand')")
    assert await db.fetchval("SELECT tipping.tip('rep-a', 'rep-b', 3, 'RSNC', NULL, 'rep:tip')") == tip_id
    with pytest.raises(asyncpg.PostgresError) as info:
        await db.fetchval("SELECT tipping.tip('rep-a', 'rep-b', 4, 'RSNC', NULL, 'rep:tip')")
    assert info.value.sqlstate == "RT007"


@pytest.mark.parametrize("call", ["tip", "mint", "spend"])
async def test_concurrent_replays_move_money_once(pool: asyncpg.Pool, call: str) -> None:
    async with pool.acquire() as conn:
        await seed(conn, ["conc-a"], Decimal("100"))
    sql = {
        "tip": "SELECT tipping.tip('conc-a', 'conc-b', 7, 'RSNC', NULL, 'same-key')",
        "mint": "SELECT tipping.mint('conc-a', 7, 'RSNC', 'bonus', 'same-key')",
        "spend": "SELECT tipping.spend('conc-a', 7, 'RSNC', 'brand', NULL, 'role', 'same-key')",
    }[call]

    async def one() -> object:
        async with pool.acquire() as conn:
            return await conn.fetchval(sql)

    ids = await asyncio.gather(*(one() for _ in range(20)))
    assert len(set(ids)) == 1
    expected = {"tip": Decimal("93"), "mint": Decimal("107"), "spend": Decimal("93")}[call]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT tipping.balance('conc-a', 'RSNC')") == expected
        assert await conn.fetchval("SELECT count(*) FROM tipping.transactions WHERE idempotency_key = 'same-key'") == 1
        assert await conn.fetch("SELECT * FROM tipping.reconcile()") == []
