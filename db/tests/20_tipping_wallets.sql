-- Wallet registration: nonce issue, one-use consumption before expiry by its own member, one wallet
-- per member, one member per wallet, cleanup. (The ed25519 signature itself is checked in Python:
-- tests/test_wallet.py signs with real keys.)
BEGIN;
\ir helpers/setup.psql
SELECT plan(44);

SELECT has_function('tipping', 'create_registration_nonce', ARRAY['text', 'text', 'timestamp with time zone'], 'create_registration_nonce exists');
SELECT has_function('tipping', 'complete_wallet_registration', ARRAY['text', 'text', 'text', 'text', 'text', 'timestamp with time zone'], 'complete_wallet_registration exists');
SELECT has_function('tipping', 'cleanup_expired_nonces', ARRAY['timestamp with time zone'], 'cleanup_expired_nonces exists');
SELECT has_function('tipping', 'registration_message', ARRAY['text', 'text'], 'registration_message exists');
SELECT function_privs_are(
    'tipping', 'complete_wallet_registration', ARRAY['text', 'text', 'text', 'text', 'text', 'timestamp with time zone'],
    'authenticated', ARRAY[]::text [], 'authenticated cannot register wallets directly'
);

-- Issue
CREATE TEMP TABLE t_n1 AS SELECT tipping.create_registration_nonce('alice', 'Alice', '2026-01-01 12:00+00') AS c;
SELECT ok((SELECT (c ->> 'nonce') ~ '^[0-9a-f]{32}$' FROM t_n1), 'the nonce is 128 random bits in hex');
SELECT is((SELECT c ->> 'message' FROM t_n1), tipping.registration_message('alice', (SELECT c ->> 'nonce' FROM t_n1)), 'the returned message is the exact challenge text');
SELECT ok((SELECT position((c ->> 'nonce') IN (c ->> 'message')) > 0 AND position('alice' IN (c ->> 'message')) > 0 FROM t_n1), 'the message names the member and the nonce');
SELECT is((SELECT (c ->> 'expires_at')::timestamptz FROM t_n1), '2026-01-01 12:10+00'::timestamptz, 'the nonce expires after 10 minutes');
SELECT results_eq(
    $$SELECT discord_user_id, discord_username, used, expires_at FROM tipping.registration_nonces WHERE nonce = (SELECT c ->> 'nonce' FROM t_n1)$$,
    $$VALUES ('alice', 'Alice', FALSE, '2026-01-01 12:10+00'::timestamptz)$$,
    'the nonce is stored, unused'
);
SELECT isnt(
    (SELECT c ->> 'nonce' FROM t_n1),
    (tipping.create_registration_nonce('alice') ->> 'nonce'),
    'every nonce is fresh'
);
SELECT throws_ok($$SELECT tipping.create_registration_nonce(NULL)$$, 'RT006', NULL, 'RT006: a nonce needs a member');
SELECT throws_ok($$SELECT tipping.create_registration_nonce('  ')$$, 'RT006', NULL, 'RT006: a blank member is no member');

-- Refusals leave the nonce unused.
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'not-an-address', 'sig', NULL, '2026-01-01 12:01+00')$$,
    'RT010', NULL, 'RT010: not a Solana address'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111O12', 'sig', NULL, '2026-01-01 12:01+00')$$,
    'RT010', NULL, 'RT010: O is not a base58 character'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', '', NULL, '2026-01-01 12:01+00')$$,
    'RT017', NULL, 'RT017: no signature'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', 'deadbeef', 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-01 12:01+00')$$,
    'RT011', NULL, 'RT011: unknown nonce'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('bob', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-01 12:01+00')$$,
    'RT012', NULL, 'RT012: another member''s nonce'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-01 12:10+00')$$,
    'RT014', NULL, 'RT014: expired at exactly 10 minutes'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration(NULL, (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', 'sig')$$,
    'RT006', NULL, 'RT006: registration needs a member'
);
SELECT is((SELECT used FROM tipping.registration_nonces WHERE nonce = (SELECT c ->> 'nonce' FROM t_n1)), FALSE, 'refusals did not consume the nonce');
SELECT is_empty($$SELECT * FROM tipping.wallet_registrations$$, 'refusals bound no wallet');

-- Success
SELECT is(
    tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', 'sig-1', NULL, '2026-01-01 12:09:59+00') ->> 'status',
    'registered',
    'a fresh nonce of the member registers the wallet'
);
SELECT results_eq(
    $$SELECT discord_user_id, discord_username, wallet_address, verified_at, nonce, message_data ->> 'signature' FROM tipping.wallet_registrations$$,
    $$VALUES ('alice', 'Alice', 'So11111111111111111111111111111111111111112', '2026-01-01 12:09:59+00'::timestamptz, (SELECT c ->> 'nonce' FROM t_n1), 'sig-1')$$,
    'the registration keeps the wallet, when, the nonce and the signature'
);
SELECT is(
    (SELECT message_data ->> 'message' FROM tipping.wallet_registrations),
    (SELECT c ->> 'message' FROM t_n1),
    'the registration keeps the exact signed message'
);
SELECT results_eq(
    $$SELECT used, used_at FROM tipping.registration_nonces WHERE nonce = (SELECT c ->> 'nonce' FROM t_n1)$$,
    $$VALUES (TRUE, '2026-01-01 12:09:59+00'::timestamptz)$$,
    'the nonce is consumed'
);
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n1), 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-01 12:09:59+00')$$,
    'RT013', NULL, 'RT013: a nonce is accepted once'
);
SELECT ok(EXISTS (SELECT FROM tipping.users WHERE user_id = 'alice'), 'registration makes the member known to the ledger');

