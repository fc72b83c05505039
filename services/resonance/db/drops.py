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
    """Decide, then pay: resonance.claim_drop commits the decision in its own short transaction
    (autocommit on a pool or a connection outside a transaction), then resonance.pay_drop_claim pays
    a won claim right after, exactly once. `claimed` is only ever answered for a decided claim; when
    the payment fails (a crash, a lost connection) the claim stays decided and the job
    resonance.pay_unpaid_drop_claims pays it: the answer then has no "payment" key."""
    value = await scalar(
        ex,
        "resonance.claim_drop",
        ("uuid", "text", "text[]", "timestamptz"),
        str(drop_id), user_id, list(role_ids), at,
    )
    result = ClaimResult.model_validate(value)
    claim_id = result.extra.get("claim_id")
    if result.status == "claimed" and claim_id:
        try:
            payment = await pay_drop_claim(ex, claim_id)
        except (asyncpg.PostgresError, OSError):
            return result
        return ClaimResult.model_validate({**result.model_dump(), "payment": payment})
    return result


async def pay_drop_claim(ex: Executor, claim_id: UUID | str) -> dict[str, Any]:
    """Pay a decided drop claim exactly once (paid, or already_paid)."""
    value = await scalar(ex, "resonance.pay_drop_claim", ("uuid",), str(claim_id))
    return dict(value) if isinstance(value, dict) else {"status": None}


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
