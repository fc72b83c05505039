"""Wallet registration end to end with real ed25519 keys generated here: the signature is checked in
Python (PyNaCl) over the exact challenge, the nonce rules in the database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import base58
import pytest
from nacl.signing import SigningKey

from resonance import wallet


def new_wallet() -> tuple[SigningKey, str]:
    key = SigningKey.generate()
    return key, base58.b58encode(bytes(key.verify_key)).decode("ascii")


def sign(key: SigningKey, message: str) -> str:
    return base58.b58encode(key.sign(message.encode("utf-8")).signature).decode("ascii")


async def nonce_used(db: asyncpg.Connection, nonce: str) -> bool:
    return await db.fetchval("SELECT used FROM tipping.registration_nonces WHERE nonce = $1", nonce)


async def test_valid_signature_registers_the_wallet(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    challenge = await wallet.create_challenge(db, "alice", "Alice")
    assert challenge.expires_at - datetime.now(timezone.utc) <= timedelta(minutes=10)
    assert challenge.nonce in challenge.message and "alice" in challenge.message

    result = await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message))

    assert result["status"] == "registered"
    row = await db.fetchrow("SELECT * FROM tipping.wallet_registrations WHERE discord_user_id = 'alice'")
    assert row["wallet_address"] == address
    assert row["discord_username"] == "Alice"
    assert await nonce_used(db, challenge.nonce)


async def test_wrong_signer_is_refused_and_keeps_the_nonce(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    impostor, _ = new_wallet()
    challenge = await wallet.create_challenge(db, "alice")

    with pytest.raises(wallet.InvalidSignature):
        await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(impostor, challenge.message))
    with pytest.raises(wallet.InvalidSignature):
        await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message + " "))
    with pytest.raises(wallet.InvalidSignature):
        await wallet.register_wallet(db, "alice", challenge.nonce, address, "not-a-signature-0OIl")
    assert not await nonce_used(db, challenge.nonce)
    assert await db.fetchval("SELECT count(*) FROM tipping.wallet_registrations") == 0

    # The real owner can still use the nonce.
    result = await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message))
    assert result["status"] == "registered"


async def test_invalid_addresses_are_refused(db: asyncpg.Connection) -> None:
    key, _ = new_wallet()
    challenge = await wallet.create_challenge(db, "alice")
    for bad in ["", "short", "0" * 44, base58.b58encode(b"x" * 31).decode()]:
        with pytest.raises(wallet.InvalidWalletAddress):
            await wallet.register_wallet(db, "alice", challenge.nonce, bad, sign(key, challenge.message))


async def test_replayed_nonce_is_refused(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    challenge = await wallet.create_challenge(db, "alice")
    signature = sign(key, challenge.message)
    await wallet.register_wallet(db, "alice", challenge.nonce, address, signature)
    with pytest.raises(asyncpg.PostgresError) as info:
        await wallet.register_wallet(db, "alice", challenge.nonce, address, signature)
    assert info.value.sqlstate == "RT013"


async def test_expired_nonce_is_refused(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    issued = datetime.now(timezone.utc) - timedelta(minutes=11)
    challenge = await wallet.create_challenge(db, "alice", at=issued)
    with pytest.raises(asyncpg.PostgresError) as info:
        await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message))
    assert info.value.sqlstate == "RT014"
    assert not await nonce_used(db, challenge.nonce)
    assert await db.fetchval("SELECT tipping.cleanup_expired_nonces()") == 1


async def test_another_members_nonce_is_refused(db: asyncpg.Connection) -> None:
    bob_key, bob_address = new_wallet()
    alice_challenge = await wallet.create_challenge(db, "alice")
    # Bob signs the challenge text for himself and alice's nonce: a valid signature, the wrong nonce.
    message = await db.fetchval("SELECT tipping.registration_message('bob', $1)", alice_challenge.nonce)
    with pytest.raises(asyncpg.PostgresError) as info:
        await wallet.register_wallet(db, "bob", alice_challenge.nonce, bob_address, sign(bob_key, message))
    assert info.value.sqlstate == "RT012"
    # Nor does alice's own signed challenge work for bob.
    with pytest.raises(wallet.InvalidSignature):
        await wallet.register_wallet(db, "bob", alice_challenge.nonce, bob_address, sign(bob_key, alice_challenge.message))
    assert not await nonce_used(db, alice_challenge.nonce)


async def test_wallet_bound_to_another_member_is_refused(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    first = await wallet.create_challenge(db, "alice")
    await wallet.register_wallet(db, "alice", first.nonce, address, sign(key, first.message))
    second = await wallet.create_challenge(db, "bob")
    message = await db.fetchval("SELECT tipping.registration_message('bob', $1)", second.nonce)
    with pytest.raises(asyncpg.PostgresError) as info:
        await wallet.register_wallet(db, "bob", second.nonce, address, sign(key, message))
    assert info.value.sqlstate == "RT016"


async def test_one_wallet_per_member(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    other_key, other_address = new_wallet()
    first = await wallet.create_challenge(db, "alice")
    await wallet.register_wallet(db, "alice", first.nonce, address, sign(key, first.message))
    second = await wallet.create_challenge(db, "alice")
    with pytest.raises(asyncpg.PostgresError) as info:
        await wallet.register_wallet(db, "alice", second.nonce, other_address, sign(other_key, second.message))
    assert info.value.sqlstate == "RT015"
    again = await wallet.create_challenge(db, "alice")
    assert (await wallet.register_wallet(db, "alice", again.nonce, address, sign(key, again.message)))["status"] == "already_registered"


async def test_a_nonce_is_consumed_once_under_concurrency(pool: asyncpg.Pool) -> None:
    key, address = new_wallet()
    async with pool.acquire() as conn:
        challenge = await wallet.create_challenge(conn, "alice")
    signature = sign(key, challenge.message)

    async def attempt() -> str:
        async with pool.acquire() as conn:
            try:
                return (await wallet.register_wallet(conn, "alice", challenge.nonce, address, signature))["status"]
            except asyncpg.PostgresError as exc:
                return exc.sqlstate

    results = await asyncio.gather(*(attempt() for _ in range(10)))
    assert results.count("registered") == 1
    assert results.count("RT013") == 9


async def test_default_badge_minter_refuses_and_writes_no_mint_address(db: asyncpg.Connection) -> None:
    key, address = new_wallet()
    challenge = await wallet.create_challenge(db, "alice")
    await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message))
    assert isinstance(wallet.UnconfiguredBadgeMinter(), wallet.BadgeMinter)

    with pytest.raises(wallet.MinterNotConfigured, match="no badge minter is configured"):
        await wallet.mint_trust_badge(db, "alice")
    badge = await db.fetchrow("SELECT * FROM tipping.trust_badges WHERE discord_id = 'alice'")
    assert badge["wallet_address"] == address
    assert badge["mint_address"] is None


async def test_a_configured_minter_records_the_address_it_returns(db: asyncpg.Connection) -> None:
    """A test double standing in for a real minter: what it returns is what gets recorded, once."""
    key, address = new_wallet()
    challenge = await wallet.create_challenge(db, "alice")
    await wallet.register_wallet(db, "alice", challenge.nonce, address, sign(key, challenge.message))
    _, minted = new_wallet()
    calls: list[dict] = []

    class RecordingMinter:
        async def mint_badge(self, *, discord_id: str, wallet_address: str, reputation_score: float) -> str:
            calls.append({"discord_id": discord_id, "wallet_address": wallet_address})
            return minted

    badge = await wallet.mint_trust_badge(db, "alice", RecordingMinter())
    assert badge["mint_address"] == minted
    assert calls == [{"discord_id": "alice", "wallet_address": address}]
    assert (await wallet.mint_trust_badge(db, "alice", RecordingMinter()))["mint_address"] == minted
    assert len(calls) == 1


def test_verify_signature_is_exactly_over_the_message() -> None:
    key, address = new_wallet()
    wallet.verify_signature(address, "hello", sign(key, "hello"))
    wallet.verify_signature(address, "hello", key.sign(b"hello").signature)
    with pytest.raises(wallet.InvalidSignature):
        wallet.verify_signature(address, "hello!", sign(key, "hello"))
