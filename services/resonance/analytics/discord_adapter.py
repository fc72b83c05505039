"""discord.py objects seen through the extractor's protocols.

The adapters are thin: they turn enums into ints, assets into strings, a resolved reference into
its author id, and `history(after=int)` into discord.py's `history(after=discord.Object)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from resonance.analytics.protocols import Unreadable


def _asset_key(asset: Any) -> str | None:
    if asset is None:
        return None
    return getattr(asset, "key", None) or str(asset)


class DiscordMember:
    def __init__(self, user: Any) -> None:
        self._u = user

    id = property(lambda self: int(self._u.id))
    name = property(lambda self: str(self._u.name))
    bot = property(lambda self: bool(getattr(self._u, "bot", False)))
    nick = property(lambda self: getattr(self._u, "nick", None))
    joined_at = property(lambda self: getattr(self._u, "joined_at", None))

    @property
    def discriminator(self) -> str | None:
        value = getattr(self._u, "discriminator", None)
        return None if value in (None, "0", "0000") else str(value)

    @property
    def avatar(self) -> str | None:
        return _asset_key(getattr(self._u, "avatar", None))


@dataclass(frozen=True)
class EmojiInfo:
    id: int | None
    name: str
    animated: bool = False


class DiscordReaction:
    def __init__(self, reaction: Any) -> None:
        self._r = reaction

    @property
    def emoji(self) -> EmojiInfo:
        e = self._r.emoji
        if isinstance(e, str):
            return EmojiInfo(None, e, False)
        return EmojiInfo(getattr(e, "id", None), str(e.name), bool(getattr(e, "animated", False)))

    async def users(self) -> AsyncIterator[DiscordMember]:
        async for user in self._r.users(limit=None):
            yield DiscordMember(user)


@dataclass(frozen=True)
class ReferenceInfo:
    message_id: int | None
    resolved_author_id: int | None


class DiscordMessage:
    def __init__(self, message: Any) -> None:
        self._m = message

    id = property(lambda self: int(self._m.id))
    author = property(lambda self: DiscordMember(self._m.author))
    content = property(lambda self: self._m.content or "")
    created_at = property(lambda self: self._m.created_at)
    edited_at = property(lambda self: self._m.edited_at)
    attachment_count = property(lambda self: len(self._m.attachments))
    embed_count = property(lambda self: len(self._m.embeds))

    @property
    def type(self) -> int:
        t = self._m.type
        return int(getattr(t, "value", t))

    @property
    def reference(self) -> ReferenceInfo | None:
        ref = self._m.reference
        if ref is None or ref.message_id is None:
            return None
        resolved = getattr(ref, "resolved", None)
        author = getattr(resolved, "author", None)  # DeletedReferencedMessage has no author
        return ReferenceInfo(int(ref.message_id), int(author.id) if author is not None else None)

    @property
    def mentions(self) -> Sequence[DiscordMember]:
        return [DiscordMember(u) for u in self._m.mentions]

    @property
    def reactions(self) -> Sequence[DiscordReaction]:
        return [DiscordReaction(r) for r in self._m.reactions]


class DiscordChannel:
    def __init__(self, channel: Any) -> None:
        self._c = channel

    id = property(lambda self: int(self._c.id))
    name = property(lambda self: str(self._c.name))
    topic = property(lambda self: getattr(self._c, "topic", None))
    position = property(lambda self: getattr(self._c, "position", None))
    nsfw = property(lambda self: bool(getattr(self._c, "nsfw", False)))

    @property
    def type(self) -> int:
        t = self._c.type
        return int(getattr(t, "value", t))

    async def history(self, *, after: int | None = None, oldest_first: bool = True) -> AsyncIterator[DiscordMessage]:
        marker = discord.Object(id=after) if after else None
        try:
            async for message in self._c.history(limit=None, after=marker, oldest_first=oldest_first):
                yield DiscordMessage(message)
        except discord.Forbidden as exc:
            raise Unreadable(f"no access ({exc.status} {exc.text or 'Missing Access'})") from exc


class DiscordGuild:
    def __init__(self, guild: Any) -> None:
        self._g = guild

    id = property(lambda self: int(self._g.id))
    name = property(lambda self: str(self._g.name))
    icon = property(lambda self: _asset_key(self._g.icon))
    owner_id = property(lambda self: self._g.owner_id)
    member_count = property(lambda self: self._g.member_count)

    @property
    def members(self) -> Sequence[DiscordMember]:
        return [DiscordMember(m) for m in self._g.members]

    @property
    def text_channels(self) -> Sequence[DiscordChannel]:
        return [DiscordChannel(c) for c in self._g.text_channels]


class DiscordClientAdapter:
    """Wrap a connected discord.Client (members intent on, for the member list)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    def get_guild(self, guild_id: int, /) -> DiscordGuild | None:
        guild = self._client.get_guild(guild_id)
        return DiscordGuild(guild) if guild is not None else None


__all__ = [
    "DiscordChannel",
    "DiscordClientAdapter",
    "DiscordGuild",
    "DiscordMember",
    "DiscordMessage",
    "DiscordReaction",
    "EmojiInfo",
    "ReferenceInfo",
]
