"""Workers: drain resonance.outbox onto Discord and post due reports.

Safe in several replicas: take_outbox/due_reports hand each row to one worker (FOR UPDATE SKIP
LOCKED in SQL). A failed effect goes back with fail_outbox, whose backoff (available_at) and
attempt limit live in SQL; a Discord rate limit is reported as a failure with its retry-after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from resonance.bot import api as default_api
from resonance.bot.errors import is_outage
from resonance.bot.responder import GOLD, Button, Embed
from resonance.bot.text import whole

log = logging.getLogger("resonance.bot.workers")


class DiscordTarget(Protocol):
    """The Discord side effects the outbox needs (the adapter wraps discord.Client; tests fake it)."""

    async def add_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None: ...

    async def remove_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None: ...

    async def send_message(self, channel_id: str, content: str | None, embed: Embed | None) -> str: ...

    async def send_dm(self, user_id: str, content: str | None, embed: Embed | None) -> str: ...

    async def edit_message(
        self, channel_id: str, message_id: str, content: str | None, embed: Embed | None, button: Button | None
    ) -> None: ...


class PermanentFailure(Exception):
    """The effect can never succeed (unknown member, role or channel): recorded, not retried forever."""


MessageHandler = Callable[[DiscordTarget, dict[str, Any]], Awaitable[None]]

# send_message payload "type" -> how to apply it, registered by the feature that owns the type
# (drops: drop_closed and drop_sold_out edit the drop message). Unregistered types are posted as text.
MESSAGE_TYPES: dict[str, MessageHandler] = {}


def message_type(name: str) -> Callable[[MessageHandler], MessageHandler]:
    """Register how the outbox applies send_message rows whose payload type is `name`."""

    def register(fn: MessageHandler) -> MessageHandler:
        MESSAGE_TYPES[name] = fn
        return fn

    return register


def _first(payload: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if payload.get(key) not in (None, ""):
            return payload[key]
    return None


def report_embed(report: dict[str, Any], *, title: str | None = None) -> Embed:
    """A report (resonance.build_report's jsonb, or any flat dict) as an embed: scalar metrics as
    fields, top lists as mentions, KPI sections as current value and change."""
    period = report.get("period") or report.get("frequency") or ""
    description = str(report.get("summary") or "")
    if report.get("from") and report.get("to"):
        description = (f"{report['from']} → {report['to']}\n" + description).strip()
    embed = Embed(
        title=title or report.get("title") or " ".join(f"Resonance {period} report".split()),
        description=description,
        color=GOLD,
    )
    skip = {"title", "summary", "period", "frequency", "server_id", "channel_id", "status", "from", "to", "due_since"}
    for key, value in report.items():
        if key in skip or len(embed.fields) >= 25:
            continue
        name = key.replace("_", " ")
        if isinstance(value, dict):
            text = _section(value)
            if text:
                embed.add(name, text[:1024], inline=False)
        elif isinstance(value, list):
            text = "\n".join(_line(v) for v in value[:10])
            if text:
                embed.add(name, text[:1024], inline=False)
        elif value is not None:
            embed.add(name, _fmt(value))
    return embed


def _section(value: dict[str, Any]) -> str:
    current, change = value.get("current"), value.get("change")
    if isinstance(current, dict):
        lines = []
        for k, v in current.items():
            delta = change.get(k) if isinstance(change, dict) else None
            suffix = (
                f" ({'+' if delta >= 0 else ''}{_fmt(delta)})"
                if isinstance(delta, (int, float)) or (delta is not None and delta.__class__.__name__ == "Decimal")
                else ""
            )
            lines.append(f"{k.replace('_', ' ')}: {_fmt(v) if v is not None else 'n/a'}{suffix}")
        return "\n".join(lines)
    parts = []
    for k, v in value.items():
        if isinstance(v, list):
            if v:
                parts.append(f"{k.replace('_', ' ')}: " + ", ".join(_line(x) for x in v[:5]))
        elif not isinstance(v, dict):
            parts.append(f"{k.replace('_', ' ')}: {_fmt(v)}")
    return "\n".join(parts)


def _line(item: Any) -> str:
    if isinstance(item, dict):
        user = item.get("user_id") or item.get("discord_user_id")
        rest = [
            f"{_fmt(v)}" + ("" if k in ("rsnc_earned", "amount") else f" {k.replace('_', ' ')}")
            for k, v in item.items()
            if k not in ("user_id", "discord_user_id", "rank")
        ]
        rest = [r.strip() + (" RSNC" if r.split(" ")[0] == r.strip() else "") for r in rest]
        return (f"<@{user}> · " if user else "") + ", ".join(rest)
    return _fmt(item)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) or value.__class__.__name__ == "Decimal":
        return whole(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def message_text(payload: dict[str, Any]) -> str:
    """Words for a notification the SQL queued as data ({"type": "milestone_reached", ...})."""
    kind = payload.get("type")
    if kind == "milestone_reached":
        bonus = payload.get("bonus_amount")
        role = f" and the <@&{payload['role_id']}> role" if payload.get("role_id") else ""
        return f"🏆 Milestone reached: **{payload.get('name') or 'milestone'}**! You earned{role}" + (
            f" plus a {whole(bonus)} RSNC bonus." if bonus else "."
        )
    return " ".join(f"{k}: {v}" for k, v in payload.items() if not isinstance(v, (dict, list))) or "Resonance update"


class OutboxWorker:
    def __init__(
        self,
        pool: Any,
        target: DiscordTarget,
        *,
        worker_id: str,
        batch: int = 20,
        pace_seconds: float = 0.25,
        api: Any = default_api,
    ) -> None:
        self.pool = pool
        self.target = target
        self.worker_id = worker_id
        self.batch = batch
        self.pace_seconds = pace_seconds
        self.api = api

    async def release(self) -> int:
        """Clean shutdown: hand back every row this worker holds (pending again at once)."""
        released = int(await self.api.release_outbox(self.pool, self.worker_id))
        if released:
            log.info("outbox: leases released", extra={"released": released, "worker": self.worker_id})
        return released

    async def run_once(self) -> dict[str, int]:
        """Take one batch, apply each effect, complete or fail it. Never raises on a DB outage."""
        counts = {"taken": 0, "done": 0, "failed": 0}
        try:
            rows = await self.api.take_outbox(self.pool, self.batch, self.worker_id)
        except Exception as exc:
            if is_outage(exc):
                log.error("outbox: database unreachable", extra={"error": type(exc).__name__})
                return counts
            raise
        counts["taken"] = len(rows)
        for row in rows:
            item = row.model_dump() if hasattr(row, "model_dump") else dict(row)
            outbox_id = item.get("id")
            try:
                await self.apply(item)
            except Exception as exc:
                counts["failed"] += 1
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning(
                    "outbox: effect failed",
                    extra={
                        "outbox_id": outbox_id,
                        "kind": item.get("kind"),
                        "attempts": item.get("attempts"),
                        "error": error,
                    },
                )
                await self._settle(self.api.fail_outbox, outbox_id, error)
            else:
                counts["done"] += 1
                await self._settle(self.api.complete_outbox, outbox_id)
            if self.pace_seconds:
                await asyncio.sleep(self.pace_seconds)
        if counts["taken"]:
            log.info("outbox batch", extra=counts | {"worker": self.worker_id})
        return counts

    async def _settle(self, fn: Any, outbox_id: Any, *args: Any) -> None:
        try:
            await fn(self.pool, outbox_id, self.worker_id, *args)
        except Exception as exc:
            # The lease expires and another take hands the row out again: at-least-once, never a crash.
            if not is_outage(exc):
                raise
            log.error(
                "outbox: could not record the result", extra={"outbox_id": outbox_id, "error": type(exc).__name__}
            )

    async def apply(self, item: dict[str, Any]) -> None:
        kind = item.get("kind")
        payload = item.get("payload") or {}
        server_id = str(item.get("server_id") or _first(payload, "server_id", "guild_id"))
        if kind in ("add_role", "remove_role"):
            user_id = _first(payload, "user_id", "discord_user_id", "member_id")
            role_id = _first(payload, "role_id", "discord_role_id")
            if not user_id or not role_id:
                raise PermanentFailure(f"{kind} payload lacks user_id/role_id: {payload}")
            reason = _first(payload, "reason") or f"Resonance {kind.replace('_', ' ')}"
            fn = self.target.add_role if kind == "add_role" else self.target.remove_role
            await fn(server_id, str(user_id), str(role_id), reason)
        elif kind == "send_message" and payload.get("type") in MESSAGE_TYPES:
            await MESSAGE_TYPES[payload["type"]](self.target, payload)
        elif kind == "send_message":
            channel_id = _first(payload, "channel_id")
            embed = Embed(**payload["embed"]) if isinstance(payload.get("embed"), dict) else None
            content = _first(payload, "content", "message", "text") or message_text(payload)
            user_id = _first(payload, "user_id", "discord_user_id")
            if channel_id:
                await self.target.send_message(str(channel_id), content, embed)
            elif user_id:
                # No channel named (a milestone reached, a bonus paid): tell the member directly.
                await self.target.send_dm(str(user_id), content, embed)
            else:
                raise PermanentFailure(f"send_message payload names no channel_id or user_id: {payload}")
        elif kind == "send_report":
            channel_id = _first(payload, "channel_id")
            report = payload.get("report") or payload
            if not channel_id:
                raise PermanentFailure(f"send_report payload lacks channel_id: {payload}")
            await self.target.send_message(str(channel_id), None, report_embed(report))
        else:
            raise PermanentFailure(f"unknown outbox kind {kind!r}")


class ReportWorker:
    """Posts the reports that are due (due_reports hands each to one worker) as embeds."""

    def __init__(self, pool: Any, target: DiscordTarget, *, worker_id: str, api: Any = default_api) -> None:
        self.pool = pool
        self.target = target
        self.worker_id = worker_id
        self.api = api

    async def run_once(self, now: Any = None) -> int:
        try:
            due = await self.api.due_reports(self.pool, now, self.worker_id)
        except Exception as exc:
            if is_outage(exc):
                log.error("reports: database unreachable", extra={"error": type(exc).__name__})
                return 0
            raise
        posted = 0
        for row in due:
            item = row.model_dump() if hasattr(row, "model_dump") else dict(row)
            report = item.get("report")
            if not isinstance(report, dict):
                period = item.get("period") or item.get("frequency") or "daily"
                report = (await self.api.build_report(self.pool, item["server_id"], period)).as_dict()
                report.pop("status", None)
                report.pop("amount", None)
            channel_id = item.get("channel_id") or report.get("channel_id")
            try:
                await self.target.send_message(str(channel_id), None, report_embed(report))
                posted += 1
            except Exception:
                log.exception("reports: posting failed", extra={"server_id": item.get("server_id")})
        if posted:
            log.info("reports posted", extra={"count": posted, "worker": self.worker_id})
        return posted
