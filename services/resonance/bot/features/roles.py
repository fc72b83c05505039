"""Roles: what Discord shows is recorded for every role with an active config, added and removed, so
auto_drip, thresholds, effects and one-time bonuses follow Discord; reconciled for every member at
startup (changes made while the bot was away)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from resonance.bot.discord_io import role_ids_of
from resonance.bot.models import RolesChanged
from resonance.bot.runtime import Feature
from resonance.db.models import Outcome

log = logging.getLogger("resonance.bot.roles")


class Roles(Feature):
    async def handle_roles(self, event: RolesChanged) -> Outcome | None:
        if event.is_bot:
            return None
        return await self.rt.listen(
            f"roles:{event.user_id}",
            event.server_id,
            lambda: self.rt.call("sync_member_roles", event.server_id, event.user_id, event.role_ids, event.at),
        )

    async def reconcile(self, server_id: str, members: dict[str, list[str]]) -> Outcome | None:
        return await self.rt.listen(
            f"roles-reconcile:{server_id}",
            server_id,
            lambda: self.rt.call("reconcile_server_roles", server_id, members, datetime.now(UTC)),
        )

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if {r.id for r in before.roles} == {r.id for r in after.roles}:
            return
        await self.handle_roles(
            RolesChanged(
                server_id=str(after.guild.id),
                user_id=str(after.id),
                role_ids=role_ids_of(after),
                is_bot=after.bot,
                at=datetime.now(UTC),
            )
        )

    async def startup(self, guilds: list[Any]) -> None:
        for guild in guilds:
            if self.rt.ignores(str(guild.id)):
                continue
            members = {str(m.id): role_ids_of(m) for m in guild.members if not m.bot}
            outcome = await self.reconcile(str(guild.id), members)
            if outcome is not None:
                log.info(
                    "roles reconciled",
                    extra={
                        "server_id": str(guild.id),
                        "members": outcome.get("members"),
                        "added": outcome.get("added"),
                        "removed": outcome.get("removed"),
                    },
                )


FEATURE = Roles
