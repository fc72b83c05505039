"""Drops decide first and pay right after, exactly once (issue 18).

resonance.claim_drop commits the decision (the guarded claims_count UPDATE and the claim row) in its
own short transaction; resonance.pay_drop_claim pays a won claim exactly once; the job
resonance.pay_unpaid_drop_claims pays what a crash left decided but unpaid.
"""

from __future__ import annotations

import asyncio

import asyncpg
from drops_support import DECIDE, PAY, add_server, claim


async def create_drop(conn: asyncpg.Connection, max_claims: int, amount: int = 10) -> str:
    return await conn.fetchval(
        """SELECT resonance.create_drop('sd', 'button', 'c1', p_max_claims => $1, p_reward_amount => $2,
                                        p_required_role_ids => '{}') ->> 'drop_id'""",
        max_claims,
        amount,
    )


async def test_storm_of_more_clickers_than_claims_pays_exactly_the_winners(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_server(db, "sd")
    drop_id = await create_drop(db, 25)

    members = [f"m{i}" for i in range(400)]
    statuses = await asyncio.gather(*(claim(pool, drop_id, m) for m in members))

    winners = {m for m, s in zip(members, statuses) if s == "claimed"}
    assert len(winners) == 25
    assert statuses.count("sold_out") == 375
    claims_count = await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id)
    claim_rows = {r["discord_user_id"] for r in await db.fetch("SELECT discord_user_id FROM public.discord_drop_claims")}
    ledger = {
        r["discord_user_id"]
        for r in await db.fetch("SELECT discord_user_id FROM resonance.reward_ledger WHERE event_type = 'drop_claim'")
    }
    paid = {r["recipient_id"] for r in await db.fetch("SELECT recipient_id FROM tipping.transactions")}
    assert claims_count == len(claim_rows) == len(ledger) == 25
    assert winners == claim_rows == ledger == paid
    assert await db.fetchval("SELECT sum(amount) FROM tipping.balances") == 250
    # Losers never got a stats row: their clicks wrote nothing.
    assert await db.fetchval("SELECT count(*) FROM public.discord_user_stats") == 25
    assert await db.fetchval("SELECT sum(drops_claimed) FROM resonance.daily_activity") == 25
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims WHERE paid_at IS NULL") == 0
    assert await db.fetch("SELECT * FROM tipping.reconcile()") == []


async def test_a_clicker_who_loses_the_race_gets_nothing(database_url: str, db: asyncpg.Connection) -> None:
    """Deterministic lost race: B passes the lock-free read, then waits on the drop row that A's
    open decision holds; A commits the last claim; B is sold_out and nothing of B's is written."""
    await add_server(db, "sd")
    await db.execute(
        """SELECT resonance.create_milestone('sd', 'r-first', 'First', '[{"type":"rsnc_earned","threshold":10}]', 50)"""
    )
    drop_id = await create_drop(db, 1)

    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    try:
        tx = a.transaction()
        await tx.start()
        status, alice_claim = await a.fetchrow(DECIDE, drop_id, "alice", None)
        assert status == "claimed"
        b_pid = await b.fetchval("SELECT pg_backend_pid()")
        b_claim = asyncio.ensure_future(b.fetchrow(DECIDE, drop_id, "bob", None))
        for _ in range(200):  # until bob waits on alice's lock of the drop row
            if await db.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", b_pid):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("bob never waited on the drop row")
        assert not b_claim.done()
        await tx.commit()
        assert (await asyncio.wait_for(b_claim, 10))[0] == "sold_out"
        # Alice is paid right after her decision committed.
        assert await a.fetchval(PAY, alice_claim) == "paid"
    finally:
        await a.close()
        await b.close()

    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 1
    assert await db.fetchval("SELECT array_agg(discord_user_id) FROM public.discord_drop_claims") == ["alice"]
    for sql in (
        "SELECT count(*) FROM resonance.reward_ledger WHERE discord_user_id = 'bob'",
        "SELECT count(*) FROM tipping.transactions WHERE recipient_id = 'bob'",
        "SELECT count(*) FROM tipping.balances WHERE user_id = 'bob'",
        "SELECT count(*) FROM public.discord_user_stats WHERE discord_user_id = 'bob'",
        "SELECT count(*) FROM resonance.daily_activity WHERE discord_user_id = 'bob'",
        "SELECT count(*) FROM public.discord_role_assignments WHERE discord_user_id = 'bob'",
        "SELECT count(*) FROM resonance.outbox WHERE payload ->> 'user_id' = 'bob'",
    ):
        assert await db.fetchval(sql) == 0, sql
    # Alice: the claim, the milestone bonus, the role, once each.
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE discord_user_id = 'alice'") == 2
    assert await db.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'alice'") == 60
    assert await db.fetchval("SELECT count(*) FROM public.discord_role_assignments WHERE discord_user_id = 'alice'") == 1
    assert await claim(db, drop_id, "bob") == "sold_out"
    # The claim row has no foreign key (0900); deleting the drop still deletes its claims.
    await db.execute("DELETE FROM public.discord_drops WHERE drop_id = $1", drop_id)
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims") == 0


