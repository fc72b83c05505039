"""FakeDiscord: one aiohttp app on 127.0.0.1 serving the gateway websocket (/gateway) and the REST API
(/api/v10/...), over a `State` tests arrange, plus the verbs tests use to act as Discord users
(send a message, react, join voice, change roles, run a slash command, click a button)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

import fakediscord
from fakediscord.gateway import Gateway
from fakediscord.rest import API_PREFIX, RouteDef, RouteTable, error
from fakediscord.state import (
    STAGE,
    TEXT,
    VOICE,
    Channel,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Role,
    State,
    User,
    VoiceState,
    snowflake,
)

FAKE_KEY: web.AppKey[FakeDiscord] = web.AppKey("fake", t=object)  # type: ignore[arg-type]

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5


@dataclass
class Request:
    method: str
    path: str  # relative to /api/v10
    query: dict[str, str]
    body: Any


def route_tables() -> list[RouteTable]:
    """Every `rest_*` module of the package (rest_core first), so a new module is registered by existing."""
    names = sorted(m.name for m in pkgutil.iter_modules(fakediscord.__path__) if m.name.startswith("rest_"))
    names.sort(key=lambda n: n != "rest_core")
    return [importlib.import_module(f"fakediscord.{n}").routes for n in names]


@dataclass
class World:
    """The default world: one guild with an admin, two members, another bot, text and voice channels."""

    guild: Guild
    general: Channel
    other_text: Channel
    voice: Channel
    voice2: Channel
    afk: Channel
    admin: User
    alice: User
    bob: User
    other_bot: User
    admin_role: Role
    vip_role: Role


class FakeDiscord:
    def __init__(self, *, token: str | None = None) -> None:
        bot = User(id=snowflake(), username="Resonance", bot=True)
        self.state = State(token=token or f"fake.{secrets.token_urlsafe(24)}", bot=bot, application_id=bot.id)
        self.state.users[bot.id] = bot
        self.gateway = Gateway(self)
        self.requests: list[Request] = []
        self.command_syncs: list[int | None] = []
        self.extra_tables: list[RouteTable] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.world: World | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def add_routes(self, table: RouteTable) -> None:
        """Register a test's own routes (before start)."""
        self.extra_tables.append(table)

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app[FAKE_KEY] = self
        app.router.add_get("/gateway", self.gateway.handle)
        for table in [*route_tables(), *self.extra_tables]:
            for route in table.routes:
                app.router.add_route(route.method, API_PREFIX + route.path, self._wrap(route))
        return app

    def _wrap(self, route: RouteDef) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.StreamResponse:
            if route.auth and request.headers.get("Authorization") != f"Bot {self.state.token}":
                return error(401, 0, "401: Unauthorized")
            return await route.handler(self, request)

        handler.__name__ = route.handler.__name__
        return handler

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.path.startswith(API_PREFIX):
            body: Any = None
            if request.can_read_body and request.content_type == "application/json":
                body = await request.json()
            self.requests.append(Request(request.method, request.path[len(API_PREFIX) :], dict(request.query), body))
        response: web.StreamResponse = await handler(request)
        return response

    async def start(self) -> FakeDiscord:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for session in self.gateway.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    # --- waiting ------------------------------------------------------------------------------

    def notify(self) -> None:
        async def _notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(_notify())

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """Wait until predicate() is truthy (re-checked on every change the bot makes, and every 50 ms)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"fake discord: timed out waiting for {what}")
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.05))
                except TimeoutError:
                    pass

    def requests_to(self, method: str, contains: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and contains in r.path]

    # --- the default world -------------------------------------------------------------------------

    def default_world(self) -> World:
        s = self.state
        admin = s.add_user("admin")
        guild = s.add_guild("Resonance Test", admin)
        admin_role = s.add_role(guild, "Staff", permissions=MANAGE_GUILD)
        vip_role = s.add_role(guild, "VIP")
        alice, bob = s.add_user("alice"), s.add_user("bob")
        other_bot = s.add_user("otherbot", bot=True)
        general = s.add_channel(guild, "general")
        other_text = s.add_channel(guild, "random")
        voice = s.add_channel(guild, "Lounge", VOICE)
        voice2 = s.add_channel(guild, "Gaming", VOICE)
        afk = s.add_channel(guild, "AFK", VOICE)
        guild.afk_channel_id = afk.id
        s.add_member(guild, admin, [admin_role])
        s.add_member(guild, alice)
        s.add_member(guild, bob)
        s.add_member(guild, other_bot)
        s.add_member(guild, s.bot)
        self.world = World(
            guild, general, other_text, voice, voice2, afk, admin, alice, bob, other_bot, admin_role, vip_role
        )
        return self.world

    # --- acting as Discord users -------------------------------------------------------------------

    def _guild(self, channel: Channel) -> Guild:
        assert channel.guild_id is not None
        return self.state.guilds[channel.guild_id]

    async def send_message(
        self,
        channel: Channel,
        author: User,
        content: str = "",
        *,
        type: int = 0,
        webhook_id: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
        stickers: list[dict[str, Any]] | None = None,
        reply_to: Message | None = None,
    ) -> Message:
        """MESSAGE_CREATE as Discord sends it (type 7 = member join notice, 19 = reply, ...)."""
        guild = self._guild(channel)
        message = Message(
            id=snowflake(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=author,
            content=content,
            type=type if reply_to is None else 19,
            webhook_id=webhook_id,
            attachments=attachments or [],
            sticker_items=stickers or [],
            referenced=reply_to,
            member=guild.members.get(author.id) if webhook_id is None else None,
        )
        self.state.messages[message.id] = message
        await self.gateway.dispatch("MESSAGE_CREATE", message.payload())
        return message

    async def react(self, message: Message, user: User, emoji: str) -> None:
        """MESSAGE_REACTION_ADD with the reactor's member and the message author's id."""
        guild = self.state.guilds[message.guild_id] if message.guild_id else None
        message.reactions.setdefault(emoji, set()).add(user.id)
        data: dict[str, Any] = {
            "user_id": str(user.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": {"id": None, "name": emoji},
            "message_author_id": str(message.author.id),
            "burst": False,
            "burst_colors": [],
            "type": 0,
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
            member = guild.members.get(user.id)
            if member is not None:
                data["member"] = member.payload()
        await self.gateway.dispatch("MESSAGE_REACTION_ADD", data)

    async def voice(
        self,
        user: User,
        channel: Channel | None,
        *,
        guild: Guild | None = None,
        self_deaf: bool = False,
        deaf: bool = False,
        self_mute: bool = False,
    ) -> None:
        """VOICE_STATE_UPDATE: join/move (channel) or leave (None), with deafen/mute flags."""
        guild = guild or (self._guild(channel) if channel else None)
        assert guild is not None
        previous = guild.voice_states.get(user.id)
        state = VoiceState(
            user_id=user.id,
            channel_id=channel.id if channel else None,
            session_id=previous.session_id if previous else secrets.token_hex(16),
            self_deaf=self_deaf,
            deaf=deaf,
            self_mute=self_mute,
        )
        if channel is None:
            guild.voice_states.pop(user.id, None)
        else:
            guild.voice_states[user.id] = state
        await self.gateway.dispatch("VOICE_STATE_UPDATE", state.payload(guild.id, guild.members.get(user.id)))

    async def member_updated(self, guild: Guild, member: Member) -> None:
        await self.gateway.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(guild.id)} | member.payload())

    async def set_roles(self, guild: Guild, user: User, roles: list[Role]) -> None:
        """An admin changed the member's roles in Discord: GUILD_MEMBER_UPDATE with the new list."""
        member = guild.members[user.id]
        member.roles = [r.id for r in roles]
        await self.member_updated(guild, member)

    def _interaction(
        self,
        type: int,
        guild: Guild,
        channel: Channel,
        user: User,
        data: dict[str, Any],
        message: Message | None = None,
    ) -> InteractionRecord:
        member = guild.members[user.id]
        permissions = 0
        for role_id in [guild.id, *member.roles]:
            permissions |= guild.roles[role_id].permissions if role_id in guild.roles else 0
        if guild.owner_id == user.id:
            permissions |= ADMINISTRATOR
        record = InteractionRecord(
            id=snowflake(), token=f"itok.{secrets.token_urlsafe(24)}", payload={}, sent_at=time.monotonic()
        )
        record.payload = {
            "id": str(record.id),
            "application_id": str(self.state.application_id),
            "type": type,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "member": member.payload() | {"permissions": str(permissions)},
            "token": record.token,
            "version": 1,
            "app_permissions": str((1 << 53) - 1),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10485760,
        }
        if message is not None:
            record.payload["message"] = message.payload()
        self.state.interactions[record.id] = record
        return record

    async def slash(self, command: str, user: User, channel: Channel, /, **options: Any) -> InteractionRecord:
        """INTERACTION_CREATE for a chat-input command: `command` may be "drop create" (group + subcommand).

        Option values: str/int/float/bool as is; a User, Role or Channel becomes a resolved snowflake.
        """
        guild = self._guild(channel)
        words = command.split()
        registered = self.state.commands.get(guild.id, []) + self.state.commands.get(None, [])
        top = next((c for c in registered if c["name"] == words[0]), None)
        resolved: dict[str, dict[str, Any]] = {}
        leaf_options = [self._option(name, value, guild, resolved) for name, value in options.items()]
        nested: list[dict[str, Any]] = leaf_options
        for depth, word in reversed(list(enumerate(words[1:], start=1))):
            nested = [{"name": word, "type": 1 if depth == len(words) - 1 else 2, "options": nested}]
        data: dict[str, Any] = {
            "id": top["id"] if top else str(snowflake()),
            "name": words[0],
            "type": 1,
            "options": nested,
        }
        if top and top.get("guild_id"):
            data["guild_id"] = top["guild_id"]
        if resolved:
            data["resolved"] = resolved
        record = self._interaction(2, guild, channel, user, data)
        await self.gateway.dispatch("INTERACTION_CREATE", record.payload)
        return record

    def _option(self, name: str, value: Any, guild: Guild, resolved: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            member = guild.members.get(value.id)
            if member is not None:
                payload = member.payload() | {"permissions": "0"}
                payload.pop("user")
                resolved.setdefault("members", {})[str(value.id)] = payload
            return {"name": name, "type": 6, "value": str(value.id)}
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return {"name": name, "type": 8, "value": str(value.id)}
        if isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = value.payload() | {"permissions": str((1 << 53) - 1)}
            return {"name": name, "type": 7, "value": str(value.id)}
        if isinstance(value, bool):
            return {"name": name, "type": 5, "value": value}
        if isinstance(value, int):
            return {"name": name, "type": 4, "value": value}
        if isinstance(value, float):
            return {"name": name, "type": 10, "value": value}
        return {"name": name, "type": 3, "value": str(value)}

    async def click(self, message: Message, custom_id: str, user: User) -> InteractionRecord:
        """INTERACTION_CREATE for a button click on `message`."""
        channel = self.state.channels[message.channel_id]
        record = self._interaction(
            3, self._guild(channel), channel, user, {"custom_id": custom_id, "component_type": 2}, message=message
        )
        await self.gateway.dispatch("INTERACTION_CREATE", record.payload)
        return record

    async def join_guild(self, guild: Guild) -> None:
        """The bot is added to a guild while it runs: GUILD_CREATE for it (discord.py: on_guild_join)."""
        guild.members.setdefault(self.state.bot.id, Member(user=self.state.bot))
        payload = guild.payload()
        del payload["unavailable"]  # a join carries no "unavailable" (false would mean: back from an outage)
        await self.gateway.dispatch("GUILD_CREATE", payload)

    def bot_messages(self, channel: Channel | None = None) -> list[Message]:
        return [
            m
            for m in self.state.messages.values()
            if m.author.id == self.state.bot.id and (channel is None or m.channel_id == channel.id)
        ]


__all__ = ["STAGE", "TEXT", "VOICE", "FakeDiscord", "World"]
