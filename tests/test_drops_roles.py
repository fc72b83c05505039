"""Role purchases: too little balance changes nothing; a double-clicked purchase pays once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from drops_support import add_server


async def snapshot(db: asyncpg.Connection) -> tuple:
    return (
        await db.fetchval("SELECT coalesce(sum(amount), 0) FROM tipping.balances"),
        await db.fetchval("SELECT count(*) FROM tipping.transactions"),
        await db.fetchval("SELECT count(*) FROM public.discord_role_assignments"),
        await db.fetchval("SELECT count(*) FROM resonance.outbox"),
    )


async def setup_shop(db: asyncpg.Connection) -> None:
    await add_server(db, "sr")
    await db.execute(
        """INSERT INTO public.discord_role_configs
               (server_id, brand_id, discord_role_id, effect_type, effect_config, assignment_type, assignment_config)
           VALUES ('sr', 'b1', 'r-shop', 'multiplier', '{"value":2}', 'purchase', '{"price":100}')"""
    )


async def test_a_purchase_with_too_little_balance_changes_nothing(db: asyncpg.Connection) -> None:
    await setup_shop(db)
    await db.execute("SELECT resonance.apply_reward('sr', 'poor', 'seed', 'seed', 99, '2030-01-01')")
    before = await snapshot(db)

    with pytest.raises(asyncpg.PostgresError) as raised:
        await db.execute("SELECT resonance.purchase_role('sr', 'poor', 'r-shop')")

    assert raised.value.sqlstate == "RT001"
    assert await snapshot(db) == before
    assert await db.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'poor'") == 99


async def test_a_purchase_clicked_10_times_at_once_pays_once(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await setup_shop(db)
    await db.execute("SELECT resonance.apply_reward('sr', 'rich', 'seed', 'seed', 1000, '2030-01-01')")

    statuses = await asyncio.gather(
        *(pool.fetchval("SELECT resonance.purchase_role('sr', 'rich', 'r-shop') ->> 'status'") for _ in range(10))
    )

    assert sorted(statuses) == ["already_owned"] * 9 + ["purchased"]
    assert await db.fetchval("SELECT amount FROM tipping.balances WHERE user_id = 'rich'") == 900
    assert await db.fetchval("SELECT ltz_spent FROM public.discord_role_assignments WHERE discord_user_id = 'rich'") == 100
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE kind = 'add_role'") == 1
