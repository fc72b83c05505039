"""What the extractor needs from Discord, as structural types.

The discord.py adapter (`resonance.analytics.discord_adapter`) and the mock client
(`resonance.analytics.mock`) both satisfy these protocols; the extractor sees nothing else.
Ids are Discord snowflakes (int), times are aware UTC datetimes, enums are plain ints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable


class Unreadable(Exception):
    """Raised by `ChannelLike.history` (or a guild's member pages) when the bot may not read them
    (Discord answers 403): the extractor skips that channel with a line saying so."""


@runtime_checkable
class MemberLike(Protocol):
    """A user, or a member of the guild (nick and joined_at then set)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def discriminator(self) -> str | None: ...
    @property
    def avatar(self) -> str | None: ...
    @property
    def bot(self) -> bool: ...
    @property
    def nick(self) -> str | None: ...
    @property
    def joined_at(self) -> datetime | None: ...


@runtime_checkable
class EmojiLike(Protocol):
    """A unicode emoji (id None, name the character) or a custom one."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def animated(self) -> bool: ...


@runtime_checkable
class ReactionLike(Protocol):
    @property
    def emoji(self) -> EmojiLike: ...
    def users(self) -> AsyncIterator[MemberLike]: ...


@runtime_checkable
class ReferenceLike(Protocol):
    """A reply's reference: the referenced message id and, when Discord resolved it, its author."""

    @property
    def message_id(self) -> int | None: ...
    @property
    def resolved_author_id(self) -> int | None: ...


@runtime_checkable
class MessageLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def author(self) -> MemberLike: ...
    @property
    def content(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def edited_at(self) -> datetime | None: ...
    @property
    def type(self) -> int: ...
    @property
    def reference(self) -> ReferenceLike | None: ...
    @property
    def mentions(self) -> Sequence[MemberLike]: ...
    @property
    def attachment_count(self) -> int: ...
    @property
    def embed_count(self) -> int: ...
    @property
    def reactions(self) -> Sequence[ReactionLike]: ...


@runtime_checkable
class ChannelLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> int: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def position(self) -> int | None: ...
    @property
    def nsfw(self) -> bool: ...
    def history(self, *, after: int | None = None, oldest_first: bool = True) -> AsyncIterator[MessageLike]:
        """Messages with an id greater than `after`, oldest first; raises Unreadable without access."""
        ...


@runtime_checkable
class GuildLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def icon(self) -> str | None: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def member_count(self) -> int | None: ...
    @property
    def members(self) -> Sequence[MemberLike]: ...
    @property
    def text_channels(self) -> Sequence[ChannelLike]: ...


@runtime_checkable
class ClientLike(Protocol):
    def get_guild(self, guild_id: int, /) -> GuildLike | None: ...


DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int) -> datetime:
    """The creation time a snowflake encodes."""
    from datetime import timezone

    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=timezone.utc)


def snowflake_at(moment: datetime, increment: int = 0) -> int:
    """The smallest snowflake of a moment (plus an increment in the low 22 bits)."""
    return ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | (increment & 0x3FFFFF)
