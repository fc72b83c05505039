"""The typed Python layer: one async function per public SQL function, grouped by area.

Each area is its own module (`resonance.db.engine`, `resonance.db.ledger`, `resonance.db.drops`,
`resonance.db.kpis`, ...). Every function takes an `Executor` (a pool or a connection) first,
calls exactly one SQL function and returns a pydantic model. The bot, the simulator and the
tests all go through these.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

Executor = asyncpg.Pool | asyncpg.Connection


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb and json arrive as Python objects, and go out from them."""
    for codec in ("json", "jsonb"):
        await conn.set_type_codec(codec, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
    **kwargs: Any,
) -> asyncpg.Pool:
    """The one pool a process uses; connections decode json/jsonb. With timeouts, every statement of
    the pool's sessions is cancelled past them (SQLSTATE 57014, or 55P03 for a lock wait)."""
    settings = dict(kwargs.pop("server_settings", None) or {})
    if statement_timeout_ms:
        settings["statement_timeout"] = str(statement_timeout_ms)
    if lock_timeout_ms:
        settings["lock_timeout"] = str(lock_timeout_ms)
    return await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=init_connection, server_settings=settings or None, **kwargs
    )


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn
