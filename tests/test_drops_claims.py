"""Drops under a stampede: exactly max_claims winners, one claim per member, expiry, reaction drops."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import asyncpg
from drops_support import PAY, add_server, claim



async def create_drop(conn: asyncpg.Connection, max_claims: int | None, **kw: object) -> str:
    return await conn.fetchval(
        """SELECT resonance.create_drop(
               'sd', $1, 'c1', $2, $3, $4, $5, $6, p_required_role_ids => '{}', p_at => $7) ->> 'drop_id'""",
        kw.get("drop_type", "button"),
        kw.get("message_id"),
        kw.get("emoji"),
        kw.get("expires_at"),
        max_claims,
        kw.get("amount", 10),
        kw.get("at"),
    )


async def test_stampede_of_1000_members_on_a_drop_of_100(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await add_server(db, "sd")
    drop_id = await create_drop(db, 100)

    started = time.perf_counter()
    statuses = await asyncio.gather(*(claim(pool, drop_id, f"m{i}", None) for i in range(1000)))
    elapsed = time.perf_counter() - started

    assert statuses.count("claimed") == 100
    assert statuses.count("sold_out") == 900
    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 100
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims WHERE drop_id = $1", drop_id) == 100
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'drop_claim'") == 100
    assert await db.fetchval("SELECT sum(amount) FROM tipping.balances") == 1000
    assert await db.fetchval("SELECT sum(drops_claimed) FROM resonance.daily_activity") == 100
    # Winners and claim rows are the same members.
    winners = {f"m{i}" for i, s in enumerate(statuses) if s == "claimed"}
    rows = {r["discord_user_id"] for r in await db.fetch("SELECT discord_user_id FROM public.discord_drop_claims")}
    assert winners == rows
    print(f"\n1000 claims from 50 connections on a drop of 100: {elapsed:.2f}s")


async def test_one_member_clicking_30_times_at_once_wins_once(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await add_server(db, "sd")
    drop_id = await create_drop(db, 5)

    statuses = await asyncio.gather(*(claim(pool, drop_id, "clicker", None) for _ in range(30)))

    assert statuses.count("claimed") == 1
    assert statuses.count("already_claimed") == 29
    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 1
    assert await db.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'clicker'") == 10


async def test_claims_at_the_expiry_instant(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await add_server(db, "sd")
    created = datetime(2030, 1, 1, tzinfo=timezone.utc)
    expires = created + timedelta(minutes=10)
    drop_id = await create_drop(db, None, expires_at=expires, at=created)

    before = expires - timedelta(microseconds=1)
    statuses = await asyncio.gather(
        *(claim(pool, drop_id, f"early{i}", before) for i in range(40)),
        *(claim(pool, drop_id, f"late{i}", expires) for i in range(40)),
    )

    assert statuses[:40] == ["claimed"] * 40
    assert statuses[40:] == ["expired"] * 40
    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 40
    assert await db.fetchval("SELECT resonance.close_expired_drops($1)", expires) == 1
    assert await claim(pool, drop_id, "after", before) == "expired"


async def test_a_reaction_drop(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await add_server(db, "sd")
    drop_id = await create_drop(db, 10, drop_type="reaction", message_id="msg-1", emoji="🎁", amount=5)
    react = "SELECT r ->> 'status', r ->> 'claim_id' FROM resonance.claim_reaction_drop('sd', 'msg-1', $1, $2) AS r"

    async def react_and_pay(emoji: str, user_id: str) -> str:
        status, claim_id = await pool.fetchrow(react, emoji, user_id)
        if status == "claimed":
            assert await pool.fetchval(PAY, claim_id) == "paid"
        return status

    statuses = await asyncio.gather(
        *(react_and_pay("🎁", f"r{i}") for i in range(200)),
        *(react_and_pay("👍", f"r{i}") for i in range(20)),
    )

    assert statuses[:200].count("claimed") == 10
    assert statuses[:200].count("sold_out") == 190
    assert statuses[200:] == ["no_drop"] * 20
    assert await db.fetchval("SELECT claims_count FROM public.discord_drops WHERE drop_id = $1", drop_id) == 10
    assert await db.fetchval("SELECT count(*) FROM public.discord_drop_claims") == 10
    assert await db.fetchval("SELECT sum(amount) FROM tipping.balances") == 50


async def test_sold_out_and_repeat_answers_do_not_wait_on_the_drop_row(db: asyncpg.Connection, database_url: str) -> None:
    await add_server(db, "sd")
    drop_id = await create_drop(db, 1)
    assert await claim(db, drop_id, "winner", None) == "claimed"

    holder = await asyncpg.connect(database_url)
    other = await asyncpg.connect(database_url)
    try:
        # Someone holds the hot row (as a winner mid-transaction would).
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT FROM public.discord_drops WHERE drop_id = $1 FOR UPDATE", drop_id)
        await other.execute("SET lock_timeout = '300ms'")
        started = time.perf_counter()
        assert await claim(other, drop_id, "loser", None) == "sold_out"
        assert await claim(other, drop_id, "winner", None) == "already_claimed"
        assert time.perf_counter() - started < 0.3
        await tx.rollback()
    finally:
        await holder.close()
        await other.close()
