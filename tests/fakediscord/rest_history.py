"""The fake Discord's history routes: what `resonance analytics sync` reads over REST.

    GET /guilds/{guild_id}                                     404 when the bot is not in it
    GET /guilds/{guild_id}/channels
    GET /guilds/{guild_id}/members?limit=&after=               by user id
    GET /channels/{channel_id}/messages?limit=&before=&after=  newest first in a page, as Discord does;
                                                               403 for a channel the bot cannot read
    GET /channels/{channel_id}/messages/{message_id}/reactions/{emoji}?limit=&after=

(login, GET /users/@me, and the 401 for a bad token are rest_core's and the framework's.)

Discord's shapes: snowflakes as strings, ISO timestamps, `message_reference` plus
`referenced_message` (null when Discord did not resolve it), reactions as counts with the users
on their own route. Every `rate_limit_every`-th history request is answered 429 with `retry_after`
(and the `Via` header discord.py checks to tell Discord from Cloudflare).

What they serve: a `HistoryWorld` attached to the FakeDiscord (`attach(fake, world)`) for guilds
built from the mock generator (`HistoryWorld.from_mock`: a sync can be compared with the
generator's truth and with an in-process extraction) or generated lazily (`large_guild`: 200,000
messages cost a list of ids, not 200,000 objects); any other guild is read from the fake's own
`State` (the bot tests' world: its guilds, channels, members and messages).

By hand: `python tests/fakediscord/rest_history.py PORT MESSAGES` serves a large guild.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from aiohttp import web

from fakediscord.rest import RouteTable, error, json_response
from fakediscord.state import DISCORD_EPOCH_MS

if TYPE_CHECKING:
    from fakediscord.server import FakeDiscord

routes = RouteTable()


def snowflake_at(moment: datetime, increment: int = 0) -> int:
    return ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | (increment & 0x3FFFFF)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def user_payload(user_id: int, name: str, *, discriminator: str | None = None, avatar: str | None = None,
                 bot: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(user_id), "username": name, "discriminator": discriminator or "0",
                           "global_name": name, "avatar": avatar, "public_flags": 0}
    if bot:
        out["bot"] = True
    return out


class MessageSource(Protocol):
    """A channel's messages: sorted ids, and the payload of the message at an index."""

    ids: list[int]

    def payload(self, index: int) -> dict[str, Any] | None: ...
    def reactors(self, message_id: int, emoji_key: str) -> list[dict[str, Any]]: ...


@dataclass
class ListedChannel:
    """Messages given as payload dicts (from the mock generator, or written by a test)."""

    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)  # (message, emoji key) -> users
    ids: list[int] = field(default_factory=list)

    def put(self, message: dict[str, Any], reactors: dict[str, list[dict[str, Any]]] | None = None) -> None:
        mid = int(message["id"])
        if mid not in self.messages:
            bisect.insort(self.ids, mid)
        self.messages[mid] = message
        for key, users in (reactors or {}).items():
            self.users[(mid, key)] = sorted(users, key=lambda u: int(u["id"]))

    def remove(self, message_id: int) -> None:
        if self.messages.pop(message_id, None) is not None:
            self.ids.remove(message_id)

    def payload(self, index: int) -> dict[str, Any] | None:
        return self.messages.get(self.ids[index])

    def reactors(self, message_id: int, emoji_key: str) -> list[dict[str, Any]]:
        return self.users.get((message_id, emoji_key), [])


class GeneratedChannel:
    """`count` messages spread evenly over [start, end), made on request from their index: a tenth
    reply to the message before (resolved), one in twenty carries a reaction from two members."""

    def __init__(self, channel_id: int, count: int, start: datetime, end: datetime, authors: list[dict[str, Any]],
                 seed: int = 0) -> None:
        self.channel_id, self.count, self.authors, self.seed = channel_id, count, authors, seed
        step = (end - start) / max(count, 1)
        self._times = [start + step * i for i in range(count)]
        self.ids = [snowflake_at(t, (i << 3) | (seed & 7)) for i, t in enumerate(self._times)]  # unique across channels

    def _author(self, index: int) -> dict[str, Any]:
        return self.authors[(index * 7919 + self.seed) % len(self.authors)]

    def payload(self, index: int) -> dict[str, Any] | None:
        rng = random.Random(self.seed * 1_000_003 + index)
        mid = self.ids[index]
        out: dict[str, Any] = {
            "id": str(mid), "channel_id": str(self.channel_id), "author": self._author(index), "type": 0,
            "content": " ".join(rng.choice(("gg", "nice", "ship it", "lol", "drop", "vote", "build")) for _ in range(rng.randint(1, 12))),
            "timestamp": iso(self._times[index]), "edited_timestamp": None, "mentions": [], "attachments": [],
            "embeds": [], "reactions": [], "pinned": False, "tts": False, "mention_everyone": False,
        }
        if index and rng.random() < 0.10:
            out["type"] = 19
            out["message_reference"] = {"message_id": str(self.ids[index - 1]), "channel_id": str(self.channel_id)}
            out["referenced_message"] = {"id": str(self.ids[index - 1]), "author": self._author(index - 1)}
        if rng.random() < 0.05:
            out["reactions"] = [{"emoji": {"id": None, "name": "\N{FIRE}"}, "count": 2, "me": False}]
        return out

    def reactors(self, message_id: int, emoji_key: str) -> list[dict[str, Any]]:
        index = bisect.bisect_left(self.ids, message_id)
        return sorted((self.authors[(index + k) % len(self.authors)] for k in (1, 2)), key=lambda u: int(u["id"]))


