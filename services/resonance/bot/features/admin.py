"""Admin: event reward rules, role effects, milestones, manual rewards, report schedules and the
audit log (KPIs: features/kpis.py). Visible by default to Manage Server holders; the handlers also
accept the configured admin role. Every command that changes state runs once per interaction
(`Runtime.once`): a retry or a second delivery gets the first answer and acts no more."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import (
    EMBED_DESCRIPTION_MAX,
    NAME_MAX,
    REASON_MAX,
    as_dict,
    clip,
    json_dict,
    lines_within,
    parse_amount,
    whole,
)

# The values the database accepts (tests/test_bot_choices.py compares them with its constraints).
EFFECT_TYPES = ("multiplier", "bonus_flat", "cooldown_reduction", "event_access", "one_time_bonus", "auto_drip")
MILESTONE_CRITERIA = (
    "rsnc_earned",
    "messages_count",
    "voice_minutes",
    "reactions_count",
    "reactions_received",
    "current_streak",
    "longest_streak",
)
FREQUENCIES = ("daily", "weekly", "monthly")
EVENT_TYPE_HINT = (
    "channel_message, keyword, min_length, reaction_given, reaction_received, reaction_count, "
    "voice_minutes, daily_checkin, member_join or a custom event name"
)

MAX_REWARD = 1_000_000  # monitoring_rules_reward_amount_bounded
MAX_COOLDOWN_HOURS = 8_760  # monitoring_rules_cooldown_bounded
MAX_MULTIPLIER = Decimal(100)


class Admin(Feature):
    config = app_commands.Group(
        name="config", description="Server configuration", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )
    events = app_commands.Group(name="events", description="Event reward rules", parent=config)
    roles = app_commands.Group(
        name="roles", description="Role effects", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )
    milestone = app_commands.Group(
        name="milestone", description="Milestone roles", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )
    reports = app_commands.Group(
        name="reports", description="Scheduled KPI reports", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )

    # --- handlers ---------------------------------------------------------------------------------

    async def config_events_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("list_event_rules", ctx.server_id):
                d = as_dict(row)
                flag = "🟢" if d.get("is_enabled") else "⚪"
                extra = []
                if d.get("cooldown_hours"):
                    extra.append(f"cooldown {d['cooldown_hours']}h")
                if d.get("max_claims_per_user"):
                    extra.append(f"max {d['max_claims_per_user']}")
                lines.append(
                    f"{flag} `{d.get('event_type')}` · {whole(d.get('reward_amount'))} RSNC"
                    + (f" · {', '.join(extra)}" if extra else "")
                )
            await r.reply(
                embed=Embed(
                    title="Event rules",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No rules yet.",
                )
            )

        await self.rt.answer(r, "config events list", body)

    async def config_events_set(
        self,
        ctx: CommandContext,
        r: Responder,
        event_type: str,
        reward_amount: int,
        cooldown_hours: int | None = None,
        max_claims_per_user: int | None = None,
        enabled: bool = True,
        keywords: str | None = None,
        min_length: int | None = None,
        min_reactions: int | None = None,
        channel_id: str | None = None,
    ) -> None:
        """Create or replace the server's rule of an event type (set_event_rule replaces the oldest one)."""

        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if not 0 <= reward_amount <= MAX_REWARD or not 0 <= (cooldown_hours or 0) <= MAX_COOLDOWN_HOURS:
                await r.reply(f"Reward 0-{MAX_REWARD} RSNC, cooldown 0-{MAX_COOLDOWN_HOURS} hours.", ephemeral=True)
                return
            if len([t for t in (keywords, min_length, min_reactions) if t is not None]) > 1:
                await r.reply("Give at most one trigger: keywords, min_length or min_reactions.", ephemeral=True)
                return
            detection: dict[str, Any] | None = None
            if keywords is not None:
                detection = {"trigger": "keyword", "keywords": [w.strip() for w in keywords.split(",") if w.strip()]}
            elif min_length is not None:
                detection = {"trigger": "min_length", "min_length": min_length}
            elif min_reactions is not None:
                detection = {"trigger": "reaction_count", "min_reactions": min_reactions}

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.set_event_rule(
                    conn,
                    ctx.server_id,
                    event_type,
                    reward_amount,
                    cooldown_hours=cooldown_hours,
                    max_claims_per_user=max_claims_per_user,
                    enabled=enabled,
                    detection_config=detection,
                    channel_constraints=[channel_id] if channel_id else None,
                    actor_id=ctx.user_id,
                )
                return {"status": outcome.status}

            result, _ = await self.rt.once(ctx, "config events set", act)
            verb = "created" if result.get("status") == "created" else "set"
            await r.reply(
                f"Rule `{clip(event_type, NAME_MAX)}` {verb}: {reward_amount} RSNC"
                + (f", cooldown {cooldown_hours}h" if cooldown_hours else "")
                + (f", max {max_claims_per_user}" if max_claims_per_user else "")
                + (f", trigger {detection['trigger']}" if detection else "")
                + (f", only in <#{channel_id}>" if channel_id else "")
                + ("" if enabled else " (disabled)")
                + ".",
                ephemeral=True,
            )

        await self.rt.answer(r, "config events set", body)

    async def config_events_disable(self, ctx: CommandContext, r: Responder, rule_id: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            assert ctx.server_id is not None
            rules = {
                str(as_dict(row).get("rule_id")): as_dict(row)
                for row in await self.rt.call("list_event_rules", ctx.server_id)
            }
            rule = rules.get(rule_id.strip())
            if rule is None or rule.get("brand_wide"):
                await r.reply(
                    "That is not a rule of this server (brand-wide rules are edited in the Partner "
                    "Portal); pick one from the list.",
                    ephemeral=True,
                )
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.disable_event_rule(conn, ctx.server_id, rule["rule_id"], actor_id=ctx.user_id)
                )

            result, _ = await self.rt.once(ctx, "config events disable", act)
            word = "was already off" if result.get("status") == "already_disabled" else "is off"
            await r.reply(
                f"Rule `{rule.get('event_type')}` ({whole(rule.get('reward_amount'))} RSNC) {word}; "
                "`/config events set` switches it on again.",
                ephemeral=True,
            )

        await self.rt.answer(r, "config events disable", body)

    async def roles_effect(
        self,
        ctx: CommandContext,
        r: Responder,
        role_id: str,
        effect_type: str,
        value: str,
        role_name: str | None = None,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if effect_type not in EFFECT_TYPES:
                await r.reply(f"Effect must be one of: {', '.join(EFFECT_TYPES)}.", ephemeral=True)
                return
            number = parse_amount(value)
            config: dict[str, Any]
            if effect_type == "event_access":
                config = {"event_types": [v.strip() for v in value.split(",") if v.strip()]}
            elif number is None or number < 0:
                await r.reply("The value must be a non-negative number.", ephemeral=True)
                return
            elif effect_type == "multiplier" and number > MAX_MULTIPLIER:
                await r.reply(f"A multiplier is at most {MAX_MULTIPLIER}.", ephemeral=True)
                return
            elif effect_type == "cooldown_reduction":
                if number > 100:
                    await r.reply("A cooldown reduction is a percentage, 0-100.", ephemeral=True)
                    return
                config = {"percent": float(number)}
            elif number > MAX_REWARD:
                await r.reply(f"The value is at most {MAX_REWARD}.", ephemeral=True)
                return
            elif effect_type in ("one_time_bonus", "auto_drip"):
                config = {"amount": float(number)} | ({"period": "day"} if effect_type == "auto_drip" else {})
            else:
                config = {"value": float(number)}

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.set_role_effect(
                    conn, ctx.server_id, role_id, effect_type, config, role_name=role_name, actor_id=ctx.user_id
                )
                return {"status": outcome.status}

            await self.rt.once(ctx, "roles effect", act)
            await r.reply(f"<@&{role_id}> now has `{effect_type}` {config}.", ephemeral=True)

        await self.rt.answer(r, "roles effect", body)

    async def milestone_create(
        self,
        ctx: CommandContext,
        r: Responder,
        role_id: str,
        name: str,
        criterion: str,
        threshold: int,
        bonus: int = 0,
        role_name: str | None = None,
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if criterion not in MILESTONE_CRITERIA or threshold <= 0 or not 0 <= bonus <= MAX_REWARD:
                await r.reply(
                    f"Criterion must be one of {', '.join(MILESTONE_CRITERIA)}, threshold > 0, bonus 0-{MAX_REWARD}.",
                    ephemeral=True,
                )
                return

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.create_milestone(
                    conn,
                    ctx.server_id,
                    role_id,
                    clip(name, NAME_MAX),
                    [{"type": criterion, "threshold": threshold}],
                    bonus=bonus,
                    role_name=role_name,
                    actor_id=ctx.user_id,
                )
                return {"status": outcome.status}

            await self.rt.once(ctx, "milestone create", act)
            await r.reply(
                f"Milestone **{clip(name, NAME_MAX)}**: {criterion} ≥ {threshold} grants <@&{role_id}>"
                + (f" and {bonus} RSNC" if bonus else "")
                + ".",
                ephemeral=True,
            )

        await self.rt.answer(r, "milestone create", body)

    async def reward(self, ctx: CommandContext, r: Responder, member_id: str, amount: int, reason: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if not 1 <= amount <= MAX_REWARD:
                await r.reply(f"The amount must be 1-{MAX_REWARD}.", ephemeral=True)
                return
            text = clip(reason, REASON_MAX)

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.manual_reward(
                    conn, ctx.server_id, ctx.user_id, member_id, amount, text, f"manual:{ctx.interaction_id}", ctx.at
                )
                return {"status": outcome.status, "amount": str(outcome.amount)}

            result, _ = await self.rt.once(ctx, "reward", act)
            if result.get("status") in (None, "rewarded"):
                await r.reply(f"<@{member_id}> received **{amount} RSNC**: {text}", ephemeral=False)
            else:
                await self.rt.status_reply(r, result)

        await self.rt.answer(r, "reward", body, ephemeral=False)

    async def reports_schedule(
        self, ctx: CommandContext, r: Responder, frequency: str, channel_id: str, day_of_week: int | None = None
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if frequency not in FREQUENCIES:
                await r.reply("Frequency must be daily, weekly or monthly.", ephemeral=True)
                return
            if frequency == "weekly" and day_of_week is None:
                await r.reply("A weekly report needs a day of the week (0 = Sunday ... 6 = Saturday).", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                outcome = await self.rt.api.set_report_schedule(
                    conn, ctx.server_id, frequency, channel_id, day_of_week, actor_id=ctx.user_id
                )
                return {"status": outcome.status}

            await self.rt.once(ctx, "reports schedule", act)
            await r.reply(f"{frequency.capitalize()} reports will be posted in <#{channel_id}>.", ephemeral=True)

        await self.rt.answer(r, "reports schedule", body)

    async def audit(self, ctx: CommandContext, r: Responder, limit: int = 10) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = []
            for row in await self.rt.call("recent_audit", ctx.server_id, max(1, min(limit, 25))):
                d = as_dict(row)
                who = d.get("actor_id") or d.get("actor_type") or "?"
                target = f" → <@{d['target_user_id']}>" if d.get("target_user_id") else ""
                lines.append(f"`{str(d.get('created_at', ''))[:16]}` **{d.get('action')}** by {who}{target}")
            await r.reply(
                embed=Embed(
                    title="Audit log",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "Nothing yet.",
                )
            )

        await self.rt.answer(r, "audit", body)

    # --- slash commands ---------------------------------------------------------------------------

    @events.command(name="list", description="The event rules of this server")
    async def events_list_command(self, interaction: discord.Interaction) -> None:
        await self.config_events_list(*self.edge(interaction))

    @events.command(name="set", description="Create or change the rule of an event type")
    @app_commands.describe(
        event_type=clip(f"What earns: {EVENT_TYPE_HINT}", 100),
        reward_amount=f"RSNC per event (0-{MAX_REWARD})",
        cooldown_hours=f"Hours before a member can earn from it again (0-{MAX_COOLDOWN_HOURS})",
        max_claims_per_user="How many times a member can earn from it in all (none by default)",
        enabled="Whether the rule pays (default yes)",
        keywords="Keyword trigger: comma-separated words a message must contain",
        min_length="Length trigger: the fewest characters a message needs",
        min_reactions="Reaction trigger: how many members must react to a message",
        channel="Only in this channel (everywhere by default)",
    )
    async def events_set_command(
        self,
        interaction: discord.Interaction,
        event_type: app_commands.Range[str, 1, 50],
        reward_amount: app_commands.Range[int, 0, MAX_REWARD],
        cooldown_hours: app_commands.Range[int, 0, MAX_COOLDOWN_HOURS] | None = None,
        max_claims_per_user: app_commands.Range[int, 1, 100_000] | None = None,
        enabled: bool = True,
        keywords: app_commands.Range[str, 1, 200] | None = None,
        min_length: app_commands.Range[int, 1, 2000] | None = None,
        min_reactions: app_commands.Range[int, 1, 1000] | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        await self.config_events_set(
            *self.edge(interaction),
            event_type,
            reward_amount,
            cooldown_hours,
            max_claims_per_user,
            enabled,
            keywords,
            min_length,
            min_reactions,
            str(channel.id) if channel else None,
        )

    @events.command(name="disable", description="Switch one of this server's rules off")
    @app_commands.describe(rule="The rule (type to search by event type)")
    async def events_disable_command(
        self, interaction: discord.Interaction, rule: app_commands.Range[str, 1, 40]
    ) -> None:
        await self.config_events_disable(*self.edge(interaction), rule)

    @events_disable_command.autocomplete("rule")
    async def rule_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        out = []
        for row in await self.rt.call("list_event_rules", str(interaction.guild_id)):
            d = as_dict(row)
            label = f"{d.get('event_type')} · {whole(d.get('reward_amount'))} RSNC" + (
                "" if d.get("is_enabled") else " (off)"
            )
            if not d.get("brand_wide") and current.lower() in label.lower():
                out.append(app_commands.Choice(name=label[:100], value=str(d.get("rule_id"))))
        return out[:25]

    @roles.command(name="effect", description="Give a role an effect (multiplier, bonus_flat, ...)")
    @app_commands.describe(
        role="The role that gets the effect",
        effect="What the role does",
        value="A number (multiplier 2, bonus 50, 50 %) or, for event_access, event types",
    )
    @app_commands.choices(effect=[app_commands.Choice(name=e, value=e) for e in EFFECT_TYPES])
    async def roles_effect_command(
        self, interaction: discord.Interaction, role: discord.Role, effect: str, value: app_commands.Range[str, 1, 200]
    ) -> None:
        await self.roles_effect(*self.edge(interaction), str(role.id), effect, value, role.name)

    @milestone.command(name="create", description="A role granted when a member crosses a threshold")
    @app_commands.describe(
        role="The role the milestone grants",
        name="The milestone's name",
        criterion="What is counted",
        threshold="The count that reaches it",
        bonus=f"RSNC paid once on reaching it (0-{MAX_REWARD}, default 0)",
    )
    @app_commands.choices(criterion=[app_commands.Choice(name=c, value=c) for c in MILESTONE_CRITERIA])
    async def milestone_create_command(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        name: app_commands.Range[str, 1, NAME_MAX],
        criterion: str,
        threshold: app_commands.Range[int, 1, 10_000_000],
        bonus: app_commands.Range[int, 0, MAX_REWARD] = 0,
    ) -> None:
        await self.milestone_create(*self.edge(interaction), str(role.id), name, criterion, threshold, bonus, role.name)

    @app_commands.command(name="reward", description="Reward a member by hand")
    @app_commands.describe(
        member="Who gets the reward",
        amount=f"RSNC (1-{MAX_REWARD})",
        reason=f"Why (shown publicly, at most {REASON_MAX} characters)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reward_command(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: app_commands.Range[int, 1, MAX_REWARD],
        reason: app_commands.Range[str, 1, REASON_MAX],
    ) -> None:
        await self.reward(*self.edge(interaction), str(member.id), amount, reason)

    @reports.command(name="schedule", description="Post KPI reports to a channel")
    @app_commands.describe(
        frequency="How often", channel="Where to post them", day_of_week="Weekly only: 0 = Sunday ... 6 = Saturday"
    )
    @app_commands.choices(frequency=[app_commands.Choice(name=f, value=f) for f in FREQUENCIES])
    async def reports_schedule_command(
        self,
        interaction: discord.Interaction,
        frequency: str,
        channel: discord.TextChannel,
        day_of_week: app_commands.Range[int, 0, 6] | None = None,
    ) -> None:
        await self.reports_schedule(*self.edge(interaction), frequency, str(channel.id), day_of_week)

    @app_commands.command(name="audit", description="Recent admin and configuration changes")
    @app_commands.describe(limit="How many entries (1-25, default 10)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def audit_command(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10) -> None:
        await self.audit(*self.edge(interaction), limit)


FEATURE = Admin
