"""Help: /help lists every command a member can use here (and, for admins, the admin ones); a server
that adds the bot before it is linked is told once, in its system channel, how to set it up."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, lines_within

log = logging.getLogger("resonance.bot.help")


def walk(command: Any, prefix: str = "") -> list[tuple[str, bool]]:
    """(`/name <required> [optional]  description`, is_admin) for every leaf of the tree, groups expanded."""
    name = f"{prefix}{command.name}"
    if isinstance(command, app_commands.Group):
        out = []
        for child in command.commands:
            out.extend(walk(child, f"{name} "))
        return out
    options = [f"<{p.name}>" if p.required else f"[{p.name}]" for p in getattr(command, "parameters", [])]
    root = command
    while getattr(root, "parent", None) is not None:
        root = root.parent
    admin = getattr(root, "default_permissions", None) is not None
    usage = f"/{name}{' ' + ' '.join(options) if options else ''}{' (admin)' if admin else ''}"
    return [(f"{usage}  {command.description}", admin)]


def command_lines(tree: app_commands.CommandTree[Any], *, admin: bool) -> list[str]:
    lines = []
    for command in sorted(tree.get_commands(), key=lambda c: c.name):
        lines += [text for text, is_admin in walk(command) if admin or not is_admin]
    return lines


class Help(Feature):
    async def help(self, ctx: CommandContext, r: Responder, lines: list[str]) -> None:
        async def body() -> None:
            text = lines_within(
                [f"`{line.split('  ', 1)[0]}` {line.split('  ', 1)[-1]}" for line in lines], EMBED_DESCRIPTION_MAX
            )
            embed = Embed(title="Resonance commands", description=text, color=BLUE)
            embed.footer = "Earn RSNC by chatting, reacting, voice and /checkin; spend it with /buy role and /tip."
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "help", body)

    @app_commands.command(name="help", description="What Resonance can do, and its commands")
    async def help_command(self, interaction: discord.Interaction) -> None:
        ctx, r = self.edge(interaction)
        tree: Any = getattr(interaction.client, "tree", None)
        await self.help(ctx, r, command_lines(tree, admin=ctx.is_admin) if tree is not None else [])


FEATURE = Help
