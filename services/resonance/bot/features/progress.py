"""Progress: the daily check-in, the leaderboard, a member's stats, achievements and community goals."""

from __future__ import annotations

from decimal import Decimal

import discord
from discord import app_commands

from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, GOLD, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, as_dict, lines_within, whole

PERIODS = ("day", "week", "month", "all")
STAT_KEYS = (
    "messages_count",
    "voice_minutes",
    "reactions_given",
    "reactions_count",
    "reactions_received",
    "rsnc_earned",
    "current_streak",
    "longest_streak",
    "achievements_completed",
    "rank",
    "balance",
)


class Progress(Feature):
    # --- handlers ---------------------------------------------------------------------------------

    async def checkin(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if await self.rt.need_server(ctx, r):
                outcome = await self.rt.call("daily_checkin", ctx.server_id, ctx.user_id, ctx.role_ids, ctx.at)
                await self.rt.status_reply(r, outcome)

        await self.rt.answer(r, "checkin", body)

    async def leaderboard(self, ctx: CommandContext, r: Responder, period: str = "week") -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            if period not in PERIODS:
                await r.reply(f"Period must be one of: {', '.join(PERIODS)}.", ephemeral=True)
                return
            rows = await self.rt.call("leaderboard", ctx.server_id, period, 10)
            lines = []
            for i, row in enumerate(rows, start=1):
                data = as_dict(row)
                user = data.get("discord_user_id") or data.get("user_id")
                amount = data.get("rsnc_earned", data.get("amount", data.get("score", 0)))
                lines.append(f"**{data.get('rank') or i}.** <@{user}> · {whole(amount)} RSNC")
            embed = Embed(
                title=f"Leaderboard ({period})",
                color=GOLD,
                description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No activity yet.",
            )
            await r.reply(embed=embed, ephemeral=False)

        await self.rt.answer(r, "leaderboard", body, ephemeral=False)

    async def stats(self, ctx: CommandContext, r: Responder, member_id: str | None = None) -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            user = member_id or ctx.user_id
            data = as_dict(await self.rt.call("member_stats", ctx.server_id, user))
            embed = Embed(title="Stats", description=f"<@{user}>", color=BLUE)
            for key in STAT_KEYS:
                value = data.get(key)
                if value is not None:
                    embed.add(
                        key.replace("_", " "),
                        whole(value)
                        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
                        else value,
                    )
            if not embed.fields:
                embed.description += "\nNo activity recorded yet."
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "stats", body)

    async def achievements(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_achievements", ctx.server_id, ctx.user_id):
                d = as_dict(row)
                done = "✅" if d.get("completed_at") else "▫️"
                lines.append(
                    f"{done} **{d.get('name')}** · {whole(d.get('progress') or 0)}/{whole(d.get('threshold'))}"
                    + (f" · {whole(d.get('reward_amount'))} RSNC" if d.get("reward_amount") else "")
                )
            await r.reply(
                embed=Embed(
                    title="Achievements",
                    color=GOLD,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "None set up yet.",
                )
            )

        await self.rt.answer(r, "achievements", body)

    async def goals(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_goals", ctx.server_id):
                d = as_dict(row)
                mark = "✅" if d.get("completed_at") else "🎯"
                lines.append(
                    f"{mark} **{d.get('name')}** · {whole(d.get('current_value'))}/"
                    f"{whole(d.get('target_value'))}" + (f" · by {d['deadline']}" if d.get("deadline") else "")
                )
            await r.reply(
                embed=Embed(
                    title="Community goals",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No goals yet.",
                ),
                ephemeral=False,
            )

        await self.rt.answer(r, "goals", body, ephemeral=False)

    # --- slash commands ---------------------------------------------------------------------------

    @app_commands.command(name="checkin", description="Daily check-in: RSNC and a streak")
    @app_commands.guild_only()
    async def checkin_command(self, interaction: discord.Interaction) -> None:
        await self.checkin(*self.edge(interaction))

    @app_commands.command(name="leaderboard", description="Top earners of this server")
    @app_commands.describe(period="Which period to rank: day, week (default), month or all time")
    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in PERIODS])
    @app_commands.guild_only()
    async def leaderboard_command(self, interaction: discord.Interaction, period: str = "week") -> None:
        await self.leaderboard(*self.edge(interaction), period)

    @app_commands.command(name="stats", description="Activity and earnings of a member (you by default)")
    @app_commands.describe(member="Whose stats to show (you by default)")
    @app_commands.guild_only()
    async def stats_command(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        await self.stats(*self.edge(interaction), str(member.id) if member else None)

    @app_commands.command(name="achievements", description="Your achievements and progress")
    @app_commands.guild_only()
    async def achievements_command(self, interaction: discord.Interaction) -> None:
        await self.achievements(*self.edge(interaction))

    @app_commands.command(name="goals", description="This server's community goals")
    @app_commands.guild_only()
    async def goals_command(self, interaction: discord.Interaction) -> None:
        await self.goals(*self.edge(interaction))


FEATURE = Progress
