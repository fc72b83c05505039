"""Listeners and slash-command handlers: one model in, one typed-layer call, one formatted answer.

Nothing here imports discord.py. An adapter (cogs.py) builds the models and a Responder; the tests
build them by hand.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import types
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from resonance.bot import api as default_api
from resonance.bot.errors import APOLOGY, BUG, friendly_error, is_outage
from resonance.bot.models import (
    CommandContext,
    MemberJoin,
    MessageEvent,
    ReactionEvent,
    RolesAdded,
    VoiceChange,
    VoiceSession,
)
from resonance.bot.responder import BLUE, GOLD, GREEN, ORANGE, RED, Button, Embed, Responder
from resonance.db.member import Outcome, whole

log = logging.getLogger("resonance.bot")

DROP_PREFIX = "resonance:drop:"
PERIODS = ("day", "week", "month", "all")
EVENT_TYPES = (
    "channel_message", "keyword", "min_length", "reaction_given", "reaction_received", "reaction_count",
    "voice_minutes", "daily_checkin", "drop_claim", "member_join", "manual_reward", "custom",
)
EFFECT_TYPES = ("multiplier", "bonus_flat", "cooldown_reduction", "event_access", "one_time_bonus", "auto_drip")
MILESTONE_CRITERIA = (
    "rsnc_earned", "messages_count", "voice_minutes", "reactions_count", "reactions_received", "current_streak",
    "longest_streak",
)

# status -> (colour, message template); templates read the outcome's keys.
STATUS_REPLIES: dict[str, tuple[int, str]] = {
    "rewarded": (GREEN, "Done: +{amount} RSNC."),
    "checked_in": (GREEN, "Checked in: +{amount} RSNC. Streak {current_streak} day(s), best {longest_streak}."),
    "already_checked_in": (ORANGE, "You already checked in today (UTC). Come back tomorrow!"),
    "claimed": (GREEN, "You claimed {amount} RSNC from this drop!"),
    "already_claimed": (ORANGE, "You already claimed this one."),
    "sold_out": (ORANGE, "Too late: this drop is sold out."),
    "expired": (ORANGE, "This drop has expired."),
    "not_eligible": (ORANGE, "You're not eligible for this one."),
    "cooldown": (ORANGE, "On cooldown: try again later."),
    "cap_reached": (ORANGE, "You've reached the limit for this reward."),
    "duplicate": (ORANGE, "Already done: nothing more to add."),
    "no_rule": (ORANGE, "No reward rule is set up for this yet."),
    "disabled": (ORANGE, "This reward is switched off right now."),
    "paid": (GREEN, "Bonus paid: +{amount} RSNC."),
    "purchased": (GREEN, "Role bought for {price} RSNC. It will appear in a moment."),
    "already_owned": (ORANGE, "You already have that role."),
    "not_for_sale": (ORANGE, "That role isn't for sale."),
    "insufficient_funds": (RED, "Insufficient funds: you need {price} RSNC."),
}


def as_dict(value: Any) -> dict[str, Any]:
    """A typed-layer answer (any pydantic model, a dict, or None) as a plain dict."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return dict(value)


def status_text(outcome: Any) -> tuple[int, str]:
    data = as_dict(outcome)
    status = str(data.get("status") or "")
    colour, template = STATUS_REPLIES.get(status, (BLUE, f"Result: {status or 'done'}."))
    values = collections.defaultdict(lambda: "?", {k: whole(v) if isinstance(v, (int, float, Decimal)) else v
                                                   for k, v in data.items()})
    return colour, template.format_map(values)


def parse_amount(text: str | int | float | Decimal) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


