"""Backfill a guild's history into the analytics warehouse, resumably and idempotently.

Per channel: start after the channel's resume point (analytics.sync_state) or, on a first or full
sync, at `sync_days` ago; walk history oldest first; every `batch_size` messages, COPY the batch
(users, messages, reactions) into the resonance.analytics_stage_* tables and call
analytics.apply_batch once, in the same transaction as the new resume point. Replaying a batch
writes nothing, so an interrupted sync is simply run again.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Union

import asyncpg
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from resonance.analytics.protocols import (
    ChannelLike,
    ClientLike,
    GuildLike,
    MemberLike,
    MessageLike,
    Unreadable,
    snowflake_at,
)

Executor = Union[asyncpg.Pool, asyncpg.Connection]

USER_COLUMNS = ["batch_id", "tenant_id", "server_id", "id", "username", "discriminator", "avatar", "is_bot",
                "is_member", "nickname", "joined_at"]
MESSAGE_COLUMNS = ["batch_id", "tenant_id", "server_id", "channel_id", "id", "author_id", "content", "created_at",
                   "edited_at", "message_type", "reply_to_message_id", "reply_to_author_id", "mention_ids",
                   "attachment_count", "embed_count", "reactions_complete"]
SEEN_LIMIT = 50_000  # reply authors remembered in memory; older ones resolve in SQL from the stored rows
REACTION_COLUMNS = ["batch_id", "tenant_id", "message_id", "emoji_discord_id", "emoji_name", "is_animated", "user_id"]


class ExtractionError(RuntimeError):
    """The guild is unknown to the client (not joined, or not cached)."""


@dataclass
class SyncStats:
    tenant_id: str
    guild_id: int
    channels: int = 0
    messages_seen: int = 0
    messages_inserted: int = 0
    messages_updated: int = 0
    mentions_added: int = 0
    reactions_added: int = 0
    reactions_removed: int = 0
    users_written: int = 0
    members_departed: int = 0
    batches: int = 0
    seconds: float = 0.0
    per_channel: dict[int, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # channels (or the member list) the bot cannot read

    def add(self, result: dict[str, Any]) -> None:
        self.batches += 1
        self.messages_inserted += int(result.get("messages_inserted", 0))
        self.messages_updated += int(result.get("messages_updated", 0))
        self.mentions_added += int(result.get("mentions_added", 0))
        self.reactions_added += int(result.get("reactions_added", 0))
        self.reactions_removed += int(result.get("reactions_removed", 0))
        self.users_written += int(result.get("users_written", 0))


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


class _Batch:
    def __init__(self, tenant_id: str, server_id: int) -> None:
        self.id = uuid.uuid4()
        self.tenant_id = tenant_id
        self.server_id = server_id
        self.users: dict[int, tuple] = {}
        self.messages: list[tuple] = []
        self.reactions: list[tuple] = []
        self.last_message_id: int | None = None

    def user(self, member: MemberLike, *, is_member: bool = False) -> None:
        if member.id in self.users and not is_member:
            return
        self.users[member.id] = (
            self.id, self.tenant_id, self.server_id, member.id, member.name, member.discriminator, member.avatar,
            bool(member.bot), is_member, member.nick if is_member else None, member.joined_at if is_member else None,
        )


async def _flush(conn: asyncpg.Connection, batch: _Batch, channel_id: int | None, stats: SyncStats) -> None:
    if not (batch.users or batch.messages):
        return
    async with conn.transaction():
        if batch.users:
            await conn.copy_records_to_table(
                "analytics_stage_users", schema_name="resonance", columns=USER_COLUMNS, records=list(batch.users.values())
            )
        if batch.messages:
            await conn.copy_records_to_table(
                "analytics_stage_messages", schema_name="resonance", columns=MESSAGE_COLUMNS, records=batch.messages
            )
        if batch.reactions:
            await conn.copy_records_to_table(
                "analytics_stage_reactions", schema_name="resonance", columns=REACTION_COLUMNS, records=batch.reactions
            )
        result = _json(await conn.fetchval("SELECT analytics.apply_batch($1)", batch.id))
        if channel_id is not None and batch.last_message_id is not None:
            await conn.execute(
                "SELECT analytics.record_sync_progress($1, $2, $3, $4, $5)",
                batch.tenant_id, batch.server_id, channel_id, batch.last_message_id, len(batch.messages),
            )
    stats.add(result)


async def _stage_message(batch: _Batch, channel: ChannelLike, message: MessageLike, seen: dict[int, int],
                         fetch_reactions: bool) -> None:
    batch.user(message.author)
    reply_to = reply_author = None
    if message.reference is not None and message.reference.message_id is not None:
        reply_to = message.reference.message_id
        # The reference's own author when Discord resolved it; else the referenced message as seen in
        # this run; else apply_batch takes it from the stored (or same-batch) referenced message.
        reply_author = message.reference.resolved_author_id or seen.get(reply_to)
    mention_ids = sorted({m.id for m in message.mentions})
    for mentioned in message.mentions:
        batch.user(mentioned)
    if fetch_reactions:
        for reaction in message.reactions:
            emoji = reaction.emoji
            async for reactor in reaction.users():
                batch.user(reactor)
                batch.reactions.append(
                    (batch.id, batch.tenant_id, message.id, emoji.id, emoji.name, bool(emoji.animated), reactor.id)
                )
    batch.messages.append((
        batch.id, batch.tenant_id, batch.server_id, channel.id, message.id, message.author.id, message.content,
        message.created_at, message.edited_at, int(message.type), reply_to, reply_author, mention_ids,
        message.attachment_count, message.embed_count, fetch_reactions,
    ))
    seen[message.id] = message.author.id
    batch.last_message_id = max(batch.last_message_id or 0, message.id)


async def _members(guild: GuildLike) -> AsyncIterator[MemberLike]:
    """The member list: streamed when the guild pages it (`iter_members`, the REST client), else its sequence."""
    pages = getattr(guild, "iter_members", None)
    if pages is not None:
        async for member in pages():
            yield member
    else:
        for member in guild.members:
            yield member


async def _sync_members(conn: asyncpg.Connection, guild: GuildLike, tenant_id: str, batch_size: int,
                        stats: SyncStats, progress: Progress) -> None:
    ids: list[int] = []
    batch = _Batch(tenant_id, guild.id)
    try:
        async for member in _members(guild):
            batch.user(member, is_member=True)
            ids.append(member.id)
            if len(batch.users) >= batch_size:
                await _flush(conn, batch, None, stats)
                batch = _Batch(tenant_id, guild.id)
    except Unreadable as exc:
        stats.skipped.append(f"member list: {exc}")
        progress.console.print(f"[yellow]skipped[/yellow] the member list: {exc}", soft_wrap=True)
        ids = []  # incomplete: mark nobody as departed
    await _flush(conn, batch, None, stats)
    if ids:  # an empty list means no members intent (or no access), not an empty guild: mark nobody
        stats.members_departed = await conn.fetchval(
            "SELECT analytics.mark_departed_members($1, $2, $3)", tenant_id, guild.id, sorted(set(ids))
        )


async def _sync_guild(conn: asyncpg.Connection, guild: GuildLike, tenant_id: str, *, sync_days: int,
                      fetch_reactions: bool, batch_size: int, full: bool, now: datetime, progress: Progress,
                      stats: SyncStats) -> None:
    await conn.execute(
        "SELECT analytics.upsert_server($1, $2, $3, $4, $5, $6)",
        tenant_id, guild.id, guild.name, guild.icon, guild.owner_id, guild.member_count,
    )
    channels = list(guild.text_channels)
    for channel in channels:
        await conn.execute(
            "SELECT analytics.upsert_channel($1, $2, $3, $4, $5, $6, $7, $8)",
            tenant_id, guild.id, channel.id, channel.name, int(channel.type), channel.topic, channel.position,
            bool(channel.nsfw),
        )
    await _sync_members(conn, guild, tenant_id, batch_size, stats, progress)

    start = snowflake_at(now - timedelta(days=sync_days))
    resume = {} if full else {
        r["channel_id"]: r["last_message_id"]
        for r in await conn.fetch(
            "SELECT channel_id, last_message_id FROM analytics.sync_state WHERE tenant_id = $1 AND server_id = $2",
            tenant_id, guild.id,
        )
    }
    seen: dict[int, int] = {}  # message id -> author id, for replies whose reference Discord did not resolve
    for channel in channels:
        task = progress.add_task(f"#{channel.name}"[:24], total=None)
        after = max(start, resume.get(channel.id) or 0)
        batch = _Batch(tenant_id, guild.id)
        count = 0
        try:
            async for message in channel.history(after=after, oldest_first=True):
                await _stage_message(batch, channel, message, seen, fetch_reactions)
                count += 1
                progress.advance(task)
                if len(batch.messages) >= batch_size:
                    await _flush(conn, batch, channel.id, stats)
                    batch = _Batch(tenant_id, guild.id)
                    if len(seen) > SEEN_LIMIT:
                        seen.clear()  # bounded memory: older references resolve in SQL from the stored rows
        except Unreadable as exc:
            await _flush(conn, batch, channel.id, stats)
            stats.skipped.append(f"#{channel.name} ({channel.id}): {exc}")
            progress.update(task, description=f"#{channel.name} skipped"[:24], total=count, completed=count)
            progress.console.print(f"[yellow]skipped[/yellow] #{channel.name} ({channel.id}): {exc}", soft_wrap=True)
            continue
        await _flush(conn, batch, channel.id, stats)
        progress.update(task, total=count, completed=count)
        stats.messages_seen += count
        stats.per_channel[channel.id] = count
        stats.channels += 1


async def run_extraction(
    client: ClientLike,
    db: Executor,
    guild_id: int,
    tenant_id: str,
    *,
    sync_days: int = 7,
    fetch_reactions: bool = True,
    batch_size: int = 500,
    full: bool = False,
    now: datetime | None = None,
    progress: bool | Progress = False,
) -> SyncStats:
    """Sync one guild for one tenant; returns what was written. `full` ignores the resume points
    (re-reads `sync_days` of history, so edits to older messages land in place). The rollups
    (user_interactions, daily_stats) follow every batch: there is nothing to refresh afterwards.
    `progress`: True for a rich progress bar per channel, or a Progress of the caller's."""
    guild = client.get_guild(guild_id)
    if guild is None:
        raise ExtractionError(f"guild {guild_id} is not available to this client")
    stats = SyncStats(tenant_id=tenant_id, guild_id=guild_id)
    began = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    with contextlib.ExitStack() as stack:
        if isinstance(progress, Progress):
            bar = progress
        else:
            bar = stack.enter_context(Progress(*progress_columns(), disable=not progress, transient=False))
        async with contextlib.AsyncExitStack() as astack:
            conn = await astack.enter_async_context(db.acquire()) if isinstance(db, asyncpg.Pool) else db
            await _sync_guild(conn, guild, tenant_id, sync_days=sync_days, fetch_reactions=fetch_reactions,
                              batch_size=batch_size, full=full, now=now, progress=bar, stats=stats)
    stats.seconds = time.perf_counter() - began
    return stats


def progress_columns() -> list:
    return [TextColumn("{task.description:>24}"), BarColumn(), TextColumn("{task.completed:>8,} messages"),
            TimeElapsedColumn()]
