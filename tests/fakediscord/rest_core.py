"""The REST routes the bot calls: login, gateway discovery, application commands, interaction
callbacks and follow-ups, channel messages (send, edit, fetch, reactions), member roles, DMs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from fakediscord.rest import (
    ALREADY_ACKNOWLEDGED,
    CANNOT_DM,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_EMOJI,
    UNKNOWN_GUILD,
    UNKNOWN_INTERACTION,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_ROLE,
    UNKNOWN_USER,
    RouteTable,
    body_problems,
    error,
    invalid_body,
    json_response,
    no_content,
    read_json,
    unknown,
)
from fakediscord.state import Channel, Message, snowflake

if TYPE_CHECKING:
    from fakediscord.server import FakeDiscord

routes = RouteTable()

EPHEMERAL = 64
INTERACTION_DEADLINE_SECONDS = 3.0


# --- login and discovery --------------------------------------------------------------------------


@routes.get("/users/@me")
async def me(fake: FakeDiscord, request: web.Request) -> web.Response:
    return json_response(fake.state.bot.payload() | {"verified": True, "mfa_enabled": False, "locale": "en-US"})


@routes.get("/oauth2/applications/@me")
async def application(fake: FakeDiscord, request: web.Request) -> web.Response:
    owner = fake.state.bot.payload() | {"bot": False, "id": "1"}
    return json_response(
        {
            "id": str(fake.state.application_id),
            "name": fake.state.bot.username,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner,
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "summary": "",
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "tags": [],
            "redirect_uris": [],
            "approximate_guild_count": len(fake.state.guilds),
        }
    )


@routes.get("/gateway/bot")
async def gateway_bot(fake: FakeDiscord, request: web.Request) -> web.Response:
    return json_response(
        {
            "url": fake.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        }
    )


@routes.get("/gateway", auth=False)
async def gateway(fake: FakeDiscord, request: web.Request) -> web.Response:
    return json_response({"url": fake.gateway_url})


# --- application commands ---------------------------------------------------------------------


def _guild_key(request: web.Request) -> int | None:
    guild = request.match_info.get("guild_id")
    return int(guild) if guild else None


def _stored(fake: FakeDiscord, scope: int | None, command: dict[str, Any]) -> dict[str, Any]:
    previous = {c["name"]: c for c in fake.state.commands.get(scope, [])}
    old = previous.get(command["name"])
    out = {
        "type": 1,
        "options": [],
        "default_member_permissions": None,
        "nsfw": False,
        "contexts": None,
        "integration_types": [0],
    } | command
    return out | {
        "id": old["id"] if old else str(snowflake()),
        "application_id": str(fake.state.application_id),
        "version": str(snowflake()),
        "guild_id": str(scope) if scope else None,
    }


@routes.get("/applications/{app_id}/commands")
@routes.get("/applications/{app_id}/guilds/{guild_id}/commands")
async def list_commands(fake: FakeDiscord, request: web.Request) -> web.Response:
    return json_response(fake.state.commands.get(_guild_key(request), []))


@routes.put("/applications/{app_id}/commands")
@routes.put("/applications/{app_id}/guilds/{guild_id}/commands")
async def bulk_overwrite_commands(fake: FakeDiscord, request: web.Request) -> web.Response:
    scope = _guild_key(request)
    body = await read_json(request)
    problems = []
    for command in body:
        problems += command_problems(command)
    if problems:
        return invalid_body(problems)
    stored = [_stored(fake, scope, c) for c in body]
    fake.state.commands[scope] = stored
    fake.command_syncs.append(scope)
    return json_response(stored)


def command_problems(command: dict[str, Any], path: str = "") -> list[str]:
    """Discord's limits on a command definition: names 1-32, descriptions 1-100, 25 options/choices."""
    where = f"{path}{command.get('name')}"
    problems = []
    if not 1 <= len(command.get("name") or "") <= 32:
        problems.append(f"{where}: name must be 1-32 characters")
    if command.get("type", 1) == 1 and not 1 <= len(command.get("description") or "") <= 100:
        problems.append(f"{where}: description must be 1-100 characters")
    options = command.get("options") or []
    if len(options) > 25:
        problems.append(f"{where}: more than 25 options")
    for option in options:
        if len(option.get("choices") or []) > 25:
            problems.append(f"{where}.{option.get('name')}: more than 25 choices")
        problems += command_problems(option | {"type": 1}, f"{where}.")
    return problems


# --- interactions -------------------------------------------------------------------------------


