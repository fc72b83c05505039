"""The one seam between the bot and the database: every call a handler makes, by name.

Handlers call `api.<name>(pool, ...)`; tests may swap single names. The documented engine, drop
and ledger calls come from the typed layer (resonance.db.engine/drops/ledger/kpis) once it is on
main; until then the thin calls below use the signatures DESIGN.md documents.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from resonance.db import Executor
from resonance.db.admin import (  # noqa: F401  (re-exported: the bot's admin calls)
    attach_drop_message,
    build_report,
    complete_outbox,
    compute_kpis,
    create_drop,
    create_milestone,
    due_reports,
    fail_outbox,
    list_event_rules,
    manual_reward,
    recent_audit,
    set_event_rule,
    set_report_schedule,
    set_role_effect,
    take_outbox,
)
from resonance.db.member import (  # noqa: F401  (re-exported: the bot's member calls)
    Outcome,
    Row,
    call_one,
    call_value,
    close_ticket,
    create_registration_nonce,
    history,
    leaderboard,
    list_achievements,
    list_goals,
    list_tickets,
    member_stats,
    open_ticket,
    purchase_role,
    register_wallet,
    voice_session_credited,
    voice_session_join,
    voice_session_leave,
    voice_sessions_pending,
)


async def record_message(
    ex: Executor, server_id: str, user_id: str, channel_id: str, message_id: str, content: str,
    role_ids: list[str], reply_to_user_id: str | None, occurred_at: datetime | None,
) -> Outcome:
    return await call_one(
        ex, "resonance.record_message", server_id, user_id, channel_id, message_id, content, role_ids,
        reply_to_user_id, occurred_at,
    )


async def record_reaction(
    ex: Executor, server_id: str, reactor_id: str, author_id: str | None, channel_id: str, message_id: str,
    emoji: str, role_ids: list[str], occurred_at: datetime | None,
) -> Outcome:
    return await call_one(
        ex, "resonance.record_reaction", server_id, reactor_id, author_id, channel_id, message_id, emoji,
        role_ids, occurred_at,
    )


async def record_voice(
    ex: Executor, server_id: str, user_id: str, channel_id: str, session_id: str, minutes: int,
    role_ids: list[str], occurred_at: datetime | None,
) -> Outcome:
    return await call_one(
        ex, "resonance.record_voice", server_id, user_id, channel_id, session_id, minutes, role_ids, occurred_at
    )


async def record_event(
    ex: Executor, server_id: str, user_id: str, event_type: str, source_id: str, role_ids: list[str],
    channel_id: str | None = None, payload: dict | None = None, occurred_at: datetime | None = None,
) -> Outcome:
    return await call_one(
        ex, "resonance.record_event", server_id, user_id, event_type, source_id, role_ids, channel_id,
        payload or {}, occurred_at,
    )


async def daily_checkin(ex: Executor, server_id: str, user_id: str, role_ids: list[str], at: datetime | None) -> Outcome:
    return await call_one(ex, "resonance.daily_checkin", server_id, user_id, role_ids, at)


async def claim_drop(ex: Executor, drop_id: UUID, user_id: str, role_ids: list[str], at: datetime | None) -> Outcome:
    return await call_one(ex, "resonance.claim_drop", drop_id, user_id, role_ids, at)


async def tip(
    ex: Executor, sender_id: str, receiver_id: str, amount: Decimal, currency: str, server_id: str | None,
    idempotency_key: str | None,
) -> UUID:
    return await call_value(ex, "tipping.tip", sender_id, receiver_id, amount, currency, server_id, idempotency_key)


async def balance(ex: Executor, user_id: str, currency: str = "RSNC") -> Decimal:
    return await call_value(ex, "tipping.balance", user_id, currency)


async def claim_reaction_drop(
    ex: Executor, server_id: str, message_id: str, emoji: str, user_id: str, role_ids: list[str],
    at: datetime | None,
) -> Outcome:
    return await call_one(ex, "resonance.claim_reaction_drop", server_id, message_id, emoji, user_id, role_ids, at)


async def claim_one_time_bonus(
    ex: Executor, server_id: str, user_id: str, role_id: str, role_ids: list[str], at: datetime | None = None,
) -> Outcome:
    return await call_one(ex, "resonance.claim_one_time_bonus", server_id, user_id, role_id, role_ids, at)
