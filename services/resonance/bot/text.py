"""Words for answers, built to fit Discord: amounts without trailing zeros, status replies, and the
limits every message the bot sends respects (2,000 characters of content, 25 fields of 1,024 ...)."""

from __future__ import annotations

import collections
from decimal import Decimal, InvalidOperation
from typing import Any

from resonance.bot.responder import BLUE, GREEN, ORANGE, RED, Embed

# Discord's limits (https://discord.com/developers/docs/resources/message#create-message,
# .../resources/channel#embed-object-embed-limits).
CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CHOICES_MAX = 25

# Free-text option lengths (Discord caps option values at 6,000; ours are what the SQL stores).
REASON_MAX = 200
SUBJECT_MAX = 100
DESCRIPTION_MAX = 1000
NAME_MAX = 100

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a clipped text ends with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def fit_embed(embed: Embed) -> Embed:
    """The embed within every per-part limit and the 6,000-character total (fields dropped from the end)."""
    out = embed.model_copy(deep=True)
    out.title = clip(out.title, EMBED_TITLE_MAX)
    out.description = clip(out.description, EMBED_DESCRIPTION_MAX)
    out.footer = clip(out.footer, FOOTER_MAX) if out.footer else None
    out.fields = out.fields[:EMBED_FIELDS_MAX]
    for field in out.fields:
        field.name = clip(field.name, FIELD_NAME_MAX) or "-"
        field.value = clip(field.value, FIELD_VALUE_MAX) or "-"

    def total() -> int:
        return (
            len(out.title)
            + len(out.description)
            + len(out.footer or "")
            + sum(len(f.name) + len(f.value) for f in out.fields)
        )

    while total() > EMBED_TOTAL_MAX and out.fields:
        out.fields.pop()
    if total() > EMBED_TOTAL_MAX:
        out.description = clip(out.description, max(1, EMBED_TOTAL_MAX - len(out.title) - len(out.footer or "")))
    return out


def lines_within(lines: list[str], limit: int) -> str:
    """Join lines, keeping as many as fit in `limit` characters, then "… and N more"."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        line = clip(line, limit)
        tail = f"{ELLIPSIS} and {len(lines) - i} more"
        room = limit - used - (len(tail) + 1 if i < len(lines) - 1 else 0)
        if len(line) + 1 > room:
            out.append(tail)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def whole(amount: Decimal | int | float | str | None) -> str:
    """An amount for display: no trailing zeros."""
    if amount is None:
        return "0"
    value = Decimal(str(amount)).normalize()
    return f"{value:f}"


def as_dict(value: Any) -> dict[str, Any]:
    """A typed-layer answer (a pydantic model, a dict, or None) as a plain dict."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return dict(value.model_dump())
    return dict(value)


def json_dict(value: Any) -> dict[str, Any]:
    """A typed-layer answer as a JSON-safe dict (decimals, dates and UUIDs as strings): what Runtime.once
    stores for a retried interaction."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return dict(value.model_dump(mode="json"))
    import json

    return dict(json.loads(json.dumps(dict(value), default=str)))


def parse_amount(text: str | int | float | Decimal) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


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
    "inactive": (ORANGE, "Resonance is paused in this server."),
    "paid": (GREEN, "Bonus paid: +{amount} RSNC."),
    "purchased": (GREEN, "Role bought for {price} RSNC. It will appear in a moment."),
    "already_owned": (ORANGE, "You already have that role."),
    "not_for_sale": (ORANGE, "That role isn't for sale."),
    "insufficient_funds": (RED, "Insufficient funds: you need {price} RSNC."),
}


def status_text(outcome: Any) -> tuple[int, str]:
    data = as_dict(outcome)
    status = str(data.get("status") or "")
    colour, template = STATUS_REPLIES.get(status, (BLUE, f"Result: {status or 'done'}."))
    values = collections.defaultdict(
        lambda: "?",
        {
            k: whole(v) if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) else v
            for k, v in data.items()
        },
    )
    return colour, template.format_map(values)
