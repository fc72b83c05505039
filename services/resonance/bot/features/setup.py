"""Setup: the first thing a community manager meets. A welcome when the bot joins a guild, `/setup start`
(links the guild, to the brand of a Partner Portal link code or to its own self-hosted brand), the
checklist of what is configured and what is not (`/setup status`), the channels the bot posts to,
anti-farming thresholds, and `/setup unlink` (soft: history kept). Every change is audited with the
admin's Discord id (resonance.db.setup)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS, ClientTarget
from resonance.bot.models import CommandContext
from resonance.bot.responder import GREEN, ORANGE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import NAME_MAX, clip, json_dict
from resonance.db.models import BotServer

log = logging.getLogger("resonance.bot.setup")

CHANNEL_KINDS = ("drops", "reports", "alerts", "announcements")  # resonance.channel_kinds()

WELCOME = (
    "Thanks for adding **Resonance**! Members earn RSNC for taking part; you decide what pays.\n"
    "An admin (Manage Server) runs **/setup start** to link this server (with the code from the Partner "
    "Portal, or without one for a server of your own), then **/setup status** shows what is left to "
    "configure and the command for each step."
)

LINK_TEXT = {
    "linked": "This server is now linked to Resonance",
    "already_linked": "This server was already linked",
    "relinked": "This server is linked again (its history was kept)",
}

ITEM_NAMES = {
    "rules": "Reward rules",
    "roles": "Roles",
    "drops_channel": "Drops channel",
    "report_channel": "Report channel",
}


def checklist_embed(checklist: dict[str, Any], title: str) -> Embed:
    """The checklist as an embed: one line per item, done or the command that does it."""
    items = checklist.get("items") or []
    done = sum(1 for item in items if item.get("done"))
    brand = checklist.get("brand_id")
    owner = "your own server (self-hosted)" if checklist.get("self_hosted") else f"brand `{brand}`"
    lines = []
    for item in items:
        name = ITEM_NAMES.get(str(item.get("key")), str(item.get("key")))
        if item.get("done"):
            detail = f" ({item['detail']})" if item.get("detail") else ""
            lines.append(f"✅ **{name}**{detail}")
        else:
            lines.append(f"⬜ **{name}**: run `{item.get('fix')}`")
    lines.insert(0, f"Rewards here are funded by {owner}.")
    if not checklist.get("linked", True):
        lines.insert(0, "⚠️ This server is unlinked: run `/setup start` to link it again.")
    embed = Embed(
        title=title,
        color=GREEN if items and done == len(items) else ORANGE,
        description="\n".join(lines) or "Nothing to show.",
    )
    embed.footer = f"{done}/{len(items)} configured"
    return embed


class Setup(Feature):
    setup_group = app_commands.Group(
        name="setup",
        description="Link this server to Resonance and configure it",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )

    # --- handlers ---------------------------------------------------------------------------------

    async def welcome(self, server_id: str, system_channel_id: str | None, owner_id: str | None) -> str | None:
        """On joining a guild: one short welcome to its system channel, else to its owner; nothing for a
        guild that is linked already. Returns where it went ("channel", "owner") or None."""
        if self.rt.client is None:
            return None
        # Asked of the database, not the cache: the portal may have linked the guild before the bot came.
        if self.rt.servers is not None and server_id in await self.rt.load_servers([*self.rt.servers, server_id]):
            return None
        target = ClientTarget(self.rt.client)
        embed = Embed(title="Welcome to Resonance", description=WELCOME, color=GREEN)
        if system_channel_id:
            try:
                await target.send_message(system_channel_id, None, embed)
                return "channel"
            except Exception:
                log.info("welcome: system channel refused, trying the owner", extra={"server_id": server_id})
        if owner_id:
            try:
                await target.send_dm(owner_id, None, embed)
                return "owner"
            except Exception:
                log.info("welcome: the owner does not accept DMs", extra={"server_id": server_id})
        return None

    async def _linked(self, server_id: str) -> None:
        """The runtime learns at once that the guild is linked (its events count from now on)."""
        if self.rt.servers is not None:
            self.rt.servers[server_id] = BotServer(server_id=server_id)

    async def setup_start(
        self, ctx: CommandContext, r: Responder, server_name: str | None, code: str | None = None
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            assert ctx.server_id is not None

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.setup_server(
                    conn, ctx.server_id, server_name, actor_id=ctx.user_id, code=code.strip() if code else None
                )
                return json_dict(outcome)

            result, _ = await self.rt.once(ctx, "setup start", act)
            await self._linked(ctx.server_id)
            title = LINK_TEXT.get(str(result.get("status")), "Setup")
            await r.reply(
                embed=checklist_embed(result.get("checklist") or {}, f"{title}: what is configured"), ephemeral=True
            )

        await self.rt.answer(r, "setup start", body)

    async def setup_status(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            checklist = await self.rt.call("setup_checklist", ctx.server_id)
            if not checklist.get("brand_id"):
                await r.reply(
                    "This server isn't linked yet: run `/setup start` (with the Partner Portal's code, "
                    "or without one for a server of your own).",
                    ephemeral=True,
                )
                return
            await r.reply(embed=checklist_embed(checklist, "Resonance setup"), ephemeral=True)

        await self.rt.answer(r, "setup status", body)

    async def setup_channel(self, ctx: CommandContext, r: Responder, kind: str, channel_id: str | None) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if kind not in CHANNEL_KINDS:
                await r.reply(f"The kind is one of: {', '.join(CHANNEL_KINDS)}.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_server_channel(conn, ctx.server_id, kind, channel_id, actor_id=ctx.user_id)
                )

            await self.rt.once(ctx, "setup channel", act)
            where = f"<#{channel_id}>" if channel_id else "no channel"
            await r.reply(f"The {kind} channel is now {where}.", ephemeral=True)

        await self.rt.answer(r, "setup channel", body)

    async def setup_antifarming(
        self,
        ctx: CommandContext,
        r: Responder,
        similarity: float,
        min_words: int,
        window_minutes: int,
        enabled: bool = True,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_anti_farming(
                        conn,
                        ctx.server_id,
                        actor_id=ctx.user_id,
                        similarity=similarity,
                        min_words=min_words,
                        window_minutes=window_minutes,
                        enabled=enabled,
                    )
                )

            await self.rt.once(ctx, "setup antifarming", act)
            if enabled:
                await r.reply(
                    f"Anti-farming: messages under {min_words} words, or {round(similarity * 100)} % "
                    f"similar to one of the member's messages of the last {window_minutes} minutes, "
                    "earn nothing.",
                    ephemeral=True,
                )
            else:
                await r.reply("Anti-farming is off.", ephemeral=True)

        await self.rt.answer(r, "setup antifarming", body)

    async def setup_unlink(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(await self.rt.api.unlink_server(conn, ctx.server_id, actor_id=ctx.user_id))

            result, _ = await self.rt.once(ctx, "setup unlink", act)
            if self.rt.servers is not None and ctx.server_id is not None:
                self.rt.servers.pop(ctx.server_id, None)
            if result.get("status") == "already_unlinked":
                await r.reply("This server was already unlinked.", ephemeral=True)
            else:
                await r.reply(
                    "Unlinked: Resonance stops counting here. Every balance, stat and the audit log "
                    "are kept; `/setup start` links the server again.",
                    ephemeral=True,
                )

        await self.rt.answer(r, "setup unlink", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        where = await self.welcome(
            str(guild.id),
            str(guild.system_channel.id) if guild.system_channel else None,
            str(guild.owner_id) if guild.owner_id else None,
        )
        log.info("joined a guild", extra={"server_id": str(guild.id), "welcome": where})

    @setup_group.command(
        name="start", description="Link this server to Resonance (with a Partner Portal code, or as your own)"
    )
    @app_commands.describe(code="The link code from the Partner Portal (none: this server funds itself)")
    async def setup_start_command(
        self, interaction: discord.Interaction, code: app_commands.Range[str, 8, 12] | None = None
    ) -> None:
        name = clip(interaction.guild.name, NAME_MAX) if interaction.guild else None
        await self.setup_start(*self.edge(interaction), name, code)

    @setup_group.command(name="status", description="What is configured, and the command for what is not")
    async def setup_status_command(self, interaction: discord.Interaction) -> None:
        await self.setup_status(*self.edge(interaction))

    @setup_group.command(name="channel", description="Where the bot posts drops, reports, alerts, announcements")
    @app_commands.describe(kind="Which posts", channel="The channel (none: forget it)")
    @app_commands.choices(kind=[app_commands.Choice(name=k, value=k) for k in CHANNEL_KINDS])
    async def setup_channel_command(
        self, interaction: discord.Interaction, kind: str, channel: discord.TextChannel | None = None
    ) -> None:
        await self.setup_channel(*self.edge(interaction), kind, str(channel.id) if channel else None)

    @setup_group.command(name="antifarming", description="When near-identical or short messages earn nothing")
    @app_commands.describe(
        similarity="How similar to a recent message counts as farming (0.1-1, default 0.9)",
        min_words="Messages with fewer words earn nothing (0-100, default 0)",
        window_minutes="How far back messages are compared (1-10080, default 30)",
        enabled="Switch the check on or off (default on)",
    )
    async def setup_antifarming_command(
        self,
        interaction: discord.Interaction,
        similarity: app_commands.Range[float, 0.1, 1.0] = 0.9,
        min_words: app_commands.Range[int, 0, 100] = 0,
        window_minutes: app_commands.Range[int, 1, 10_080] = 30,
        enabled: bool = True,
    ) -> None:
        await self.setup_antifarming(*self.edge(interaction), similarity, min_words, window_minutes, enabled)

    @setup_group.command(name="unlink", description="Stop Resonance here (balances, stats and history are kept)")
    async def setup_unlink_command(self, interaction: discord.Interaction) -> None:
        await self.setup_unlink(*self.edge(interaction))


FEATURE = Setup
