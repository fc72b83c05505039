"""The discord.py side of the plumbing: conversions from discord.py objects to plain models, the
Responder over an Interaction, and the Discord target the outbox applies its effects with.

Features use these in their discord.py-facing methods; handlers never see a discord.py object.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from resonance.bot.models import CommandContext
from resonance.bot.outbox import PermanentFailure
from resonance.bot.responder import Button, Embed
from resonance.bot.text import CONTENT_MAX, clip, fit_embed

log = logging.getLogger("resonance.bot.discord")

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)


def to_discord_embed(embed: Embed) -> discord.Embed:
    embed = fit_embed(embed)
    out = discord.Embed(title=embed.title, description=embed.description or None, color=discord.Color(embed.color))
    for field in embed.fields:
        out.add_field(name=field.name, value=field.value, inline=field.inline)
    if embed.footer:
        out.set_footer(text=embed.footer)
    return out


def to_view(button: Button | None) -> discord.ui.View | None:
    """A one-button view; clicks reach the DynamicItem whose template matches the custom_id, after a restart too."""
    if button is None:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=button.label,
            emoji=button.emoji,
            custom_id=button.custom_id,
            style=discord.ButtonStyle.success,
            disabled=button.disabled,
        )
    )
    return view


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


def context_of(interaction: discord.Interaction, settings: Any) -> CommandContext:
    user = interaction.user
    return CommandContext(
        server_id=str(interaction.guild_id) if interaction.guild_id else None,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        user_id=str(user.id),
        user_name=getattr(user, "name", ""),
        role_ids=role_ids_of(user),
        is_admin=interaction.guild_id is not None
        and is_admin(user, getattr(settings, "admin_role_id", None), getattr(settings, "admin_role_name", None)),
        interaction_id=str(interaction.id),
        at=interaction.created_at,
    )


async def channel_of(client: discord.Client, channel_id: str) -> Any:
    channel = client.get_channel(int(channel_id))
    if channel is None:
        channel = await client.fetch_channel(int(channel_id))
    return channel


class InteractionResponder:
    """The Responder protocol over a discord.Interaction; every answer is fitted to Discord's limits."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.public_thinking = False  # deferred publicly, nothing answered yet

    async def defer(self, *, ephemeral: bool = True) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(ephemeral=ephemeral, thinking=True)
            self.public_thinking = not ephemeral

    async def reply(self, content: str | None = None, *, embed: Embed | None = None, ephemeral: bool = True) -> None:
        kwargs: dict[str, Any] = {"content": clip(content, CONTENT_MAX) if content else None, "ephemeral": ephemeral}
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

    async def post(
        self,
        channel_id: str,
        content: str | None = None,
        *,
        embed: Embed | None = None,
        button: Button | None = None,
        reaction: str | None = None,
    ) -> str:
        channel = await channel_of(self.interaction.client, channel_id)
        kwargs: dict[str, Any] = {"content": clip(content, CONTENT_MAX) if content else None}
        if embed is not None:
            kwargs["embed"] = to_discord_embed(embed)
        view = to_view(button)
        if view is not None:
            kwargs["view"] = view
        message = await channel.send(**kwargs)
        if reaction:
            try:
                await message.add_reaction(reaction)
            except discord.HTTPException:
                await message.delete()
                raise
        return str(message.id)

    async def delete_post(self, channel_id: str, message_id: str) -> None:
        channel = await channel_of(self.interaction.client, channel_id)
        await channel.get_partial_message(int(message_id)).delete()


class ClientTarget:
    """Applies outbox effects with a connected client. Unknown guild/member/role/channel/message is permanent."""

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

    async def _channel(self, channel_id: str) -> Any:
        try:
            return await channel_of(self.client, channel_id)
        except discord.NotFound as exc:
            raise PermanentFailure(f"unknown channel {channel_id}") from exc

    async def send_message(self, channel_id: str, content: str | None, embed: Embed | None) -> str:
        channel = await self._channel(channel_id)
        try:
            message = await channel.send(
                content=clip(content, CONTENT_MAX) if content else None,
                embed=to_discord_embed(embed) if embed else None,
            )
        except discord.Forbidden as exc:
            raise PermanentFailure(f"cannot post in channel {channel_id}") from exc
        return str(message.id)

    async def edit_message(
        self, channel_id: str, message_id: str, content: str | None, embed: Embed | None, button: Button | None
    ) -> None:
        channel = await self._channel(channel_id)
        view = to_view(button)
        try:
            await channel.get_partial_message(int(message_id)).edit(
                content=clip(content, CONTENT_MAX) if content else None,
                embed=to_discord_embed(embed) if embed else None,
                view=view,
            )
        except discord.NotFound as exc:
            raise PermanentFailure(f"message {message_id} is gone") from exc
        except discord.Forbidden as exc:
            raise PermanentFailure(f"cannot edit message {message_id}") from exc

    async def send_dm(self, user_id: str, content: str | None, embed: Embed | None) -> str:
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            kwargs: dict[str, Any] = {"content": clip(content, CONTENT_MAX) if content else None}
            if embed is not None:
                kwargs["embed"] = to_discord_embed(embed)
            message = await user.send(**kwargs)
        except discord.NotFound as exc:
            raise PermanentFailure(f"unknown user {user_id}") from exc
        except discord.Forbidden as exc:
            raise PermanentFailure(f"user {user_id} does not accept DMs") from exc
        return str(message.id)