@dataclass
class HistoryChannel:
    id: int
    name: str
    source: MessageSource
    type: int = 0
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    readable: bool = True  # False: the bot lacks View Channel / Read Message History (403)

    def payload(self, guild_id: int) -> dict[str, Any]:
        return {"id": str(self.id), "guild_id": str(guild_id), "name": self.name, "type": self.type,
                "position": self.position, "topic": self.topic, "nsfw": self.nsfw, "permission_overwrites": []}


@dataclass
class HistoryGuild:
    id: int
    name: str
    owner_id: int
    channels: list[HistoryChannel]
    members: list[dict[str, Any]]  # member payloads: {"user": ..., "nick": ..., "joined_at": ...}
    icon: str | None = None

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "icon": self.icon, "owner_id": str(self.owner_id),
                "approximate_member_count": len(self.members), "roles": [], "emojis": [], "features": []}


@dataclass
class HistoryWorld:
    guilds: dict[int, HistoryGuild] = field(default_factory=dict)
    rate_limit_every: int | None = None  # every n-th request is answered 429 first
    retry_after: float = 0.05
    stall_after_pages: int | None = None  # message pages served before the fake stops answering (an interruption)
    requests: int = 0
    rate_limited: int = 0
    message_pages: int = 0
    stalled: asyncio.Event = field(default_factory=asyncio.Event)

    def channel(self, channel_id: int) -> tuple[HistoryGuild, HistoryChannel] | None:
        for guild in self.guilds.values():
            for channel in guild.channels:
                if channel.id == channel_id:
                    return guild, channel
        return None

    @classmethod
    def from_mock(cls, client: Any, **kw: Any) -> HistoryWorld:
        """The mock client's guilds with the visible part of their history, in Discord's shapes."""
        world = cls(**kw)
        for guild in client.guilds:
            world.guilds[guild.id] = HistoryGuild(
                id=guild.id, name=guild.name, owner_id=guild.owner_id, icon=guild.icon,
                members=[member_payload(m) for m in guild.members], channels=[],
            )
            for channel in guild.text_channels:
                listed = ListedChannel()
                for message in channel.visible():
                    put_mock_message(listed, channel.id, message)
                world.guilds[guild.id].channels.append(HistoryChannel(
                    id=channel.id, name=channel.name, source=listed, type=channel.type, position=channel.position or 0,
                    topic=channel.topic, nsfw=channel.nsfw,
                ))
        return world


def mock_user(member: Any) -> dict[str, Any]:
    return user_payload(member.id, member.name, discriminator=member.discriminator, avatar=member.avatar, bot=member.bot)


def member_payload(member: Any) -> dict[str, Any]:
    return {"user": mock_user(member), "nick": member.nick, "joined_at": iso(member.joined_at), "roles": [],
            "deaf": False, "mute": False}


def emoji_key(emoji: Any) -> str:
    return emoji.name if emoji.id is None else f"{emoji.name}:{emoji.id}"


