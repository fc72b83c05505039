"""Typed calls the bot makes for admins: event rules, role effects, milestones, manual rewards, the
audit trail, report schedules, and the outbox. One SQL function per call, through `call`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import Outcome, Row


async def set_event_rule(
    ex: Executor,
    server_id: str,
    event_type: str,
    reward_amount: Decimal | int,
    *,
    cooldown_hours: int | None = None,
    max_claims_per_user: int | None = None,
    enabled: bool = True,
    detection_config: dict[str, Any] | None = None,
    channel_constraints: Any = None,
    rule_metadata: dict[str, Any] | None = None,
    rule_id: Any = None,
    actor_id: str,
) -> Outcome:
    """Creates (rule_id None) or replaces a server rule, audited as actor_id: {"status","rule_id"}."""
    return await call(
        ex,
        "resonance.set_event_rule",
        model=Outcome,
        server_id=server_id,
        actor_id=actor_id,
        event_type=event_type,
        reward_amount=Decimal(reward_amount),
        cooldown_hours=cooldown_hours,
        max_claims_per_user=max_claims_per_user,
        detection_config=detection_config,
        channel_constraints=channel_constraints,
        rule_metadata=rule_metadata,
        is_enabled=enabled,
        rule_id=rule_id,
    )


async def set_role_effect(
    ex: Executor,
    server_id: str,
    role_id: str,
    effect_type: str,
    effect_config: dict[str, Any],
    *,
    role_name: str | None = None,
    is_active: bool = True,
    actor_id: str,
) -> Outcome:
    return await call(
        ex,
        "resonance.set_role_effect",
        model=Outcome,
        server_id=server_id,
        actor_id=actor_id,
        role_id=role_id,
        effect_type=effect_type,
        effect_config=effect_config,
        role_name=role_name,
        is_active=is_active,
    )


async def create_milestone(
    ex: Executor,
    server_id: str,
    role_id: str,
    name: str,
    criteria: list[dict[str, Any]],
    *,
    bonus: int = 0,
    description: str | None = None,
    role_name: str | None = None,
    actor_id: str | None = None,
) -> Outcome:
    """actor_id: the acting admin's Discord id, recorded on the audit rows."""
    extra: dict[str, Any] = {"actor_id": actor_id} if actor_id else {}
    return await call(
        ex,
        "resonance.create_milestone",
        model=Outcome,
        server_id=server_id,
        role_id=role_id,
        name=name,
        criteria=criteria,
        bonus_amount=bonus,
        description=description,
        role_name=role_name,
        **extra,
    )


async def manual_reward(
    ex: Executor,
    server_id: str,
    admin_id: str,
    user_id: str,
    amount: Decimal | int,
    reason: str,
    source_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Outcome:
    return await call(
        ex,
        "resonance.manual_reward",
        model=Outcome,
        server_id=server_id,
        admin_id=admin_id,
        user_id=user_id,
        amount=Decimal(amount),
        reason=reason,
        source_id=source_id,
        occurred_at=occurred_at,
    )


async def record_event(
    ex: Executor,
    server_id: str,
    user_id: str,
    event_type: str,
    source_id: str,
    role_ids: list[str],
    channel_id: str | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Outcome:
    """resonance.record_event with every status it answers (the engine's EventResult narrows them)."""
    return await call(
        ex,
        "resonance.record_event",
        server_id,
        user_id,
        event_type,
        source_id,
        role_ids,
        channel_id,
        payload or {},
        occurred_at,
        casts=("text", "text", "text", "text", "text[]", "text", "jsonb", "timestamptz"),
        model=Outcome,
    )


async def recent_audit(ex: Executor, server_id: str, limit: int = 10) -> list[Row]:
    return await call(ex, "resonance.recent_audit", server_id, limit, model=Row, many=True)


async def set_report_schedule(
    ex: Executor,
    server_id: str,
    frequency: str,
    channel_id: str,
    day_of_week: int | None = None,
    is_active: bool = True,
    actor_id: str | None = None,
) -> Outcome:
    """actor_id: the acting admin's Discord id, recorded on the audit rows."""
    extra: dict[str, Any] = {"actor_id": actor_id} if actor_id else {}
    return await call(
        ex,
        "resonance.set_report_schedule",
        model=Outcome,
        server_id=server_id,
        frequency=frequency,
        channel_id=channel_id,
        day_of_week=day_of_week,
        is_active=is_active,
        **extra,
    )


async def build_report(ex: Executor, server_id: str, period: str) -> Outcome:
    return await call(ex, "resonance.build_report", server_id, period, model=Outcome)


async def due_reports(ex: Executor, now: datetime | None, worker: str) -> list[Row]:
    return await call(ex, "resonance.due_reports", now, worker, casts=("timestamptz", "text"), model=Row, many=True)


# --- the outbox --------------------------------------------------------------------------------


async def take_outbox(ex: Executor, batch: int, worker: str) -> list[Row]:
    return await call(ex, "resonance.take_outbox", batch, worker, casts=("integer", "text"), model=Row, many=True)


async def complete_outbox(ex: Executor, outbox_id: int, worker: str) -> Outcome:
    return await call(ex, "resonance.complete_outbox", outbox_id, worker, casts=("bigint", "text"), model=Outcome)


async def fail_outbox(ex: Executor, outbox_id: int, worker: str, error: str) -> Outcome:
    return await call(
        ex, "resonance.fail_outbox", outbox_id, worker, error, casts=("bigint", "text", "text"), model=Outcome
    )


async def release_outbox(ex: Executor, worker: str) -> int:
    """On a clean shutdown: the rows this worker holds go back to pending at once."""
    return int(await call(ex, "resonance.release_outbox", worker, casts=("text",)))
