"""The documented example questions and the sealed console, one SQL function each."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Union

import asyncpg
from pydantic import BaseModel

Executor = Union[asyncpg.Pool, asyncpg.Connection]

CONSOLE_TIMEOUT = "30s"
ROW_CAP = 10_000


class ReplyPair(BaseModel):
    replier_id: int
    replier: str | None
    replied_to_id: int
    replied_to: str | None
    reply_count: int


class ActivityLevel(BaseModel):
    user_id: int
    username: str | None
    messages: int
    activity_level: str


class DailyTrend(BaseModel):
    day: date
    messages: int
    active_users: int


class ReactionGiver(BaseModel):
    user_id: int
    username: str | None
    reactions_given: int


class ConsoleResult(BaseModel):
    columns: list[str] = []
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool
    tenant_id: str


async def top_reply_pairs(db: Executor, tenant_id: str, server_id: int, limit: int = 10) -> list[ReplyPair]:
    rows = await db.fetch("SELECT * FROM analytics.top_reply_pairs($1, $2, $3)", tenant_id, server_id, limit)
    return [ReplyPair(**dict(r)) for r in rows]


async def activity_levels(db: Executor, tenant_id: str, server_id: int, days: int = 30, at: datetime | None = None,
                          power_over: int = 500, active_over: int = 100, casual_over: int = 20) -> list[ActivityLevel]:
    rows = await db.fetch(
        "SELECT * FROM analytics.activity_levels($1, $2, $3, $4, $5, $6, $7)",
        tenant_id, server_id, days, at, power_over, active_over, casual_over,
    )
    return [ActivityLevel(**dict(r)) for r in rows]


async def daily_trends(db: Executor, tenant_id: str, server_id: int, days: int = 30,
                       at: datetime | None = None) -> list[DailyTrend]:
    rows = await db.fetch("SELECT * FROM analytics.daily_trends($1, $2, $3, $4)", tenant_id, server_id, days, at)
    return [DailyTrend(**dict(r)) for r in rows]


async def top_reaction_givers(db: Executor, tenant_id: str, server_id: int, limit: int = 10) -> list[ReactionGiver]:
    rows = await db.fetch("SELECT * FROM analytics.top_reaction_givers($1, $2, $3)", tenant_id, server_id, limit)
    return [ReactionGiver(**dict(r)) for r in rows]


async def console_query(db: Executor, tenant_id: str, sql: str, *, row_cap: int = ROW_CAP,
                        timeout: str = CONSOLE_TIMEOUT) -> ConsoleResult:
    """Run a tenant's SQL in the sealed console: its own transaction, statement_timeout set first."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await console_query(conn, tenant_id, sql, row_cap=row_cap, timeout=timeout)
    async with db.transaction():
        await db.execute("SELECT set_config('statement_timeout', $1, true)", timeout)
        raw = await db.fetchval("SELECT analytics.console_query($1, $2, $3)", tenant_id, sql, row_cap)
    return ConsoleResult(**(json.loads(raw) if isinstance(raw, str) else raw))
