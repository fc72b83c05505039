"""Typed calls the bot makes for members: stats, achievements, goals, role purchase,
tickets, wallet registration, history, and the bot's own voice sessions.

Each function takes an Executor (pool or connection) first and calls exactly one SQL function.
Results come back as `Outcome` (a jsonb status answer) or lists of `Row` (any row shape), so a
handler formats them without caring whether the SQL returns jsonb, a record or a set.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from resonance.db import Executor


class Outcome(BaseModel):
    """A jsonb answer with a `status` (rewarded, duplicate, cooldown, sold_out, ...) and any other keys."""

    model_config = ConfigDict(extra="allow")
    status: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class Row(BaseModel):
    """One row of a listing (leaderboard entry, achievement, ticket, ...), whatever its columns."""

    model_config = ConfigDict(extra="allow")

    def get(self, key: str, default: Any = None) -> Any:
        return self.model_dump().get(key, default)


def _unwrap(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        import json

        return json.loads(value)
    return value


def _placeholders(count: int) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1))


def _outcome(row: Any) -> Outcome:
    """A jsonb answer, or one record, as an Outcome."""
    if row is None:
        return Outcome(status=None)
    if len(row) == 1:
        value = _unwrap(row[0])
        return Outcome(**value) if isinstance(value, dict) else Outcome(status=None, value=value)
    return Outcome(**dict(row))


async def call_one(ex: Executor, function: str, *args: Any) -> Outcome:
    """`SELECT * FROM function(args)`: a jsonb answer, or one record, as an Outcome."""
    return _outcome(await ex.fetchrow(f"SELECT * FROM {function}({_placeholders(len(args))})", *args))


async def call_named(ex: Executor, function: str, **params: Any) -> Outcome:
    """Like call_one, in named notation (`p_<name> => $n`): for functions with many optional
    parameters, whose order is easier to get wrong than their names."""
    args = ", ".join(f"p_{name} => ${i}" for i, name in enumerate(params, start=1))
    return _outcome(await ex.fetchrow(f"SELECT * FROM {function}({args})", *params.values()))


async def call_rows(ex: Executor, function: str, *args: Any) -> list[Row]:
    """`SELECT * FROM function(args)`: a set of records, or one jsonb array, as rows."""
    rows = await ex.fetch(f"SELECT * FROM {function}({_placeholders(len(args))})", *args)
    if len(rows) == 1 and len(rows[0]) == 1:
        value = _unwrap(rows[0][0])
        if isinstance(value, list):
            return [Row(**item) if isinstance(item, dict) else Row(value=item) for item in value]
        if isinstance(value, dict):
            for key in ("rows", "items", "entries"):
                if isinstance(value.get(key), list):
                    return [Row(**item) for item in value[key]]
            return [Row(**value)]
        if value is None:
            return []
    return [Row(**dict(r)) for r in rows]


async def call_value(ex: Executor, function: str, *args: Any) -> Any:
    return _unwrap(await ex.fetchval(f"SELECT {function}({_placeholders(len(args))})", *args))


# --- stats, leaderboard, progress -------------------------------------------------------------


async def member_stats(ex: Executor, server_id: str, user_id: str) -> Outcome:
    return await call_one(ex, "resonance.member_stats", server_id, user_id)


async def list_achievements(ex: Executor, server_id: str, user_id: str) -> list[Row]:
    return await call_rows(ex, "resonance.list_achievements", server_id, user_id)


async def list_goals(ex: Executor, server_id: str) -> list[Row]:
    return await call_rows(ex, "resonance.list_goals", server_id)


# --- spending ---------------------------------------------------------------------------------


async def purchase_role(
    ex: Executor, server_id: str, user_id: str, role_id: str, idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Outcome:
    return await call_one(ex, "resonance.purchase_role", server_id, user_id, role_id, idempotency_key, at)


async def history(ex: Executor, user_id: str, currency: str | None = None, limit: int = 10) -> list[Row]:
    return await call_rows(ex, "tipping.history", user_id, currency, limit)


# --- wallet -----------------------------------------------------------------------------------


async def create_registration_nonce(ex: Executor, user_id: str, user_name: str | None = None) -> Outcome:
    """{nonce, message (the exact text to sign), expires_at}."""
    return await call_one(ex, "tipping.create_registration_nonce", user_id, user_name)


async def register_wallet(
    ex: Executor, user_id: str, nonce: str, wallet_address: str, signature: str, user_name: str | None = None
) -> Outcome:
    """The ed25519 signature is checked in Python (resonance.wallet, PyNaCl: Postgres cannot), then
    tipping.complete_wallet_registration consumes the nonce and binds the wallet."""
    from resonance import wallet

    result = await wallet.register_wallet(ex, user_id, nonce, wallet_address, signature, user_name)
    return Outcome(**result) if isinstance(result, dict) else Outcome(value=result)


# --- tickets ----------------------------------------------------------------------------------


async def open_ticket(
    ex: Executor, user_id: str, subject: str, description: str | None = None, priority: str = "medium",
    user_name: str | None = None,
) -> Outcome:
    return await call_one(ex, "tipping.open_ticket", user_id, subject, description, priority, user_name)


async def list_tickets(ex: Executor, user_id: str, status: str | None = None, limit: int = 25) -> list[Row]:
    return await call_rows(ex, "tipping.list_tickets", user_id, status, limit)


async def close_ticket(ex: Executor, ticket_id: int) -> Outcome:
    return await call_one(ex, "tipping.close_ticket", ticket_id)


# --- voice sessions (the bot's own table, migration 0800) ---------------------------------------


class OpenSession(BaseModel):
    session_id: UUID
    server_id: str
    user_id: str
    channel_id: str
    role_ids: list[str]
    started_at: datetime
    ended_at: datetime | None = None


async def voice_session_join(
    ex: Executor, server_id: str, user_id: str, channel_id: str, role_ids: list[str], at: datetime | None
) -> UUID:
    return await ex.fetchval(
        "SELECT resonance.voice_session_join($1, $2, $3, $4, $5)", server_id, user_id, channel_id, role_ids, at
    )


async def voice_session_leave(ex: Executor, server_id: str, user_id: str, at: datetime | None) -> OpenSession | None:
    row = await ex.fetchrow("SELECT * FROM resonance.voice_session_leave($1, $2, $3)", server_id, user_id, at)
    return OpenSession(**dict(row)) if row else None


async def voice_session_credited(ex: Executor, session_id: UUID) -> bool:
    return bool(await ex.fetchval("SELECT resonance.voice_session_credited($1)", session_id))


async def voice_sessions_pending(ex: Executor, server_id: str) -> list[OpenSession]:
    rows = await ex.fetch("SELECT * FROM resonance.voice_sessions_pending($1)", server_id)
    return [OpenSession(**dict(r)) for r in rows]


def whole(amount: Decimal | int | float | str | None) -> str:
    """An amount for display: no trailing zeros."""
    if amount is None:
        return "0"
    value = Decimal(str(amount)).normalize()
    return f"{value:f}"
