"""Typed calls for onboarding and the admin API (issue 17): linking a guild, link codes, /setup and
its checklist, channels, anti-farming; achievements, goals, role assignment rules and the shop, event
rules, KPI targets, report schedules; currencies and ticket triage.

Every admin call names the acting admin (`actor_id`, a Discord id) and calls exactly one SQL
function, which validates, audits (actor type admin) and answers with a status.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from resonance.db import Executor
from resonance.db._call import call

# One body each: the milestone and report-schedule calls live in resonance.db.admin (actor_id there too).
from resonance.db.admin import create_milestone as create_milestone
from resonance.db.admin import set_report_schedule as set_report_schedule
from resonance.db.models import Outcome, Row

CHANNEL_KINDS = ("drops", "reports", "alerts", "announcements")
ACHIEVEMENT_TYPES = (
    "message_count",
    "voice_hours",
    "streak_days",
    "reactions_received",
    "reactions_given",
    "rsnc_earned",
)
GOAL_TYPES = ("users", "dau", "rsnc_distributed", "custom")
ASSIGNMENT_TYPES = ("manual", "external", "purchase", "balance_threshold", "activity_threshold")
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")


async def _one(ex: Executor, function: str, *args: Any, **named: Any) -> Outcome:
    """One jsonb answer as an Outcome."""
    result: Outcome = await call(ex, function, *args, model=Outcome, **named)
    return result


async def _rows(ex: Executor, function: str, *args: Any) -> list[Row]:
    """The rows of a set-returning function."""
    result: list[Row] = await call(ex, function, *args, model=Row, many=True)
    return result


# --- linking a guild ----------------------------------------------------------------------------


async def link_server(
    ex: Executor, server_id: str, brand_id: str, server_name: str | None, *, actor_id: str
) -> Outcome:
    """linked, already_linked or relinked; another brand's linked server raises RS704."""
    return await _one(ex, "resonance.link_server", server_id, brand_id, server_name, actor_id)


async def unlink_server(ex: Executor, server_id: str, *, actor_id: str) -> Outcome:
    """unlinked or already_unlinked (soft: history kept, events answer inactive)."""
    return await _one(ex, "resonance.unlink_server", server_id, actor_id)


async def create_link_code(ex: Executor, brand_id: str, *, actor_id: str) -> Outcome:
    """A single-use code valid 10 minutes: {"status":"created","code","expires_at"}."""
    return await _one(ex, "resonance.create_link_code", brand_id, actor_id)


async def redeem_link_code(
    ex: Executor, code: str, server_id: str, server_name: str | None, *, actor_id: str
) -> Outcome:
    return await _one(ex, "resonance.redeem_link_code", code, server_id, server_name, actor_id)


async def setup_server(
    ex: Executor, server_id: str, server_name: str | None, *, actor_id: str, code: str | None = None
) -> Outcome:
    """/setup: with a code, the code's brand; without, the guild's own brand. Includes the checklist."""
    return await _one(ex, "resonance.setup_server", server_id, server_name, actor_id, code)


async def setup_checklist(ex: Executor, server_id: str) -> dict[str, Any]:
    """{"linked","brand_id","self_hosted","items":[{"key","done","detail","fix"}]}."""
    value = await ex.fetchval("SELECT resonance.setup_checklist($1)", server_id)
    return value if isinstance(value, dict) else {}


async def set_server_channel(
    ex: Executor, server_id: str, kind: str, channel_id: str | None, *, actor_id: str
) -> Outcome:
    return await _one(ex, "resonance.set_server_channel", server_id, actor_id, kind, channel_id)


async def set_anti_farming(
    ex: Executor,
    server_id: str,
    *,
    actor_id: str,
    similarity: float | Decimal = Decimal("0.9"),
    min_words: int = 0,
    window_minutes: int = 30,
    enabled: bool = True,
) -> Outcome:
    return await _one(
        ex,
        "resonance.set_anti_farming",
        server_id=server_id,
        actor_id=actor_id,
        similarity=Decimal(str(similarity)),
        min_words=min_words,
        window_minutes=window_minutes,
        enabled=enabled,
    )


# --- event rules --------------------------------------------------------------------------------


async def disable_event_rule(ex: Executor, server_id: str, rule_id: Any, *, actor_id: str) -> Outcome:
    return await _one(ex, "resonance.disable_event_rule", server_id, actor_id, rule_id)