class Handlers:
    """Every listener and command. `pool` is an asyncpg pool (or connection); `api` the call seam."""

    def __init__(
        self, pool: Any, *, api: Any = default_api, retry_delays: tuple[float, ...] = (0.5, 2.0),
        pending_limit: int = 10_000,
    ) -> None:
        self.pool = pool
        self.api = api if not isinstance(api, dict) else types.SimpleNamespace(**api)
        self.retry_delays = retry_delays
        # Listener events that met a database outage, replayed later (the SQL is idempotent).
        self.pending: collections.deque[tuple[str, Callable[[], Awaitable[Any]]]] = collections.deque(
            maxlen=pending_limit
        )

    # --- plumbing -------------------------------------------------------------------------------

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One typed-layer call, retried on an outage (connection loss, restart, serialization)."""
        fn = getattr(self.api, name)
        for attempt, delay in enumerate((*self.retry_delays, None)):
            try:
                return await fn(self.pool, *args, **kwargs)
            except Exception as exc:
                if not is_outage(exc) or delay is None:
                    raise
                log.warning("db call failed, retrying", extra={"call": name, "attempt": attempt + 1,
                                                             "error": type(exc).__name__})
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _listen(self, what: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run a listener's call: an outage queues it for replay, a bug is logged, nothing raises."""
        try:
            return await fn()
        except Exception as exc:
            if is_outage(exc):
                self.pending.append((what, fn))
                log.error("db outage, event queued for replay", extra={"event": what, "error": type(exc).__name__,
                                                                      "queued": len(self.pending)})
            else:
                log.exception("listener failed", extra={"event": what})
            return None

    async def replay_pending(self) -> int:
        """Replay events queued during an outage; stops at the first that still fails. Returns replayed count."""
        done = 0
        while self.pending:
            what, fn = self.pending[0]
            try:
                await fn()
            except Exception as exc:
                if is_outage(exc):
                    return done
                log.exception("replayed listener failed", extra={"event": what})
            self.pending.popleft()
            done += 1
        return done

    async def _answer(
        self, r: Responder, name: str, body: Callable[[], Awaitable[None]], *, defer: bool = True,
        ephemeral: bool = True,
    ) -> None:
        """Acknowledge first (3-second deadline), then run; outages and bad input become polite replies."""
        if defer:
            await r.defer(ephemeral=ephemeral)
        try:
            await body()
        except Exception as exc:
            if is_outage(exc):
                log.error("db outage during command", extra={"command": name, "error": type(exc).__name__})
                await r.reply(APOLOGY, ephemeral=True)
                return
            message = friendly_error(exc)
            if message is not None:
                log.info("command refused", extra={"command": name, "sqlstate": getattr(exc, "sqlstate", None)})
                await r.reply(message, ephemeral=True)
                return
            log.exception("command failed", extra={"command": name})
            await r.reply(BUG, ephemeral=True)

    @staticmethod
    async def _need_server(ctx: CommandContext, r: Responder) -> bool:
        if ctx.server_id is None:
            await r.reply("Use this command in a server.", ephemeral=True)
            return False
        return True

    async def _need_admin(self, ctx: CommandContext, r: Responder) -> bool:
        if not await self._need_server(ctx, r):
            return False
        if not ctx.is_admin:
            await r.reply("This command is for server admins.", ephemeral=True)
            return False
        return True

    async def _status_reply(self, r: Responder, outcome: Outcome, ephemeral: bool = True) -> None:
        colour, text = status_text(outcome)
        await r.reply(embed=Embed(title="Resonance", description=text, color=colour), ephemeral=ephemeral)

    # --- listeners ----------------------------------------------------------------------------

    async def on_message(self, event: MessageEvent) -> Outcome | None:
        if event.author_is_bot:
            return None
        return await self._listen(f"message:{event.message_id}", lambda: self._call(
            "record_message", event.server_id, event.user_id, event.channel_id, event.message_id, event.content,
            event.role_ids, event.reply_to_user_id, event.occurred_at,
        ))

    async def on_reaction(self, event: ReactionEvent) -> Outcome | None:
        """One call: record_reaction counts the reaction and claims a reaction drop on that message.
        Without a known author (or on one's own message) only a drop can apply: claim_reaction_drop,
        which answers no_drop for an ordinary reaction."""
        if event.reactor_is_bot:
            return None
        if event.author_id is not None and event.author_id != event.reactor_id:
            return await self._listen(f"reaction:{event.message_id}:{event.reactor_id}", lambda: self._call(
                "record_reaction", event.server_id, event.reactor_id, event.author_id, event.channel_id,
                event.message_id, event.emoji, event.role_ids, event.occurred_at,
            ))
        if event.author_id is None:
            log.warning("reaction without a known message author", extra={"message_id": event.message_id})
        return await self._listen(f"reaction-drop:{event.message_id}:{event.reactor_id}", lambda: self._call(
            "claim_reaction_drop", event.server_id, event.message_id, event.emoji, event.reactor_id,
            event.role_ids, event.occurred_at,
        ))

    async def on_voice(self, change: VoiceChange) -> Outcome | None:
        """Join opens a session, leave ends and credits it; a move between channels keeps the session."""
        if change.is_bot or change.before_channel_id == change.after_channel_id:
            return None
        if change.before_channel_id is None and change.after_channel_id is not None:
            await self._listen(f"voice-join:{change.user_id}", lambda: self._call(
                "voice_session_join", change.server_id, change.user_id, change.after_channel_id, change.role_ids,
                change.at,
            ))
            return None
        if change.after_channel_id is None:
            return await self._listen(f"voice-leave:{change.user_id}", lambda: self._leave(change))
        return None  # moved: same session

    async def _leave(self, change: VoiceChange) -> Outcome | None:
        session = await self._call("voice_session_leave", change.server_id, change.user_id, change.at)
        if session is None:
            return None
        return await self.credit_voice(VoiceSession(
            session_id=str(session.session_id), server_id=session.server_id, user_id=session.user_id,
            channel_id=session.channel_id, started_at=session.started_at, ended_at=session.ended_at,
            role_ids=change.role_ids or session.role_ids,
        ))

    async def credit_voice(self, session: VoiceSession) -> Outcome:
        outcome = await self._call(
            "record_voice", session.server_id, session.user_id, session.channel_id, session.session_id,
            session.minutes, session.role_ids, session.ended_at,
        )
        await self._call("voice_session_credited", UUID(session.session_id))
        return outcome

    async def recover_voice(self, server_id: str, in_voice: dict[str, str], now: datetime,
                            role_ids: dict[str, list[str]] | None = None) -> dict[str, int]:
        """After a (re)start: `in_voice` maps member -> channel for who is in voice now.

        Ended sessions not yet credited are credited; open sessions of members who left while the bot
        was away end now and are credited; members in voice without a session get one from now.
        """
        role_ids = role_ids or {}
        counts = {"credited": 0, "closed": 0, "opened": 0}
        sessions = await self._call("voice_sessions_pending", server_id)
        open_members = set()
        for s in sessions:
            if s.ended_at is None and s.user_id in in_voice:
                open_members.add(s.user_id)
                continue
            if s.ended_at is None:
                ended = await self._call("voice_session_leave", server_id, s.user_id, now)
                if ended is None:
                    continue
                s = ended
                counts["closed"] += 1
            await self.credit_voice(VoiceSession(
                session_id=str(s.session_id), server_id=s.server_id, user_id=s.user_id, channel_id=s.channel_id,
                started_at=s.started_at, ended_at=s.ended_at, role_ids=s.role_ids,
            ))
            counts["credited"] += 1
        for user_id, channel_id in in_voice.items():
            if user_id not in open_members:
                await self._call("voice_session_join", server_id, user_id, channel_id, role_ids.get(user_id, []), now)
                counts["opened"] += 1
        return counts

    async def on_member_join(self, event: MemberJoin) -> Outcome | None:
        if event.is_bot:
            return None
        return await self._listen(f"join:{event.user_id}", lambda: self._call(
            "record_event", event.server_id, event.user_id, "member_join", f"join:{event.user_id}", [],
            None, {}, event.joined_at,
        ))

    async def on_roles_added(self, event: RolesAdded) -> list[Any]:
        """A role with a one-time bonus pays it once per member (claim_one_time_bonus decides: paid,
        already_claimed or not_eligible for a role without a bonus)."""
        if event.is_bot:
            return []
        outcomes = []
        for role_id in event.added_role_ids:
            outcomes.append(await self._listen(f"role:{event.user_id}:{role_id}", lambda role_id=role_id: self._call(
                "claim_one_time_bonus", event.server_id, event.user_id, role_id, event.role_ids, event.at,
            )))
        return outcomes

    # --- member commands ----------------------------------------------------------------------

    async def checkin(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if await self._need_server(ctx, r):
                outcome = await self._call("daily_checkin", ctx.server_id, ctx.user_id, ctx.role_ids, ctx.at)
                await self._status_reply(r, outcome)
        await self._answer(r, "checkin", body)

    async def balance(self, ctx: CommandContext, r: Responder, currency: str = "RSNC") -> None:
        async def body() -> None:
            amount = await self._call("balance", ctx.user_id, currency.upper())
            await r.reply(embed=Embed(title="Your balance", description=f"**{whole(amount)} {currency.upper()}**",
                                      color=GOLD), ephemeral=True)
        await self._answer(r, "balance", body)

    async def leaderboard(self, ctx: CommandContext, r: Responder, period: str = "week") -> None:
        async def body() -> None:
            if not await self._need_server(ctx, r):
                return
            if period not in PERIODS:
                await r.reply(f"Period must be one of: {', '.join(PERIODS)}.", ephemeral=True)
                return
            rows = await self._call("leaderboard", ctx.server_id, period, 10)
            lines = []
            for i, row in enumerate(rows, start=1):
                data = as_dict(row)
                user = data.get("discord_user_id") or data.get("user_id")
                amount = data.get("rsnc_earned", data.get("amount", data.get("score", 0)))
                rank = data.get("rank", i)
                lines.append(f"**{rank}.** <@{user}> · {whole(amount)} RSNC")
            embed = Embed(title=f"Leaderboard ({period})", description="\n".join(lines) or "No activity yet.",
                          color=GOLD)
            await r.reply(embed=embed, ephemeral=False)
        await self._answer(r, "leaderboard", body, ephemeral=False)

    async def stats(self, ctx: CommandContext, r: Responder, member_id: str | None = None) -> None:
        async def body() -> None:
            if not await self._need_server(ctx, r):
                return
            user = member_id or ctx.user_id
            data = as_dict(await self._call("member_stats", ctx.server_id, user))
            data.pop("status", None)
            embed = Embed(title="Stats", description=f"<@{user}>", color=BLUE)
            for key in ("messages_count", "voice_minutes", "reactions_given", "reactions_count", "reactions_received",
                        "rsnc_earned", "current_streak", "longest_streak", "achievements_completed", "rank",
                        "balance"):
                if key in data and data[key] is not None:
                    embed.add(key.replace("_", " "), whole(data[key]) if isinstance(data[key], (int, float, Decimal))
                              else data[key])
            if not embed.fields:
                embed.description += "\nNo activity recorded yet."
            await r.reply(embed=embed, ephemeral=True)
        await self._answer(r, "stats", body)

    async def tip(self, ctx: CommandContext, r: Responder, receiver_id: str, amount: str,
                  currency: str = "RSNC", receiver_is_bot: bool = False) -> None:
        async def body() -> None:
            value = parse_amount(amount)
            if value is None or value <= 0:
                await r.reply("The amount must be a positive number.", ephemeral=True)
                return
            if receiver_is_bot:
                await r.reply("Bots can't receive tips.", ephemeral=True)
                return
            if receiver_id == ctx.user_id:
                await r.reply("You can't tip yourself.", ephemeral=True)
                return
            key = f"tip:{ctx.interaction_id}" if ctx.interaction_id else None
            await self._call("tip", ctx.user_id, receiver_id, value, currency.upper(), ctx.server_id, key)
            await r.reply(embed=Embed(title="Tip sent", color=GREEN,
                                      description=f"<@{ctx.user_id}> tipped <@{receiver_id}> "
                                                  f"**{whole(value)} {currency.upper()}**"), ephemeral=False)
        await self._answer(r, "tip", body, ephemeral=False)

    async def wallet_register(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            data = as_dict(await self._call("create_registration_nonce", ctx.user_id, ctx.user_name or None))
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
        await self._answer(r, "wallet register", body)

    async def wallet_verify(self, ctx: CommandContext, r: Responder, wallet_address: str, nonce: str,
                            signature: str) -> None:
        async def body() -> None:
            outcome = await self._call("register_wallet", ctx.user_id, nonce.strip(), wallet_address.strip(),
                                       signature.strip(), ctx.user_name or None)
            status = as_dict(outcome).get("status") or "registered"
            if status in ("registered", "already_registered", "verified"):
                await r.reply(f"Wallet `{wallet_address}` is linked to your account.", ephemeral=True)
            else:
                await self._status_reply(r, outcome)
        await self._answer(r, "wallet verify", body)

    async def achievements(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self._need_server(ctx, r):
                return
            rows = await self._call("list_achievements", ctx.server_id, ctx.user_id)
            lines = []
            for row in rows:
                d = as_dict(row)
                done = "✅" if d.get("completed_at") else "▫️"
                progress = d.get("progress", 0) or 0
                lines.append(f"{done} **{d.get('name')}** · {whole(progress)}/{whole(d.get('threshold'))}"
                             + (f" · {whole(d.get('reward_amount'))} RSNC" if d.get("reward_amount") else ""))
            await r.reply(embed=Embed(title="Achievements", description="\n".join(lines) or "None set up yet.",
                                      color=GOLD), ephemeral=True)
        await self._answer(r, "achievements", body)

    async def goals(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self._need_server(ctx, r):
                return
            rows = await self._call("list_goals", ctx.server_id)
            lines = []
            for row in rows:
                d = as_dict(row)
                mark = "✅" if d.get("completed_at") else "🎯"
                lines.append(f"{mark} **{d.get('name')}** · {whole(d.get('current_value'))}/"
                             f"{whole(d.get('target_value'))}" + (f" · by {d['deadline']}" if d.get("deadline") else ""))
            await r.reply(embed=Embed(title="Community goals", description="\n".join(lines) or "No goals yet.",
                                      color=BLUE), ephemeral=False)
        await self._answer(r, "goals", body, ephemeral=False)

    async def buy_role(self, ctx: CommandContext, r: Responder, role_id: str) -> None:
        async def body() -> None:
            if not await self._need_server(ctx, r):
                return
            key = f"buy:{ctx.interaction_id}" if ctx.interaction_id else None
            outcome = await self._call("purchase_role", ctx.server_id, ctx.user_id, role_id, key, ctx.at)
            await self._status_reply(r, outcome)
        await self._answer(r, "buy role", body)

    async def history(self, ctx: CommandContext, r: Responder, currency: str | None = None) -> None:
        async def body() -> None:
            rows = await self._call("history", ctx.user_id, currency.upper() if currency else None, 10)
            lines = []
            for row in rows:
                d = as_dict(row)
                delta = d.get("delta")
                if delta is None:
                    delta = d.get("amount") if d.get("recipient_id") == ctx.user_id else -(d.get("amount") or 0)
                sign = "+" if Decimal(str(delta)) >= 0 else "-"
                kind = d.get("transaction_type") or d.get("type") or ""
                who = f" · <@{d['counterparty_id']}>" if d.get("counterparty_id") else ""
                lines.append(f"`{str(d.get('created_at', ''))[:16]}` {sign}{whole(abs(Decimal(str(delta))))} "
                             f"{d.get('currency', '')} · {kind}{who}")
            await r.reply(embed=Embed(title="History", description="\n".join(lines) or "No transactions yet.",
                                      color=BLUE), ephemeral=True)
        await self._answer(r, "history", body)

    async def ticket_open(self, ctx: CommandContext, r: Responder, subject: str, description: str = "") -> None:
        async def body() -> None:
            d = as_dict(await self._call("open_ticket", ctx.user_id, subject, description or None, "medium",
                                         ctx.user_name or None))
            inner = d.get("ticket") if isinstance(d.get("ticket"), dict) else d
            ticket = inner.get("id") or d.get("ticket_id") or d.get("value")
            await r.reply(f"Ticket #{ticket} opened: {subject}. Support will get back to you.", ephemeral=True)
        await self._answer(r, "ticket open", body)

    async def ticket_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            rows = await self._call("list_tickets", ctx.user_id)
            lines = [f"#{d.get('id')} · **{d.get('subject')}** · {d.get('status')}" for d in
                     (as_dict(row) for row in rows)]
            await r.reply(embed=Embed(title="Your tickets", description="\n".join(lines) or "No tickets.",
                                      color=BLUE), ephemeral=True)
        await self._answer(r, "ticket list", body)

    async def ticket_close(self, ctx: CommandContext, r: Responder, ticket_id: int) -> None:
        async def body() -> None:
            # tipping.close_ticket takes no owner: a member may only close a ticket of their own.
            mine = {as_dict(row).get("id") for row in await self._call("list_tickets", ctx.user_id)}
            if ticket_id not in mine:
                await r.reply(f"You have no ticket #{ticket_id}.", ephemeral=True)
                return
            status = as_dict(await self._call("close_ticket", ticket_id)).get("status")
            if status in (None, "closed"):
                await r.reply(f"Ticket #{ticket_id} closed.", ephemeral=True)
            else:
                await r.reply(f"Ticket #{ticket_id}: {status}.", ephemeral=True)
        await self._answer(r, "ticket close", body)

    async def claim_drop_button(self, ctx: CommandContext, r: Responder, drop_id: UUID) -> None:
        """The persistent claim button: its custom_id carried the drop id, so this works after a restart."""
        async def body() -> None:
            outcome = await self._call("claim_drop", drop_id, ctx.user_id, ctx.role_ids, ctx.at)
            await self._status_reply(r, outcome)
        await self._answer(r, "drop claim", body)

    # --- admin commands -----------------------------------------------------------------------

    async def drop_create(self, ctx: CommandContext, r: Responder, amount: int, max_claims: int,
                          minutes: int = 60, channel_id: str | None = None, kind: str = "button",
                          emoji: str = "🎁") -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            if amount <= 0 or max_claims <= 0 or minutes <= 0:
                await r.reply("Amount, claims and minutes must all be positive.", ephemeral=True)
                return
            target = channel_id or ctx.channel_id
            expires = (ctx.at or datetime.now(UTC)) + timedelta(minutes=minutes)
            embed = Embed(title="🎁 RSNC drop!", color=GOLD,
                          description=f"The first **{max_claims}** to claim get **{amount} RSNC** each.")
            embed.footer = f"Expires {expires:%Y-%m-%d %H:%M} UTC"
            if kind == "reaction":
                message_id = await r.post(target, embed=embed.model_copy(update={
                    "description": embed.description + f"\nReact with {emoji} to claim."}), reaction=emoji)
                outcome = await self._call("create_drop", ctx.server_id, amount, max_claims, expires,
                                           drop_type="reaction", channel_id=target, message_id=message_id,
                                           emoji=emoji, created_by=ctx.user_id, at=ctx.at)
            else:
                outcome = await self._call("create_drop", ctx.server_id, amount, max_claims, expires,
                                           drop_type="button", channel_id=target, created_by=ctx.user_id, at=ctx.at)
                drop_id = drop_id_of(outcome)
                message_id = await r.post(target, embed=embed,
                                          button=Button(custom_id=f"{DROP_PREFIX}{drop_id}", label="Claim",
                                                        emoji="🎁"))
                await self._call("attach_drop_message", drop_id, target, message_id)
            await r.reply(f"Drop posted in <#{target}> (id `{drop_id_of(outcome)}`).", ephemeral=True)
            log.info("drop created", extra={"server_id": ctx.server_id, "drop_id": str(drop_id_of(outcome)),
                                           "message_id": message_id})
        await self._answer(r, "drop create", body)

    async def config_events_list(self, ctx: CommandContext, r: Responder) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            rows = await self._call("list_event_rules", ctx.server_id)
            lines = []
            for row in rows:
                d = as_dict(row)
                flag = "🟢" if d.get("is_enabled") else "⚪"
                extra = []
                if d.get("cooldown_hours"):
                    extra.append(f"cooldown {d['cooldown_hours']}h")
                if d.get("max_claims_per_user"):
                    extra.append(f"max {d['max_claims_per_user']}")
                lines.append(f"{flag} `{d.get('event_type')}` · {whole(d.get('reward_amount'))} RSNC"
                             + (f" · {', '.join(extra)}" if extra else ""))
            await r.reply(embed=Embed(title="Event rules", description="\n".join(lines) or "No rules yet.",
                                      color=BLUE), ephemeral=True)
        await self._answer(r, "config events list", body)

    async def config_events_set(self, ctx: CommandContext, r: Responder, event_type: str, reward_amount: int,
                                cooldown_hours: int | None = None, max_claims_per_user: int | None = None,
                                enabled: bool = True, keywords: str | None = None, min_length: int | None = None,
                                min_reactions: int | None = None, channel_id: str | None = None) -> None:
        """Create or replace the server's rule of an event type (set_event_rule replaces the oldest one)."""
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            triggers = [t for t in (keywords, min_length, min_reactions) if t is not None]
            if len(triggers) > 1:
                await r.reply("Give at most one trigger: keywords, min_length or min_reactions.", ephemeral=True)
                return
            detection: dict[str, Any] | None = None
            if keywords is not None:
                words = [w.strip() for w in keywords.split(",") if w.strip()]
                detection = {"trigger": "keyword", "keywords": words}
            elif min_length is not None:
                detection = {"trigger": "min_length", "min_length": min_length}
            elif min_reactions is not None:
                detection = {"trigger": "reaction_count", "min_reactions": min_reactions}
            outcome = await self._call(
                "set_event_rule", ctx.server_id, event_type, reward_amount, cooldown_hours=cooldown_hours,
                max_claims_per_user=max_claims_per_user, enabled=enabled, detection_config=detection,
                channel_constraints=[channel_id] if channel_id else None, actor_id=ctx.user_id,
            )
            verb = "created" if as_dict(outcome).get("status") == "created" else "set"
            await r.reply(f"Rule `{event_type}` {verb}: {reward_amount} RSNC"
                          + (f", cooldown {cooldown_hours}h" if cooldown_hours else "")
                          + (f", max {max_claims_per_user}" if max_claims_per_user else "")
                          + (f", trigger {detection['trigger']}" if detection else "")
                          + (f", only in <#{channel_id}>" if channel_id else "")
                          + ("" if enabled else " (disabled)") + ".", ephemeral=True)
        await self._answer(r, "config events set", body)

    async def roles_effect(self, ctx: CommandContext, r: Responder, role_id: str, effect_type: str, value: str,
                           role_name: str | None = None) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            if effect_type not in EFFECT_TYPES:
                await r.reply(f"Effect must be one of: {', '.join(EFFECT_TYPES)}.", ephemeral=True)
                return
            number = parse_amount(value)
            if effect_type == "event_access":
                config: dict[str, Any] = {"event_types": [v.strip() for v in value.split(",") if v.strip()]}
            elif number is None or number < 0:
                await r.reply("The value must be a non-negative number.", ephemeral=True)
                return
            elif effect_type == "cooldown_reduction":
                config = {"percent": float(number)}
            elif effect_type in ("one_time_bonus", "auto_drip"):
                config = {"amount": float(number)} | ({"period": "day"} if effect_type == "auto_drip" else {})
            else:
                config = {"value": float(number)}
            await self._call("set_role_effect", ctx.server_id, role_id, effect_type, config, role_name=role_name,
                             actor_id=ctx.user_id)
            await r.reply(f"<@&{role_id}> now has `{effect_type}` {config}.", ephemeral=True)
        await self._answer(r, "roles effect", body)

    async def milestone_create(self, ctx: CommandContext, r: Responder, role_id: str, name: str, criterion: str,
                               threshold: int, bonus: int = 0, role_name: str | None = None) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            if criterion not in MILESTONE_CRITERIA or threshold <= 0 or bonus < 0:
                await r.reply(f"Criterion must be one of {', '.join(MILESTONE_CRITERIA)}, threshold > 0, "
                              "bonus >= 0.", ephemeral=True)
                return
            await self._call("create_milestone", ctx.server_id, role_id, name,
                             [{"type": criterion, "threshold": threshold}], bonus=bonus, role_name=role_name)
            await r.reply(f"Milestone **{name}**: {criterion} ≥ {threshold} grants <@&{role_id}>"
                          + (f" and {bonus} RSNC" if bonus else "") + ".", ephemeral=True)
        await self._answer(r, "milestone create", body)

    async def reward(self, ctx: CommandContext, r: Responder, member_id: str, amount: int, reason: str) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            if amount <= 0:
                await r.reply("The amount must be positive.", ephemeral=True)
                return
            source = f"manual:{ctx.interaction_id}" if ctx.interaction_id else None
            outcome = await self._call("manual_reward", ctx.server_id, ctx.user_id, member_id, amount, reason, source,
                                       ctx.at)
            if as_dict(outcome).get("status") in (None, "rewarded"):
                await r.reply(f"<@{member_id}> received **{amount} RSNC**: {reason}", ephemeral=False)
            else:
                await self._status_reply(r, outcome)
        await self._answer(r, "reward", body, ephemeral=False)

    async def kpi(self, ctx: CommandContext, r: Responder, day: date | None = None) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            the_day = day or ((ctx.at or datetime.now(UTC)).date() - timedelta(days=1))
            data = as_dict(await self._call("compute_kpis", ctx.server_id, the_day))
            data.pop("status", None)
            embed = Embed(title=f"KPIs for {the_day}", color=BLUE)
            for key, value in data.items():
                if isinstance(value, bool) or isinstance(value, (dict, list)):
                    continue
                if isinstance(value, (int, float, Decimal)):
                    value = whole(round(Decimal(str(value)), 4))
                embed.add(key.replace("_", " "), "n/a" if value is None else value)
            await r.reply(embed=embed, ephemeral=True)
        await self._answer(r, "kpi", body)

    async def reports_schedule(self, ctx: CommandContext, r: Responder, frequency: str, channel_id: str,
                               day_of_week: int | None = None) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            if frequency not in ("daily", "weekly", "monthly"):
                await r.reply("Frequency must be daily, weekly or monthly.", ephemeral=True)
                return
            if frequency == "weekly" and day_of_week is None:
                await r.reply("A weekly report needs a day of the week (0 = Sunday ... 6 = Saturday).",
                              ephemeral=True)
                return
            await self._call("set_report_schedule", ctx.server_id, frequency, channel_id, day_of_week)
            await r.reply(f"{frequency.capitalize()} reports will be posted in <#{channel_id}>.", ephemeral=True)
        await self._answer(r, "reports schedule", body)

    async def audit(self, ctx: CommandContext, r: Responder, limit: int = 10) -> None:
        async def body() -> None:
            if not await self._need_admin(ctx, r):
                return
            rows = await self._call("recent_audit", ctx.server_id, max(1, min(limit, 25)))
            lines = []
            for row in rows:
                d = as_dict(row)
                who = d.get("actor_id") or d.get("actor_type") or "?"
                target = f" → <@{d['target_user_id']}>" if d.get("target_user_id") else ""
                lines.append(f"`{str(d.get('created_at', ''))[:16]}` **{d.get('action')}** by {who}{target}")
            await r.reply(embed=Embed(title="Audit log", description="\n".join(lines) or "Nothing yet.",
                                      color=BLUE), ephemeral=True)
        await self._answer(r, "audit", body)


def drop_id_of(outcome: Any) -> UUID | None:
    if isinstance(outcome, UUID):
        return outcome
    data = as_dict(outcome)
    value = data.get("drop_id") or data.get("id") or data.get("value")
    return UUID(str(value)) if value else None
