"""Drops and one-time bonuses: resonance.create_drop, claim_drop, claim_one_time_bonus."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from resonance.db import Executor
from resonance.db._call import MissingFunctionError, scalar
from resonance.db.models import BonusResult, ClaimResult


async def create_drop(ex: Executor, server_id: str, **params: Any) -> UUID:
    """Create a drop. Named arguments map to the SQL parameters `p_<name>` (named notation)."""
    names = list(params)
    sql_args = ", ".join(f"p_{name} => ${i}" for i, name in enumerate(names, start=2))
    sql = f"SELECT resonance.create_drop(p_server_id => $1{', ' + sql_args if sql_args else ''})"
    try:
        value = await ex.fetchval(sql, server_id, *params.values())
    except asyncpg.UndefinedFunctionError as exc:
        raise MissingFunctionError("resonance.create_drop", str(exc)) from exc
    if isinstance(value, dict):
        value = value.get("drop_id")
    return value if isinstance(value, UUID) else UUID(str(value))


async def claim_drop(
    ex: Executor,
    drop_id: UUID | str,
    user_id: str,
    role_ids: Sequence[str] = (),
    at: datetime | None = None,
) -> ClaimResult:
    value = await scalar(
        ex,
        "resonance.claim_drop",
        ("uuid", "text", "text[]", "timestamptz"),
        str(drop_id), user_id, list(role_ids), at,
    )
    return ClaimResult.model_validate(value)


async def claim_one_time_bonus(
    ex: Executor,
    server_id: str,
    user_id: str,
    role_id: str,
    role_ids: Sequence[str] = (),
) -> BonusResult:
    value = await scalar(
        ex,
        "resonance.claim_one_time_bonus",
        ("text", "text", "text", "text[]"),
        server_id, user_id, role_id, list(role_ids),
    )
    return BonusResult.model_validate(value)
