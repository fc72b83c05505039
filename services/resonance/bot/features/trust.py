"""Trust (members, JustTheTip): /terms shows whether you accepted the tipping terms and are verified
(terms plus a registered wallet), and accepts them; /reputation shows a trust badge and its score,
recomputed from ledger facts."""

from __future__ import annotations

import discord
from discord import app_commands

from resonance.bot.errors import sqlstate
from resonance.bot.models import CommandContext
from resonance.bot.responder import BLUE, GREEN, ORANGE, Embed, Responder
from resonance.bot.runtime import Feature
from resonance.bot.text import as_dict, whole

TERMS_VERSION = "2026-01"
TERMS = (
    "Tips are final. Resonance records every tip in its ledger; a tip needs enough balance; "
    "abuse (farming, fake accounts) can cost you your rewards."
)


class Trust(Feature):
    async def terms(self, ctx: CommandContext, r: Responder, accept: bool = False) -> None:
        async def body() -> None:
            if accept:
                outcome = as_dict(await self.rt.call("accept_terms", ctx.user_id, TERMS_VERSION, ctx.user_name or None))
                status = as_dict(await self.rt.call("verification_status", ctx.user_id))
                first = outcome.get("status") == "accepted"
                text = "Thanks: you accepted the terms." if first else "You had already accepted these terms."
            else:
                status = as_dict(await self.rt.call("verification_status", ctx.user_id))
                text = TERMS
            state = {
                "not_accepted": "Not accepted yet: run `/terms accept:True`.",
                "accepted": "Accepted. Register a wallet (`/wallet register`) to be verified.",
                "verified": "Verified: terms accepted and wallet registered.",
            }.get(str(status.get("status")), "")
            embed = Embed(
                title=f"Tipping terms ({TERMS_VERSION})",
                description=text,
                color=GREEN if status.get("status") == "verified" else ORANGE,
            )
            embed.add("Your status", state, inline=False)
            if status.get("terms_version") and status.get("terms_version") != TERMS_VERSION:
                embed.add(
                    "Note",
                    f"You accepted version {status['terms_version']}; the current one is {TERMS_VERSION}.",
                    inline=False,
                )
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "terms", body)

    async def reputation(self, ctx: CommandContext, r: Responder, member_id: str | None = None) -> None:
        async def body() -> None:
            who = member_id or ctx.user_id
            try:
                data = as_dict(await self.rt.call("reputation", who))
            except Exception as exc:
                if sqlstate(exc) != "RT006":
                    raise
                await r.reply(f"<@{who}> has no tipping history yet, so no reputation.", ephemeral=True)
                return
            embed = Embed(
                title="Trust badge",
                color=BLUE,
                description=f"<@{who}>: reputation **{whole(data.get('reputation_score'))}** / 100",
            )
            embed.add("Tips sent", data.get("tips_sent", 0))
            embed.add("Tips received", data.get("tips_received", 0))
            embed.add("Counterparties", data.get("counterparties", 0))
            embed.add("Member for", f"{whole(data.get('account_age_days'))} days")
            embed.add("Verified", "yes" if data.get("verified") else "no")
            if data.get("mint_address"):
                embed.add("Badge minted", f"`{data['mint_address']}`", inline=False)
            await r.reply(embed=embed, ephemeral=True)

        await self.rt.answer(r, "reputation", body)

    @app_commands.command(name="terms", description="The tipping terms: your status, and accept them")
    @app_commands.describe(accept="True to accept the terms")
    async def terms_command(self, interaction: discord.Interaction, accept: bool = False) -> None:
        await self.terms(*self.edge(interaction), accept)

    @app_commands.command(name="reputation", description="A trust badge: reputation score and the facts behind it")
    @app_commands.describe(member="Whose (you by default)")
    async def reputation_command(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        await self.reputation(*self.edge(interaction), str(member.id) if member else None)


FEATURE = Trust
