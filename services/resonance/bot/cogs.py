"""The discord.py side: cogs that turn gateway events and interactions into plain models, a
Responder over an Interaction, the persistent drop button, and the Discord target of the outbox.

Handlers (handlers.py) never see a discord.py object; everything discord.py stays in this file.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import discord
from discord import app_commands
from discord.ext import commands, tasks

from resonance.bot.handlers import DROP_PREFIX, EFFECT_TYPES, MILESTONE_CRITERIA, PERIODS, Handlers
from resonance.bot.models import CommandContext, MemberJoin, MessageEvent, ReactionEvent, RolesAdded, VoiceChange
from resonance.bot.outbox import PermanentFailure
from resonance.bot.responder import Button, Embed

if TYPE_CHECKING:
    from resonance.bot.app import ResonanceBot

log = logging.getLogger("resonance.bot.discord")

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)


# --- conversions -------------------------------------------------------------------------------


def to_discord_embed(embed: Embed) -> discord.Embed:
    out = discord.Embed(title=embed.title[:256], description=embed.description[:4096] or None,
                        color=discord.Color(embed.color))
    for field in embed.fields[:25]:
        out.add_field(name=field.name[:256], value=field.value[:1024] or "-", inline=field.inline)
    if embed.footer:
        out.set_footer(text=embed.footer[:2048])
    return out


def role_ids_of(member: Any) -> list[str]:
    roles = getattr(member, "roles", None) or []
    return [str(role.id) for role in roles if not getattr(role, "is_default", lambda: False)()]


def is_admin(member: Any, admin_role_id: int | None, admin_role_name: str | None) -> bool:
    perms = getattr(member, "guild_permissions", None)
    if perms is not None and (perms.administrator or perms.manage_guild):
        return True
    for role in getattr(member, "roles", None) or []:
        if (admin_role_id and role.id == admin_role_id) or (admin_role_name and role.name == admin_role_name):
            return True
    return False


def context_of(interaction: discord.Interaction) -> CommandContext:
    bot: ResonanceBot = interaction.client  # type: ignore[assignment]
    user = interaction.user
    settings = bot.settings
    return CommandContext(
        server_id=str(interaction.guild_id) if interaction.guild_id else None,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        user_id=str(user.id),
        user_name=getattr(user, "name", ""),
        role_ids=role_ids_of(user),
        is_admin=interaction.guild_id is not None and is_admin(user, settings.admin_role_id, settings.admin_role_name),
        interaction_id=str(interaction.id),
        at=interaction.created_at,
    )


class InteractionResponder:
    """The Responder protocol over a discord.Interaction."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.public_thinking = False  # deferred publicly, nothing answered yet

    async def defer(self, *, ephemeral: bool = True) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(ephemeral=ephemeral, thinking=True)
            self.public_thinking = not ephemeral

    async def reply(self, content: str | None = None, *, embed: Embed | None = None, ephemeral: bool = True) -> None:
        kwargs: dict[str, Any] = {"content": content, "ephemeral": ephemeral}
        if embed is not None:
            kwargs["embed"] = to_discord_embed(embed)
        if self.public_thinking and ephemeral:
            # The first follow-up would replace the public "thinking..." message and be public too:
            # remove it, so a refusal (sold out, insufficient funds) stays private.
            try:
                await self.interaction.delete_original_response()
            except discord.HTTPException:
                pass
        self.public_thinking = False
        if self.interaction.response.is_done():
            await self.interaction.followup.send(**kwargs)
        else:
            await self.interaction.response.send_message(**kwargs)

    async def post(self, channel_id: str, content: str | None = None, *, embed: Embed | None = None,
                   button: Button | None = None, reaction: str | None = None) -> str:
        client = self.interaction.client
        channel = client.get_channel(int(channel_id)) or await client.fetch_channel(int(channel_id))
        kwargs: dict[str, Any] = {"content": content}
        if embed is not None:
            kwargs["embed"] = to_discord_embed(embed)
        if button is not None:
            view = discord.ui.View(timeout=None)
            view.add_item(DropButton.from_button(button))
            kwargs["view"] = view
        message = await channel.send(**kwargs)  # type: ignore[union-attr]
        if reaction:
            await message.add_reaction(reaction)
        return str(message.id)


# --- the persistent drop button ------------------------------------------------------------------


