"""A guild read over Discord's REST API alone (no gateway session), seen through the extractor's
protocols. discord.py's HTTPClient does the requests and respects Discord's rate limits (buckets,
429 with retry_after, global limits); its rate-limit log lines are turned into progress notices.

Nothing is held beyond one page: a channel's history is read 100 messages at a time (`after=`,
oldest first), a reaction's users 100 at a time, the member list 1,000 at a time.

    client = await RestClient.login(token)          # LoginFailure on a bad token
    guild = await client.fetch_guild(guild_id)      # GuildUnavailable if the bot is not in it
    stats = await run_extraction(client.serving(guild), pool, guild.id, tenant, ...)

or all of it in one call: `await sync_guild(token, guild_id, pool, tenant, sync_days=7)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
from discord.http import HTTPClient, Route

from resonance.analytics.protocols import Unreadable

MESSAGE_PAGE = 100  # Discord's maximum for GET /channels/{id}/messages
REACTION_PAGE = 100  # and for GET .../reactions/{emoji}
MEMBER_PAGE = 1000  # and for GET /guilds/{id}/members
TEXT_CHANNEL_TYPES = (0, 5)  # text, announcement: the channels with a message history of their own


class GuildUnavailable(Exception):
    """The guild does not exist or the bot is not in it (Discord answers 404 or 403)."""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


@dataclass(frozen=True)
class RestUser:
    id: int
    name: str
    discriminator: str | None
    avatar: str | None
    bot: bool
    nick: str | None = None
    joined_at: datetime | None = None

    @classmethod
    def of(cls, data: dict[str, Any], member: dict[str, Any] | None = None) -> RestUser:
        discriminator = data.get("discriminator")
        return cls(
            id=int(data["id"]), name=str(data.get("username") or data["id"]),
            discriminator=None if discriminator in (None, "0", "0000") else str(discriminator),
            avatar=data.get("avatar"), bot=bool(data.get("bot", False)),
            nick=(member or {}).get("nick"), joined_at=_time((member or {}).get("joined_at")),
        )


@dataclass(frozen=True)
class RestEmoji:
    id: int | None
    name: str
    animated: bool = False

    @property
    def route_key(self) -> str:
        """How the reactions route names the emoji: the character, or name:id for a custom one."""
        return self.name if self.id is None else f"{self.name}:{self.id}"


@dataclass(frozen=True)
class RestReference:
    message_id: int | None
    resolved_author_id: int | None


class RestReaction:
    def __init__(self, http: HTTPClient, channel_id: int, message_id: int, data: dict[str, Any]) -> None:
        self._http, self._channel_id, self._message_id = http, channel_id, message_id
        emoji = data.get("emoji") or {}
        self.emoji = RestEmoji(_int(emoji.get("id")), str(emoji.get("name") or ""), bool(emoji.get("animated", False)))
        self.count = int(data.get("count", 0))

    async def users(self) -> AsyncIterator[RestUser]:
        after: int | None = None
        while True:
            try:
                page = await self._http.get_reaction_users(self._channel_id, self._message_id, self.emoji.route_key,
                                                            REACTION_PAGE, after=after)
            except discord.NotFound:
                return  # the message or the reaction went away meanwhile
            for user in page:
                yield RestUser.of(user)
            if len(page) < REACTION_PAGE:
                return
            after = int(page[-1]["id"])


class RestMessage:
    def __init__(self, http: HTTPClient, channel_id: int, data: dict[str, Any]) -> None:
        self._data = data
        self.id = int(data["id"])
        self.author = RestUser.of(data["author"], data.get("member"))
        self.content = data.get("content") or ""
        self.created_at = _time(data["timestamp"])
        self.edited_at = _time(data.get("edited_timestamp"))
        self.type = int(data.get("type", 0))
        self.attachment_count = len(data.get("attachments") or ())
        self.embed_count = len(data.get("embeds") or ())
        self.mentions: Sequence[RestUser] = [RestUser.of(u) for u in data.get("mentions") or ()]
        ref = data.get("message_reference")
        if ref and ref.get("message_id") is not None and self.type in (0, 19, 21):
            resolved = data.get("referenced_message") or {}
            author = resolved.get("author") or {}
            self.reference: RestReference | None = RestReference(int(ref["message_id"]), _int(author.get("id")))
        else:
            self.reference = None
        self.reactions = [RestReaction(http, channel_id, self.id, r) for r in data.get("reactions") or ()]


class RestChannel:
    def __init__(self, http: HTTPClient, data: dict[str, Any]) -> None:
        self._http = http
        self.id = int(data["id"])
        self.name = str(data.get("name") or data["id"])
        self.type = int(data.get("type", 0))
        self.topic = data.get("topic")
        self.position = data.get("position")
        self.nsfw = bool(data.get("nsfw", False))

    async def history(self, *, after: int | None = None, oldest_first: bool = True) -> AsyncIterator[RestMessage]:
        """Oldest first, one page of 100 at a time: Discord answers `after=X` with the 100 messages
        following X (newest first within the page)."""
        if not oldest_first:
            raise ValueError("the REST history is read oldest first")
        cursor = after or 0
        while True:
            try:
                page = await self._http.logs_from(self.id, MESSAGE_PAGE, after=cursor)
            except discord.Forbidden as exc:
                raise Unreadable(f"no access (403 {exc.text or 'Missing Access'})") from exc
            page.sort(key=lambda m: int(m["id"]))
            for data in page:
                yield RestMessage(self._http, self.id, data)
            if len(page) < MESSAGE_PAGE:
                return
            cursor = int(page[-1]["id"])


class RestGuild:
    def __init__(self, http: HTTPClient, data: dict[str, Any], channels: list[dict[str, Any]]) -> None:
        self._http = http
        self.id = int(data["id"])
        self.name = str(data.get("name") or data["id"])
        self.icon = data.get("icon")
        self.owner_id = _int(data.get("owner_id"))
        self.member_count = data.get("approximate_member_count", data.get("member_count"))
        text = [c for c in channels if int(c.get("type", 0)) in TEXT_CHANNEL_TYPES]
        text.sort(key=lambda c: (c.get("position") or 0, int(c["id"])))
        self.text_channels = [RestChannel(http, c) for c in text]
        self.members: Sequence[RestUser] = ()  # streamed by iter_members instead

    async def iter_members(self) -> AsyncIterator[RestUser]:
        after = 0
        while True:
            try:
                page = await self._http.get_members(self.id, MEMBER_PAGE, after or None)
            except discord.Forbidden as exc:
                raise Unreadable(f"no access (403 {exc.text or 'Missing Access'}): turn on the Server Members intent") from exc
            for member in page:
                yield RestUser.of(member["user"], member)
            if len(page) < MEMBER_PAGE:
                return
            after = int(page[-1]["user"]["id"])


class _Serving:
    """A ClientLike that hands out the one guild already fetched."""

    def __init__(self, guild: RestGuild) -> None:
        self._guild = guild

    def get_guild(self, guild_id: int, /) -> RestGuild | None:
        return self._guild if guild_id == self._guild.id else None


class RestClient:
    def __init__(self, http: HTTPClient, me: dict[str, Any]) -> None:
        self.http = http
        self.me = me
        self._previous_base = Route.BASE

    @classmethod
    async def login(cls, token: str, *, api_base: str | None = None) -> RestClient:
        """Log in over REST (GET /users/@me). Raises discord.LoginFailure for a bad token.
        `api_base` (testing: a fake Discord) replaces discord.py's API root until close()."""
        previous = Route.BASE
        if api_base:
            Route.BASE = api_base.rstrip("/")
        http = HTTPClient(asyncio.get_running_loop())
        try:
            me = await http.static_login(token)
        except BaseException:
            await http.close()
            Route.BASE = previous
            raise
        client = cls(http, dict(me))
        client._previous_base = previous
        return client

    @property
    def application_id(self) -> int:
        return int(self.me["id"])

    async def fetch_guild(self, guild_id: int) -> RestGuild:
        try:
            data = await self.http.get_guild(guild_id, with_counts=True)
            channels = await self.http.get_all_guild_channels(guild_id)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise GuildUnavailable(f"{exc.status} {exc.text or exc.__class__.__name__}") from exc
        return RestGuild(self.http, dict(data), list(channels))

    def serving(self, guild: RestGuild) -> _Serving:
        return _Serving(guild)

    async def close(self) -> None:
        await self.http.close()
        Route.BASE = self._previous_base


