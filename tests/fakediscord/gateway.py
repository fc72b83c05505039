"""The gateway websocket: HELLO, IDENTIFY (token and privileged intents checked), READY, GUILD_CREATE,
heartbeats (ACKed), RESUME (missed dispatches replayed), and DISPATCH of whatever a test sends.

Opcodes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway. Frames are JSON
text (discord.py decompresses binary frames only), one dispatch sequence per session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from fakediscord.server import FakeDiscord

log = logging.getLogger("fakediscord.gateway")

(
    DISPATCH,
    HEARTBEAT,
    IDENTIFY,
    PRESENCE,
    VOICE_STATE,
    RESUME,
    RECONNECT,
    REQUEST_MEMBERS,
    INVALID_SESSION,
    HELLO,
    HEARTBEAT_ACK,
) = 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11

CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_DISALLOWED_INTENTS = 4014


@dataclass
class Session:
    """One gateway session (survives a dropped socket until the bot resumes it)."""

    id: str
    intents: int
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME
    ws: web.WebSocketResponse | None = None
    heartbeats: int = 0
    resumed: int = 0


class Gateway:
    HEARTBEAT_INTERVAL_MS = 41_250

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None
        self.identified = asyncio.Event()
        self.closed_with: list[int] = []  # close codes the fake sent
        self.received: list[dict[str, Any]] = []  # every frame the bot sent (tokens included: test data)
        self.connections = 0

    @property
    def state(self) -> Any:
        return self.fake.state

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        await self._send(ws, {"op": HELLO, "d": {"heartbeat_interval": self.HEARTBEAT_INTERVAL_MS}})
        session: Session | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.received.append(frame)
            op, data = frame.get("op"), frame.get("d")
            if op == HEARTBEAT:
                if session is not None:
                    session.heartbeats += 1
                await self._send(ws, {"op": HEARTBEAT_ACK, "d": None})
            elif op == IDENTIFY:
                session = await self._identify(ws, data)
                if session is None:
                    break
            elif op == RESUME:
                session = await self._resume(ws, data)
                if session is None:
                    break
            elif op == REQUEST_MEMBERS:
                await self._members_chunk(ws, session, data)
        if session is not None and session.ws is ws:
            session.ws = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        if data.get("token") != self.state.token:
            await self._close(ws, CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return None
        intents = int(data.get("intents") or 0)
        from fakediscord.state import PRIVILEGED_INTENTS

        if intents & PRIVILEGED_INTENTS & ~self.state.allowed_intents:
            await self._close(ws, CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
            return None
        session = Session(id=secrets.token_hex(16), intents=intents, ws=ws)
        self.sessions[session.id] = session
        self.current = session
        ready = {
            "v": 10,
            "user": self.state.bot.payload(),
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self.fake.gateway_url,
            "shard": [0, 1],
            "private_channels": [],
            "guilds": [{"id": str(g), "unavailable": True} for g in self.state.guilds],
            "application": {"id": str(self.state.application_id), "flags": 0},
            "user_settings": {},
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await self.dispatch("READY", ready, session=session)
        for guild in self.state.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.payload(), session=session)
        self.identified.set()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(data.get("session_id") or "")
        if session is None or data.get("token") != self.state.token:
            await self._send(ws, {"op": INVALID_SESSION, "d": False})
            return None
        session.ws = ws
        session.resumed += 1
        self.current = session
        since = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > since:
                await self._send(ws, frame)
        await self.dispatch("RESUMED", {}, session=session)
        return session

    async def _members_chunk(self, ws: web.WebSocketResponse, session: Session | None, data: dict[str, Any]) -> None:
        guild = self.state.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or session is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [m.payload() for uid, m in guild.members.items() if not wanted or uid in wanted]
        await self.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            },
            session=session,
        )

    async def dispatch(self, event: str, data: dict[str, Any], *, session: Session | None = None) -> None:
        """Send a DISPATCH to the current session (kept for RESUME if the socket is down)."""
        session = session or self.current
        if session is None:
            raise RuntimeError("no gateway session: the bot has not identified")
        session.seq += 1
        frame = {"op": DISPATCH, "s": session.seq, "t": event, "d": data}
        session.sent.append(frame)
        if session.ws is not None and not session.ws.closed:
            await self._send(session.ws, frame)

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the live socket with a resumable code: discord.py reconnects and RESUMEs."""
        if self.current is not None and self.current.ws is not None:
            await self._close(self.current.ws, code, "Unknown error.")

    async def _close(self, ws: web.WebSocketResponse, code: int, reason: str) -> None:
        self.closed_with.append(code)
        await ws.close(code=code, message=reason.encode())

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        try:
            await ws.send_str(json.dumps(frame))
        except (ConnectionResetError, RuntimeError) as exc:
            log.debug("gateway send failed: %r", exc)
