"""The tipping ledger: tipping.mint, tip, balance, reconcile."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from resonance.db import Executor
from resonance.db._call import call


async def mint(
    ex: Executor,
    user_id: str,
    amount: Decimal | int | str,
    currency: str = "RSNC",
    reason: str = "mint",
    idempotency_key: str | None = None,
) -> UUID:
    return await call(
        ex,
        "tipping.mint",
        user_id,
        Decimal(str(amount)),
        currency,
        reason,
        idempotency_key,
        casts=("text", "numeric", "text", "text", "text"),
    )


async def tip(
    ex: Executor,
    sender_id: str,
    receiver_id: str,
    amount: Decimal | int | str,
    currency: str = "RSNC",
    server_id: str | None = None,
    idempotency_key: str | None = None,
) -> UUID:
    """The tip id. Insufficient funds, self-tips, bad amounts raise (asyncpg error with sqlstate RTnnn)."""
    return await call(
        ex,
        "tipping.tip",
        sender_id,
        receiver_id,
        Decimal(str(amount)),
        currency,
        server_id,
        idempotency_key,
        casts=("text", "text", "numeric", "text", "text", "text"),
    )


async def balance(ex: Executor, user_id: str, currency: str = "RSNC") -> Decimal:
    value = await call(ex, "tipping.balance", user_id, currency, casts=("text", "text"))
    return Decimal(value or 0)


async def reconcile(ex: Executor) -> list[dict[str, Any]]:
    """Discrepancies between balances and the ledger; empty when the books balance."""
    return [row for row in await call(ex, "tipping.reconcile", many=True) if row]
