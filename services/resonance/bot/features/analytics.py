"""Analytics: the warehouse follows the server as it happens (resonance.analytics.live).

Every message the sync would read (text and announcement channels, any author: the warehouse
records who talks, bots included, unlike the rewards), its edits and deletes, reactions added and
removed, members joining and leaving, and channels created or renamed: one
`analytics.ingest_event` call each, into the tenant of the server's brand. The database answers
`disabled` for a server whose admin turned analytics off (config_metadata.analytics.enabled) and
writes nothing; an outage queues the call for replay like every listener's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord.ext import commands

from resonance.analytics import live
from resonance.analytics.discord_adapter import DiscordChannel, DiscordMember, DiscordMessage, EmojiInfo
from resonance.bot.runtime import Feature, Runtime

HISTORY_CHANNEL_TYPES = (discord.ChannelType.text, discord.ChannelType.news)  # what the sync reads


class Analytics(Feature):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self._lanes: dict[int, asyncio.Lock] = {}

    async def handle(self, what: str, server_id: int, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The one call behind every listener below. discord.py runs each event in a task of its own,
        so a reaction could reach the database before the message it is on; one lane per guild (a
        FIFO lock taken before the first await) keeps the guild's events in gateway order."""
        lane = self._lanes.setdefault(server_id, asyncio.Lock())
        async with lane:
            result: dict[str, Any] | None = await self.rt.listen(
                what, str(server_id), lambda: live.ingest_event(self.rt.pool, server_id, kind, payload))
        return result

    @staticmethod
    def _history(channel: Any) -> bool:
        return getattr(channel, "type", None) in HISTORY_CHANNEL_TYPES

    # --- gateway ----------------------------------------------------------------------------------

    @commands.Cog.listener("on_message")
    async def analytics_message(self, message: discord.Message) -> None:
        if message.guild is None or not self._history(message.channel):
            return
        await self.handle(f"analytics-message:{message.id}", message.guild.id, "message",
                          live.message_payload(message.channel.id, DiscordMessage(message)))

    @commands.Cog.listener("on_raw_message_edit")
    async def analytics_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        if payload.guild_id is None or not self._history(message.channel) or message.edited_at is None:
            return  # embeds resolving after a send arrive as "edits" with no edit time: nothing changed
        await self.handle(f"analytics-edit:{message.id}", payload.guild_id, "message",
                          live.message_payload(payload.channel_id, DiscordMessage(message)))

    @commands.Cog.listener("on_raw_message_delete")
    async def analytics_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is not None:
            await self.handle(f"analytics-delete:{payload.message_id}", payload.guild_id, "message_delete",
                              {"message_id": payload.message_id})

    @commands.Cog.listener("on_raw_bulk_message_delete")
    async def analytics_bulk_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id is not None:
            for message_id in sorted(payload.message_ids):
                await self.handle(f"analytics-delete:{message_id}", payload.guild_id, "message_delete",
                                  {"message_id": message_id})

    async def _reaction(self, payload: discord.RawReactionActionEvent, removed: bool) -> None:
        if payload.guild_id is None:
            return
        emoji = EmojiInfo(payload.emoji.id, str(payload.emoji.name), bool(payload.emoji.animated))
        user = DiscordMember(payload.member) if payload.member is not None else payload.user_id
        kind = "reaction_remove" if removed else "reaction_add"
        await self.handle(f"analytics-{kind}:{payload.message_id}:{payload.user_id}:{emoji.name}", payload.guild_id,
                          kind, live.reaction_payload(payload.message_id, user, emoji))

    @commands.Cog.listener("on_raw_reaction_add")
    async def analytics_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, removed=False)

    @commands.Cog.listener("on_raw_reaction_remove")
    async def analytics_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, removed=True)

    @commands.Cog.listener("on_member_join")
    async def analytics_member_join(self, member: discord.Member) -> None:
        await self.handle(f"analytics-join:{member.id}", member.guild.id, "member_join",
                          live.member_payload(DiscordMember(member)))

    @commands.Cog.listener("on_raw_member_remove")
    async def analytics_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.handle(f"analytics-leave:{payload.user.id}", payload.guild_id, "member_leave",
                          live.member_payload(DiscordMember(payload.user)))

    @commands.Cog.listener("on_guild_channel_create")
    async def analytics_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        if self._history(channel):
            await self.handle(f"analytics-channel:{channel.id}", channel.guild.id, "channel",
                              live.channel_payload(DiscordChannel(channel)))

    @commands.Cog.listener("on_guild_channel_update")
    async def analytics_channel_update(self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel) -> None:
        await self.analytics_channel_create(after)


FEATURE = Analytics
