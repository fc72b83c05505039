"""Drops and one-time bonuses: resonance.create_drop, claim_drop, claim_one_time_bonus, cancel_drop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import BonusResult, ClaimResult, Outcome

ClaimResultT = TypeVar("ClaimResultT", bound=Outcome)


async def create_drop(ex: Executor, server_id: str, **params: Any) -> UUID:
    """Create a drop; named arguments map to the SQL parameters `p_<name>`. Returns the drop id."""
    value = await call(ex, "resonance.create_drop", server_id=server_id, **params)
    if isinstance(value, dict):
        value = value.get("drop_id")
    return value if isinstance(value, UUID) else UUID(str(value))


async def claim_drop(
    ex: Executor, drop_id: UUID | str, user_id: str, role_ids: Sequence[str] = (), at: datetime | None = None,
) -> ClaimResult:
    """Decide, then pay: resonance.claim_drop commits the decision in its own short transaction
    (autocommit on a pool or a connection outside a transaction), then `_pay_if_won` pays it.
    `claimed` is only ever answered for a decided claim."""
    result = await call(ex, "resonance.claim_drop", str(drop_id), user_id, list(role_ids), at,
                        casts=("uuid", "text", "text[]", "timestamptz"), model=ClaimResult)
    return await _pay_if_won(ex, result)


async def _pay_if_won(ex: Executor, result: ClaimResultT) -> ClaimResultT:
    """The second step of every claim: a decided claim (`claimed`, with its claim_id) is paid right
    after its decision committed, exactly once. When the payment fails (a crash, a lost connection)
    the claim stays decided and the job resonance.pay_unpaid_drop_claims pays it: the answer then has
    no "payment" key."""
    claim_id = result.extra.get("claim_id")
    if result.status != "claimed" or not claim_id:
        return result
    try:
        payment = await pay_drop_claim(ex, claim_id)
    except (asyncpg.PostgresError, OSError):
        return result
    return type(result).model_validate({**result.model_dump(), "payment": payment})


async def pay_drop_claim(ex: Executor, claim_id: UUID | str) -> dict[str, Any]:
    """Pay a decided drop claim exactly once (paid, or already_paid)."""
    value = await call(ex, "resonance.pay_drop_claim", str(claim_id), casts=("uuid",))
    return dict(value) if isinstance(value, dict) else {"status": None}


async def claim_reaction_drop(
    ex: Executor, server_id: str, message_id: str, emoji: str, user_id: str, role_ids: Sequence[str] = (),
    at: datetime | None = None,
) -> Outcome:
    """A reaction on a reaction drop's message: decided like a button claim, then paid the same way."""
    result = await call(ex, "resonance.claim_reaction_drop", server_id, message_id, emoji, user_id, list(role_ids), at,
                        casts=("text", "text", "text", "text", "text[]", "timestamptz"), model=Outcome)
    return await _pay_if_won(ex, result)


async def claim_one_time_bonus(
    ex: Executor, server_id: str, user_id: str, role_id: str, role_ids: Sequence[str] = (),
) -> BonusResult:
    return await call(ex, "resonance.claim_one_time_bonus", server_id, user_id, role_id, list(role_ids),
                      casts=("text", "text", "text", "text[]"), model=BonusResult)


async def attach_drop_message(ex: Executor, drop_id: UUID | str, channel_id: str, message_id: str) -> Outcome:
    return await call(ex, "resonance.attach_drop_message", str(drop_id), channel_id, message_id,
                      casts=("uuid", "text", "text"), model=Outcome)


async def cancel_drop(ex: Executor, drop_id: UUID | str) -> Outcome:
    """Compensation: the drop's message could not be posted, so the unclaimed drop goes."""
    return await call(ex, "resonance.cancel_drop", str(drop_id), casts=("uuid",), model=Outcome)
