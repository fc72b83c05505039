"""claim_drop pays the member first and decides last: a clicker who loses the race is never paid.

The guarded UPDATE of the drop row runs after the member's reward (so the hot row is locked only
until commit); a clicker whose reward was written but whose UPDATE finds the drop sold out has the
whole reward rolled back. These tests prove both the storm invariant and the rollback itself.
"""

from __future__ import annotations

import asyncio

import asyncpg
from drops_support import add_server

CLAIM = "SELECT resonance.claim_drop($1::uuid, $2, '{}'::text[], NULL) ->> 'status'"


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
    statuses = await asyncio.gather(*(pool.fetchval(CLAIM, drop_id, m) for m in members))

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
    # reward ledger rows == claim rows == claims_count == max_claims, and they are the same members.
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'drop_claim'") == 25
    assert claims_count == len(claim_rows) == len(ledger) == 25
    assert winners == claim_rows == ledger == paid
    assert await db.fetchval("SELECT sum(amount) FROM tipping.balances") == 250
    assert await db.fetchval("SELECT count(*) FROM public.discord_user_stats") == 25
    assert await db.fetchval("SELECT sum(drops_claimed) FROM resonance.daily_activity") == 25
    assert await db.fetchval("SELECT count(*) FROM resonance.daily_activity") == 25


async def test_a_clicker_who_loses_after_paying_is_rolled_back(database_url: str, db: asyncpg.Connection) -> None:
    """Deterministic lost race: B passes the lock-free read, is paid (and crosses a milestone), then
    waits on the drop row that A holds; A commits the last claim; B's whole reward is undone."""
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
        assert await a.fetchval(CLAIM, drop_id, "alice") == "claimed"
        b_pid = await b.fetchval("SELECT pg_backend_pid()")
        b_claim = asyncio.ensure_future(b.fetchval(CLAIM, drop_id, "bob"))
        for _ in range(200):  # until bob waits on alice's lock of the drop row
            if await db.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", b_pid
            ):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("bob never waited on the drop row")
        assert not b_claim.done()
        await tx.commit()
        assert await asyncio.wait_for(b_claim, 10) == "sold_out"
    finally:
        await a.close()
        await b.close()

    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 1
    assert await db.fetchval("SELECT array_agg(discord_user_id) FROM public.discord_drop_claims") == ["alice"]
    # Bob: no reward, no money, no stats, no rollup, no milestone, no outbox message.
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
    # Bob clicks again later: still sold out, still nothing.
    assert await db.fetchval(CLAIM, drop_id, "bob") == "sold_out"
    # The claim row has no foreign key (0900); deleting the drop still deletes its claims.
    await db.execute("DELETE FROM public.discord_drops WHERE drop_id = $1", drop_id)
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims") == 0
