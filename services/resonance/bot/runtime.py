"""What every feature receives: the Runtime (pool, settings, the typed-layer seam, the linked guilds)
and its calling discipline, and `Feature`, the base of every feature module's cog.

- `call`: one typed-layer call, retried on an outage (connection loss, restart, serialization failure);
  statement/lock timeouts are not retried (the database is busy: the command says so).
- `listen`: a gateway event's call; an outage queues it (bounded, oldest dropped with a log line)
  for an in-order replay; events past `outage_max_age` are dropped with a log line, never silently.
- `answer`: a command's body after an immediate defer (Discord's 3-second window); outages, timeouts,
  documented SQLSTATEs and unlinked servers become one polite ephemeral reply.
- `once`: a state-changing admin command, claimed by its interaction id in the transaction that acts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import types
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
from discord.ext import commands

from resonance.bot import api as default_api
from resonance.bot.discord_io import InteractionResponder, context_of
from resonance.bot.errors import APOLOGY, BUG, BUSY, SETUP_HINT, friendly_error, is_outage, is_timeout, sqlstate
from resonance.bot.models import CommandContext
from resonance.bot.responder import Embed, Responder
from resonance.bot.text import status_text
from resonance.db.models import BotServer

log = logging.getLogger("resonance.bot")


@dataclass
class Pending:
    what: str
    queued_at: float
    fn: Callable[[], Awaitable[Any]]


class Runtime:
    """Shared plumbing; one per process. `pool` is an asyncpg pool (or a connection in tests)."""

    def __init__(
        self,
        pool: Any,
        *,
        settings: Any = None,
        api: Any = default_api,
        retry_delays: tuple[float, ...] = (0.5, 2.0),
        outage_queue_limit: int = 10_000,
        outage_max_age: float = 900.0,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.api = api if not isinstance(api, dict) else types.SimpleNamespace(**api)
        self.retry_delays = retry_delays
        self.outage_queue_limit = outage_queue_limit
        self.outage_max_age = outage_max_age
        self.pending: collections.deque[Pending] = collections.deque()
        self.dropped = 0  # events the outage queue dropped (full or too old), all logged
        # Linked guilds (resonance.bot_servers), refreshed by the voice checkpoint loop; None = not loaded yet.
        self.servers: dict[str, BotServer] | None = None
        self._unlinked_logged: set[str] = set()
        self.client: Any = None  # the connected discord.py client (set by the app; None in handler tests)
        self.stopping = False  # set on SIGTERM/SIGINT: listeners take no new events
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # --- the seam -------------------------------------------------------------------------------

    async def call(self, name: str, *args: Any, retry: bool = True, **kwargs: Any) -> Any:
        """One typed-layer call, retried on an outage when `retry` (the call must be idempotent)."""
        fn = getattr(self.api, name)
        delays = (*self.retry_delays, None) if retry else (None,)
        with self._tracked():
            for attempt, delay in enumerate(delays):
                try:
                    return await fn(self.pool, *args, **kwargs)
                except Exception as exc:
                    if not is_outage(exc) or delay is None:
                        raise
                    log.warning(
                        "db call failed, retrying",
                        extra={"call": name, "attempt": attempt + 1, "error": type(exc).__name__},
                    )
                    await asyncio.sleep(delay)
            raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Counts a call in flight (shutdown waits for none)."""
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def idle(self, timeout: float) -> bool:
        """Wait until no call is in flight (shutdown); False if some were still running at the timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    # --- linked guilds ----------------------------------------------------------------------------

    async def load_servers(self, guild_ids: list[str]) -> dict[str, BotServer]:
        found = await self.call("bot_servers", guild_ids)
        self.servers = {s.server_id: s for s in found}
        for server_id in self.servers:
            self._unlinked_logged.discard(server_id)
        return self.servers

    def server(self, server_id: str) -> BotServer | None:
        return self.servers.get(server_id) if self.servers is not None else None

    def ignores(self, server_id: str | None) -> bool:
        """True for a guild known not to be linked: its events are skipped (logged once per guild)."""
        if server_id is None or self.servers is None or server_id in self.servers:
            return False
        self.note_unlinked(server_id)
        return True

    def note_unlinked(self, server_id: str) -> None:
        if server_id not in self._unlinked_logged:
            self._unlinked_logged.add(server_id)
            log.info(
                "server not linked: its events are ignored until an admin runs /setup", extra={"server_id": server_id}
            )
        if self.servers is not None:
            self.servers.pop(server_id, None)

    # --- listeners ------------------------------------------------------------------------------

    async def listen(self, what: str, server_id: str | None, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run a listener's call: an outage queues it for replay, an unlinked server is noted once,
        a bug is logged; nothing raises."""
        if self.stopping or self.ignores(server_id):
            return None
        try:
            return await fn()
        except Exception as exc:
            if is_outage(exc) or is_timeout(exc):
                self._queue(what, fn, exc)
            elif sqlstate(exc) == "RS001" and server_id is not None:
                self.note_unlinked(server_id)
            else:
                log.exception("listener failed", extra={"event": what})
            return None

    def _queue(self, what: str, fn: Callable[[], Awaitable[Any]], exc: BaseException) -> None:
        if len(self.pending) >= self.outage_queue_limit:
            oldest = self.pending.popleft()
            self.dropped += 1
            log.warning(
                "outage queue full: oldest event dropped",
                extra={"event": oldest.what, "limit": self.outage_queue_limit, "dropped_total": self.dropped},
            )
        self.pending.append(Pending(what, time.monotonic(), fn))
        log.error(
            "db outage, event queued for replay",
            extra={"event": what, "error": type(exc).__name__, "queued": len(self.pending)},
        )

    async def replay_pending(self) -> int:
        """Replay queued events in order; stops at the first that still meets an outage. Events older
        than outage_max_age are dropped with a log line. Returns how many were replayed."""
        done = 0
        while self.pending:
            item = self.pending[0]
            age = time.monotonic() - item.queued_at
            if age > self.outage_max_age:
                self.pending.popleft()
                self.dropped += 1
                log.warning(
                    "outage queue: event too old, dropped",
                    extra={
                        "event": item.what,
                        "age_seconds": round(age),
                        "max_age_seconds": self.outage_max_age,
                        "dropped_total": self.dropped,
                    },
                )
                continue
            try:
                await item.fn()
            except Exception as exc:
                if is_outage(exc) or is_timeout(exc):
                    return done
                log.exception("replayed listener failed", extra={"event": item.what})
            self.pending.popleft()
            done += 1
        if done:
            log.info("outage queue replayed", extra={"replayed": done, "dropped_total": self.dropped})
        return done

    # --- commands -------------------------------------------------------------------------------

    async def answer(
        self,
        r: Responder,
        name: str,
        body: Callable[[], Awaitable[None]],
        *,
        defer: bool = True,
        ephemeral: bool = True,
    ) -> None:
        """Acknowledge first (3-second deadline), then run; failures become one polite reply."""
        if defer:
            await r.defer(ephemeral=ephemeral)
        try:
            await body()
        except Exception as exc:
            if is_timeout(exc):
                log.warning("db timeout during command", extra={"command": name, "sqlstate": sqlstate(exc)})
                await r.reply(BUSY, ephemeral=True)
                return
            if is_outage(exc):
                log.error("db outage during command", extra={"command": name, "error": type(exc).__name__})
                await r.reply(APOLOGY, ephemeral=True)
                return
            if sqlstate(exc) == "RS001":
                await r.reply(SETUP_HINT, ephemeral=True)
                return
            message = friendly_error(exc)
            if message is not None:
                log.info("command refused", extra={"command": name, "sqlstate": sqlstate(exc)})
                await r.reply(message, ephemeral=True)
                return
            log.exception("command failed", extra={"command": name})
            await r.reply(BUG, ephemeral=True)

    async def once(self, ctx: CommandContext, command: str, act: Callable[[Any], Awaitable[dict[str, Any]]]) -> Any:
        """Run a state-changing command exactly once per interaction: claim its id, act and store the
        answer in one transaction. A retry (after a lost commit acknowledgement) gets the first answer.
        `act` receives the connection to call the typed layer with; returns (answer, first_time)."""
        pool = self.pool
        acquire = getattr(pool, "acquire", None)

        async def attempt() -> tuple[dict[str, Any], bool]:
            if acquire is None:  # a bare connection (tests)
                return await self._once_on(pool, ctx, command, act)
            async with acquire() as conn:
                return await self._once_on(conn, ctx, command, act)

        for delay in (*self.retry_delays, None):
            try:
                with self._tracked():
                    return await attempt()
            except Exception as exc:
                if not is_outage(exc) or delay is None:
                    raise
                log.warning("db call failed, retrying", extra={"call": command, "error": type(exc).__name__})
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _once_on(
        self, conn: Any, ctx: CommandContext, command: str, act: Callable[[Any], Awaitable[dict[str, Any]]]
    ) -> tuple[dict[str, Any], bool]:
        async with conn.transaction():
            claim = await self.api.claim_interaction(conn, ctx.interaction_id, ctx.server_id, command)
            if claim.status != "claimed":
                return dict(claim.get("result") or {}), False
            result = await act(conn)
            await self.api.finish_interaction(conn, ctx.interaction_id, result)
            return result, True

    @staticmethod
    async def need_server(ctx: CommandContext, r: Responder) -> bool:
        if ctx.server_id is None:
            await r.reply("Use this command in a server.", ephemeral=True)
            return False
        return True

    async def need_admin(self, ctx: CommandContext, r: Responder) -> bool:
        if not await self.need_server(ctx, r):
            return False
        if not ctx.is_admin:
            await r.reply("This command is for server admins.", ephemeral=True)
            return False
        return True

    @staticmethod
    async def status_reply(r: Responder, outcome: Any, ephemeral: bool = True) -> None:
        colour, text = status_text(outcome)
        await r.reply(embed=Embed(title="Resonance", description=text, color=colour), ephemeral=ephemeral)


class Feature(commands.Cog):
    """The base of a feature module's cog: its listeners, slash commands and their handlers together.

    Handlers take plain models (resonance.bot.models) and a Responder and never touch discord.py;
    the discord.py-facing methods convert and delegate. A feature receives the Runtime, nothing else:
    `self.rt` (and `self.rt.client`, the connected client, set by the app).
    """

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def edge(self, interaction: discord.Interaction) -> tuple[CommandContext, InteractionResponder]:
        """The plain context of an interaction and the Responder that answers it."""
        return context_of(interaction, self.rt.settings), InteractionResponder(interaction)

    async def startup(self, guilds: list[Any]) -> None:
        """Once, when the bot is ready (guilds received, linked servers loaded): reconcile with Discord."""

    async def shutdown(self) -> None:
        """On SIGTERM/SIGINT, before the pool closes: stop loops, write what must survive."""
