"""Support: members open, list and close their tickets; staff (Manage Server) see the queue and triage
a ticket's status and priority, recorded with their Discord id."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import (
    DESCRIPTION_MAX,
    EMBED_DESCRIPTION_MAX,
    SUBJECT_MAX,
    as_dict,
    clip,
    json_dict,
    lines_within,
)

TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")  # tipping.tickets_status_check
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")


class Support(Feature):
    ticket = app_commands.Group(name="ticket", description="Support tickets")

    async def ticket_open(self, ctx: CommandContext, r: Responder, subject: str, description: str = "") -> None:
        async def body() -> None:
            # Not retried on an outage: tickets carry no idempotency key, and a second ticket is worse
            # than asking the member to try again.
            d = as_dict(
                await self.rt.call(
                    "open_ticket",
                    ctx.user_id,
                    clip(subject, SUBJECT_MAX),
                    clip(description, DESCRIPTION_MAX) or None,
                    "medium",
                    ctx.user_name or None,
                    retry=False,
                )
            )
            inner: dict[str, Any] = d["ticket"] if isinstance(d.get("ticket"), dict) else d
            ticket = inner.get("id") or d.get("ticket_id") or d.get("value")
            await r.reply(
                f"Ticket #{ticket} opened: {clip(subject, SUBJECT_MAX)}. Support will get back to you.", ephemeral=True
            )

        await self.rt.answer(r, "ticket open", body)

    async def ticket_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            rows = await self.rt.call("list_tickets", ctx.user_id)
            lines = [
                f"#{d.get('id')} · **{d.get('subject')}** · {d.get('status')}" for d in (as_dict(row) for row in rows)
            ]
            await r.reply(
                embed=Embed(
                    title="Your tickets",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No tickets.",
                )
            )

        await self.rt.answer(r, "ticket list", body)

    async def ticket_close(self, ctx: CommandContext, r: Responder, ticket_id: int) -> None:
        async def body() -> None:
            # tipping.close_ticket takes no owner: a member may only close a ticket of their own.
            mine = {as_dict(row).get("id") for row in await self.rt.call("list_tickets", ctx.user_id)}
            if ticket_id not in mine:
                await r.reply(f"You have no ticket #{ticket_id}.", ephemeral=True)
                return
            status = as_dict(await self.rt.call("close_ticket", ticket_id)).get("status")
            if status in (None, "closed"):
                await r.reply(f"Ticket #{ticket_id} closed.", ephemeral=True)
            else:
                await r.reply(f"Ticket #{ticket_id}: {status}.", ephemeral=True)

        await self.rt.answer(r, "ticket close", body)

    async def ticket_queue(self, ctx: CommandContext, r: Responder, status: str | None = "open") -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            rows = await self.rt.call("staff_list_tickets", status, 25)
            lines = [
                f"#{d.get('id')} · **{clip(str(d.get('subject')), 60)}** · {d.get('status')} · {d.get('priority')}"
                f" · <@{d.get('discord_id')}>" + (f" · handled by <@{d['handled_by']}>" if d.get("handled_by") else "")
                for d in (as_dict(row) for row in rows)
            ]
            await r.reply(
                embed=Embed(
                    title=f"Tickets ({status or 'all'})",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No tickets.",
                )
            )

        await self.rt.answer(r, "ticket queue", body)

    async def ticket_triage(
        self, ctx: CommandContext, r: Responder, ticket_id: int, status: str | None = None, priority: str | None = None
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            if status is None and priority is None:
                await r.reply("Give a new status, a new priority, or both.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.update_ticket(
                        conn, ticket_id, staff_id=ctx.user_id, status=status, priority=priority, server_id=ctx.server_id
                    )
                )

            result, _ = await self.rt.once(ctx, "ticket triage", act)
            ticket = result.get("ticket") or {}
            if result.get("status") == "unchanged":
                await r.reply(
                    f"Ticket #{ticket_id} already was {ticket.get('status')}, {ticket.get('priority')}.", ephemeral=True
                )
            else:
                await r.reply(
                    f"Ticket #{ticket_id} is now {ticket.get('status')}, priority {ticket.get('priority')}.",
                    ephemeral=True,
                )

        await self.rt.answer(r, "ticket triage", body)

    @ticket.command(name="open", description="Open a support ticket")
    @app_commands.describe(
        subject=f"What it is about (at most {SUBJECT_MAX} characters)",
        description=f"Details for support (at most {DESCRIPTION_MAX} characters)",
    )
    async def ticket_open_command(
        self,
        interaction: discord.Interaction,
        subject: app_commands.Range[str, 1, SUBJECT_MAX],
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] = "",
    ) -> None:
        await self.ticket_open(*self.edge(interaction), subject, description)

    @ticket.command(name="list", description="Your tickets")
    async def ticket_list_command(self, interaction: discord.Interaction) -> None:
        await self.ticket_list(*self.edge(interaction))

    @ticket.command(name="close", description="Close one of your tickets")
    @app_commands.describe(ticket_id="The ticket number (see /ticket list)")
    async def ticket_close_command(
        self, interaction: discord.Interaction, ticket_id: app_commands.Range[int, 1, 2_147_483_647]
    ) -> None:
        await self.ticket_close(*self.edge(interaction), ticket_id)

    @ticket.command(name="queue", description="Staff: every member's tickets, by status")
    @app_commands.describe(status="Which tickets (default open)")
    @app_commands.choices(status=[app_commands.Choice(name=s, value=s) for s in TICKET_STATUSES])
    async def ticket_queue_command(self, interaction: discord.Interaction, status: str = "open") -> None:
        await self.ticket_queue(*self.edge(interaction), status)

    @ticket.command(name="triage", description="Staff: change a ticket's status or priority")
    @app_commands.describe(ticket_id="The ticket number", status="Its new status", priority="Its new priority")
    @app_commands.choices(
        status=[app_commands.Choice(name=s, value=s) for s in TICKET_STATUSES],
        priority=[app_commands.Choice(name=p, value=p) for p in TICKET_PRIORITIES],
    )
    async def ticket_triage_command(
        self,
        interaction: discord.Interaction,
        ticket_id: app_commands.Range[int, 1, 2_147_483_647],
        status: str | None = None,
        priority: str | None = None,
    ) -> None:
        await self.ticket_triage(*self.edge(interaction), ticket_id, status, priority)

    @ticket_triage_command.autocomplete("ticket_id")
    async def ticket_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        out = []
        for row in await self.rt.call("staff_list_tickets", None, 100):
            d = as_dict(row)
            if d.get("status") == "closed":
                continue
            label = f"#{d.get('id')} {d.get('subject')} ({d.get('status')})"
            if str(current) in label:
                out.append(app_commands.Choice(name=label[:100], value=int(d["id"])))
        return out[:25]


FEATURE = Support
