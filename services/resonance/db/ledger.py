"""The tipping ledger: tipping.mint, tip, balance, reconcile."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from resonance.db import Executor
from resonance.db._call import rows, scalar


async def mint(
    ex: Executor,
    user_id: str,
    amount: Decimal | int | str,
    currency: str = "RSNC",
    reason: str = "mint",
    idempotency_key: str | None = None,
) -> UUID:
    return await scalar(
        ex,
        "tipping.mint",
        ("text", "numeric", "text", "text", "text"),
        user_id, Decimal(str(amount)), currency, reason, idempotency_key,
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
    return await scalar(
        ex,
        "tipping.tip",
        ("text", "text", "numeric", "text", "text", "text"),
        sender_id, receiver_id, Decimal(str(amount)), currency, server_id, idempotency_key,
    )


async def balance(ex: Executor, user_id: str, currency: str = "RSNC") -> Decimal:
    value = await scalar(ex, "tipping.balance", ("text", "text"), user_id, currency)
    return Decimal(value or 0)


async def reconcile(ex: Executor) -> list[dict[str, Any]]:
    """Discrepancies between balances and the ledger; empty when the books balance."""
    found = await rows(ex, "tipping.reconcile", ())
    out: list[dict[str, Any]] = []
    for row in found:
        if len(row) == 1:
            (value,) = row.values()
            if value is None:
                continue
            if isinstance(value, list):
                out.extend(value)
                continue
        out.append(row)
    return out
