"""Voice: only time the bot observed, in a channel where it counts, is credited.

A member's time counts while they are in a voice channel that is not the guild's AFK channel, are not
deafened (self or server) and are not alone (bots and deafened members are no company); the last two
are configurable per server (config_metadata.voice.count_deafened / count_alone). A session opens
when a member starts counting and is credited when they stop (leave, AFK, deafen, alone). Every
minute the open sessions are checkpointed; after a restart a session whose member left while the bot
was away ends at its last checkpoint, and members still counting keep their session.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands, tasks

from resonance.bot.discord_io import role_ids_of
from resonance.bot.models import VoiceMember, VoiceSession, VoiceSnapshot
from resonance.bot.runtime import Feature, Runtime
from resonance.db.models import BotServer, OpenSession, Outcome

log = logging.getLogger("resonance.bot.voice")


def counting(snapshot: VoiceSnapshot, policy: BotServer | None) -> dict[str, VoiceMember]:
    """The members whose time counts right now, by user id."""
    count_alone = bool(policy and policy.voice_count_alone)
    count_deafened = bool(policy and policy.voice_count_deafened)
    humans: dict[str, list[VoiceMember]] = {}
    for m in snapshot.members:
        if not m.is_bot and m.channel_id != snapshot.afk_channel_id:
            humans.setdefault(m.channel_id, []).append(m)
    out: dict[str, VoiceMember] = {}
    for members in humans.values():
        # Deafened members neither count nor keep anyone company (unless the server counts them).
        present = [m for m in members if count_deafened or not (m.self_deaf or m.deaf)]
        for m in present:
            if len(present) >= 2 or count_alone:
                out[m.user_id] = m
    return out


class Voice(Feature):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self.open: dict[str, set[str]] = {}  # server id -> members with an open session
        self._locks: dict[str, asyncio.Lock] = {}
        self.recovered: set[str] = set()
        self.checkpoint.change_interval(seconds=getattr(rt.settings, "voice_checkpoint_seconds", 60.0))

    def _lock(self, server_id: str) -> asyncio.Lock:
        return self._locks.setdefault(server_id, asyncio.Lock())

    # --- handlers ---------------------------------------------------------------------------------

    async def handle_snapshot(self, snapshot: VoiceSnapshot) -> dict[str, int]:
        """Open sessions for members who started counting, credit those who stopped."""
        counts = {"opened": 0, "credited": 0}
        if self.rt.stopping or self.rt.ignores(snapshot.server_id):
            return counts
        async with self._lock(snapshot.server_id):
            now_counting = counting(snapshot, self.rt.server(snapshot.server_id))
            was = self.open.setdefault(snapshot.server_id, set())
            for user_id in sorted(was - set(now_counting)):
                await self.rt.listen(
                    f"voice-leave:{user_id}",
                    snapshot.server_id,
                    functools.partial(self._leave, snapshot.server_id, user_id, snapshot.at),
                )
                was.discard(user_id)
                counts["credited"] += 1
            for user_id, m in sorted(now_counting.items()):
                if user_id in was:
                    continue
                opened = await self.rt.listen(
                    f"voice-join:{user_id}",
                    snapshot.server_id,
                    functools.partial(
                        self.rt.call,
                        "voice_session_join",
                        snapshot.server_id,
                        m.user_id,
                        m.channel_id,
                        m.role_ids,
                        snapshot.at,
                    ),
                )
                if opened is not None:
                    was.add(user_id)
                    counts["opened"] += 1
        return counts

    async def _leave(self, server_id: str, user_id: str, at: datetime) -> Outcome | None:
        session = await self.rt.call("voice_session_leave", server_id, user_id, at)
        return await self.credit(session) if session is not None else None

    async def credit(self, s: OpenSession) -> Outcome:
        assert s.ended_at is not None
        session = VoiceSession(
            session_id=str(s.session_id),
            server_id=s.server_id,
            user_id=s.user_id,
            channel_id=s.channel_id,
            started_at=s.started_at,
            ended_at=s.ended_at,
            role_ids=s.role_ids,
        )
        outcome: Outcome = await self.rt.call(
            "record_voice",
            session.server_id,
            session.user_id,
            session.channel_id,
            session.session_id,
            session.minutes,
            session.role_ids,
            session.ended_at,
        )
        await self.rt.call("voice_session_credited", s.session_id)
        return outcome

    async def recover(self, snapshot: VoiceSnapshot) -> dict[str, int]:
        """After a (re)start: credit ended sessions; end sessions of members no longer counting at
        their last checkpoint (time the bot did not see is not paid); open sessions for members
        counting without one. Members still counting keep their session."""
        counts = {"credited": 0, "closed": 0, "opened": 0, "kept": 0}
        server_id = snapshot.server_id
        async with self._lock(server_id):
            now_counting = counting(snapshot, self.rt.server(server_id))
            kept: set[str] = set()
            for s in await self.rt.call("voice_sessions_pending", server_id):
                if s.ended_at is None and s.user_id in now_counting:
                    kept.add(s.user_id)
                    continue
                if s.ended_at is None:
                    ended = await self.rt.call(
                        "voice_session_leave", server_id, s.user_id, s.checkpoint_at or s.started_at
                    )
                    if ended is None:
                        continue
                    s = ended
                    counts["closed"] += 1
                await self.credit(s)
                counts["credited"] += 1
            for user_id, m in sorted(now_counting.items()):
                if user_id not in kept:
                    await self.rt.call("voice_session_join", server_id, user_id, m.channel_id, m.role_ids, snapshot.at)
                    counts["opened"] += 1
            self.open[server_id] = set(now_counting)
            counts["kept"] = len(kept)
        return counts

    async def checkpoint_now(self, at: datetime | None = None) -> int:
        """Stamp every open session of the linked guilds as observed until now."""
        servers = sorted(self.rt.servers or {})
        if not servers:
            return 0
        return int(await self.rt.call("voice_checkpoint", servers, at or datetime.now(UTC)))

    # --- gateway ----------------------------------------------------------------------------------

    @staticmethod
    def snapshot_of(guild: discord.Guild, at: datetime | None = None) -> VoiceSnapshot:
        members = []
        for channel in [*guild.voice_channels, *guild.stage_channels]:
            for member in channel.members:
                voice = member.voice
                members.append(
                    VoiceMember(
                        user_id=str(member.id),
                        channel_id=str(channel.id),
                        is_bot=member.bot,
                        self_deaf=bool(voice and voice.self_deaf),
                        deaf=bool(voice and voice.deaf),
                        role_ids=role_ids_of(member),
                    )
                )
        return VoiceSnapshot(
            server_id=str(guild.id),
            afk_channel_id=str(guild.afk_channel.id) if guild.afk_channel else None,
            members=members,
            at=at or datetime.now(UTC),
        )

    @commands.Cog.listener()
    async def on_voice_state_update(self, member: discord.Member, before: Any, after: Any) -> None:
        if self.rt.servers is None:
            return  # not started yet: the startup recovery builds sessions from the live states
        if str(member.guild.id) not in self.recovered:
            # A guild linked since the start (/setup): recover it now, from the live states.
            await self.recover_guilds([member.guild])
            return
        await self.handle_snapshot(self.snapshot_of(member.guild))

    async def startup(self, guilds: list[Any]) -> None:
        await self.recover_guilds(guilds)
        self.checkpoint.start()

    async def shutdown(self) -> None:
        """Stamp open sessions now: after the restart, who left meanwhile is paid until here, not later."""
        self.checkpoint.cancel()
        stamped = await self.checkpoint_now()
        log.info("voice checkpoint at shutdown", extra={"sessions": stamped})

    async def recover_guilds(self, guilds: list[discord.Guild]) -> None:
        for guild in guilds:
            if self.rt.ignores(str(guild.id)):
                continue
            try:
                counts = await self.recover(self.snapshot_of(guild))
            except Exception:
                log.exception("voice recovery failed", extra={"server_id": str(guild.id)})
                continue
            log.info("voice recovered", extra={"server_id": str(guild.id), **counts})
            self.recovered.add(str(guild.id))

    @tasks.loop(seconds=60.0)
    async def checkpoint(self) -> None:
        try:
            stamped = await self.checkpoint_now()
            log.debug("voice checkpoint", extra={"sessions": stamped})
        except Exception:
            log.exception("voice checkpoint failed")


FEATURE = Voice
