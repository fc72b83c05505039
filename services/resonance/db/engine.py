"""Engine: gateway events and check-ins become rewards (resonance.record_*, daily_checkin, leaderboard)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import ActivityResult, CheckinResult, EventResult, LeaderboardEntry


async def record_message(
    ex: Executor,
    server_id: str,
    user_id: str,
    channel_id: str,
    message_id: str,
    content: str,
    role_ids: Sequence[str] = (),
    reply_to_user_id: str | None = None,
    occurred_at: datetime | None = None,
    channel_name: str | None = None,
) -> ActivityResult:
    return await call(
        ex,
        "resonance.record_message",
        server_id,
        user_id,
        channel_id,
        message_id,
        content,
        list(role_ids),
        reply_to_user_id,
        occurred_at,
        channel_name,
        casts=("text", "text", "text", "text", "text", "text[]", "text", "timestamptz", "text"),
        model=ActivityResult,
    )


async def record_reaction(
    ex: Executor,
    server_id: str,
    reactor_id: str,
    author_id: str,
    channel_id: str,
    message_id: str,
    emoji: str,
    role_ids: Sequence[str] = (),
    occurred_at: datetime | None = None,
    channel_name: str | None = None,
) -> ActivityResult:
    return await call(
        ex,
        "resonance.record_reaction",
        server_id,
        reactor_id,
        author_id,
        channel_id,
        message_id,
        emoji,
        list(role_ids),
        occurred_at,
        channel_name,
        casts=("text", "text", "text", "text", "text", "text", "text[]", "timestamptz", "text"),
        model=ActivityResult,
    )


async def record_voice(
    ex: Executor,
    server_id: str,
    user_id: str,
    channel_id: str,
    session_id: str,
    minutes: int,
    role_ids: Sequence[str] = (),
    occurred_at: datetime | None = None,
    channel_name: str | None = None,
) -> ActivityResult:
    return await call(
        ex,
        "resonance.record_voice",
        server_id,
        user_id,
        channel_id,
        session_id,
        minutes,
        list(role_ids),
        occurred_at,
        channel_name,
        casts=("text", "text", "text", "text", "integer", "text[]", "timestamptz", "text"),
        model=ActivityResult,
    )


async def record_event(
    ex: Executor,
    server_id: str,
    user_id: str,
    event_type: str,
    source_id: str,
    role_ids: Sequence[str] = (),
    channel_id: str | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    channel_name: str | None = None,
) -> EventResult:
    return await call(
        ex,
        "resonance.record_event",
        server_id,
        user_id,
        event_type,
        source_id,
        list(role_ids),
        channel_id,
        payload or {},
        occurred_at,
        channel_name,
        casts=("text", "text", "text", "text", "text[]", "text", "jsonb", "timestamptz", "text"),
        model=EventResult,
    )


def _event_json(event: Mapping[str, Any]) -> dict[str, Any]:
    item = dict(event)
    if isinstance(item.get("occurred_at"), datetime):
        item["occurred_at"] = item["occurred_at"].isoformat()
    if "role_ids" in item:
        item["role_ids"] = list(item["role_ids"] or ())
    return item


async def record_messages(ex: Executor, events: Sequence[Mapping[str, Any]]) -> list[ActivityResult]:
    """A burst of messages in one call (resonance.record_messages): each item has the keyword
    arguments of record_message (server_id, user_id, channel_id, message_id, content, role_ids,
    reply_to_user_id, occurred_at, channel_name); the answers come back in the same order, with the
    same statuses and exactly-once keys as one call each. A bad item raises for the whole batch."""
    value = await call(ex, "resonance.record_messages", [_event_json(e) for e in events], casts=("jsonb",))
    return [ActivityResult.model_validate(v) for v in (value or [])]


async def record_reactions(ex: Executor, events: Sequence[Mapping[str, Any]]) -> list[ActivityResult]:
    """A burst of reactions in one call (resonance.record_reactions): each item has the keyword
    arguments of record_reaction (server_id, reactor_id, author_id, channel_id, message_id, emoji,
    role_ids, occurred_at, channel_name); answers in the same order."""
    value = await call(ex, "resonance.record_reactions", [_event_json(e) for e in events], casts=("jsonb",))
    return [ActivityResult.model_validate(v) for v in (value or [])]


async def daily_checkin(
    ex: Executor,
    server_id: str,
    user_id: str,
    role_ids: Sequence[str] = (),
    at: datetime | None = None,
) -> CheckinResult:
    return await call(
        ex,
        "resonance.daily_checkin",
        server_id,
        user_id,
        list(role_ids),
        at,
        casts=("text", "text", "text[]", "timestamptz"),
        model=CheckinResult,
    )


async def leaderboard(
    ex: Executor, server_id: str, period: str = "all", limit: int = 10, at: datetime | None = None
) -> list[LeaderboardEntry]:
    """Top members by RSNC earned in period all|day|week|month (the one containing `at`, default now)."""
    return await call(
        ex,
        "resonance.leaderboard",
        server_id,
        period,
        limit,
        at,
        casts=("text", "text", "integer", "timestamptz"),
        model=LeaderboardEntry,
        many=True,
    )
