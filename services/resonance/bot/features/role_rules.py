"""/role (admin): how roles are assigned and what they pay over time. Threshold roles (a member's RSNC
balance, or an activity counter, reaching a value), drip roles (RSNC every day, week or month to every
holder), switching a role's configuration off, and the list of configured roles with their holders.
Effects (multiplier, bonus ...) are set with /roles effect, milestones with /milestone create."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, as_dict, json_dict, lines_within, whole

ACTIVITY_CRITERIA = (
    "messages_count",
    "voice_minutes",
    "reactions_count",
    "reactions_received",
    "rsnc_earned",
    "current_streak",
    "longest_streak",
)  # resonance.milestone_criterion_types()
DRIP_PERIODS = ("day", "week", "month")
MAX_THRESHOLD = 1_000_000_000_000
MAX_DRIP = 1_000_000


class RoleRules(Feature):
    role = app_commands.Group(
        name="role",
        description="How roles are assigned and what they pay",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )

    # --- handlers ---------------------------------------------------------------------------------

    async def role_threshold(
        self,
        ctx: CommandContext,
        r: Responder,
        role_id: str,
        criterion: str,
        threshold: int,
        role_name: str | None = None,
    ) -> None:
        """criterion "balance" (RSNC balance, given and taken back as it moves) or an activity counter."""

        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            config: dict[str, Any]
            if criterion == "balance":
                kind, config = "balance_threshold", {"threshold": threshold}
            elif criterion in ACTIVITY_CRITERIA:
                kind, config = "activity_threshold", {"criteria": [{"type": criterion, "threshold": threshold}]}
            else:
                await r.reply(f"The criterion is balance or one of: {', '.join(ACTIVITY_CRITERIA)}.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_role_assignment(
                        conn, ctx.server_id, role_id, kind, config, actor_id=ctx.user_id, role_name=role_name
                    )
                )

            await self.rt.once(ctx, "role threshold", act)
            rule = f"an RSNC balance of {threshold}" if criterion == "balance" else f"{criterion} ≥ {threshold}"
            await r.reply(f"<@&{role_id}> now goes to members with {rule}.", ephemeral=True)

        await self.rt.answer(r, "role threshold", body)

    async def role_drip(
        self, ctx: CommandContext, r: Responder, role_id: str, amount: int, period: str, role_name: str | None = None
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if period not in DRIP_PERIODS:
                await r.reply("The period is day, week or month.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_role_effect(
                        conn,
                        ctx.server_id,
                        role_id,
                        "auto_drip",
                        {"amount": amount, "period": period},
                        role_name=role_name,
                        actor_id=ctx.user_id,
                    )
                )

            await self.rt.once(ctx, "role drip", act)
            await r.reply(f"Holders of <@&{role_id}> receive {amount} RSNC every {period}.", ephemeral=True)

        await self.rt.answer(r, "role drip", body)

    async def role_disable(self, ctx: CommandContext, r: Responder, role_id: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(await self.rt.api.disable_role(conn, ctx.server_id, role_id, actor_id=ctx.user_id))

            result, _ = await self.rt.once(ctx, "role disable", act)
            word = "was already off" if result.get("status") == "already_disabled" else "is off"
            await r.reply(f"Resonance for <@&{role_id}> {word}: no effect, not sold, not assigned.", ephemeral=True)

        await self.rt.answer(r, "role disable", body)

    async def role_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_role_configs", ctx.server_id):
                d = as_dict(row)
                flag = "🟢" if d.get("is_active") else "⚪"
                assign = str(d.get("assignment_type") or "external")
                config = d.get("assignment_config") or {}
                if assign == "purchase":
                    assign = f"sold for {whole(config.get('price'))} RSNC"
                elif assign == "balance_threshold":
                    assign = f"balance ≥ {whole(config.get('threshold'))}"
                elif assign in ("activity_threshold", "milestone"):
                    crit = ", ".join(f"{c.get('type')} ≥ {c.get('threshold')}" for c in config.get("criteria") or [])
                    assign = f"{assign.split('_')[0]}: {crit}"
                lines.append(
                    f"{flag} <@&{d.get('role_id')}> · {d.get('effect_type')} {d.get('effect_config')} · "
                    f"{assign} · {d.get('holders', 0)} holder(s)"
                )
            await r.reply(
                embed=Embed(
                    title="Configured roles",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX)
                    or "None yet: `/roles effect`, `/role threshold`, `/shop price`.",
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "role list", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @role.command(name="threshold", description="Give a role to members whose balance or activity reaches a value")
    @app_commands.describe(
        role="The role",
        criterion="balance (RSNC held) or an activity counter",
        threshold=f"The value (1-{MAX_THRESHOLD})",
    )
    @app_commands.choices(criterion=[app_commands.Choice(name=c, value=c) for c in ("balance", *ACTIVITY_CRITERIA)])
    async def role_threshold_command(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        criterion: str,
        threshold: app_commands.Range[int, 1, MAX_THRESHOLD],
    ) -> None:
        await self.role_threshold(*self.edge(interaction), str(role.id), criterion, threshold, role.name)

    @role.command(name="drip", description="Pay every holder of a role RSNC each day, week or month")
    @app_commands.describe(role="The role", amount=f"RSNC per period (1-{MAX_DRIP})", period="How often")
    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in DRIP_PERIODS])
    async def role_drip_command(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        amount: app_commands.Range[int, 1, MAX_DRIP],
        period: str = "day",
    ) -> None:
        await self.role_drip(*self.edge(interaction), str(role.id), amount, period, role.name)

    @role.command(name="disable", description="Switch Resonance off for a role (holders keep the Discord role)")
    @app_commands.describe(role="The role")
    async def role_disable_command(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self.role_disable(*self.edge(interaction), str(role.id))

    @role.command(name="list", description="Every configured role: effect, how it is assigned, holders")
    async def role_list_command(self, interaction: discord.Interaction) -> None:
        await self.role_list(*self.edge(interaction))


FEATURE = RoleRules
