"""Achievements (admin): create or change one (by name), switch one off, list them with how many members
completed each. Members see theirs with /achievements (progress). Audited with the admin's id."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import (
    CHOICES_MAX,
    DESCRIPTION_MAX,
    EMBED_DESCRIPTION_MAX,
    NAME_MAX,
    as_dict,
    json_dict,
    lines_within,
)

# The counters an achievement follows (discord_achievements.achievement_type).
ACHIEVEMENT_TYPES = (
    "message_count",
    "voice_hours",
    "streak_days",
    "reactions_received",
    "reactions_given",
    "rsnc_earned",
)
MAX_THRESHOLD = 1_000_000_000
MAX_REWARD = 1_000_000


async def name_choices(rt: Any, server_id: str | None, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete: the server's achievements whose name contains what was typed."""
    if server_id is None:
        return []
    rows = [as_dict(r) for r in await rt.call("list_achievement_configs", server_id)]
    wanted = current.lower()
    return [
        app_commands.Choice(name=str(d["name"])[:100], value=str(d["name"])[:100])
        for d in rows
        if wanted in str(d["name"]).lower()
    ][:CHOICES_MAX]


class Achievements(Feature):
    achievement = app_commands.Group(
        name="achievement",
        description="Achievements members can complete",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )

    async def _by_name(self, server_id: str, name: str) -> dict[str, Any] | None:
        for row in await self.rt.call("list_achievement_configs", server_id):
            d = as_dict(row)
            if str(d.get("name", "")).lower() == name.strip().lower():
                return d
        return None

    # --- handlers ---------------------------------------------------------------------------------

    async def achievement_set(
        self,
        ctx: CommandContext,
        r: Responder,
        name: str,
        achievement_type: str,
        threshold: int,
        reward: int = 0,
        description: str | None = None,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if achievement_type not in ACHIEVEMENT_TYPES:
                await r.reply(f"The type is one of: {', '.join(ACHIEVEMENT_TYPES)}.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_achievement(
                        conn,
                        ctx.server_id,
                        name,
                        achievement_type,
                        threshold,
                        reward,
                        actor_id=ctx.user_id,
                        description=description,
                    )
                )

            result, _ = await self.rt.once(ctx, "achievement set", act)
            verb = "created" if result.get("status") == "created" else "updated"
            await r.reply(
                f"Achievement **{result.get('name', name)}** {verb}: {achievement_type} ≥ {threshold}"
                + (f", {reward} RSNC reward" if reward else "")
                + ".",
                ephemeral=True,
            )

        await self.rt.answer(r, "achievement set", body)

    async def achievement_disable(self, ctx: CommandContext, r: Responder, name: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            assert ctx.server_id is not None
            found = await self._by_name(ctx.server_id, name)
            if found is None:
                await r.reply(f"No achievement named **{name}** here (see `/achievement list`).", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.disable_achievement(
                        conn, ctx.server_id, found["achievement_id"], actor_id=ctx.user_id
                    )
                )

            result, _ = await self.rt.once(ctx, "achievement disable", act)
            if result.get("status") == "already_disabled":
                await r.reply(f"**{found['name']}** was already off.", ephemeral=True)
            else:
                await r.reply(f"**{found['name']}** is off: no new completions (past ones are kept).", ephemeral=True)

        await self.rt.answer(r, "achievement disable", body)

    async def achievement_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_achievement_configs", ctx.server_id):
                d = as_dict(row)
                flag = "🟢" if d.get("is_active") else "⚪"
                lines.append(
                    f"{flag} **{d.get('name')}** · {d.get('achievement_type')} ≥ {d.get('threshold')}"
                    f" · {int(d.get('reward_amount') or 0)} RSNC · completed by {d.get('completions', 0)}"
                )
            await r.reply(
                embed=Embed(
                    title="Achievements",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "None yet: `/achievement set`.",
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "achievement list", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @achievement.command(name="set", description="Create an achievement, or change the one of that name")
    @app_commands.describe(
        name="Its name (an existing name edits that achievement)",
        type="What is counted",
        threshold=f"The count that completes it (1-{MAX_THRESHOLD})",
        reward=f"RSNC paid on completion (0-{MAX_REWARD}, default 0)",
        description=f"Shown to members (at most {DESCRIPTION_MAX} characters)",
    )
    @app_commands.choices(type=[app_commands.Choice(name=t, value=t) for t in ACHIEVEMENT_TYPES])
    async def achievement_set_command(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, NAME_MAX],
        type: str,
        threshold: app_commands.Range[int, 1, MAX_THRESHOLD],
        reward: app_commands.Range[int, 0, MAX_REWARD] = 0,
        description: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        await self.achievement_set(*self.edge(interaction), name, type, threshold, reward, description)

    @achievement.command(name="disable", description="Switch an achievement off (completions are kept)")
    @app_commands.describe(name="The achievement")
    async def achievement_disable_command(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, NAME_MAX]
    ) -> None:
        await self.achievement_disable(*self.edge(interaction), name)

    @achievement.command(name="list", description="Every achievement, and how many members completed it")
    async def achievement_list_command(self, interaction: discord.Interaction) -> None:
        await self.achievement_list(*self.edge(interaction))

    @achievement_set_command.autocomplete("name")
    @achievement_disable_command.autocomplete("name")
    async def name_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await name_choices(self.rt, str(interaction.guild_id) if interaction.guild_id else None, current)


FEATURE = Achievements