class DropButton(discord.ui.DynamicItem[discord.ui.Button], template=r"resonance:drop:(?P<drop_id>[0-9a-fA-F-]{36})"):
    """A claim button whose custom_id carries the drop id: registered with add_dynamic_items, so a
    click on a message posted before a restart still reaches claim_drop."""

    def __init__(self, drop_id: UUID, label: str = "Claim", emoji: str | None = "🎁") -> None:
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=discord.ButtonStyle.success,
                                           custom_id=f"{DROP_PREFIX}{drop_id}"))
        self.drop_id = drop_id

    @classmethod
    def from_button(cls, button: Button) -> DropButton:
        return cls(UUID(button.custom_id.removeprefix(DROP_PREFIX)), button.label, button.emoji)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> DropButton:
        return cls(UUID(match["drop_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: ResonanceBot = interaction.client  # type: ignore[assignment]
        await bot.handlers.claim_drop_button(context_of(interaction), InteractionResponder(interaction), self.drop_id)


# --- the outbox's Discord target -------------------------------------------------------------------


class ClientTarget:
    """Applies outbox effects with a connected client. Unknown guild/member/role/channel is permanent."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _member_and_role(self, server_id: str, user_id: str, role_id: str) -> tuple[Any, Any]:
        guild = self.client.get_guild(int(server_id))
        if guild is None:
            raise PermanentFailure(f"not in guild {server_id}")
        role = guild.get_role(int(role_id))
        if role is None:
            raise PermanentFailure(f"unknown role {role_id}")
        member = guild.get_member(int(user_id))
        if member is None:
            try:
                member = await guild.fetch_member(int(user_id))
            except discord.NotFound as exc:
                raise PermanentFailure(f"member {user_id} left") from exc
        return member, role

    async def add_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None:
        member, role = await self._member_and_role(server_id, user_id, role_id)
        await member.add_roles(role, reason=reason)

    async def remove_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None:
        member, role = await self._member_and_role(server_id, user_id, role_id)
        await member.remove_roles(role, reason=reason)

    async def send_message(self, channel_id: str, content: str | None, embed: Embed | None) -> str:
        channel = self.client.get_channel(int(channel_id))
        if channel is None:
            try:
                channel = await self.client.fetch_channel(int(channel_id))
            except discord.NotFound as exc:
                raise PermanentFailure(f"unknown channel {channel_id}") from exc
        message = await channel.send(content=content,  # type: ignore[union-attr]
                                     embed=to_discord_embed(embed) if embed else None)
        return str(message.id)

    async def send_dm(self, user_id: str, content: str | None, embed: Embed | None) -> str:
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            message = await user.send(content=content, embed=to_discord_embed(embed) if embed else None)
        except discord.NotFound as exc:
            raise PermanentFailure(f"unknown user {user_id}") from exc
        except discord.Forbidden as exc:
            raise PermanentFailure(f"user {user_id} does not accept DMs") from exc
        return str(message.id)


# --- listeners -----------------------------------------------------------------------------------


class Listeners(commands.Cog):
    def __init__(self, bot: ResonanceBot) -> None:
        self.bot = bot

    @property
    def handlers(self) -> Handlers:
        return self.bot.handlers

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        reply_to = None
        ref = message.reference
        if ref is not None:
            resolved = ref.resolved if isinstance(ref.resolved, discord.Message) else ref.cached_message
            if resolved is not None:
                reply_to = str(resolved.author.id)
        await self.handlers.on_message(MessageEvent(
            server_id=str(message.guild.id), channel_id=str(message.channel.id), message_id=str(message.id),
            user_id=str(message.author.id), content=message.content or "", role_ids=role_ids_of(message.author),
            reply_to_user_id=reply_to,
        ))

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or (payload.member is not None and payload.member.bot):
            return
        author_id = payload.message_author_id
        if author_id is None:
            cached = discord.utils.get(self.bot.cached_messages, id=payload.message_id)
            author_id = cached.author.id if cached is not None else None
        if author_id is None:
            channel = self.bot.get_channel(payload.channel_id)
            try:
                message = await channel.fetch_message(payload.message_id)  # type: ignore[union-attr]
                author_id = message.author.id
            except (discord.HTTPException, AttributeError):
                author_id = None
        await self.handlers.on_reaction(ReactionEvent(
            server_id=str(payload.guild_id), channel_id=str(payload.channel_id), message_id=str(payload.message_id),
            reactor_id=str(payload.user_id), author_id=str(author_id) if author_id else None,
            emoji=str(payload.emoji), role_ids=role_ids_of(payload.member),
        ))

    @commands.Cog.listener()
    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        await self.handlers.on_voice(VoiceChange(
            server_id=str(member.guild.id), user_id=str(member.id),
            before_channel_id=str(before.channel.id) if before.channel else None,
            after_channel_id=str(after.channel.id) if after.channel else None,
            role_ids=role_ids_of(member), is_bot=member.bot, at=datetime.now(UTC),
        ))

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.handlers.on_member_join(MemberJoin(
            server_id=str(member.guild.id), user_id=str(member.id),
            joined_at=member.joined_at or datetime.now(UTC), is_bot=member.bot,
        ))

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        added = {r.id for r in after.roles} - {r.id for r in before.roles}
        if not added:
            return
        await self.handlers.on_roles_added(RolesAdded(
            server_id=str(after.guild.id), user_id=str(after.id), added_role_ids=[str(r) for r in sorted(added)],
            role_ids=role_ids_of(after), is_bot=after.bot, at=datetime.now(UTC),
        ))

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Restart-safe voice: credit what ended while away, open sessions for who is in voice now."""
        now = datetime.now(UTC)
        for guild in self.bot.guilds:
            in_voice: dict[str, str] = {}
            roles: dict[str, list[str]] = {}
            for channel in guild.voice_channels + guild.stage_channels:
                for member in channel.members:
                    if not member.bot:
                        in_voice[str(member.id)] = str(channel.id)
                        roles[str(member.id)] = role_ids_of(member)
            try:
                counts = await self.handlers.recover_voice(str(guild.id), in_voice, now, roles)
                log.info("voice recovered", extra={"server_id": str(guild.id)} | counts)
            except Exception:
                log.exception("voice recovery failed", extra={"server_id": str(guild.id)})


# --- member commands -------------------------------------------------------------------------------


def _run(interaction: discord.Interaction) -> tuple[Handlers, CommandContext, InteractionResponder]:
    bot: ResonanceBot = interaction.client  # type: ignore[assignment]
    return bot.handlers, context_of(interaction), InteractionResponder(interaction)


PERIOD_CHOICES = [app_commands.Choice(name=p, value=p) for p in PERIODS]


class MemberCommands(commands.Cog):
    wallet = app_commands.Group(name="wallet", description="Link a Solana wallet to your account")
    ticket = app_commands.Group(name="ticket", description="Support tickets")
    buy = app_commands.Group(name="buy", description="Spend RSNC", guild_only=True)

    def __init__(self, bot: ResonanceBot) -> None:
        self.bot = bot

    @app_commands.command(name="checkin", description="Daily check-in: RSNC and a streak")
    @app_commands.guild_only()
    async def checkin(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.checkin(ctx, r)

    @app_commands.command(name="balance", description="Your RSNC balance")
    @app_commands.describe(currency="Currency code (RSNC by default)")
    async def balance(self, interaction: discord.Interaction, currency: str = "RSNC") -> None:
        h, ctx, r = _run(interaction)
        await h.balance(ctx, r, currency)

    @app_commands.command(name="leaderboard", description="Top earners of this server")
    @app_commands.describe(period="day, week, month or all")
    @app_commands.choices(period=PERIOD_CHOICES)
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction, period: str = "week") -> None:
        h, ctx, r = _run(interaction)
        await h.leaderboard(ctx, r, period)

    @app_commands.command(name="stats", description="Activity and earnings of a member (you by default)")
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        h, ctx, r = _run(interaction)
        await h.stats(ctx, r, str(member.id) if member else None)

    @app_commands.command(name="tip", description="Tip a member")
    @app_commands.describe(member="Who gets the tip", amount="How much", currency="Currency code (RSNC by default)")
    @app_commands.guild_only()
    async def tip(self, interaction: discord.Interaction, member: discord.Member, amount: str,
                  currency: str = "RSNC") -> None:
        h, ctx, r = _run(interaction)
        await h.tip(ctx, r, str(member.id), amount, currency, receiver_is_bot=member.bot)

    @app_commands.command(name="history", description="Your latest ledger transactions")
    async def history(self, interaction: discord.Interaction, currency: str | None = None) -> None:
        h, ctx, r = _run(interaction)
        await h.history(ctx, r, currency)

    @app_commands.command(name="achievements", description="Your achievements and progress")
    @app_commands.guild_only()
    async def achievements(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.achievements(ctx, r)

    @app_commands.command(name="goals", description="This server's community goals")
    @app_commands.guild_only()
    async def goals(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.goals(ctx, r)

    @wallet.command(name="register", description="Get a nonce to sign with your wallet")
    async def wallet_register(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.wallet_register(ctx, r)

    @wallet.command(name="verify", description="Prove you own the wallet: address, nonce and signature")
    async def wallet_verify(self, interaction: discord.Interaction, address: str, nonce: str, signature: str) -> None:
        h, ctx, r = _run(interaction)
        await h.wallet_verify(ctx, r, address, nonce, signature)

    @buy.command(name="role", description="Buy a role with RSNC")
    async def buy_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        h, ctx, r = _run(interaction)
        await h.buy_role(ctx, r, str(role.id))

    @ticket.command(name="open", description="Open a support ticket")
    async def ticket_open(self, interaction: discord.Interaction, subject: str, description: str = "") -> None:
        h, ctx, r = _run(interaction)
        await h.ticket_open(ctx, r, subject, description)

    @ticket.command(name="list", description="Your tickets")
    async def ticket_list(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.ticket_list(ctx, r)

    @ticket.command(name="close", description="Close one of your tickets")
    async def ticket_close(self, interaction: discord.Interaction, ticket_id: int) -> None:
        h, ctx, r = _run(interaction)
        await h.ticket_close(ctx, r, ticket_id)


# --- admin commands --------------------------------------------------------------------------------


class AdminCommands(commands.Cog):
    """Visible by default to Manage Server holders; the handlers also accept the configured admin role."""

    drop = app_commands.Group(name="drop", description="RSNC drops", guild_only=True,
                              default_permissions=ADMIN_PERMISSIONS)
    config = app_commands.Group(name="config", description="Server configuration", guild_only=True,
                                default_permissions=ADMIN_PERMISSIONS)
    events = app_commands.Group(name="events", description="Event reward rules", parent=config)
    roles = app_commands.Group(name="roles", description="Role effects", guild_only=True,
                               default_permissions=ADMIN_PERMISSIONS)
    milestone = app_commands.Group(name="milestone", description="Milestone roles", guild_only=True,
                                   default_permissions=ADMIN_PERMISSIONS)
    reports = app_commands.Group(name="reports", description="Scheduled KPI reports", guild_only=True,
                                 default_permissions=ADMIN_PERMISSIONS)

    def __init__(self, bot: ResonanceBot) -> None:
        self.bot = bot

    @drop.command(name="create", description="Post a drop: a claim button (or a reaction) for the first N")
    @app_commands.describe(amount="RSNC per claim", max_claims="How many can claim", minutes="Minutes until it expires",
                           channel="Where to post (here by default)", kind="button or reaction",
                           emoji="Emoji for a reaction drop")
    @app_commands.choices(kind=[app_commands.Choice(name="button", value="button"),
                                app_commands.Choice(name="reaction", value="reaction")])
    async def drop_create(self, interaction: discord.Interaction, amount: app_commands.Range[int, 1],
                          max_claims: app_commands.Range[int, 1], minutes: app_commands.Range[int, 1] = 60,
                          channel: discord.TextChannel | None = None, kind: str = "button",
                          emoji: str = "🎁") -> None:
        h, ctx, r = _run(interaction)
        await h.drop_create(ctx, r, amount, max_claims, minutes, str(channel.id) if channel else None, kind, emoji)

    @events.command(name="list", description="The event rules of this server")
    async def events_list(self, interaction: discord.Interaction) -> None:
        h, ctx, r = _run(interaction)
        await h.config_events_list(ctx, r)

    @events.command(name="set", description="Create or change the rule of an event type")
    @app_commands.describe(event_type="channel_message, keyword, reaction_given, reaction_received, voice_minutes, "
                                      "daily_checkin, member_join or a custom event",
                           keywords="Keyword trigger: comma-separated words", min_length="Minimum message length",
                           min_reactions="Reactions a message needs", channel="Only in this channel")
    async def events_set(self, interaction: discord.Interaction, event_type: str,
                         reward_amount: app_commands.Range[int, 0], cooldown_hours: app_commands.Range[int, 0] | None = None,
                         max_claims_per_user: app_commands.Range[int, 1] | None = None, enabled: bool = True,
                         keywords: str | None = None, min_length: app_commands.Range[int, 1] | None = None,
                         min_reactions: app_commands.Range[int, 1] | None = None,
                         channel: discord.TextChannel | None = None) -> None:
        h, ctx, r = _run(interaction)
        await h.config_events_set(ctx, r, event_type, reward_amount, cooldown_hours, max_claims_per_user, enabled,
                                  keywords, min_length, min_reactions, str(channel.id) if channel else None)

    @roles.command(name="effect", description="Give a role an effect (multiplier, bonus_flat, ...)")
    @app_commands.choices(effect=[app_commands.Choice(name=e, value=e) for e in EFFECT_TYPES])
    @app_commands.describe(value="A number (multiplier 2, bonus 50, 50 %) or, for event_access, event types")
    async def roles_effect(self, interaction: discord.Interaction, role: discord.Role, effect: str, value: str) -> None:
        h, ctx, r = _run(interaction)
        await h.roles_effect(ctx, r, str(role.id), effect, value, role.name)

    @milestone.command(name="create", description="A role granted when a member crosses a threshold")
    @app_commands.choices(criterion=[app_commands.Choice(name=c, value=c) for c in MILESTONE_CRITERIA])
    async def milestone_create(self, interaction: discord.Interaction, role: discord.Role, name: str, criterion: str,
                               threshold: app_commands.Range[int, 1], bonus: app_commands.Range[int, 0] = 0) -> None:
        h, ctx, r = _run(interaction)
        await h.milestone_create(ctx, r, str(role.id), name, criterion, threshold, bonus, role.name)

    @app_commands.command(name="reward", description="Reward a member by hand")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reward(self, interaction: discord.Interaction, member: discord.Member,
                     amount: app_commands.Range[int, 1], reason: str) -> None:
        h, ctx, r = _run(interaction)
        await h.reward(ctx, r, str(member.id), amount, reason)

    @app_commands.command(name="kpi", description="KPIs of a day (yesterday by default), as YYYY-MM-DD")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def kpi(self, interaction: discord.Interaction, day: str | None = None) -> None:
        h, ctx, r = _run(interaction)
        try:
            the_day = date.fromisoformat(day) if day else None
        except ValueError:
            await r.reply("The day must look like 2026-01-31.", ephemeral=True)
            return
        await h.kpi(ctx, r, the_day)

    @reports.command(name="schedule", description="Post KPI reports to a channel")
    @app_commands.choices(frequency=[app_commands.Choice(name=f, value=f) for f in ("daily", "weekly", "monthly")])
    @app_commands.describe(day_of_week="Weekly only: 0 = Sunday ... 6 = Saturday")
    async def reports_schedule(self, interaction: discord.Interaction, frequency: str, channel: discord.TextChannel,
                               day_of_week: app_commands.Range[int, 0, 6] | None = None) -> None:
        h, ctx, r = _run(interaction)
        await h.reports_schedule(ctx, r, frequency, str(channel.id), day_of_week)

    @app_commands.command(name="audit", description="Recent admin and configuration changes")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def audit(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10) -> None:
        h, ctx, r = _run(interaction)
        await h.audit(ctx, r, limit)


# --- workers -------------------------------------------------------------------------------------


class Workers(commands.Cog):
    def __init__(self, bot: ResonanceBot) -> None:
        self.bot = bot
        self.drain.change_interval(seconds=bot.settings.outbox_interval_seconds)
        self.post_reports.change_interval(seconds=bot.settings.reports_interval_seconds)

    async def cog_load(self) -> None:
        self.drain.start()
        self.post_reports.start()

    async def cog_unload(self) -> None:
        self.drain.cancel()
        self.post_reports.cancel()

    @tasks.loop(seconds=2.0)
    async def drain(self) -> None:
        try:
            await self.bot.handlers.replay_pending()
            await self.bot.outbox_worker.run_once()
        except Exception:
            log.exception("outbox worker iteration failed")

    @tasks.loop(seconds=60.0)
    async def post_reports(self) -> None:
        try:
            await self.bot.report_worker.run_once()
        except Exception:
            log.exception("report worker iteration failed")

    @drain.before_loop
    @post_reports.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()
