"""The bot process: `resonance bot [--list-commands]`.

Start: DATABASE_URL is required and the database is checked (reachable, migrated) before logging in
to Discord; a bad token, an unreachable database or refused privileged intents end with one
actionable line and a non-zero exit. Run: features (resonance.bot.features) handle events and
commands; workers drain the outbox, post reports, replay events queued during an outage and refresh
the linked guilds. Stop (SIGTERM/SIGINT): take no new events, finish in-flight calls, checkpoint voice,
hand back outbox leases, close the gateway and the pool, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import discord
import yarl
from discord import app_commands
from discord.ext import commands, tasks
from discord.gateway import DiscordWebSocket

from resonance.bot import features
from resonance.bot.discord_io import ClientTarget
from resonance.bot.errors import BUG
from resonance.bot.outbox import OutboxWorker, ReportWorker
from resonance.bot.runtime import Feature, Runtime
from resonance.settings import Settings

log = logging.getLogger("resonance.bot")

EXIT_CONFIG, EXIT_DATABASE, EXIT_DISCORD = 2, 3, 4
REQUIRED_FUNCTIONS = ("resonance.record_message", "resonance.bot_servers", "resonance.claim_interaction")


def intents() -> discord.Intents:
    """Guilds, members, messages + content, reactions, voice states (enable the privileged ones in the portal)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    wanted.guild_messages = True
    wanted.message_content = True
    wanted.guild_reactions = True
    wanted.voice_states = True
    return wanted


