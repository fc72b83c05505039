"""KPIs (admin): /kpi show (the eight metrics of a day) and /kpi target set|list|disable (what each
metric should reach per day, week or month, and below which an alert is posted). Alerts go to the
alerts channel (/setup channel kind:alerts) or else the report channel. Changes are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, as_dict, json_dict, lines_within, whole
from resonance.db.models import KPI_METRICS

PERIODS = ("day", "week", "month")
MAX_TARGET = 1_000_000_000


class Kpis(Feature):
    kpi_group = app_commands.Group(
        name="kpi",
        description="Community KPIs and their targets",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )
    target = app_commands.Group(name="target", description="What each KPI should reach", parent=kpi_group)

    # --- handlers ---------------------------------------------------------------------------------

    async def kpi(self, ctx: CommandContext, r: Responder, day: date | None = None) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            the_day = day or ((ctx.at or datetime.now(UTC)).date() - timedelta(days=1))
            data = as_dict(await self.rt.call("compute_kpis", ctx.server_id, the_day))
            embed = Embed(title=f"KPIs for {the_day}", color=BLUE)
            for key in KPI_METRICS:
                value = data.get(key)
                embed.add(key.replace("_", " "), "n/a" if value is None else whole(round(Decimal(str(value)), 4)))
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "kpi", body)

    async def kpi_target_set(
        self,
        ctx: CommandContext,
        r: Responder,
        metric: str,
        target: float,
        period: str = "week",
        alert_below: float | None = None,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if metric not in KPI_METRICS or period not in PERIODS:
                await r.reply(
                    f"The metric is one of {', '.join(KPI_METRICS)}; the period day, week or month.", ephemeral=True
                )
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_kpi_target(
                        conn,
                        ctx.server_id,
                        metric,
                        target,
                        actor_id=ctx.user_id,
                        period=period,
                        alert_threshold=alert_below,
                    )
                )

            await self.rt.once(ctx, "kpi target set", act)
            alerts = (
                " Alerts go to the alerts channel (`/setup channel kind:alerts`), else to the report channel "
                "(`/reports schedule`)."
                if alert_below is not None
                else ""
            )
            await r.reply(
                f"Target: {metric} {whole(target)} per {period}"
                + (f", alert when past {whole(alert_below)}." if alert_below is not None else ".")
                + alerts,
                ephemeral=True,
            )

        await self.rt.answer(r, "kpi target set", body)

    async def kpi_target_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_kpi_targets", ctx.server_id):
                d = as_dict(row)
                flag = "🟢" if d.get("is_active") else "⚪"
                alert = f" · alert past {whole(d['alert_threshold'])}" if d.get("alert_threshold") is not None else ""
                lines.append(
                    f"{flag} **{d.get('metric')}** {whole(d.get('target_value'))} per {d.get('period')}{alert}"
                )
            await r.reply(
                embed=Embed(
                    title="KPI targets",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "None yet: `/kpi target set`.",
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "kpi target list", body)

    async def kpi_target_disable(self, ctx: CommandContext, r: Responder, metric: str, period: str = "week") -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.disable_kpi_target(conn, ctx.server_id, metric, period, actor_id=ctx.user_id)
                )

            result, _ = await self.rt.once(ctx, "kpi target disable", act)
            word = "was already off" if result.get("status") == "already_disabled" else "is off"
            await r.reply(f"The {period} target of {metric} {word}.", ephemeral=True)

        await self.rt.answer(r, "kpi target disable", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @kpi_group.command(name="show", description="KPIs of a day (yesterday by default)")
    @app_commands.describe(day="The day, as YYYY-MM-DD (yesterday by default)")
    async def kpi_command(
        self, interaction: discord.Interaction, day: app_commands.Range[str, 10, 10] | None = None
    ) -> None:
        ctx, r = self.edge(interaction)
        try:
            the_day = date.fromisoformat(day) if day else None
        except ValueError:
            await r.reply("The day must look like 2026-01-31.", ephemeral=True)
            return
        await self.kpi(ctx, r, the_day)

    @target.command(name="set", description="Set what a KPI should reach, and when to alert")
    @app_commands.describe(
        metric="The KPI",
        target=f"The value it should reach (0-{MAX_TARGET})",
        period="Per day, week or month (default week)",
        alert_below="Alert when the period's value is below this (above, for churn and concentration); none: no alert",
    )
    @app_commands.choices(
        metric=[app_commands.Choice(name=m, value=m) for m in KPI_METRICS],
        period=[app_commands.Choice(name=p, value=p) for p in PERIODS],
    )
    async def kpi_target_set_command(
        self,
        interaction: discord.Interaction,
        metric: str,
        target: app_commands.Range[float, 0, MAX_TARGET],
        period: str = "week",
        alert_below: app_commands.Range[float, 0, MAX_TARGET] | None = None,
    ) -> None:
        await self.kpi_target_set(*self.edge(interaction), metric, target, period, alert_below)

    @target.command(name="list", description="The KPI targets of this server")
    async def kpi_target_list_command(self, interaction: discord.Interaction) -> None:
        await self.kpi_target_list(*self.edge(interaction))

    @target.command(name="disable", description="Switch a KPI target (and its alerts) off")
    @app_commands.describe(metric="The KPI", period="Its period (default week)")
    @app_commands.choices(
        metric=[app_commands.Choice(name=m, value=m) for m in KPI_METRICS],
        period=[app_commands.Choice(name=p, value=p) for p in PERIODS],
    )
    async def kpi_target_disable_command(
        self, interaction: discord.Interaction, metric: str, period: str = "week"
    ) -> None:
        await self.kpi_target_disable(*self.edge(interaction), metric, period)


FEATURE = Kpis