def invite_url(application_id: int) -> str:
    """The bot's invite link with what a sync needs: View Channels and Read Message History."""
    permissions = (1 << 10) | (1 << 16)
    return f"https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot&permissions={permissions}"


class RateLimitNotices(logging.Handler):
    """discord.py logs each rate-limit wait (a 429 and its retry_after, a global limit); pass each
    one to `notify` (the progress bar shows it) and count them."""

    def __init__(self, notify: Callable[[str], None]) -> None:
        super().__init__(level=logging.WARNING)
        self.notify = notify
        self.waits = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "rate limit" in message.lower():
            self.waits += 1
            self.notify(message.split(" responded with 429.")[-1].strip() if "429" in message else message)

    def __enter__(self) -> RateLimitNotices:
        log = logging.getLogger("discord.http")
        self._saved = (log.level, log.propagate)
        log.setLevel(logging.WARNING)
        log.propagate = False  # the bar shows them; no raw log lines through the progress display
        log.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        log = logging.getLogger("discord.http")
        log.removeHandler(self)
        log.setLevel(self._saved[0])
        log.propagate = self._saved[1]


__all__ = [
    "GuildUnavailable",
    "RateLimitNotices",
    "RestChannel",
    "RestClient",
    "RestGuild",
    "RestMessage",
    "RestReaction",
    "RestUser",
    "invite_url",
    "sync_guild",
]


async def sync_guild(token: str, guild_id: int, db: Any, tenant_id: str, *, sync_days: int = 7,
                     fetch_reactions: bool = True, batch_size: int = 500, full: bool = False,
                     progress: Any = False, api_base: str | None = None) -> Any:
    """Log in, fetch the guild and sync it (what `resonance analytics sync` does, for callers such as
    the web's extraction jobs). Raises discord.LoginFailure (bad token) or GuildUnavailable; returns
    the extractor's SyncStats (`skipped` lists unreadable channels)."""
    from resonance.analytics.extractor import run_extraction

    client = await RestClient.login(token, api_base=api_base)
    try:
        guild = await client.fetch_guild(guild_id)
        return await run_extraction(client.serving(guild), db, guild.id, tenant_id, sync_days=sync_days,
                                    fetch_reactions=fetch_reactions, batch_size=batch_size, full=full, progress=progress)
    finally:
        await client.close()
