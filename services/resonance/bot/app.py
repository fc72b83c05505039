"""The bot process: `resonance bot [--list-commands]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.ext import commands

from resonance.bot.cogs import AdminCommands, ClientTarget, DropButton, Listeners, MemberCommands, Workers
from resonance.bot.handlers import Handlers
from resonance.bot.outbox import OutboxWorker, ReportWorker
from resonance.settings import Settings

log = logging.getLogger("resonance.bot")


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
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), help_command=None,
                         allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True))
        self.settings = settings
        self.pool = pool
        self.handlers = Handlers(pool)
        target = ClientTarget(self)
        self.outbox_worker = OutboxWorker(pool, target, worker_id=settings.worker_id, batch=settings.outbox_batch,
                                          pace_seconds=settings.outbox_pace_seconds)
        self.report_worker = ReportWorker(pool, target, worker_id=settings.worker_id)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def add_command_cogs(self) -> None:
        await self.add_cog(MemberCommands(self))
        await self.add_cog(AdminCommands(self))

    async def setup_hook(self) -> None:
        from resonance.db import create_pool

        if self.settings.discord_api_base:
            # Testing against a fake Discord: connect to the gateway its GET /gateway/bot names.
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

        if self.pool is None:
            self.pool = await create_pool(self.settings.database_url or _local_url(),
                                          max_size=self.settings.db_pool_size)
            for holder in (self.handlers, self.outbox_worker, self.report_worker):
                holder.pool = self.pool
        await self.add_command_cogs()
        await self.add_cog(Listeners(self))
        await self.add_cog(Workers(self))
        self.add_dynamic_items(DropButton)
        for guild_id in self.settings.guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("commands synced", extra={"guild_id": guild_id, "count": len(synced)})
        if not self.settings.guild_ids:
            synced = await self.tree.sync()
            log.info("commands synced globally", extra={"count": len(synced)})

    async def on_ready(self) -> None:
        log.info("ready", extra={"user": str(self.user), "guilds": len(self.guilds), "worker": self.settings.worker_id})

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("app command error", extra={"command": getattr(interaction.command, "qualified_name", None),
                                              "error": repr(error)})
        text = "Sorry, that didn't work."
        if isinstance(error, app_commands.CheckFailure):
            text = "You can't use this command here."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            pass

    async def close(self) -> None:
        await super().close()
        if self.pool is not None and hasattr(self.pool, "close"):
            await self.pool.close()


def _local_url() -> str:
    from resonance.localdb import BOT_ROLE, cluster

    return cluster().url(user=BOT_ROLE)


def walk(command: Any, prefix: str = "") -> list[str]:
    """`/name [options] - description` for every leaf of the tree, groups expanded."""
    name = f"{prefix}{command.name}"
    if isinstance(command, app_commands.Group):
        lines = []
        for child in command.commands:
            lines.extend(walk(child, f"{name} "))
        return lines
    options = []
    for param in getattr(command, "parameters", []):
        options.append(f"<{param.name}>" if param.required else f"[{param.name}]")
    admin = ""
    root = command
    while getattr(root, "parent", None) is not None:
        root = root.parent
    if getattr(root, "default_permissions", None) is not None:
        admin = " (admin)"
    return [f"/{name}{' ' + ' '.join(options) if options else ''}{admin}  {command.description}"]


async def command_lines(settings: Settings | None = None) -> list[str]:
    bot = ResonanceBot(settings or Settings(DISCORD_TOKEN=None))
    await bot.add_command_cogs()
    lines: list[str] = []
    for command in sorted(bot.tree.get_commands(), key=lambda c: c.name):
        lines.extend(walk(command))
    return lines


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
        print("resonance bot: DISCORD_TOKEN is not set. Create a bot in the Discord developer portal and export "
              "DISCORD_TOKEN=<its token> (see the README, 'Run the bot').", file=sys.stderr)
        return 2
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    bot = ResonanceBot(settings)
    try:
        bot.run(settings.discord_token.get_secret_value(), log_handler=None)
    except discord.LoginFailure:
        log.error("login failed: DISCORD_TOKEN was rejected")
        return 1
    return 0
