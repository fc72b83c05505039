"""The one seam between the bot and the database: every call a handler makes, by name.

Handlers call `api.<name>(pool, ...)`; tests may swap single names. The documented engine, drop,
ledger and KPI calls come from the typed layer (resonance.db.engine/drops/ledger/kpis); the
bot-only calls from resonance.db.member and resonance.db.admin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from resonance.db import Executor
from resonance.db.admin import (  # noqa: F401  (re-exported: the bot's admin calls)
    attach_drop_message,
    build_report,
    create_milestone,
    complete_outbox,
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
from resonance.db.drops import claim_drop  # noqa: F401
from resonance.db.engine import (  # noqa: F401
    daily_checkin,
    leaderboard,
    record_message,
    record_reaction,
    record_voice,
)
from resonance.db.kpis import compute_kpis  # noqa: F401
from resonance.db.ledger import balance, tip  # noqa: F401
from resonance.db.member import (  # noqa: F401  (re-exported: the bot's member calls)
    Outcome,
    Row,
    call_one,
    close_ticket,
    create_registration_nonce,
    history,
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


async def create_drop(
    ex: Executor, server_id: str, amount: Any, max_claims: int, expires_at: datetime | None, *,
    drop_type: str = "button", channel_id: str | None = None, message_id: str | None = None,
    emoji: str | None = None, created_by: str | None = None, at: datetime | None = None,
) -> UUID:
    """The drop id (resonance.db.drops.create_drop, named SQL parameters)."""
    from resonance.db import drops

    return await drops.create_drop(
        ex, server_id, drop_type=drop_type, channel_id=channel_id, message_id=message_id, emoji=emoji,
        expires_at=expires_at, max_claims=max_claims, reward_amount=amount, created_by=created_by, at=at,
    )


async def record_event(
    ex: Executor, server_id: str, user_id: str, event_type: str, source_id: str, role_ids: list[str],
    channel_id: str | None = None, payload: dict | None = None, occurred_at: datetime | None = None,
) -> Outcome:
    """Not resonance.db.engine.record_event: its EventResult model admits fewer statuses than the SQL
    returns (no_access, not_matched), and a listener must not fail on a normal outcome."""
    return await call_one(
        ex, "resonance.record_event", server_id, user_id, event_type, source_id, role_ids, channel_id,
        payload or {}, occurred_at,
    )


async def claim_reaction_drop(
    ex: Executor, server_id: str, message_id: str, emoji: str, user_id: str, role_ids: list[str],
    at: datetime | None,
) -> Outcome:
    return await call_one(ex, "resonance.claim_reaction_drop", server_id, message_id, emoji, user_id, role_ids, at)


async def claim_one_time_bonus(
    ex: Executor, server_id: str, user_id: str, role_id: str, role_ids: list[str], at: datetime | None = None,
) -> Any:
    from resonance.db import drops

    return await drops.claim_one_time_bonus(ex, server_id, user_id, role_id, role_ids)
