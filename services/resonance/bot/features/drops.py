"""Drops: /drop create posts a claim button (or a reaction) for the first N, never half a drop; clicks
claim through a persistent button (after a restart too); the message shows claims left and time left
and is edited to "sold out" or "ended" with its button disabled, through the outbox.

/drop create: a button drop is created (claimed by interaction id), then posted, then its message
attached; if the post fails the drop is cancelled, if the attach fails the message is deleted and the
drop cancelled. A reaction drop is posted with its reaction first (an unknown emoji leaves nothing),
then created; if that fails the message is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.outbox import DiscordTarget, message_type
from resonance.bot.responder import GOLD, GREY, Button, Embed, Responder
from resonance.bot.runtime import Feature, Runtime
from resonance.bot.text import whole

log = logging.getLogger("resonance.bot.drops")

DROP_PREFIX = "resonance:drop:"
MAX_AMOUNT = 1_000_000
MAX_CLAIMS = 100_000
MAX_MINUTES = 10_080  # a week
COUNTER_DELAY = 1.5  # seconds: claims in a burst update the message once


def drop_button(drop_id: UUID | str, *, label: str = "Claim", disabled: bool = False) -> Button:
    return Button(custom_id=f"{DROP_PREFIX}{drop_id}", label=label, emoji="🎁", disabled=disabled)


def drop_embed(amount: Any, max_claims: int, claims: int, expires: datetime, *, emoji: str | None = None) -> Embed:
    """An open drop: what each claim pays, claims left, and time left as a Discord timestamp."""
    left = max(0, max_claims - claims)
    unix = int(expires.timestamp())
    text = f"The first **{max_claims}** to claim get **{whole(amount)} RSNC** each."
    if emoji:
        text += f"\nReact with {emoji} to claim."
    embed = Embed(title="🎁 RSNC drop!", color=GOLD, description=text)
    embed.add("Claims left", f"{left} of {max_claims}")
    embed.add("Ends", f"<t:{unix}:R> (<t:{unix}:t>)")
    return embed


def ended_embed(reason: str, claims: Any, max_claims: Any) -> Embed:
    title = "🎁 RSNC drop: sold out" if reason == "sold_out" else "🎁 RSNC drop: ended"
    text = (
        f"All {max_claims} claims are taken."
        if reason == "sold_out"
        else f"{claims} of {max_claims if max_claims is not None else 'unlimited'} claimed."
    )
    return Embed(title=title, color=GREY, description=text)


@message_type("drop_sold_out")
async def edit_sold_out(target: DiscordTarget, payload: dict[str, Any]) -> None:
    await _end(target, payload, "sold_out")


@message_type("drop_closed")
async def edit_closed(target: DiscordTarget, payload: dict[str, Any]) -> None:
    max_claims, claims = payload.get("max_claims"), payload.get("claims_count")
    sold_out = max_claims is not None and claims is not None and int(claims) >= int(max_claims)
    await _end(target, payload, "sold_out" if sold_out else "expired")


async def _end(target: DiscordTarget, payload: dict[str, Any], reason: str) -> None:
    """Edit the drop message to its final state; the button stays, disabled (it says why)."""
    channel_id, message_id = payload.get("channel_id"), payload.get("message_id")
    if not channel_id or not message_id:
        return  # never posted: nothing to edit
    label = "Sold out" if reason == "sold_out" else "Expired"
    button = drop_button(payload["drop_id"], label=label, disabled=True) if payload.get("drop_id") else None
    await target.edit_message(
        str(channel_id),
        str(message_id),
        None,
        ended_embed(reason, payload.get("claims_count"), payload.get("max_claims")),
        button,
    )


class DropButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"resonance:drop:(?P<drop_id>[0-9a-fA-F-]{36})"
):
    """A claim button whose custom_id carries the drop id: registered with add_dynamic_items, so a
    click on a message posted before a restart still reaches claim_drop."""

    feature: Drops | None = None  # set when the Drops cog loads

    def __init__(self, drop_id: UUID) -> None:
        super().__init__(
            discord.ui.Button(
                label="Claim", emoji="🎁", style=discord.ButtonStyle.success, custom_id=f"{DROP_PREFIX}{drop_id}"
            )
        )
        self.drop_id = drop_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DropButton:
        return cls(UUID(match["drop_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        feature = DropButton.feature
        if feature is None:
            return
        ctx, r = feature.edge(interaction)
        outcome = await feature.claim(ctx, r, self.drop_id)
        if outcome is not None and outcome.status == "claimed" and interaction.message is not None:
            feature.schedule_counter(interaction.message, outcome)


class Drops(Feature):
    drop = app_commands.Group(
        name="drop", description="RSNC drops", guild_only=True, default_permissions=ADMIN_PERMISSIONS
    )

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self._counters: dict[int, tuple[discord.Message, int, int]] = {}

    async def cog_load(self) -> None:
        DropButton.feature = self
        if self.rt.client is not None:
            self.rt.client.add_dynamic_items(DropButton)

    # --- handlers ---------------------------------------------------------------------------------

    async def claim(self, ctx: CommandContext, r: Responder, drop_id: UUID) -> Any:
        """The persistent claim button: its custom_id carried the drop id, so this works after a restart."""
        result: list[Any] = []

        async def body() -> None:
            outcome = await self.rt.call("claim_drop", drop_id, ctx.user_id, ctx.role_ids, ctx.at)
            result.append(outcome)
            await self.rt.status_reply(r, outcome)

        await self.rt.answer(r, "drop claim", body)
        return result[0] if result else None

    async def create(
        self,
        ctx: CommandContext,
        r: Responder,
        amount: int,
        max_claims: int,
        minutes: int = 60,
        channel_id: str | None = None,
        kind: str = "button",
        emoji: str = "🎁",
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if not (1 <= amount <= MAX_AMOUNT and 1 <= max_claims <= MAX_CLAIMS and 1 <= minutes <= MAX_MINUTES):
                await r.reply(f"Amount 1-{MAX_AMOUNT}, claims 1-{MAX_CLAIMS}, minutes 1-{MAX_MINUTES}.", ephemeral=True)
                return
            target = channel_id or ctx.channel_id
            assert target is not None
            expires = (ctx.at or datetime.now(UTC)) + timedelta(minutes=minutes)
            if kind == "reaction":
                drop_id = await self._create_reaction(ctx, r, target, amount, max_claims, expires, emoji)
            else:
                drop_id = await self._create_button(ctx, r, target, amount, max_claims, expires)
            if drop_id is not None:
                await r.reply(f"Drop posted in <#{target}> (id `{drop_id}`).", ephemeral=True)

        await self.rt.answer(r, "drop create", body)

    async def _create_button(
        self, ctx: CommandContext, r: Responder, target: str, amount: int, max_claims: int, expires: datetime
    ) -> UUID | None:
        async def act(conn: Any) -> dict[str, Any]:
            drop_id = await self.rt.api.create_drop(
                conn,
                ctx.server_id,
                drop_type="button",
                channel_id=target,
                expires_at=expires,
                max_claims=max_claims,
                reward_amount=amount,
                created_by=ctx.user_id,
                at=ctx.at,
            )
            return {"drop_id": str(drop_id)}

        result, first = await self.rt.once(ctx, "drop create", act)
        drop_id = UUID(result["drop_id"])
        if not first:
            return drop_id  # a retry of this interaction: the first attempt posted it
        try:
            message_id = await r.post(
                target, embed=drop_embed(amount, max_claims, 0, expires), button=drop_button(drop_id)
            )
        except Exception:
            await self.rt.call("cancel_drop", drop_id)
            log.warning(
                "drop message could not be posted: drop cancelled",
                extra={"drop_id": str(drop_id), "channel_id": target},
            )
            await r.reply(
                f"I can't post in <#{target}> (check my permissions there). No drop was created.", ephemeral=True
            )
            return None
        try:
            await self.rt.call("attach_drop_message", drop_id, target, message_id)
        except Exception:
            await r.delete_post(target, message_id)
            await self.rt.call("cancel_drop", drop_id)
            raise
        log.info("drop created", extra={"server_id": ctx.server_id, "drop_id": str(drop_id), "message_id": message_id})
        return drop_id

    async def _create_reaction(
        self,
        ctx: CommandContext,
        r: Responder,
        target: str,
        amount: int,
        max_claims: int,
        expires: datetime,
        emoji: str,
    ) -> UUID | None:
        try:
            message_id = await r.post(
                target, embed=drop_embed(amount, max_claims, 0, expires, emoji=emoji), reaction=emoji
            )
        except discord.HTTPException as exc:
            problem = "that emoji can't be used" if exc.status == 400 else f"I can't post in <#{target}>"
            await r.reply(f"No drop was created: {problem}.", ephemeral=True)
            return None

        async def act(conn: Any) -> dict[str, Any]:
            drop_id = await self.rt.api.create_drop(
                conn,
                ctx.server_id,
                drop_type="reaction",
                channel_id=target,
                message_id=message_id,
                emoji=emoji,
                expires_at=expires,
                max_claims=max_claims,
                reward_amount=amount,
                created_by=ctx.user_id,
                at=ctx.at,
            )
            return {"drop_id": str(drop_id)}

        try:
            result, _ = await self.rt.once(ctx, "drop create", act)
        except Exception:
            await r.delete_post(target, message_id)
            raise
        return UUID(result["drop_id"])

    # --- the live counter -------------------------------------------------------------------------

    def schedule_counter(self, message: discord.Message, outcome: Any) -> None:
        """After a claim: update "claims left" on the message, once per burst of claims."""
        claims, remaining = outcome.get("claims_count"), outcome.get("remaining")
        if claims is None or remaining is None or not message.embeds:
            return
        first = message.id not in self._counters
        self._counters[message.id] = (message, int(claims), int(remaining))
        if first:
            asyncio.get_running_loop().create_task(self._update_counter(message.id))

    async def _update_counter(self, message_id: int) -> None:
        await asyncio.sleep(COUNTER_DELAY)
        message, claims, remaining = self._counters.pop(message_id)
        if remaining <= 0:
            return  # the outbox edits it to "sold out"
        embed = message.embeds[0].copy()
        for i, field in enumerate(embed.fields):
            if field.name == "Claims left":
                embed.set_field_at(
                    i, name="Claims left", value=f"{remaining} of {claims + remaining}", inline=field.inline
                )
        try:
            await message.edit(embed=embed)
        except discord.HTTPException:
            log.info("drop counter not updated", extra={"message_id": message_id})

    # --- slash commands ---------------------------------------------------------------------------

    @drop.command(name="create", description="Post a drop: a claim button (or a reaction) for the first N")
    @app_commands.describe(
        amount=f"RSNC each claimer gets (1-{MAX_AMOUNT})",
        max_claims=f"How many members can claim (1-{MAX_CLAIMS})",
        minutes=f"Minutes until it expires (1-{MAX_MINUTES}, default 60)",
        channel="Where to post (this channel by default)",
        kind="A claim button (default) or a reaction to add",
        emoji="Reaction drops: the emoji to react with (default 🎁)",
    )
    @app_commands.choices(
        kind=[
            app_commands.Choice(name="button", value="button"),
            app_commands.Choice(name="reaction", value="reaction"),
        ]
    )
    async def create_command(
        self,
        interaction: discord.Interaction,
        amount: app_commands.Range[int, 1, MAX_AMOUNT],
        max_claims: app_commands.Range[int, 1, MAX_CLAIMS],
        minutes: app_commands.Range[int, 1, MAX_MINUTES] = 60,
        channel: discord.TextChannel | None = None,
        kind: str = "button",
        emoji: app_commands.Range[str, 1, 64] = "🎁",
    ) -> None:
        await self.create(
            *self.edge(interaction), amount, max_claims, minutes, str(channel.id) if channel else None, kind, emoji
        )


FEATURE = Drops
