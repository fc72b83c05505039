"""What a failed call means for the member: a database outage (apologise, log, retry) or a
documented SQLSTATE (a friendly ephemeral reply; the database changed nothing)."""

from __future__ import annotations

import asyncio

import asyncpg

# SQLSTATE classes and codes that mean "the database is unreachable or busy, try again".
TRANSIENT_CLASSES = ("08",)  # connection exceptions
TRANSIENT_CODES = {"57P01", "57P02", "57P03", "53300", "40001", "40P01"}
# The pool's statement_timeout (57014) and lock_timeout (55P03): the database is busy, nothing changed.
TIMEOUT_CODES = {"57014", "55P03"}

# Documented codes (docs/errors.md) -> what the member reads. Unlisted RS/RT/RA codes fall back to
# the function's own message, which names the problem.
FRIENDLY: dict[str, str] = {
    "RS001": "This server isn't linked to Resonance yet: an admin can run /setup.",
    "RS003": "That amount can't be negative.",
    "RS401": "That drop doesn't exist (any more).",
    "RS406": "That role isn't set up in Resonance.",
    "RS407": "That role isn't for sale.",
    "RS701": "Unknown link code: ask the brand for a new one in the Partner Portal.",
    "RS702": "That link code expired (codes last 10 minutes): ask the brand for a new one.",
    "RS703": "That link code was already used: ask the brand for a new one.",
    "RS704": "This server is linked to another brand: run /setup unlink first, then /setup start with the code.",
    "RT001": "Insufficient funds: your balance is too low for that.",
    "RT002": "You can't tip yourself.",
    "RT003": "The amount must be more than zero.",
    "RT004": "That amount has too many decimals.",
    "RT005": "Unknown currency.",
    "RT006": "Insufficient funds: you have no balance yet.",
    "RT010": "That isn't a valid Solana wallet address.",
    "RT011": "Unknown nonce: run /wallet register to get a fresh one.",
    "RT012": "That nonce was issued to someone else: run /wallet register yourself.",
    "RT013": "That nonce was already used: run /wallet register for a new one.",
    "RT014": "That nonce expired (10 minutes): run /wallet register for a new one.",
    "RT015": "You already registered another wallet.",
    "RT016": "That wallet is registered to another member.",
    "RT017": "The signature doesn't match: sign the exact message with that wallet and try again.",
    "RT030": "Unknown ticket.",
    "RT034": "That ticket is already closed.",
    "23514": "That value is out of the allowed range (amounts, claims and cooldowns have limits; a balance can't "
    "go below zero).",
}

INSUFFICIENT_FUNDS_HINTS = ("insufficient", "not enough", "balance")


def is_timeout(exc: BaseException) -> bool:
    """A statement or lock timeout of the pool (the database is busy): answered politely, not retried."""
    return isinstance(exc, asyncpg.PostgresError) and getattr(exc, "sqlstate", None) in TIMEOUT_CODES


def is_outage(exc: BaseException) -> bool:
    """True for connection loss, refused connections, timeouts, shutdowns and retryable conflicts."""
    if isinstance(exc, (OSError, asyncio.TimeoutError, asyncpg.InterfaceError)):
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return True
    code = getattr(exc, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError) and code:
        return code.startswith(TRANSIENT_CLASSES) or code in TRANSIENT_CODES
    return False


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, or the documented code a Python-side check raised with
    (resonance.wallet's WalletError carries `code`, e.g. RT017)."""
    if isinstance(exc, asyncpg.PostgresError):
        return getattr(exc, "sqlstate", None)
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code[:2] in ("RS", "RT", "RA") else None


def friendly_error(exc: BaseException) -> str | None:
    """The reply for a documented failure, or None when the error is a bug (not the member's fault)."""
    code = sqlstate(exc)
    if code is None:
        return None
    message = (getattr(exc, "message", None) or str(exc)).strip()
    if code in FRIENDLY:
        return FRIENDLY[code]
    if any(hint in message.lower() for hint in INSUFFICIENT_FUNDS_HINTS):
        return f"Insufficient funds: {message}."
    if code[:2] in ("RS", "RT", "RA") or code in ("22023", "P0001", "22P02", "23505"):
        return f"That didn't work: {message}."
    return None


BUSY = "Resonance is busy right now and gave up waiting. Nothing was changed; please try again in a moment."
SETUP_HINT = FRIENDLY["RS001"]
APOLOGY = "Sorry, Resonance can't reach its database right now. Nothing was changed; please try again in a minute."
BUG = "Sorry, something went wrong on our side. It has been logged."
