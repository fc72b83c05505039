"""Typed calls only the bot makes: the guilds it serves, voice sessions and checkpoints, member roles
as Discord shows them, and interaction claims (one answer per interaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import BotServer, OpenSession, Outcome


async def bot_servers(ex: Executor, server_ids: Sequence[str]) -> list[BotServer]:
    return await call(ex, "resonance.bot_servers", list(server_ids), casts=("text[]",), model=BotServer, many=True)


async def voice_session_join(
    ex: Executor, server_id: str, user_id: str, channel_id: str, role_ids: Sequence[str], at: datetime | None
) -> UUID:
    return await call(
        ex,
        "resonance.voice_session_join",
        server_id,
        user_id,
        channel_id,
        list(role_ids),
        at,
        casts=("text", "text", "text", "text[]", "timestamptz"),
    )


async def voice_session_leave(ex: Executor, server_id: str, user_id: str, at: datetime | None) -> OpenSession | None:
    found = await call(
        ex,
        "resonance.voice_session_leave",
        server_id,
        user_id,
        at,
        casts=("text", "text", "timestamptz"),
        model=OpenSession,
        many=True,
    )
    return found[0] if found else None


async def voice_session_credited(ex: Executor, session_id: UUID) -> bool:
    return bool(await call(ex, "resonance.voice_session_credited", session_id, casts=("uuid",)))


async def voice_sessions_pending(ex: Executor, server_id: str) -> list[OpenSession]:
    return await call(ex, "resonance.voice_sessions_pending", server_id, model=OpenSession, many=True)


async def voice_checkpoint(ex: Executor, server_ids: Sequence[str], at: datetime | None = None) -> int:
    return int(await call(ex, "resonance.voice_checkpoint", list(server_ids), at, casts=("text[]", "timestamptz")))


async def sync_member_roles(
    ex: Executor, server_id: str, user_id: str, role_ids: Sequence[str], at: datetime | None = None
) -> Outcome:
    return await call(
        ex,
        "resonance.sync_member_roles",
        server_id,
        user_id,
        list(role_ids),
        at,
        casts=("text", "text", "text[]", "timestamptz"),
        model=Outcome,
    )


async def claim_interaction(ex: Executor, interaction_id: str, server_id: str | None, command: str) -> Outcome:
    return await call(
        ex,
        "resonance.claim_interaction",
        interaction_id,
        server_id,
        command,
        casts=("text", "text", "text"),
        model=Outcome,
    )


async def finish_interaction(ex: Executor, interaction_id: str, result: dict[str, Any]) -> None:
    await call(ex, "resonance.finish_interaction", interaction_id, result, casts=("text", "jsonb"))


async def reconcile_server_roles(
    ex: Executor, server_id: str, members: dict[str, list[str]], at: datetime | None = None
) -> Outcome:
    """Startup: every member's Discord roles, synced for those holding or recorded with configured roles."""
    return await call(
        ex,
        "resonance.reconcile_server_roles",
        server_id,
        members,
        at,
        casts=("text", "jsonb", "timestamptz"),
        model=Outcome,
    )
