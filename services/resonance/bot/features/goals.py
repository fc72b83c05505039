"""Community goals (admin): a server-wide target (members seen, daily active, RSNC distributed) with a
start and a deadline; switch one off; list them. Members follow them with /goals. Audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import CHOICES_MAX, EMBED_DESCRIPTION_MAX, NAME_MAX, as_dict, json_dict, lines_within, whole

GOAL_TYPES = ("users", "dau", "rsnc_distributed")  # custom goals name a SQL function: the portal sets those
MAX_TARGET = 1_000_000_000_000


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD option; raises ValueError for anything else."""
    return date.fromisoformat(text.strip()) if text else None


class Goals(Feature):
    goal = app_commands.Group(
        name="goal", description="Community goals", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )

    async def _by_name(self, server_id: str, name: str) -> dict[str, Any] | None:
        for row in await self.rt.call("list_goal_configs", server_id):
            d = as_dict(row)
            if str(d.get("name", "")).lower() == name.strip().lower():
                return d
        return None

    # --- handlers ---------------------------------------------------------------------------------

    async def goal_set(
        self,
        ctx: CommandContext,
        r: Responder,
        name: str,
        goal_type: str,
        target: int,
        deadline: date | None = None,
        starts: date | None = None,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if goal_type not in GOAL_TYPES:
                await r.reply(f"The type is one of: {', '.join(GOAL_TYPES)}.", ephemeral=True)
                return
            assert ctx.server_id is not None
            existing = await self._by_name(ctx.server_id, name)
            starts_at = datetime.combine(starts, datetime.min.time(), tzinfo=UTC) if starts else None

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_goal(
                        conn,
                        ctx.server_id,
                        name,
                        goal_type,
                        target,
                        actor_id=ctx.user_id,
                        deadline=deadline,
                        starts_at=starts_at,
                        goal_id=existing["goal_id"] if existing else None,
                    )
                )

            result, _ = await self.rt.once(ctx, "goal set", act)
            verb = "created" if result.get("status") == "created" else "updated"
            await r.reply(
                f"Goal **{name}** {verb}: {goal_type} to {target}"
                + (f" by {deadline}" if deadline else "")
                + f", counting from {str(result.get('starts_at', ''))[:10] or 'now'}.",
                ephemeral=True,
            )

        await self.rt.answer(r, "goal set", body)

    async def goal_disable(self, ctx: CommandContext, r: Responder, name: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            assert ctx.server_id is not None
            found = await self._by_name(ctx.server_id, name)
            if found is None:
                await r.reply(f"No goal named **{name}** here (see `/goal list`).", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.disable_goal(conn, ctx.server_id, found["goal_id"], actor_id=ctx.user_id)
                )

            result, _ = await self.rt.once(ctx, "goal disable", act)
            word = "was already off" if result.get("status") == "already_disabled" else "is off"
            await r.reply(f"Goal **{found['name']}** {word}.", ephemeral=True)

        await self.rt.answer(r, "goal disable", body)

    async def goal_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_goal_configs", ctx.server_id):
                d = as_dict(row)
                flag = "✅" if d.get("completed_at") else ("🟢" if d.get("is_active") else "⚪")
                lines.append(
                    f"{flag} **{d.get('name')}** · {d.get('goal_type')} {whole(d.get('current_value'))}"
                    f"/{whole(d.get('target_value'))} · from {str(d.get('starts_at'))[:10]}"
                    + (f" to {d.get('deadline')}" if d.get("deadline") else "")
                )
            await r.reply(
                embed=Embed(
                    title="Community goals",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "None yet: `/goal set`.",
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "goal list", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @goal.command(name="set", description="Create a community goal, or change the one of that name")
    @app_commands.describe(
        name="Its name (an existing name edits that goal)",
        type="What is counted",
        target=f"The value that completes it (1-{MAX_TARGET})",
        deadline="Last day, as YYYY-MM-DD (none: open-ended)",
        starts="First day counted, as YYYY-MM-DD (default: now)",
    )
    @app_commands.choices(type=[app_commands.Choice(name=t, value=t) for t in GOAL_TYPES])
    async def goal_set_command(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, NAME_MAX],
        type: str,
        target: app_commands.Range[int, 1, MAX_TARGET],
        deadline: app_commands.Range[str, 10, 10] | None = None,
        starts: app_commands.Range[str, 10, 10] | None = None,
    ) -> None:
        ctx, r = self.edge(interaction)
        try:
            the_deadline, the_start = parse_day(deadline), parse_day(starts)
        except ValueError:
            await r.reply("Dates look like 2026-01-31.", ephemeral=True)
            return
        await self.goal_set(ctx, r, name, type, target, the_deadline, the_start)

    @goal.command(name="disable", description="Switch a goal off (it is kept, no longer shown to members)")
    @app_commands.describe(name="The goal")
    async def goal_disable_command(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, NAME_MAX]
    ) -> None:
        await self.goal_disable(*self.edge(interaction), name)

    @goal.command(name="list", description="Every goal with its progress, start and deadline")
    async def goal_list_command(self, interaction: discord.Interaction) -> None:
        await self.goal_list(*self.edge(interaction))

    @goal_set_command.autocomplete("name")
    @goal_disable_command.autocomplete("name")
    async def name_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        rows = [as_dict(r) for r in await self.rt.call("list_goal_configs", str(interaction.guild_id))]
        return [
            app_commands.Choice(name=str(d["name"])[:100], value=str(d["name"])[:100])
            for d in rows
            if current.lower() in str(d["name"]).lower()
        ][:CHOICES_MAX]


FEATURE = Goals
