"""Solana wallet registration and trust-badge minting, the Python side of the tipping ledger.

The database does everything it can (tipping.create_registration_nonce,
tipping.complete_wallet_registration: one use, 10-minute expiry, the member it was issued to, one
wallet per member, one member per wallet). What Postgres cannot do is check an ed25519 signature:
that happens here, with PyNaCl, over the exact challenge text tipping.registration_message builds,
before the nonce is consumed.

Badge NFTs need a Solana RPC endpoint that is not reachable here. `BadgeMinter` is the interface a
real minter implements; the default, `UnconfiguredBadgeMinter`, refuses clearly. No code path
writes a mint address that a real minter did not return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Union, runtime_checkable

import asyncpg
import base58
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

Executor = Union[asyncpg.Pool, asyncpg.Connection]


class WalletError(Exception):
    """A wallet registration refused before reaching the database; `code` mirrors docs/errors.md."""

    code = "RT010"


class InvalidWalletAddress(WalletError):
    code = "RT010"


class InvalidSignature(WalletError):
    code = "RT017"


class MinterNotConfigured(RuntimeError):
    """No badge minter is configured: trust-badge NFTs cannot be minted in this deployment."""


@dataclass(frozen=True)
class Challenge:
    nonce: str
    message: str
    discord_user_id: str
    expires_at: datetime


def decode_address(address: str) -> bytes:
    """The 32-byte ed25519 public key a base58 Solana address encodes, or InvalidWalletAddress."""
    if not isinstance(address, str) or not 32 <= len(address) <= 44:
        raise InvalidWalletAddress(f"not a Solana address: {address!r}")
    try:
        raw = base58.b58decode(address)
    except ValueError as exc:
        raise InvalidWalletAddress(f"not base58: {address!r}") from exc
    if len(raw) != 32:
        raise InvalidWalletAddress(f"a Solana address is 32 bytes, {address!r} is {len(raw)}")
    return raw


def decode_signature(signature: str | bytes) -> bytes:
    """A 64-byte ed25519 signature, given raw or base58 (as wallets such as Phantom return it)."""
    if isinstance(signature, bytes):
        raw = signature
    else:
        try:
            raw = base58.b58decode(signature)
        except ValueError as exc:
            raise InvalidSignature("the signature is not base58") from exc
    if len(raw) != 64:
        raise InvalidSignature(f"an ed25519 signature is 64 bytes, got {len(raw)}")
    return raw


def verify_signature(wallet_address: str, message: str, signature: str | bytes) -> None:
    """Raises unless `signature` is the wallet's ed25519 signature over the UTF-8 bytes of `message`."""
    key = VerifyKey(decode_address(wallet_address))
    try:
        key.verify(message.encode("utf-8"), decode_signature(signature))
    except BadSignatureError as exc:
        raise InvalidSignature("the signature does not match this wallet and challenge") from exc


async def create_challenge(
    db: Executor, discord_user_id: str, discord_username: str | None = None, *, at: datetime | None = None
) -> Challenge:
    """A fresh nonce and the exact message the member must sign (valid 10 minutes, once)."""
    row: Any = await db.fetchval(
        "SELECT tipping.create_registration_nonce($1, $2, $3)::text", discord_user_id, discord_username, at
    )
    data = json.loads(row) if isinstance(row, str) else row
    return Challenge(
        nonce=data["nonce"],
        message=data["message"],
        discord_user_id=data["discord_user_id"],
        expires_at=datetime.fromisoformat(data["expires_at"]),
    )


async def register_wallet(
    db: Executor,
    discord_user_id: str,
    nonce: str,
    wallet_address: str,
    signature: str | bytes,
    discord_username: str | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Verify the signature over the challenge for (member, nonce), then let the database consume the
    nonce and bind the wallet. Raises InvalidWalletAddress / InvalidSignature here, or asyncpg's
    error with the RT0xx SQLSTATE from the database (unknown, used, expired or foreign nonce, wallet
    taken...). A bad signature never consumes the nonce."""
    message = await db.fetchval("SELECT tipping.registration_message($1, $2)", discord_user_id, nonce)
    verify_signature(wallet_address, message, signature)
    sig_text = base58.b58encode(decode_signature(signature)).decode("ascii")
    result = await db.fetchval(
        "SELECT tipping.complete_wallet_registration($1, $2, $3, $4, $5, $6)::text",
        discord_user_id,
        nonce,
        wallet_address,
        sig_text,
        discord_username,
        at,
    )
    return json.loads(result)


@runtime_checkable
class BadgeMinter(Protocol):
    """Mints a member's trust-badge NFT to their wallet and returns the real mint address."""

    async def mint_badge(self, *, discord_id: str, wallet_address: str, reputation_score: float) -> str: ...


class UnconfiguredBadgeMinter:
    """The default: there is no Solana endpoint or minting authority here, so it refuses."""

    async def mint_badge(self, *, discord_id: str, wallet_address: str, reputation_score: float) -> str:
        raise MinterNotConfigured(
            "no badge minter is configured: trust-badge NFTs are not minted in this deployment "
            "(the reputation score is still recorded in tipping.trust_badges)"
        )


async def mint_trust_badge(
    db: Executor, discord_id: str, minter: BadgeMinter | None = None, *, at: datetime | None = None
) -> dict[str, Any]:
    """Recompute the member's badge, mint it with `minter` (needs a registered wallet) and record the
    address the minter returned. With the default minter this raises MinterNotConfigured after the
    score was recomputed, and no mint address is written."""
    minter = minter or UnconfiguredBadgeMinter()
    badge = json.loads(await db.fetchval("SELECT tipping.recompute_trust_badge($1, $2)::text", discord_id, at))
    if badge.get("mint_address"):
        return badge
    wallet = badge.get("wallet_address")
    if not wallet:
        raise WalletError(f"member {discord_id} has no registered wallet to mint a badge to")
    mint_address = await minter.mint_badge(
        discord_id=discord_id, wallet_address=wallet, reputation_score=float(badge["reputation_score"])
    )
    decode_address(mint_address)
    recorded = json.loads(
        await db.fetchval("SELECT tipping.record_badge_mint($1, $2)::text", discord_id, mint_address)
    )
    return {**badge, "mint_address": recorded["mint_address"]}
