"""Live ingest for the bot: one call per gateway event, into the warehouse of the server's tenant
(its brand) through the same upsert as a sync, so a later sync finds nothing to change.

    from resonance.analytics import live
    await live.message(pool, guild_id, channel_id, DiscordMessage(message))     # on_message, on_message_edit
    await live.message_deleted(pool, guild_id, message_id)                      # on_raw_message_delete
    await live.reaction(pool, guild_id, message_id, user, emoji, removed=False) # on_raw_reaction_add/remove
    await live.member(pool, guild_id, member, joined=True)                      # on_member_join/remove
    await live.channel(pool, guild_id, channel)                                 # on_guild_channel_create/update

Each is one call of `analytics.ingest_event(server_id, kind, payload)`, which answers `not_linked`,
`inactive` or `disabled` (config_metadata.analytics.enabled = false) without writing, else the
status of the write and the tenant. Payloads are plain jsonb, built here from the extractor's
protocols (the discord.py adapter wraps discord.py objects into them).

The older per-tenant functions (ingest_message, delete_message, ingest_reaction with an explicit
tenant) stay for callers that name the tenant themselves.
"""

from __future__ import annotations

import json
from typing import Any, Union

import asyncpg

from resonance.analytics.protocols import ChannelLike, EmojiLike, MemberLike, MessageLike

Executor = Union[asyncpg.Pool, asyncpg.Connection]

KINDS = ("message", "message_delete", "reaction_add", "reaction_remove", "member_join", "member_leave", "channel")


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def user_payload(user: MemberLike) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "discriminator": user.discriminator, "avatar": user.avatar,
            "bot": bool(user.bot)}


def message_payload(channel_id: int, message: MessageLike) -> dict[str, Any]:
    """A message as ingest_event('message') takes it: what a sync stages for it, reactions aside."""
    ref = message.reference
    return {
        "id": message.id, "channel_id": channel_id, "author": user_payload(message.author),
        "content": message.content, "created_at": _time(message.created_at), "edited_at": _time(message.edited_at),
        "type": int(message.type),
        "reply_to_message_id": ref.message_id if ref else None,
        "reply_to_author_id": ref.resolved_author_id if ref else None,
        "mentions": [user_payload(u) for u in message.mentions],
        "attachment_count": message.attachment_count, "embed_count": message.embed_count,
    }


def reaction_payload(message_id: int, user: MemberLike | int, emoji: EmojiLike) -> dict[str, Any]:
    return {"message_id": message_id, "user": {"id": user} if isinstance(user, int) else user_payload(user),
            "emoji_name": emoji.name, "emoji_id": emoji.id, "animated": bool(emoji.animated)}


def member_payload(member: MemberLike) -> dict[str, Any]:
    return {"user": user_payload(member), "nick": member.nick, "joined_at": _time(member.joined_at)}


def channel_payload(channel: ChannelLike) -> dict[str, Any]:
    return {"id": channel.id, "name": channel.name, "type": int(channel.type), "topic": channel.topic,
            "position": channel.position, "nsfw": bool(channel.nsfw)}


async def ingest_event(db: Executor, server_id: int | str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The one SQL call behind every event: {"status": ..., "tenant_id": ...}."""
    if kind not in KINDS:
        raise ValueError(f"unknown analytics event kind {kind!r}")
    return _json(await db.fetchval(
        # As text: a pool with a jsonb codec (the bot's) would encode a str a second time.
        "SELECT analytics.ingest_event($1, $2, $3::text::jsonb)", str(server_id), kind, json.dumps(payload)
    ))


async def message(db: Executor, server_id: int, channel_id: int, msg: MessageLike) -> dict[str, Any]:
    """on_message and on_message_edit: inserted, updated or unchanged."""
    return await ingest_event(db, server_id, "message", message_payload(channel_id, msg))


async def message_deleted(db: Executor, server_id: int, message_id: int) -> dict[str, Any]:
    """on_raw_message_delete (soft): deleted, already_deleted or not_found."""
    return await ingest_event(db, server_id, "message_delete", {"message_id": message_id})


async def reaction(db: Executor, server_id: int, message_id: int, user: MemberLike | int, emoji: EmojiLike,
                   *, removed: bool = False) -> dict[str, Any]:
    """on_raw_reaction_add/remove: added, duplicate, removed, not_found, unknown_message or deleted_message."""
    kind = "reaction_remove" if removed else "reaction_add"
    return await ingest_event(db, server_id, kind, reaction_payload(message_id, user, emoji))


async def member(db: Executor, server_id: int, who: MemberLike, *, joined: bool = True) -> dict[str, Any]:
    """on_member_join (joined, unchanged) and on_raw_member_remove (left, not_found)."""
    return await ingest_event(db, server_id, "member_join" if joined else "member_leave", member_payload(who))


async def channel(db: Executor, server_id: int, chan: ChannelLike) -> dict[str, Any]:
    """on_guild_channel_create/update: channel_written."""
    return await ingest_event(db, server_id, "channel", channel_payload(chan))


# Per-tenant calls (the tenant named by the caller, no server switch).


async def ingest_message(db: Executor, tenant_id: str, server_id: int, channel_id: int, msg: MessageLike) -> dict[str, Any]:
    """A new or edited message: status inserted, updated or unchanged."""
    return _json(await db.fetchval(
        "SELECT analytics._ingest_message($1, $2, $3::text::jsonb)", tenant_id, server_id,
        json.dumps(message_payload(channel_id, msg)),
    ))


async def delete_message(db: Executor, tenant_id: str, message_id: int) -> dict[str, Any]:
    return _json(await db.fetchval("SELECT analytics.delete_message($1, $2)", tenant_id, message_id))


async def ingest_reaction(db: Executor, tenant_id: str, message_id: int, user_id: int, emoji_name: str,
                          emoji_id: int | None = None, animated: bool = False, removed: bool = False) -> dict[str, Any]:
    """status added, duplicate, removed, not_found, unknown_message or deleted_message."""
    return _json(await db.fetchval(
        "SELECT analytics.ingest_reaction($1, $2, $3, $4, $5, $6, $7)",
        tenant_id, message_id, user_id, emoji_name, emoji_id, animated, removed,
    ))