def put_mock_message(listed: ListedChannel, channel_id: int, message: Any) -> None:
    """A mock message as Discord sends it (and its reaction users on their own route)."""
    payload: dict[str, Any] = {
        "id": str(message.id), "channel_id": str(channel_id), "author": mock_user(message.author),
        "content": message.content, "timestamp": iso(message.created_at), "edited_timestamp": iso(message.edited_at),
        "type": message.type, "mentions": [mock_user(u) for u in message.mentions],
        "attachments": [{"id": str(k)} for k in range(message.attachment_count)],
        "embeds": [{} for _ in range(message.embed_count)],
        "reactions": [{"emoji": {"id": str(r.emoji.id) if r.emoji.id else None, "name": r.emoji.name,
                                 "animated": r.emoji.animated}, "count": len(r.reactors), "me": False}
                      for r in message.reactions],
    }
    if message.reference is not None:
        payload["message_reference"] = {"message_id": str(message.reference.message_id), "channel_id": str(channel_id)}
        resolved = message.reference.resolved_author_id
        payload["referenced_message"] = None if resolved is None else {
            "id": str(message.reference.message_id), "author": user_payload(resolved, str(resolved)),
        }
    listed.put(payload, {emoji_key(r.emoji): [mock_user(u) for u in r.reactors] for r in message.reactions})


# --- the routes ------------------------------------------------------------------------------------


def attach(fake: FakeDiscord, world: HistoryWorld) -> HistoryWorld:
    """Serve `world`'s guilds from this fake Discord (before or after it started)."""
    fake.history = world  # type: ignore[attr-defined]
    return world


def world_of(fake: FakeDiscord) -> HistoryWorld:
    world = getattr(fake, "history", None)
    return world if world is not None else attach(fake, HistoryWorld())


def _limit(request: web.Request, default: int, most: int) -> int:
    return max(1, min(most, int(request.query.get("limit", default))))


def _rate_limited(world: HistoryWorld) -> web.Response | None:
    """Every n-th history request: 429, as Discord answers when a bucket is exhausted."""
    world.requests += 1
    if world.rate_limit_every and world.requests % world.rate_limit_every == 0:
        world.rate_limited += 1
        return json_response({"message": "You are being rate limited.", "retry_after": world.retry_after, "global": False},
                             429)
    return None


def _with_headers(response: web.Response, status: int = 200) -> web.Response:
    headers = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49", "X-RateLimit-Reset-After": "1.0",
               "X-RateLimit-Bucket": "history"}
    if response.status == 429:
        headers |= {"Via": "1.1 google", "X-RateLimit-Remaining": "0", "Retry-After": "1"}
    response.headers.update(headers)
    return response


def _native_channel(fake: FakeDiscord, channel_id: int) -> Any:
    channel = fake.state.channels.get(channel_id)
    return channel if channel is not None and channel.guild_id is not None else None


@routes.get("/guilds/{guild_id}")
async def guild(fake: FakeDiscord, request: web.Request) -> web.Response:
    world, guild_id = world_of(fake), int(request.match_info["guild_id"])
    if (limited := _rate_limited(world)) is not None:
        return _with_headers(limited)
    if guild_id in world.guilds:
        return _with_headers(json_response(world.guilds[guild_id].payload()))
    native = fake.state.guilds.get(guild_id)
    if native is None:
        return _with_headers(error(404, 10004, "Unknown Guild"))
    data = native.payload()
    data["approximate_member_count"] = len(native.members)
    return _with_headers(json_response({k: v for k, v in data.items() if k not in ("members", "channels", "voice_states")}))


@routes.get("/guilds/{guild_id}/channels")
async def guild_channels(fake: FakeDiscord, request: web.Request) -> web.Response:
    world, guild_id = world_of(fake), int(request.match_info["guild_id"])
    if (limited := _rate_limited(world)) is not None:
        return _with_headers(limited)
    if guild_id in world.guilds:
        found = world.guilds[guild_id]
        return _with_headers(json_response([c.payload(found.id) for c in found.channels]))
    native = fake.state.guilds.get(guild_id)
    if native is None:
        return _with_headers(error(404, 10004, "Unknown Guild"))
    return _with_headers(json_response([c.payload() for c in native.channels.values()]))


@routes.get("/guilds/{guild_id}/members")
async def guild_members(fake: FakeDiscord, request: web.Request) -> web.Response:
    world, guild_id = world_of(fake), int(request.match_info["guild_id"])
    if (limited := _rate_limited(world)) is not None:
        return _with_headers(limited)
    if guild_id in world.guilds:
        members = world.guilds[guild_id].members
    elif guild_id in fake.state.guilds:
        members = [m.payload() for m in fake.state.guilds[guild_id].members.values()]
    else:
        return _with_headers(error(404, 10004, "Unknown Guild"))
    after = int(request.query.get("after", 0))
    page = sorted((m for m in members if int(m["user"]["id"]) > after), key=lambda m: int(m["user"]["id"]))
    return _with_headers(json_response(page[: _limit(request, 1, 1000)]))


