"""Shared setup for the drops tests."""

from __future__ import annotations

import asyncpg


async def add_server(conn: asyncpg.Connection, server_id: str = "s1", brand_id: str = "b1") -> None:
    await conn.execute(
        "INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", server_id, brand_id
    )


DECIDE = "SELECT r ->> 'status', r ->> 'claim_id' FROM resonance.claim_drop($1::uuid, $2, '{}'::text[], $3) AS r"
PAY = "SELECT resonance.pay_drop_claim($1::uuid) ->> 'status'"


async def claim(ex: asyncpg.Pool | asyncpg.Connection, drop_id: str, user_id: str, at: object = None) -> str:
    """What the bot does (resonance.db.drops.claim_drop): the decision commits, then a won claim is
    paid right after, in its own transaction."""
    status, claim_id = await ex.fetchrow(DECIDE, drop_id, user_id, at)
    if status == "claimed":
        assert await ex.fetchval(PAY, claim_id) == "paid"
    return status
