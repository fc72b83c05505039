"""Economy: balances, tips, the ledger history, buying roles with RSNC, and wallet registration."""

from __future__ import annotations

from decimal import Decimal

import discord
from discord import app_commands

from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, GOLD, GREEN, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import EMBED_DESCRIPTION_MAX, as_dict, lines_within, parse_amount, whole

MAX_TIP = Decimal(1_000_000)

Currency = app_commands.Range[str, 1, 10]


class Economy(Feature):
    wallet = app_commands.Group(name="wallet", description="Link a Solana wallet to your account")
    buy = app_commands.Group(name="buy", description="Spend RSNC", guild_only=True)

    # --- handlers ---------------------------------------------------------------------------------

    async def balance(self, ctx: CommandContext, r: Responder, currency: str = "RSNC") -> None:
        async def body() -> None:
            amount = await self.rt.call("balance", ctx.user_id, currency.upper())
            await r.reply(
                embed=Embed(title="Your balance", description=f"**{whole(amount)} {currency.upper()}**", color=GOLD),
                ephemeral=True,
            )

        await self.rt.answer(r, "balance", body)

    async def tip(
        self,
        ctx: CommandContext,
        r: Responder,
        receiver_id: str,
        amount: str,
        currency: str = "RSNC",
        receiver_is_bot: bool = False,
    ) -> None:
        async def body() -> None:
            value = parse_amount(amount)
            if value is None or value <= 0 or value > MAX_TIP:
                await r.reply(f"The amount must be a number above 0 and at most {whole(MAX_TIP)}.", ephemeral=True)
                return
            if receiver_is_bot:
                await r.reply("Bots can't receive tips.", ephemeral=True)
                return
            if receiver_id == ctx.user_id:
                await r.reply("You can't tip yourself.", ephemeral=True)
                return
            key = f"tip:{ctx.interaction_id}" if ctx.interaction_id else None
            await self.rt.call("tip", ctx.user_id, receiver_id, value, currency.upper(), ctx.server_id, key)
            await r.reply(
                embed=Embed(
                    title="Tip sent",
                    color=GREEN,
                    description=f"<@{ctx.user_id}> tipped <@{receiver_id}> **{whole(value)} {currency.upper()}**",
                ),
                ephemeral=False,
            )

        await self.rt.answer(r, "tip", body, ephemeral=False)

    async def history(self, ctx: CommandContext, r: Responder, currency: str | None = None) -> None:
        async def body() -> None:
            rows = await self.rt.call("history", ctx.user_id, currency.upper() if currency else None, 10)
            lines = []
            for row in rows:
                d = as_dict(row)
                delta = d.get("delta")
                if delta is None:
                    delta = d.get("amount") if d.get("recipient_id") == ctx.user_id else -(d.get("amount") or 0)
                sign = "+" if Decimal(str(delta)) >= 0 else "-"
                kind = d.get("transaction_type") or d.get("type") or ""
                who = f" · <@{d['counterparty_id']}>" if d.get("counterparty_id") else ""
                lines.append(
                    f"`{str(d.get('created_at', ''))[:16]}` {sign}{whole(abs(Decimal(str(delta))))} "
                    f"{d.get('currency', '')} · {kind}{who}"
                )
            await r.reply(
                embed=Embed(
                    title="History",
                    color=BLUE,
                    description=lines_within(lines, EMBED_DESCRIPTION_MAX) or "No transactions yet.",
                ),
                ephemeral=True,
            )

        await self.rt.answer(r, "history", body)

    async def buy_role(self, ctx: CommandContext, r: Responder, role_id: str) -> None:
        async def body() -> None:
            if not await self.rt.need_server(ctx, r):
                return
            key = f"buy:{ctx.interaction_id}" if ctx.interaction_id else None
            outcome = await self.rt.call("purchase_role", ctx.server_id, ctx.user_id, role_id, key, ctx.at)
            await self.rt.status_reply(r, outcome)

        await self.rt.answer(r, "buy role", body)

    async def wallet_register(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            data = as_dict(await self.rt.call("create_registration_nonce", ctx.user_id, ctx.user_name or None))
            nonce = data.get("nonce") or data.get("value")
            message = data.get("message") or f"Resonance wallet registration for {ctx.user_id}: {nonce}"
            expires = data.get("expires_at")
            text = (
                "Sign this exact message with your Solana wallet (Phantom: *Sign message*), then run "
                "`/wallet verify` with your wallet address and the base58 signature:\n"
                f"```\n{message}\n```"
                f"Nonce: `{nonce}`" + (f" (expires {expires})" if expires else "")
            )
            await r.reply(embed=Embed(title="Register a wallet", description=text, color=BLUE), ephemeral=True)

        await self.rt.answer(r, "wallet register", body)

    async def wallet_verify(
        self, ctx: CommandContext, r: Responder, wallet_address: str, nonce: str, signature: str
    ) -> None:
        async def body() -> None:
            outcome = await self.rt.call(
                "register_wallet",
                ctx.user_id,
                nonce.strip(),
                wallet_address.strip(),
                signature.strip(),
                ctx.user_name or None,
            )
            status = as_dict(outcome).get("status") or "registered"
            if status in ("registered", "already_registered", "verified"):
                await r.reply(f"Wallet `{wallet_address}` is linked to your account.", ephemeral=True)
            else:
                await self.rt.status_reply(r, outcome)

        await self.rt.answer(r, "wallet verify", body)

    # --- slash commands ---------------------------------------------------------------------------

    @app_commands.command(name="balance", description="Your RSNC balance")
    @app_commands.describe(currency="Currency code (RSNC by default)")
    async def balance_command(self, interaction: discord.Interaction, currency: Currency = "RSNC") -> None:
        await self.balance(*self.edge(interaction), currency)

    @app_commands.command(name="tip", description="Tip a member")
    @app_commands.describe(
        member="Who gets the tip",
        amount="How much, e.g. 10 or 2.5 (at most 1000000)",
        currency="Currency code (RSNC by default)",
    )
    @app_commands.guild_only()
    async def tip_command(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: app_commands.Range[str, 1, 24],
        currency: Currency = "RSNC",
    ) -> None:
        await self.tip(*self.edge(interaction), str(member.id), amount, currency, receiver_is_bot=member.bot)

    @app_commands.command(name="history", description="Your latest ledger transactions")
    @app_commands.describe(currency="Only this currency (all by default)")
    async def history_command(self, interaction: discord.Interaction, currency: Currency | None = None) -> None:
        await self.history(*self.edge(interaction), currency)

    @wallet.command(name="register", description="Get a message to sign with your wallet")
    async def wallet_register_command(self, interaction: discord.Interaction) -> None:
        await self.wallet_register(*self.edge(interaction))

    @wallet.command(name="verify", description="Prove you own the wallet: address, nonce and signature")
    @app_commands.describe(
        address="Your Solana wallet address (base58)",
        nonce="The nonce /wallet register gave you",
        signature="The base58 signature of the message, from your wallet",
    )
    async def wallet_verify_command(
        self,
        interaction: discord.Interaction,
        address: app_commands.Range[str, 32, 44],
        nonce: app_commands.Range[str, 1, 100],
        signature: app_commands.Range[str, 1, 120],
    ) -> None:
        await self.wallet_verify(*self.edge(interaction), address, nonce, signature)

    @buy.command(name="role", description="Buy a role with RSNC")
    @app_commands.describe(role="The role to buy (it must be for sale in this server)")
    async def buy_role_command(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self.buy_role(*self.edge(interaction), str(role.id))


FEATURE = Economy