class ResonanceBot(commands.Bot):
    def __init__(self, settings: Settings, *, pool: Any = None) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            guild_ready_timeout=settings.guild_ready_timeout,
        )
        self.settings = settings
        self.rt = Runtime(
            pool,
            settings=settings,
            outage_queue_limit=settings.outage_queue_limit,
            outage_max_age=settings.outage_max_age_seconds,
        )
        self.rt.client = self
        self.features: list[Feature] = features.load(self.rt)
        target = ClientTarget(self)
        self.outbox_worker = OutboxWorker(
            pool,
            target,
            worker_id=settings.worker_id,
            batch=settings.outbox_batch,
            pace_seconds=settings.outbox_pace_seconds,
        )
        self.report_worker = ReportWorker(pool, target, worker_id=settings.worker_id)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.started = False
        self.drain.change_interval(seconds=settings.outbox_interval_seconds)
        self.post_reports.change_interval(seconds=settings.reports_interval_seconds)
        self.refresh_servers.change_interval(seconds=settings.servers_refresh_seconds)

    @property
    def pool(self) -> Any:
        return self.rt.pool

    async def add_features(self) -> None:
        for feature in self.features:
            await self.add_cog(feature)

    async def setup_hook(self) -> None:
        if self.settings.discord_api_base:
            # Testing against a fake Discord: connect to the gateway its GET /gateway/bot names.
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        await self.add_features()
        await sync_commands(self.tree, self.settings)

    async def on_ready(self) -> None:
        log.info("ready", extra={"user": str(self.user), "guilds": len(self.guilds), "worker": self.settings.worker_id})
        if self.started:
            return
        self.started = True
        await self.rt.load_servers([str(g.id) for g in self.guilds])
        for feature in self.features:
            try:
                await feature.startup(list(self.guilds))
            except Exception:
                log.exception("feature startup failed", extra={"feature": type(feature).__name__})
        self.drain.start()
        self.post_reports.start()
        self.refresh_servers.start()
        log.info("started", extra={"linked_servers": len(self.rt.servers or {})})

    # --- workers ------------------------------------------------------------------------------

    @tasks.loop(seconds=2.0)
    async def drain(self) -> None:
        try:
            await self.rt.replay_pending()
            await self.outbox_worker.run_once()
        except Exception:
            log.exception("outbox worker iteration failed")

    @tasks.loop(seconds=60.0)
    async def post_reports(self) -> None:
        try:
            await self.report_worker.run_once()
        except Exception:
            log.exception("report worker iteration failed")

    @tasks.loop(seconds=60.0)
    async def refresh_servers(self) -> None:
        """A guild linked by /setup (or unlinked) is noticed within a minute."""
        if self.refresh_servers.current_loop == 0:
            return
        try:
            before = set(self.rt.servers or {})
            after = set(await self.rt.load_servers([str(g.id) for g in self.guilds]))
            if before != after:
                log.info(
                    "linked servers changed",
                    extra={"linked": sorted(after - before), "unlinked": sorted(before - after)},
                )
        except Exception:
            log.exception("linked servers refresh failed")

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error(
            "app command error",
            extra={"command": getattr(interaction.command, "qualified_name", None), "error": repr(error)},
        )
        text = "You can't use this command here." if isinstance(error, app_commands.CheckFailure) else BUG
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            pass

    # --- shutdown -------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """SIGTERM/SIGINT: no new events, in-flight calls finish, voice is checkpointed, outbox leases
        are handed back, then the gateway and the pool close."""
        self.rt.stopping = True
        log.info("shutting down", extra={"in_flight": self.rt.in_flight})
        for loop in (self.drain, self.post_reports, self.refresh_servers):
            loop.cancel()
        if not await self.rt.idle(timeout=10):
            log.warning("shutdown: calls still in flight after 10 s", extra={"in_flight": self.rt.in_flight})
        for feature in reversed(self.features):
            try:
                await feature.shutdown()
            except Exception:
                log.exception("feature shutdown failed", extra={"feature": type(feature).__name__})
        try:
            await self.outbox_worker.release()
        except Exception:
            log.exception("outbox release failed")
        await self.close()
        if self.pool is not None:
            await self.pool.close()
        log.info("stopped")


# --- command sync ---------------------------------------------------------------------------------


def _normal(payload: Any) -> Any:
    """A command definition as Discord stores it: keys we set, defaults dropped, options sorted."""
    if isinstance(payload, list):
        return [_normal(p) for p in payload]
    if not isinstance(payload, dict):
        return payload
    keep = (
        "contexts",
        "name",
        "description",
        "type",
        "options",
        "choices",
        "required",
        "min_value",
        "max_value",
        "min_length",
        "max_length",
        "channel_types",
        "autocomplete",
        "value",
        "default_member_permissions",
    )
    out = {}
    for key in keep:
        value = payload.get(key)
        if value in (None, False, []):
            continue
        if key == "default_member_permissions":
            value = str(value)
        out[key] = _normal(value)
    return out


def definitions_hash(commands_payload: list[dict[str, Any]]) -> str:
    normal = sorted((_normal(c) for c in commands_payload), key=lambda c: c.get("name", ""))
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:16]


async def sync_commands(tree: app_commands.CommandTree[Any], settings: Settings) -> None:
    """Sync only when the definitions differ from what Discord has; clear stale ones: global commands
    when syncing to guilds (RESONANCE_GUILD_IDS), and nothing else is ours to clear."""
    http = tree.client.http
    app_id = tree.client.application_id
    assert app_id is not None
    wanted_global = [c.to_dict(tree) for c in tree.get_commands()]
    if settings.guild_ids:
        for guild_id in settings.guild_ids:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            wanted = [c.to_dict(tree) for c in tree.get_commands(guild=guild)]
            have = await http.get_guild_commands(app_id, guild_id)
            if definitions_hash(have) == definitions_hash(wanted):
                log.info("commands unchanged", extra={"guild_id": guild_id, "count": len(wanted)})
                continue
            synced = await tree.sync(guild=guild)
            log.info("commands synced", extra={"guild_id": guild_id, "count": len(synced)})
        stale = await http.get_global_commands(app_id)
        if stale:
            await http.bulk_upsert_global_commands(app_id, payload=[])
            log.info("stale global commands cleared", extra={"count": len(stale)})
        return
    have = await http.get_global_commands(app_id)
    if definitions_hash(have) == definitions_hash(wanted_global):
        log.info("commands unchanged", extra={"count": len(wanted_global)})
        return
    synced = await tree.sync()
    log.info("commands synced globally", extra={"count": len(synced)})


# --- the process --------------------------------------------------------------------------------


def _where(url: str) -> str:
    """host:port/database of a URL, without credentials (for error lines)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"