@routes.post("/interactions/{interaction_id}/{token}/callback", auth=False)
async def interaction_callback(fake: FakeDiscord, request: web.Request) -> web.Response:
    record = fake.state.interactions.get(int(request.match_info["interaction_id"]))
    if record is None or record.token != request.match_info["token"]:
        return unknown("interaction", UNKNOWN_INTERACTION)
    if time.monotonic() - record.sent_at > INTERACTION_DEADLINE_SECONDS:
        return unknown("interaction", UNKNOWN_INTERACTION)  # Discord's answer after the 3-second window
    if record.callbacks:
        return error(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    body = await read_json(request)
    data = body.get("data") or {}
    if body.get("type") in (4, 7):
        problems = body_problems(data)
        if problems:
            return invalid_body(problems)
    record.callbacks.append(body)
    record.callback_at.append(time.monotonic())
    fake.notify()
    kind = body.get("type")
    message = None
    if kind in (4, 5):
        channel_id = int(record.payload.get("channel_id") or 0)
        message = Message(
            id=snowflake(),
            channel_id=channel_id,
            author=fake.state.bot,
            content=data.get("content") or "",
            embeds=data.get("embeds") or [],
            components=data.get("components") or [],
            flags=int(data.get("flags") or 0),
        )
    response: dict[str, Any] = {
        "interaction": {
            "id": str(record.id),
            "type": record.payload["type"],
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            "response_message_id": str(message.id) if message else None,
        }
    }
    response["resource"] = {"type": kind} | ({"message": message.payload()} if message else {})
    return json_response(response)


def _record_by_token(fake: FakeDiscord, token: str) -> Any:
    return next((r for r in fake.state.interactions.values() if r.token == token), None)


@routes.post("/webhooks/{app_id}/{token}", auth=False)
async def followup(fake: FakeDiscord, request: web.Request) -> web.Response:
    record = _record_by_token(fake, request.match_info["token"])
    if record is None:
        return unknown("webhook", 10015)
    if not record.callbacks:
        return unknown("webhook", 10015)  # a follow-up before any response: Discord knows no message yet
    body = await read_json(request)
    problems = body_problems(body)
    if problems:
        return invalid_body(problems)
    record.followups.append(body)
    fake.notify()
    message = Message(
        id=snowflake(),
        channel_id=int(record.payload.get("channel_id") or 0),
        author=fake.state.bot,
        content=body.get("content") or "",
        embeds=body.get("embeds") or [],
        components=body.get("components") or [],
        flags=int(body.get("flags") or 0),
    )
    return json_response(message.payload())


@routes.patch("/webhooks/{app_id}/{token}/messages/@original", auth=False)
async def edit_original(fake: FakeDiscord, request: web.Request) -> web.Response:
    record = _record_by_token(fake, request.match_info["token"])
    if record is None or not record.callbacks:
        return unknown("message", UNKNOWN_MESSAGE)
    body = await read_json(request)
    problems = body_problems(body)
    if problems:
        return invalid_body(problems)
    record.original_edits.append(body)
    fake.notify()
    message = Message(
        id=snowflake(),
        channel_id=int(record.payload.get("channel_id") or 0),
        author=fake.state.bot,
        content=body.get("content") or "",
        embeds=body.get("embeds") or [],
    )
    return json_response(message.payload())


@routes.delete("/webhooks/{app_id}/{token}/messages/@original", auth=False)
async def delete_original(fake: FakeDiscord, request: web.Request) -> web.Response:
    record = _record_by_token(fake, request.match_info["token"])
    if record is None or not record.callbacks:
        return unknown("message", UNKNOWN_MESSAGE)
    record.original_deleted = True
    fake.notify()
    return no_content()


# --- channels and messages ----------------------------------------------------------------------


def _channel(fake: FakeDiscord, request: web.Request) -> Channel | None:
    return fake.state.channels.get(int(request.match_info["channel_id"]))


@routes.get("/channels/{channel_id}")
async def get_channel(fake: FakeDiscord, request: web.Request) -> web.Response:
    channel = _channel(fake, request)
    if channel is None:
        return unknown("channel", UNKNOWN_CHANNEL)
    return json_response(channel.payload())


@routes.post("/channels/{channel_id}/messages")
async def create_message(fake: FakeDiscord, request: web.Request) -> web.Response:
    channel = _channel(fake, request)
    if channel is None:
        return unknown("channel", UNKNOWN_CHANNEL)
    if not channel.bot_can_send:
        return error(403, MISSING_PERMISSIONS, "Missing Permissions")
    if channel.type == 1 and channel.recipient_id in fake.state.closed_dms:
        return error(403, CANNOT_DM, "Cannot send messages to this user")
    body = await read_json(request)
    problems = body_problems(body)
    if problems:
        return invalid_body(problems)
    message = Message(
        id=snowflake(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=fake.state.bot,
        content=body.get("content") or "",
        embeds=body.get("embeds") or [],
        components=body.get("components") or [],
    )
    fake.state.messages[message.id] = message
    fake.notify()
    return json_response(message.payload())


def _message(fake: FakeDiscord, request: web.Request) -> Message | None:
    message = fake.state.messages.get(int(request.match_info["message_id"]))
    if message is None or message.channel_id != int(request.match_info["channel_id"]):
        return None
    return message


@routes.get("/channels/{channel_id}/messages/{message_id}")
async def get_message(fake: FakeDiscord, request: web.Request) -> web.Response:
    message = _message(fake, request)
    return json_response(message.payload()) if message else unknown("message", UNKNOWN_MESSAGE)


@routes.patch("/channels/{channel_id}/messages/{message_id}")
async def edit_message(fake: FakeDiscord, request: web.Request) -> web.Response:
    message = _message(fake, request)
    if message is None:
        return unknown("message", UNKNOWN_MESSAGE)
    if message.author.id != fake.state.bot.id:
        return error(403, 50005, "Cannot edit a message authored by another user")
    body = await read_json(request)
    problems = body_problems(body)
    if problems:
        return invalid_body(problems)
    for key in ("content", "embeds", "components"):
        if key in body:
            setattr(message, key, body[key] if body[key] is not None else ("" if key == "content" else []))
    message.edits += 1
    fake.notify()
    return json_response(message.payload())


@routes.delete("/channels/{channel_id}/messages/{message_id}")
async def delete_message(fake: FakeDiscord, request: web.Request) -> web.Response:
    message = _message(fake, request)
    if message is None:
        return unknown("message", UNKNOWN_MESSAGE)
    del fake.state.messages[message.id]
    fake.notify()
    return no_content()


def valid_emoji(text: str) -> bool:
    """A unicode emoji (no ASCII letters or digits), or name:id of a custom emoji the fake knows (none)."""
    return bool(text) and len(text) <= 8 and all(ord(ch) > 0x2000 or ch in "\ufe0f\u200d" for ch in text)


@routes.put("/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def add_own_reaction(fake: FakeDiscord, request: web.Request) -> web.Response:
    message = _message(fake, request)
    if message is None:
        return unknown("message", UNKNOWN_MESSAGE)
    emoji = unquote(request.match_info["emoji"])
    if not valid_emoji(emoji):
        return error(400, UNKNOWN_EMOJI, "Unknown Emoji")
    message.reactions.setdefault(emoji, set()).add(fake.state.bot.id)
    fake.notify()
    return no_content()


# --- guilds, members, roles, DMs ----------------------------------------------------------------


@routes.get("/guilds/{guild_id}/members/{user_id}")
async def get_member(fake: FakeDiscord, request: web.Request) -> web.Response:
    guild = fake.state.guilds.get(int(request.match_info["guild_id"]))
    if guild is None:
        return unknown("guild", UNKNOWN_GUILD)
    member = guild.members.get(int(request.match_info["user_id"]))
    return json_response(member.payload()) if member else unknown("member", UNKNOWN_MEMBER)


@routes.put("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
@routes.delete("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def member_role(fake: FakeDiscord, request: web.Request) -> web.Response:
    guild = fake.state.guilds.get(int(request.match_info["guild_id"]))
    if guild is None:
        return unknown("guild", UNKNOWN_GUILD)
    member = guild.members.get(int(request.match_info["user_id"]))
    if member is None:
        return unknown("member", UNKNOWN_MEMBER)
    role_id = int(request.match_info["role_id"])
    if role_id not in guild.roles:
        return unknown("role", UNKNOWN_ROLE)
    roles = set(member.roles)
    roles = roles | {role_id} if request.method == "PUT" else roles - {role_id}
    if roles != set(member.roles):
        member.roles = sorted(roles)
        await fake.member_updated(guild, member)
    return no_content()


@routes.post("/users/@me/channels")
async def create_dm(fake: FakeDiscord, request: web.Request) -> web.Response:
    body = await read_json(request)
    user = fake.state.users.get(int(body.get("recipient_id") or 0))
    if user is None:
        return unknown("user", UNKNOWN_USER)
    channel = next((c for c in fake.state.channels.values() if c.type == 1 and c.recipient_id == user.id), None)
    if channel is None:
        channel = Channel(id=snowflake(), name="", type=1, recipient_id=user.id)
        fake.state.channels[channel.id] = channel
    return json_response({"id": str(channel.id), "type": 1, "last_message_id": None, "recipients": [user.payload()]})


@routes.get("/users/{user_id}")
async def get_user(fake: FakeDiscord, request: web.Request) -> web.Response:
    user = fake.state.users.get(int(request.match_info["user_id"]))
    return json_response(user.payload()) if user else unknown("user", UNKNOWN_USER)
