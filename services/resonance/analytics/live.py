"""Live ingest for the bot: gateway events into the warehouse through the same upsert as a sync.

on_message / on_message_edit -> ingest_message, on_(raw_)message_delete -> delete_message,
on_raw_reaction_add / remove -> ingest_reaction. Each calls one SQL function (service_role).
"""

from __future__ import annotations

import json
from typing import Any, Union

import asyncpg

from resonance.analytics.protocols import MessageLike

Executor = Union[asyncpg.Pool, asyncpg.Connection]


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


async def ingest_message(db: Executor, tenant_id: str, server_id: int, channel_id: int, message: MessageLike) -> dict[str, Any]:
    """A new or edited message: status inserted, updated or unchanged."""
    ref = message.reference
    return _json(await db.fetchval(
        "SELECT analytics.ingest_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        tenant_id, server_id, channel_id, message.id, message.author.id, message.author.name, message.content,
        message.created_at, message.edited_at, ref.message_id if ref else None,
        ref.resolved_author_id if ref else None, sorted({m.id for m in message.mentions}),
        message.attachment_count, message.embed_count, bool(message.author.bot), int(message.type),
    ))


async def delete_message(db: Executor, tenant_id: str, message_id: int) -> dict[str, Any]:
    return _json(await db.fetchval("SELECT analytics.delete_message($1, $2)", tenant_id, message_id))


async def ingest_reaction(db: Executor, tenant_id: str, message_id: int, user_id: int, emoji_name: str,
                          emoji_id: int | None = None, animated: bool = False, removed: bool = False) -> dict[str, Any]:
    """status added, duplicate, removed, not_found or unknown_message."""
    return _json(await db.fetchval(
        "SELECT analytics.ingest_reaction($1, $2, $3, $4, $5, $6, $7)",
        tenant_id, message_id, user_id, emoji_name, emoji_id, animated, removed,
    ))
