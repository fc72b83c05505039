"""Activity: messages, reactions and member joins from the gateway become engine events.

Bots, webhooks and Discord's own system messages never earn or count, as author, reactor or
reacted-to author. A text-less message (attachments or stickers only) is not recorded: anti-farming
compares text, so such messages could otherwise be repeated for rewards.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from resonance.bot.discord_io import ClientTarget, role_ids_of
from resonance.bot.errors import is_outage, is_timeout
from resonance.bot.models import MemberJoin, MessageEvent, ReactionEvent
from resonance.bot.runtime import Feature, Runtime
from resonance.bot.text import whole
from resonance.db.models import Outcome


def _message_item(event: MessageEvent) -> dict[str, Any]:
    """The keyword arguments of the typed layer's record_message (an item of record_messages)."""
    return {
        "server_id": event.server_id,
        "user_id": event.user_id,
        "channel_id": event.channel_id,
        "message_id": event.message_id,
        "content": event.content,
        "role_ids": event.role_ids,
        "reply_to_user_id": event.reply_to_user_id,
        "occurred_at": event.occurred_at,
        "channel_name": event.channel_name,
    }


class Activity(Feature):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self._waiting: list[tuple[MessageEvent, asyncio.Future[Outcome]]] = []
        self._flushing = False

    # --- handlers ---------------------------------------------------------------------------------

    async def handle_message(self, event: MessageEvent) -> Outcome | None:
        if not event.counts:
            return None
        return await self.rt.listen(f"message:{event.message_id}", event.server_id, lambda: self._record(event))

    async def _record(self, event: MessageEvent) -> Outcome:
        """One message; messages that arrive while the database is busy with earlier ones wait and go
        together, in arrival order, as one resonance.record_messages batch."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, done))
        if not self._flushing:
            self._flushing = True
            try:
                while self._waiting:
                    batch, self._waiting = self._waiting, []
                    try:
                        await self._flush(batch)
                    except BaseException as exc:  # cancelled mid-batch: nobody may wait forever
                        for _, waiting in batch:
                            if not waiting.done():
                                waiting.set_exception(exc if isinstance(exc, Exception) else ConnectionAbortedError())
                        raise
            finally:
                self._flushing = False
        return await done

    async def _flush(self, batch: list[tuple[MessageEvent, asyncio.Future[Outcome]]]) -> None:
        if len(batch) > 1:
            try:
                outcomes = await self.rt.call("record_messages", [_message_item(e) for e, _ in batch])
            except Exception as exc:
                if is_outage(exc) or is_timeout(exc):
                    for _, done in batch:
                        done.set_exception(exc)  # each listener queues its own event for replay
                    return
                # A bad item fails the whole batch (an unlinked server): each goes alone.
            else:
                for (_, done), outcome in zip(batch, outcomes, strict=True):
                    done.set_result(outcome)
                return
        for event, done in batch:
            try:
                done.set_result(await self.rt.call("record_message", **_message_item(event)))
            except Exception as exc:
                done.set_exception(exc)

    async def handle_reaction(self, event: ReactionEvent) -> Outcome | None:
        """One call: record_reaction counts the reaction and claims a reaction drop on that message.
        On a bot's message (our drop messages) nobody earns "reaction received": only a drop can
        apply, through claim_reaction_drop (no_drop for an ordinary reaction)."""
        if event.reactor_is_bot:
            return None
        if event.author_id is not None and not event.author_is_bot and event.author_id != event.reactor_id:
            return await self.rt.listen(
                f"reaction:{event.message_id}:{event.reactor_id}",
                event.server_id,
                lambda: self.rt.call(
                    "record_reaction",
                    event.server_id,
                    event.reactor_id,
                    event.author_id,
                    event.channel_id,
                    event.message_id,
                    event.emoji,
                    event.role_ids,
                    event.occurred_at,
                ),
            )
        if event.author_id is not None and not event.author_is_bot:
            return None  # a reaction on one's own message
        outcome: Outcome | None = await self.rt.listen(
            f"reaction-drop:{event.message_id}:{event.reactor_id}",
            event.server_id,
            lambda: self.rt.call(
                "claim_reaction_drop",
                event.server_id,
                event.message_id,
                event.emoji,
                event.reactor_id,
                event.role_ids,
                event.occurred_at,
            ),
        )
        if outcome is not None and outcome.status == "claimed" and self.rt.client is not None:
            await self._tell_claimer(event.reactor_id, outcome)
        return outcome

    async def _tell_claimer(self, user_id: str, outcome: Outcome) -> None:
        """A reaction gives no interaction to answer: the claimer hears by DM (best effort)."""
        try:
            await ClientTarget(self.rt.client).send_dm(
                user_id, f"🎁 You claimed {whole(outcome.amount)} RSNC from a drop!", None
            )
        except Exception:
            pass

    async def handle_member_join(self, event: MemberJoin) -> Outcome | None:
        if event.is_bot:
            return None
        return await self.rt.listen(
            f"join:{event.user_id}",
            event.server_id,
            lambda: self.rt.call(
                "record_event",
                event.server_id,
                event.user_id,
                "member_join",
                f"join:{event.user_id}",
                [],
                None,
                {},
                event.joined_at,
            ),
        )

    # --- gateway ----------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None:
            return
        reply_to = None
        ref = message.reference
        if ref is not None:
            resolved = ref.resolved if isinstance(ref.resolved, discord.Message) else ref.cached_message
            if resolved is not None:
                reply_to = str(resolved.author.id)
        await self.handle_message(
            MessageEvent(
                server_id=str(message.guild.id),
                channel_id=str(message.channel.id),
                message_id=str(message.id),
                user_id=str(message.author.id),
                content=message.content or "",
                role_ids=role_ids_of(message.author),
                reply_to_user_id=reply_to,
                author_is_bot=message.author.bot,
                author_is_system=message.author.system,
                webhook_id=str(message.webhook_id) if message.webhook_id else None,
                type=message.type.value,
                channel_name=getattr(message.channel, "name", None),
            )
        )

    def _is_bot(self, guild_id: int, user_id: int | None) -> bool:
        if user_id is None:
            return False
        client = self.rt.client
        if client is not None and client.user is not None and user_id == client.user.id:
            return True
        guild = client.get_guild(guild_id) if client is not None else None
        member = guild.get_member(user_id) if guild is not None else None
        user = member or (client.get_user(user_id) if client is not None else None)
        return bool(user is not None and user.bot)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None:
            return
        author_id = payload.message_author_id
        if author_id is None and self.rt.client is not None:
            cached = discord.utils.get(self.rt.client.cached_messages, id=payload.message_id)
            author_id = cached.author.id if cached is not None else None
        if author_id is None and self.rt.client is not None:
            channel = self.rt.client.get_channel(payload.channel_id)
            try:
                message = await channel.fetch_message(payload.message_id)
                author_id = message.author.id
            except (discord.HTTPException, AttributeError):
                author_id = None
        reactor_is_bot = (
            payload.member.bot if payload.member is not None else self._is_bot(payload.guild_id, payload.user_id)
        )
        await self.handle_reaction(
            ReactionEvent(
                server_id=str(payload.guild_id),
                channel_id=str(payload.channel_id),
                message_id=str(payload.message_id),
                reactor_id=str(payload.user_id),
                author_id=str(author_id) if author_id else None,
                emoji=str(payload.emoji),
                role_ids=role_ids_of(payload.member),
                reactor_is_bot=reactor_is_bot,
                author_is_bot=self._is_bot(payload.guild_id, author_id),
            )
        )

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.handle_member_join(
            MemberJoin(
                server_id=str(member.guild.id),
                user_id=str(member.id),
                joined_at=member.joined_at or datetime.now(UTC),
                is_bot=member.bot,
            )
        )


FEATURE = Activity
