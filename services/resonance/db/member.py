"""Typed calls the bot makes for members: stats, achievements, goals, role purchase, tickets, wallet
registration and history. Each takes an Executor first and calls one SQL function through `call`."""

from __future__ import annotations

from datetime import datetime

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import Outcome, Row


async def member_stats(ex: Executor, server_id: str, user_id: str) -> Outcome:
    return await call(ex, "resonance.member_stats", server_id, user_id, model=Outcome)


async def list_achievements(ex: Executor, server_id: str, user_id: str) -> list[Row]:
    return await call(ex, "resonance.list_achievements", server_id, user_id, model=Row, many=True)


async def list_goals(ex: Executor, server_id: str) -> list[Row]:
    return await call(ex, "resonance.list_goals", server_id, model=Row, many=True)


async def purchase_role(
    ex: Executor,
    server_id: str,
    user_id: str,
    role_id: str,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Outcome:
    return await call(
        ex,
        "resonance.purchase_role",
        server_id,
        user_id,
        role_id,
        idempotency_key,
        at,
        casts=("text", "text", "text", "text", "timestamptz"),
        model=Outcome,
    )


async def history(ex: Executor, user_id: str, currency: str | None = None, limit: int = 10) -> list[Row]:
    return await call(
        ex, "tipping.history", user_id, currency, limit, casts=("text", "text", "integer"), model=Row, many=True
    )


async def create_registration_nonce(ex: Executor, user_id: str, user_name: str | None = None) -> Outcome:
    """{nonce, message (the exact text to sign), expires_at}."""
    return await call(
        ex, "tipping.create_registration_nonce", user_id, user_name, casts=("text", "text"), model=Outcome
    )


async def register_wallet(
    ex: Executor, user_id: str, nonce: str, wallet_address: str, signature: str, user_name: str | None = None
) -> Outcome:
    """The ed25519 signature is checked in Python (resonance.wallet, PyNaCl: Postgres cannot), then
    tipping.complete_wallet_registration consumes the nonce and binds the wallet."""
    from resonance import wallet

    result = await wallet.register_wallet(ex, user_id, nonce, wallet_address, signature, user_name)
    return Outcome.model_validate(result) if isinstance(result, dict) else Outcome(value=result)


async def open_ticket(
    ex: Executor,
    user_id: str,
    subject: str,
    description: str | None = None,
    priority: str = "medium",
    user_name: str | None = None,
) -> Outcome:
    return await call(
        ex,
        "tipping.open_ticket",
        user_id,
        subject,
        description,
        priority,
        user_name,
        casts=("text", "text", "text", "text", "text"),
        model=Outcome,
    )


async def list_tickets(ex: Executor, user_id: str, status: str | None = None, limit: int = 25) -> list[Row]:
    return await call(
        ex, "tipping.list_tickets", user_id, status, limit, casts=("text", "text", "integer"), model=Row, many=True
    )


async def close_ticket(ex: Executor, ticket_id: int) -> Outcome:
    return await call(ex, "tipping.close_ticket", ticket_id, model=Outcome)
