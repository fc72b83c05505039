"""Shared setup for the drops tests: a server, and tipping.spend until the ledger's lands on main."""

from __future__ import annotations

import asyncpg

from resonance.paths import db_dir


async def install_spend_stub(conn: asyncpg.Connection) -> None:
    """Create the minimal tipping.spend stand-in (only if the real one is missing)."""
    await conn.execute((db_dir() / "tests" / "helpers" / "spend_stub.psql").read_text())


async def add_server(conn: asyncpg.Connection, server_id: str = "s1", brand_id: str = "b1") -> None:
    await conn.execute(
        "INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", server_id, brand_id
    )