async def list_event_rules(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.list_event_rules", server_id)


# --- achievements and goals ---------------------------------------------------------------------


async def set_achievement(
    ex: Executor,
    server_id: str,
    name: str,
    achievement_type: str,
    threshold: int,
    reward_amount: int | Decimal = 0,
    *,
    actor_id: str,
    description: str | None = None,
    is_active: bool = True,
    achievement_id: Any = None,
) -> Outcome:
    """created or updated (by id, else by name)."""
    return await _one(
        ex,
        "resonance.set_achievement",
        server_id=server_id,
        actor_id=actor_id,
        name=name,
        achievement_type=achievement_type,
        threshold=threshold,
        reward_amount=Decimal(reward_amount),
        description=description,
        is_active=is_active,
        achievement_id=achievement_id,
    )


async def disable_achievement(ex: Executor, server_id: str, achievement_id: Any, *, actor_id: str) -> Outcome:
    return await _one(ex, "resonance.disable_achievement", server_id, actor_id, achievement_id)


async def list_achievement_configs(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.list_achievement_configs", server_id)


async def set_goal(
    ex: Executor,
    server_id: str,
    name: str,
    goal_type: str,
    target_value: int | Decimal,
    *,
    actor_id: str,
    deadline: date | None = None,
    starts_at: datetime | None = None,
    goal_id: Any = None,
    custom_function: str | None = None,
) -> Outcome:
    return await _one(
        ex,
        "resonance.set_goal",
        server_id=server_id,
        actor_id=actor_id,
        name=name,
        goal_type=goal_type,
        target_value=Decimal(target_value),
        deadline=deadline,
        starts_at=starts_at,
        goal_id=goal_id,
        custom_function=custom_function,
    )


async def disable_goal(ex: Executor, server_id: str, goal_id: Any, *, actor_id: str) -> Outcome:
    return await _one(ex, "resonance.disable_goal", server_id, actor_id, goal_id)


async def list_goal_configs(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.list_goal_configs", server_id)


# --- roles and the shop -------------------------------------------------------------------------


async def set_role_assignment(
    ex: Executor,
    server_id: str,
    role_id: str,
    assignment_type: str,
    assignment_config: dict[str, Any] | None = None,
    *,
    actor_id: str,
    role_name: str | None = None,
    priority: int | None = None,
) -> Outcome:
    return await _one(
        ex,
        "resonance.set_role_assignment",
        server_id=server_id,
        actor_id=actor_id,
        role_id=role_id,
        assignment_type=assignment_type,
        assignment_config=assignment_config or {},
        role_name=role_name,
        priority=priority,
    )


async def set_role_price(
    ex: Executor, server_id: str, role_id: str, price: int, *, actor_id: str, role_name: str | None = None
) -> Outcome:
    """/shop price: the role is for sale at `price` RSNC."""
    return await set_role_assignment(
        ex, server_id, role_id, "purchase", {"price": price}, actor_id=actor_id, role_name=role_name
    )


async def disable_role(ex: Executor, server_id: str, role_id: str, *, actor_id: str) -> Outcome:
    return await _one(ex, "resonance.disable_role", server_id, actor_id, role_id)


async def list_role_configs(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.list_role_configs", server_id)


async def shop_items(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.shop_items", server_id)


# --- KPI targets and reports --------------------------------------------------------------------


async def set_kpi_target(
    ex: Executor,
    server_id: str,
    metric: str,
    target_value: Decimal | int | float,
    *,
    actor_id: str,
    period: str = "week",
    alert_threshold: Decimal | int | float | None = None,
    is_active: bool = True,
) -> Outcome:
    """The target row, with where its alerts go (alerts_to, alerts_via)."""
    return await _one(
        ex,
        "resonance.set_kpi_target",
        server_id=server_id,
        metric=metric,
        target_value=Decimal(str(target_value)),
        period=period,
        alert_threshold=None if alert_threshold is None else Decimal(str(alert_threshold)),
        is_active=is_active,
        actor_id=actor_id,
    )


async def disable_kpi_target(
    ex: Executor, server_id: str, metric: str, period: str = "week", *, actor_id: str
) -> Outcome:
    return await _one(ex, "resonance.disable_kpi_target", server_id, actor_id, metric, period)


async def list_kpi_targets(ex: Executor, server_id: str) -> list[Row]:
    return await _rows(ex, "resonance.list_kpi_targets", server_id)


async def disable_report_schedule(ex: Executor, server_id: str, *, actor_id: str) -> Outcome:
    return await _one(ex, "resonance.disable_report_schedule", server_id, actor_id)


# --- currencies and tickets (JustTheTip) --------------------------------------------------------


async def add_currency(
    ex: Executor, code: str, decimals: int, *, actor_id: str, server_id: str | None = None
) -> Outcome:
    return await _one(ex, "tipping.add_currency", code, decimals, actor_id, server_id)


async def set_currency_active(
    ex: Executor, code: str, is_active: bool, *, actor_id: str, server_id: str | None = None
) -> Outcome:
    return await _one(ex, "tipping.set_currency_active", code, is_active, actor_id, server_id)


async def list_currencies(ex: Executor) -> list[Row]:
    return await _rows(ex, "tipping.list_currencies")


async def staff_list_tickets(ex: Executor, status: str | None = None, limit: int = 25) -> list[Row]:
    """Every member's tickets (staff view), newest first, optionally of one status."""
    return await _rows(ex, "tipping.list_tickets", None, status, limit)


async def update_ticket(
    ex: Executor,
    ticket_id: int,
    *,
    staff_id: str,
    status: str | None = None,
    priority: str | None = None,
    server_id: str | None = None,
) -> Outcome:
    return await _one(ex, "tipping.update_ticket", ticket_id, status, priority, staff_id, server_id)


# --- the member side of JustTheTip: /terms and /reputation ------------------------------------------


async def accept_terms(ex: Executor, user_id: str, terms_version: str, user_name: str | None = None) -> Outcome:
    """accepted or already_accepted; verified once a wallet is registered too."""
    return await _one(ex, "tipping.accept_terms", user_id, terms_version, user_name, None)


async def verification_status(ex: Executor, user_id: str) -> Outcome:
    """not_accepted, accepted or verified, with the terms version and wallet."""
    return await _one(ex, "tipping.verification_status", user_id)


async def reputation(ex: Executor, user_id: str) -> Outcome:
    """The member's trust badge, recomputed from ledger facts: reputation_score and the facts behind it.
    Raises RT006 for a member the ledger does not know."""
    return await _one(ex, "tipping.recompute_trust_badge", user_id, None)