async def open_database(settings: Settings) -> Any:
    """The pool, after checking the database answers and is migrated; raises SystemExit with one line."""
    from resonance.db import create_pool
    from resonance.db._call import exists

    assert settings.database_url is not None
    where = _where(settings.database_url)
    try:
        pool = await asyncio.wait_for(
            create_pool(
                settings.database_url,
                max_size=settings.db_pool_size,
                statement_timeout_ms=settings.db_statement_timeout_ms,
                lock_timeout_ms=settings.db_lock_timeout_ms,
            ),
            timeout=settings.db_connect_timeout_seconds,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemExit(
            _fail(
                EXIT_DATABASE,
                f"cannot connect to the database at {where} (DATABASE_URL): {reason}. "
                "Check the URL, that Postgres is running, and the credentials.",
            )
        ) from None
    try:
        missing = [f for f in REQUIRED_FUNCTIONS if not await exists(pool, f)]
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        await pool.close()
        raise SystemExit(
            _fail(EXIT_DATABASE, f"the database at {where} (DATABASE_URL) failed a check: {exc}.")
        ) from None
    if missing:
        await pool.close()
        raise SystemExit(
            _fail(
                EXIT_DATABASE,
                f"the database at {where} is not migrated (missing "
                f"{', '.join(missing)}): run `resonance migrate` first.",
            )
        )
    return pool


def _fail(code: int, line: str) -> int:
    print(f"resonance bot: {line}", file=sys.stderr, flush=True)
    return code


async def run(settings: Settings) -> int:
    pool = await open_database(settings)
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    bot = ResonanceBot(settings, pool=pool)
    bot.outbox_worker.pool = pool
    bot.report_worker.pool = pool
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value()
    async with bot:
        running = asyncio.create_task(bot.start(token))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            log.info("signal received: stopping")
            await bot.shutdown()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            return 0
        stopping.cancel()
        await pool.close()
        exc = running.exception()
        if exc is None:
            return 0
        return _fail(EXIT_DISCORD, discord_problem(exc, settings))


def discord_problem(exc: BaseException, settings: Settings) -> str:
    """One actionable line for what ended the connection to Discord."""
    if isinstance(exc, discord.LoginFailure):
        return (
            "Discord rejected DISCORD_TOKEN (401). Copy the token again from the developer portal (Bot → Reset Token)."
        )
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the privileged intents (gateway close 4014). In the developer portal, Bot → "
            "Privileged Gateway Intents, enable Server Members Intent and Message Content Intent."
        )
    if isinstance(exc, discord.ConnectionClosed):
        return f"the Discord gateway closed the connection (code {exc.code}): {exc.reason or 'no reason given'}."
    if isinstance(exc, (aiohttp.ClientError, OSError, discord.GatewayNotFound)):
        where = settings.discord_api_base or "discord.com"
        return f"cannot reach Discord at {where}: {exc}."
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status}: {exc.text or exc}."
    return f"stopped on an unexpected error: {type(exc).__name__}: {exc}"


async def command_lines(settings: Settings | None = None) -> list[str]:
    from resonance.bot.features.help import command_lines as lines

    bot = ResonanceBot(settings or Settings())
    await bot.add_features()
    return lines(bot.tree, admin=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resonance bot", description="Run the Resonance Discord bot.")
    parser.add_argument("--list-commands", action="store_true", help="print the slash-command tree and exit")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])

    settings = Settings()
    from resonance.bot import logs

    logs.setup(settings.log_format, settings.log_level)
    if args.list_commands:
        for line in asyncio.run(command_lines(settings)):
            print(line)
        return 0
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        return _fail(
            EXIT_CONFIG,
            "DISCORD_TOKEN is not set. Create a bot in the Discord developer portal and "
            "export DISCORD_TOKEN=<its token> (see the README, 'Run the bot').",
        )
    if not settings.database_url:
        return _fail(
            EXIT_CONFIG,
            "DATABASE_URL is not set. Export DATABASE_URL=postgresql://user:password@host:5432/"
            "db (for the local cluster: DATABASE_URL=$(resonance db url)).",
        )
    try:
        return asyncio.run(run(settings))
    except SystemExit as exc:
        return int(exc.code or 0)
