"""/currency (admin): the currencies the tipping ledger accepts. Add one (code and decimals, fixed for
ever), switch one off or on (balances and history are kept), list them. Audited with the admin's id."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from resonance.bot.discord_io import ADMIN_PERMISSIONS
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import CHOICES_MAX, EMBED_DESCRIPTION_MAX, as_dict, json_dict, lines_within


class Currency(Feature):
    currency = app_commands.Group(
        name="currency",
        description="Currencies members can tip",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )

    async def currency_add(self, ctx: CommandContext, r: Responder, code: str, decimals: int) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.add_currency(conn, code, decimals, actor_id=ctx.user_id, server_id=ctx.server_id)
                )

            result, _ = await self.rt.once(ctx, "currency add", act)
            if result.get("status") == "exists":
                state = "active" if result.get("is_active") else "switched off (`/currency enable`)"
                await r.reply(
                    f"{result.get('code')} exists already ({result.get('decimals')} decimals, {state}).", ephemeral=True
                )
            else:
                await r.reply(
                    f"{result.get('code')} added with {decimals} decimals: members can /tip it.", ephemeral=True
                )

        await self.rt.answer(r, "currency add", body)

    async def currency_switch(self, ctx: CommandContext, r: Responder, code: str, active: bool) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_currency_active(
                        conn, code, active, actor_id=ctx.user_id, server_id=ctx.server_id
                    )
                )

            command = "currency enable" if active else "currency disable"
            result, _ = await self.rt.once(ctx, command, act)
            words = {
                "enabled": "is on again",
                "disabled": "is off (balances and history are kept)",
                "unchanged": "was already " + ("on" if active else "off"),
            }
            await r.reply(f"{code.upper()} {words.get(str(result.get('status')), 'done')}.", ephemeral=True)

        await self.rt.answer(r, "currency switch", body)

    async def currency_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            lines = [
                f"{'🟢' if d.get('is_active') else '⚪'} **{d.get('code')}** · {d.get('decimals')} decimals · "
                f"{d.get('holders', 0)} holder(s)"
                for d in (as_dict(row) for row in await self.rt.call("list_currencies"))
            ]
            await r.reply(
                embed=Embed(
                    title="Currencies", color=BLUE, description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "None."
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "currency list", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @currency.command(name="add", description="Add a currency members can tip")
    @app_commands.describe(code="2 to 12 letters or digits, e.g. USDC", decimals="Decimal places (0-8, fixed for ever)")
    async def currency_add_command(
        self,
        interaction: discord.Interaction,
        code: app_commands.Range[str, 2, 12],
        decimals: app_commands.Range[int, 0, 8],
    ) -> None:
        await self.currency_add(*self.edge(interaction), code, decimals)

    @currency.command(name="disable", description="Switch a currency off (balances are kept)")
    @app_commands.describe(code="The currency")
    async def currency_disable_command(
        self, interaction: discord.Interaction, code: app_commands.Range[str, 2, 12]
    ) -> None:
        await self.currency_switch(*self.edge(interaction), code, False)

    @currency.command(name="enable", description="Switch a currency on again")
    @app_commands.describe(code="The currency")
    async def currency_enable_command(
        self, interaction: discord.Interaction, code: app_commands.Range[str, 2, 12]
    ) -> None:
        await self.currency_switch(*self.edge(interaction), code, True)

    @currency.command(name="list", description="The currencies, and how many members hold each")
    async def currency_list_command(self, interaction: discord.Interaction) -> None:
        await self.currency_list(*self.edge(interaction))

    @currency_disable_command.autocomplete("code")
    @currency_enable_command.autocomplete("code")
    async def code_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        rows = [as_dict(r) for r in await self.rt.call("list_currencies")]
        return [
            app_commands.Choice(name=str(d["code"]), value=str(d["code"]))
            for d in rows
            if current.upper() in str(d["code"])
        ][:CHOICES_MAX]


FEATURE = Currency
