"""A dedicated, freshly migrated database on the local cluster (for the demo and the benchmarks)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg

from resonance.migrate import migrate


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def fresh_database(admin_url: str, name: str, *, log=print) -> str:
    """Drop `name` if it exists, create it, apply every migration; return its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    conn = await asyncpg.connect(with_database(admin_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(admin_url, name)
    await migrate(url, log=lambda _m: None)
    log(f"database {name}: created and migrated")
    return url
