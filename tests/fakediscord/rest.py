"""The REST side's plumbing: a route table other modules extend, Discord's error shape, the limits
Discord enforces on message bodies, and the request log tests assert on.

Adding routes: create `tests/fakediscord/rest_<area>.py` with

    from fakediscord.rest import RouteTable, json_response
    routes = RouteTable()

    @routes.get("/guilds/{guild_id}/channels")
    async def guild_channels(fake, request):
        ...
        return json_response([...])

Every `rest_*.py` module of the package is discovered and registered on the same app at start
(server.FakeDiscord.start); paths are relative to /api/v10. Handlers take the FakeDiscord and the
aiohttp request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fakediscord.server import FakeDiscord

API_PREFIX = "/api/v10"

Handler = Callable[["FakeDiscord", web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RouteDef:
    method: str
    path: str  # relative to API_PREFIX
    handler: Handler
    auth: bool  # requires "Authorization: Bot <token>"


class RouteTable:
    """The routes of one module; `server.FakeDiscord` registers every table under /api/v10."""

    def __init__(self) -> None:
        self.routes: list[RouteDef] = []

    def route(self, method: str, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(RouteDef(method, path, handler, auth))
            return handler

        return register

    def get(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.route("GET", path, auth=auth)

    def post(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.route("POST", path, auth=auth)

    def put(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, auth=auth)

    def patch(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, auth=auth)

    def delete(self, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, auth=auth)


def json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes JSON only when Content-Type is exactly "application/json" (no charset).
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def no_content() -> web.Response:
    return web.Response(status=204)


def error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
    """Discord's error body: {"code", "message"[, "errors"]} (discord.py raises NotFound/Forbidden/...)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def unknown(what: str, code: int) -> web.Response:
    return error(404, code, f"Unknown {what}")


UNKNOWN_CHANNEL, UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_MESSAGE, UNKNOWN_ROLE, UNKNOWN_USER = (
    10003,
    10004,
    10007,
    10008,
    10011,
    10013,
)
UNKNOWN_EMOJI, UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK = 10014, 10062, 10015
MISSING_ACCESS, MISSING_PERMISSIONS, CANNOT_DM = 50001, 50013, 50007
ALREADY_ACKNOWLEDGED, INVALID_FORM_BODY = 40060, 50035


def body_problems(body: dict[str, Any]) -> list[str]:
    """What Discord rejects in a message body (2,000 characters, 10 embeds, 25 fields, 6,000 in all...)."""
    problems = []
    content = body.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content: Must be 2000 or fewer in length (got {len(content)})")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("embeds: Must be 10 or fewer in length")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                problems.append(f"embeds.{i}.{key}: Must be {limit} or fewer in length")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embeds.{i}.fields: Must be 25 or fewer in length")
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if not name or len(name) > 256:
                problems.append(f"embeds.{i}.fields.{j}.name: 1 to 256 characters")
            if not value or len(value) > 1024:
                problems.append(f"embeds.{i}.fields.{j}.value: 1 to 1024 characters")
        footer = (embed.get("footer") or {}).get("text") or ""
        total += len(footer)
        if len(footer) > 2048:
            problems.append(f"embeds.{i}.footer.text: Must be 2048 or fewer in length")
    if total > 6000:
        problems.append("embeds: Embed size exceeds maximum size of 6000")
    return problems


def invalid_body(problems: list[str]) -> web.Response:
    return error(400, INVALID_FORM_BODY, "Invalid Form Body", {"_problems": problems})


async def read_json(request: web.Request) -> Any:
    """A JSON body, or the payload_json part of a multipart body."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == "payload_json":
                return json.loads(await part.text())  # type: ignore[union-attr]
        return {}
    text = await request.text()  # aiohttp caches the body: the request log's read does not consume it
    return json.loads(text) if text else {}