-- The same wallet again with a new nonce: refreshed proof.
CREATE TEMP TABLE t_n2 AS SELECT tipping.create_registration_nonce('alice', NULL, '2026-01-02 00:00+00') AS c;
SELECT is(
    tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n2), 'So11111111111111111111111111111111111111112', 'sig-2', NULL, '2026-01-02 00:01+00') ->> 'status',
    'already_registered',
    'proving the same wallet again is already_registered'
);
SELECT is((SELECT verified_at FROM tipping.wallet_registrations WHERE discord_user_id = 'alice'), '2026-01-02 00:01+00'::timestamptz, 'the proof is refreshed');

-- One wallet per member, one member per wallet.
CREATE TEMP TABLE t_n3 AS SELECT tipping.create_registration_nonce('alice', NULL, '2026-01-02 00:00+00') AS c;
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_n3), 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', 'sig', NULL, '2026-01-02 00:01+00')$$,
    'RT015', NULL, 'RT015: one wallet per member'
);
CREATE TEMP TABLE t_n4 AS SELECT tipping.create_registration_nonce('bob', NULL, '2026-01-02 00:00+00') AS c;
SELECT throws_ok(
    $$SELECT tipping.complete_wallet_registration('bob', (SELECT c ->> 'nonce' FROM t_n4), 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-02 00:01+00')$$,
    'RT016', NULL, 'RT016: a wallet bound to another member is refused'
);
SELECT is((SELECT used FROM tipping.registration_nonces WHERE nonce = (SELECT c ->> 'nonce' FROM t_n4)), FALSE, 'a refused binding leaves the nonce unused');
SELECT is(
    tipping.complete_wallet_registration('bob', (SELECT c ->> 'nonce' FROM t_n4), 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', 'sig', 'Bob', '2026-01-02 00:01+00') ->> 'status',
    'registered',
    'the member can still register a free wallet with that nonce'
);
SELECT is((SELECT count(*)::integer FROM tipping.wallet_registrations), 2, 'two members, two wallets');

-- Registration completes a verification whose terms were accepted.
CREATE TEMP TABLE t_terms AS SELECT tipping.accept_terms('carol', 'v1', NULL, '2026-01-02 00:00+00') AS r;
CREATE TEMP TABLE t_n5 AS SELECT tipping.create_registration_nonce('carol', NULL, '2026-01-02 00:00+00') AS c;
CREATE TEMP TABLE t_reg AS SELECT tipping.complete_wallet_registration('carol', (SELECT c ->> 'nonce' FROM t_n5), '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T', 'sig', NULL, '2026-01-02 00:01+00') AS r;
SELECT results_eq(
    $$SELECT wallet_address, verified FROM tipping.verifications WHERE discord_id = 'carol'$$,
    $$VALUES ('4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T', TRUE)$$,
    'terms accepted + wallet registered = verified'
);

-- Cleanup
SELECT ok(tipping.is_solana_address('11111111111111111111111111111111'), 'a 32-character base58 address is a Solana address');
SELECT ok(NOT tipping.is_solana_address(NULL), 'NULL is not a Solana address');
SELECT is((SELECT count(*)::integer FROM tipping.registration_nonces WHERE expires_at <= '2026-01-02 00:05+00'), 1, 'one nonce expired by then');
SELECT is(tipping.cleanup_expired_nonces('2026-01-02 00:05+00'), 1, 'cleanup deletes the expired nonces and counts them');
SELECT is((SELECT count(*)::integer FROM tipping.registration_nonces WHERE expires_at <= '2026-01-02 00:05+00'), 0, 'no expired nonce is left');
SELECT is(tipping.cleanup_expired_nonces('2026-01-02 00:05+00'), 0, 'cleanup again deletes nothing');
SELECT cmp_ok(tipping.cleanup_expired_nonces(now() + interval '11 minutes'), '>=', 1, 'nonces issued on the default clock expire 10 minutes after now()');
SELECT is_empty($$SELECT * FROM tipping.registration_nonces$$, 'and every nonce issued up to now is gone 11 minutes later');

SELECT * FROM finish();
ROLLBACK;
