"""Database access for the web tier: one asyncpg pool; every request's work is one transaction that
runs as `authenticated` with the verified claims (row security decides), and a few named operations
run as `service_role` (docs/web.md lists them)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import HTTPException

from resonance.web.auth import Identity


async def _init(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(url, min_size=1, max_size=10, init=_init)


@asynccontextmanager
async def as_user(pool: asyncpg.Pool, who: Identity) -> AsyncIterator[asyncpg.Connection]:
    """A transaction as `authenticated` with the caller's claims (both transaction-local, as PostgREST does)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
            json.dumps(who.claims),
        )
        yield conn


async def become_service(conn: asyncpg.Connection) -> None:
    """Switch the current transaction to service_role (a named operation: docs/web.md)."""
    await conn.execute("SELECT set_config('role', 'service_role', true)")


@asynccontextmanager
async def as_service(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction():
        await become_service(conn)
        yield conn


# SQLSTATE -> HTTP status for the errors a caller can cause.
STATUS = {
    "RW001": 429, "RW002": 403, "RW003": 400, "RW004": 403, "RW005": 403, "RW006": 409, "RW007": 404,
    "RW008": 422, "42501": 403, "RS001": 404, "RA001": 403,
}


def http_error(exc: asyncpg.PostgresError) -> HTTPException:
    code = exc.sqlstate or ""
    status = STATUS.get(code) or (422 if code.startswith("RS") else 400)
    detail: dict[str, Any] = {"sqlstate": code, "message": exc.args[0] if exc.args else str(exc)}
    extra = getattr(exc, "detail", None)
    if extra:
        try:
            detail["usage"] = json.loads(extra)
        except ValueError:
            detail["detail"] = extra
    hint = getattr(exc, "hint", None)
    if hint:
        detail["hint"] = hint
    return HTTPException(status, detail)