def _window(ids: list[int], request: web.Request) -> range:
    limit = _limit(request, 50, 100)
    if "after" in request.query:
        start = bisect.bisect_right(ids, int(request.query["after"]))
        return range(start, min(len(ids), start + limit))
    end = bisect.bisect_left(ids, int(request.query["before"])) if "before" in request.query else len(ids)
    return range(max(0, end - limit), end)


@routes.get("/channels/{channel_id}/messages")
async def channel_messages(fake: FakeDiscord, request: web.Request) -> web.Response:
    world, channel_id = world_of(fake), int(request.match_info["channel_id"])
    if (limited := _rate_limited(world)) is not None:
        return _with_headers(limited)
    found = world.channel(channel_id)
    if found is None:
        native = _native_channel(fake, channel_id)
        if native is None:
            return _with_headers(error(404, 10003, "Unknown Channel"))
        if not native.bot_can_send:
            return _with_headers(error(403, 50001, "Missing Access"))
        messages = sorted((m for m in fake.state.messages.values() if m.channel_id == channel_id), key=lambda m: m.id)
        ids = [m.id for m in messages]
        return _with_headers(json_response([messages[i].payload() for i in reversed(_window(ids, request))]))
    _, channel = found
    if not channel.readable:
        return _with_headers(error(403, 50001, "Missing Access"))
    if world.stall_after_pages is not None and world.message_pages >= world.stall_after_pages:
        world.stalled.set()
        await asyncio.sleep(3600)  # the client is killed meanwhile
    world.message_pages += 1
    page = [p for p in (channel.source.payload(i) for i in reversed(_window(channel.source.ids, request))) if p is not None]
    return _with_headers(json_response(page))


@routes.get("/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
async def reaction_users(fake: FakeDiscord, request: web.Request) -> web.Response:
    world, channel_id = world_of(fake), int(request.match_info["channel_id"])
    if (limited := _rate_limited(world)) is not None:
        return _with_headers(limited)
    message_id, emoji = int(request.match_info["message_id"]), unquote(request.match_info["emoji"])
    found = world.channel(channel_id)
    if found is None:
        native = _native_channel(fake, channel_id)
        message = fake.state.messages.get(message_id)
        if native is None or message is None:
            return _with_headers(error(404, 10008, "Unknown Message"))
        users = sorted((fake.state.users[u].payload() for u in message.reactions.get(emoji, ())), key=lambda u: int(u["id"]))
    else:
        _, channel = found
        if not channel.readable:
            return _with_headers(error(403, 50001, "Missing Access"))
        users = channel.source.reactors(message_id, emoji)
    after = int(request.query.get("after", 0))
    users = [u for u in users if int(u["id"]) > after]
    return _with_headers(json_response(users[: _limit(request, 25, 100)]))


def large_guild(messages: int, *, channels: int = 4, members: int = 500, days: int = 7,
                now: datetime | None = None, guild_id: int = 880_000_000_000_000_001) -> HistoryGuild:
    """A generated guild of `messages` messages over `channels` channels in the last `days` days."""
    now = now or datetime.now(timezone.utc)
    users = [user_payload(900_000_000_000_000_000 + i, f"member{i:05d}") for i in range(members)]
    per = messages // channels
    return HistoryGuild(
        id=guild_id, name=f"Large guild ({messages:,} messages)", owner_id=int(users[0]["id"]),
        members=[{"user": u, "nick": None, "joined_at": iso(now - timedelta(days=400)), "roles": []} for u in users],
        channels=[
            HistoryChannel(id=guild_id + 10 + c, name=f"channel-{c}", position=c,
                           source=GeneratedChannel(guild_id + 10 + c, per + (messages % channels if c == 0 else 0),
                                                   now - timedelta(days=days) + timedelta(minutes=1),
                                                   now - timedelta(minutes=1), users, seed=c))
            for c in range(channels)
        ],
    )


if __name__ == "__main__":  # python tests/fakediscord/rest_history.py PORT MESSAGES: a large guild to sync by hand
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    async def _main() -> None:
        from aiohttp import web as _web

        from fakediscord.server import FakeDiscord

        fake = FakeDiscord()
        big = large_guild(int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
        attach(fake, HistoryWorld(guilds={big.id: big}))
        runner = _web.AppRunner(fake.build_app(), access_log=None)
        await runner.setup()
        await _web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
        port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
        print(f"RESONANCE_DISCORD_API_BASE=http://127.0.0.1:{port}/api/v10 DISCORD_BOT_TOKEN={fake.state.token} "
              f"guild {big.id}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(_main())
