"""The shop: members see what can be bought and at what price (/shop view) and buy with /buy role;
admins put a role on sale or change its price (/shop price) and take it off (/shop remove). Audited."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from resonance.bot.models import CommandContext
from resonance.bot.responder import GOLD, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, as_dict, json_dict, lines_within, whole

MAX_PRICE = 1_000_000_000

EFFECT_WORDS = {
    "multiplier": "earns x{value}",
    "bonus_flat": "+{value} RSNC per reward",
    "cooldown_reduction": "cooldowns -{percent} %",
    "one_time_bonus": "a one-time bonus of {amount} RSNC",
    "auto_drip": "{amount} RSNC every {period}",
    "event_access": "access to more rewards",
}


def effect_words(effect_type: str | None, config: dict[str, Any] | None) -> str:
    template = EFFECT_WORDS.get(effect_type or "")
    if template is None:
        return ""
    values = {
        k: whole(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in (config or {}).items()
    }
    values.setdefault("period", "day")
    try:
        text = template.format(**values)
    except (KeyError, ValueError):
        return ""
    return "" if text.startswith("+0 ") else text


class Shop(Feature):
    # Not admin-only as a whole: /shop view is for everyone; the handlers of price and remove check.
    shop = app_commands.Group(name="shop", description="Roles you can buy with RSNC", guild_only=True)

    # --- handlers ---------------------------------------------------------------------------------

    async def shop_view(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            lines = []
            for row in await self.rt.call("shop_items", ctx.server_id):
                d = as_dict(row)
                what = effect_words(d.get("effect_type"), d.get("effect_config"))
                lines.append(
                    f"<@&{d.get('role_id')}> · **{whole(d.get('price'))} RSNC**" + (f" · {what}" if what else "")
                )
            embed = Embed(
                title="Shop",
                color=GOLD,
                description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "Nothing for sale yet.",
            )
            embed.footer = "Buy with /buy role"
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "shop view", body)

    async def shop_price(
        self, ctx: CommandContext, r: Responder, role_id: str, price: int, role_name: str | None = None
    ) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return

            async def act(conn: Any) -> dict[str, Any]:
                return json_dict(
                    await self.rt.api.set_role_price(
                        conn, ctx.server_id, role_id, price, actor_id=ctx.user_id, role_name=role_name
                    )
                )

            await self.rt.once(ctx, "shop price", act)
            await r.reply(f"<@&{role_id}> is for sale at **{price} RSNC** (`/shop view`, `/buy role`).", ephemeral=True)

        await self.rt.answer(r, "shop price", body)

    async def shop_remove(self, ctx: CommandContext, r: Responder, role_id: str) -> None:
        async def body() -> None:
            if not await self.rt.need_admin(ctx, r):
                return
            assert ctx.server_id is not None
            items = {as_dict(row).get("role_id") for row in await self.rt.call("shop_items", ctx.server_id)}
            if role_id not in items:
                await r.reply(f"<@&{role_id}> is not for sale.", ephemeral=True)
                return

            async def act(conn: Any) -> dict[str, Any]:
                # Manual: the role keeps its effect and holders, and is no longer sold.
                return json_dict(
                    await self.rt.api.set_role_assignment(
                        conn, ctx.server_id, role_id, "manual", {}, actor_id=ctx.user_id
                    )
                )

            await self.rt.once(ctx, "shop remove", act)
            await r.reply(f"<@&{role_id}> is no longer for sale (holders keep it).", ephemeral=True)

        await self.rt.answer(r, "shop remove", body)

    # --- discord.py edge --------------------------------------------------------------------------

    @shop.command(name="view", description="What you can buy here, and the price")
    async def shop_view_command(self, interaction: discord.Interaction) -> None:
        await self.shop_view(*self.edge(interaction))

    @shop.command(name="price", description="Admins: put a role on sale, or change its price")
    @app_commands.describe(role="The role to sell", price=f"RSNC (1-{MAX_PRICE})")
    async def shop_price_command(
        self, interaction: discord.Interaction, role: discord.Role, price: app_commands.Range[int, 1, MAX_PRICE]
    ) -> None:
        await self.shop_price(*self.edge(interaction), str(role.id), price, role.name)

    @shop.command(name="remove", description="Admins: take a role off sale (holders keep it)")
    @app_commands.describe(role="The role")
    async def shop_remove_command(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self.shop_remove(*self.edge(interaction), str(role.id))


FEATURE = Shop
