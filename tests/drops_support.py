"""Shared setup for the drops tests."""

from __future__ import annotations

import asyncpg


async def add_server(conn: asyncpg.Connection, server_id: str = "s1", brand_id: str = "b1") -> None:
    await conn.execute(
        "INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", server_id, brand_id
    )