async def test_a_crash_between_decision_and_payment_is_paid_once_by_the_job(
    database_url: str, db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """Twelve winners' decisions commit, then the bot dies before paying. The decisions stand
    (claimed, counted, unpaid); the repair job and late payments from a recovering bot then race:
    every claim is paid exactly once."""
    await add_server(db, "sd")
    drop_id = await create_drop(db, 12, amount=7)

    bot = await asyncpg.connect(database_url)
    claims = []
    for i in range(12):
        status, claim_id = await bot.fetchrow(DECIDE, drop_id, f"w{i}", None)
        assert status == "claimed"
        claims.append(claim_id)
    await bot.close()  # the crash: no payment was sent

    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 12
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims WHERE paid_at IS NULL") == 12
    assert await db.fetchval("SELECT coalesce(sum(amount), 0) FROM tipping.balances") == 0
    assert await claim(db, drop_id, "late") == "sold_out"

    # The job (twice, concurrently) and the recovered bot paying every claim again, all at once.
    outcomes = await asyncio.gather(
        pool.fetchval("SELECT resonance.pay_unpaid_drop_claims()"),
        pool.fetchval("SELECT resonance.pay_unpaid_drop_claims()"),
        *(pool.fetchval(PAY, c) for c in claims),
    )
    jobs, payments = outcomes[:2], outcomes[2:]
    assert sum(jobs) + payments.count("paid") == 12
    assert set(payments) <= {"paid", "already_paid"}

    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims WHERE paid_at IS NULL") == 0
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'drop_claim'") == 12
    assert await db.fetchval("SELECT count(*) FROM tipping.transactions WHERE transaction_type = 'reward'") == 12
    assert await db.fetchval("SELECT sum(amount) FROM tipping.balances") == 84
    assert await db.fetchval("SELECT sum(drops_claimed) FROM resonance.daily_activity") == 12
    assert await db.fetchval("SELECT resonance.pay_unpaid_drop_claims()") == 0
    assert await db.fetch("SELECT * FROM tipping.reconcile()") == []


async def test_a_decision_that_never_commits_leaves_nothing(database_url: str, db: asyncpg.Connection) -> None:
    """A crash before the decision commits: no claim, no count; the member may click again."""
    await add_server(db, "sd")
    drop_id = await create_drop(db, 1)
    conn = await asyncpg.connect(database_url)
    tx = conn.transaction()
    await tx.start()
    assert (await conn.fetchrow(DECIDE, drop_id, "m1", None))[0] == "claimed"
    await conn.close()  # dies mid-transaction
    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 0
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims") == 0
    assert await claim(db, drop_id, "m1") == "claimed"
