-- Verifications, trust badges (the reputation formula from ledger facts, badge mint recording) and
-- support tickets (enumerations, transitions, errors).
BEGIN;
\ir helpers/setup.psql
SELECT plan(52);

SELECT has_function('tipping', 'accept_terms', ARRAY['text', 'text', 'text', 'timestamp with time zone'], 'accept_terms exists');
SELECT has_function('tipping', 'recompute_trust_badge', ARRAY['text', 'timestamp with time zone'], 'recompute_trust_badge exists');
SELECT has_function('tipping', 'reputation_score', ARRAY['bigint', 'bigint', 'bigint', 'numeric', 'boolean'], 'reputation_score exists');
SELECT has_function('tipping', 'record_badge_mint', ARRAY['text', 'text'], 'record_badge_mint exists');
SELECT has_function('tipping', 'open_ticket', ARRAY['text', 'text', 'text', 'text', 'text'], 'open_ticket exists');
SELECT has_function('tipping', 'list_tickets', ARRAY['text', 'text', 'integer'], 'list_tickets exists');
SELECT has_function('tipping', 'update_ticket', ARRAY['bigint', 'text', 'text', 'text', 'text'], 'update_ticket exists');
SELECT has_function('tipping', 'close_ticket', ARRAY['bigint'], 'close_ticket exists');

-- accept_terms
CREATE TEMP TABLE t_terms AS SELECT tipping.accept_terms('alice', 'v1', 'Alice', '2026-01-01 00:00+00') AS r;
SELECT is((SELECT r ->> 'status' FROM t_terms), 'accepted', 'terms accepted');
SELECT results_eq(
    $$SELECT discord_username, terms_version, "timestamp", verified, wallet_address FROM tipping.verifications WHERE discord_id = 'alice'$$,
    $$VALUES ('Alice', 'v1', '2026-01-01 00:00+00'::timestamptz, FALSE, NULL::text)$$,
    'the verification records the version and when; not verified without a wallet'
);
SELECT is(tipping.accept_terms('alice', 'v1', NULL, '2026-02-01 00:00+00') ->> 'status', 'already_accepted', 'the same version again is already_accepted');
SELECT is((SELECT "timestamp" FROM tipping.verifications WHERE discord_id = 'alice'), '2026-01-01 00:00+00'::timestamptz, 'already_accepted changes nothing');
SELECT is(tipping.accept_terms('alice', 'v2', NULL, '2026-02-01 00:00+00') ->> 'terms_version', 'v2', 'a new version is recorded');
SELECT throws_ok($$SELECT tipping.accept_terms('alice', '')$$, 'RT020', NULL, 'RT020: a terms version is required');
SELECT throws_ok($$SELECT tipping.accept_terms('alice', NULL)$$, 'RT020', NULL, 'RT020: NULL terms version');
SELECT throws_ok($$SELECT tipping.accept_terms(NULL, 'v1')$$, 'RT006', NULL, 'RT006: accepting terms needs a member');

-- The formula
SELECT is(tipping.reputation_score(0, 0, 0, 0, FALSE), 0.00, 'a new member scores 0');
SELECT is(tipping.reputation_score(0, 0, 0, 0, TRUE), 10.00, 'verification is worth 10');
SELECT is(tipping.reputation_score(1, 0, 1, 0, FALSE), round(5 * ln(2::numeric) + 2.5, 2), 'one tip sent to one member');
SELECT is(tipping.reputation_score(0, 0, 0, 120, FALSE), 10.00, 'age: 1 point per 12 days');
SELECT is(tipping.reputation_score(100000, 100000, 1000, 10000, TRUE), 100.00, 'every term is capped: at most 100');
SELECT is(tipping.reputation_score(-5, NULL, NULL, -3, NULL), 0.00, 'nonsense inputs count as nothing');

-- recompute_trust_badge from ledger facts
UPDATE tipping.users SET created_at = now() - interval '60 days' WHERE user_id = 'alice';
CREATE TEMP TABLE t_seed_a AS SELECT tipping.mint('alice', 100, 'RSNC', 'seed') AS id;
CREATE TEMP TABLE t_tips AS
SELECT tipping.tip('alice', r, 1, 'RSNC') AS id FROM (VALUES ('bob'), ('carol'), ('bob')) AS v (r);
CREATE TEMP TABLE t_seed_b AS SELECT tipping.mint('bob', 5, 'RSNC', 'seed') AS id;
CREATE TEMP TABLE t_back AS SELECT tipping.tip('bob', 'alice', 2, 'RSNC') AS id;
CREATE TEMP TABLE t_badge AS SELECT tipping.recompute_trust_badge('alice', now()) AS b;
SELECT results_eq(
    $$SELECT (b ->> 'tips_sent')::integer, (b ->> 'tips_received')::integer, (b ->> 'counterparties')::integer, (b ->> 'account_age_days')::numeric, (b ->> 'verified')::boolean FROM t_badge$$,
    $$VALUES (3, 1, 2, 60.00::numeric, FALSE)$$,
    'the facts: 3 sent, 1 received, 2 counterparties, 60 days, not verified'
);
SELECT is(
    (SELECT (b ->> 'reputation_score')::numeric FROM t_badge),
    tipping.reputation_score(3, 1, 2, 60, FALSE),
    'the score is the documented formula of those facts'
);
SELECT is(
    (SELECT reputation_score FROM tipping.trust_badges WHERE discord_id = 'alice'),
    tipping.reputation_score(3, 1, 2, 60, FALSE)::numeric(10, 2),
    'the badge stores the score'
);
SELECT is((SELECT mint_address FROM tipping.trust_badges WHERE discord_id = 'alice'), NULL, 'no mint address without a real minter');
SELECT is(
    (tipping.recompute_trust_badge('alice', now() - interval '1 day') ->> 'tips_sent')::integer,
    0,
    'facts are taken as of p_at'
);
SELECT throws_ok($$SELECT tipping.recompute_trust_badge('ghost')$$, 'RT006', NULL, 'RT006: no badge for an unknown member');

-- Verified members score 10 more.
CREATE TEMP TABLE t_nonce AS SELECT tipping.create_registration_nonce('alice', NULL, '2026-01-01 00:00+00') AS c;
CREATE TEMP TABLE t_wallet AS
SELECT tipping.complete_wallet_registration('alice', (SELECT c ->> 'nonce' FROM t_nonce), 'So11111111111111111111111111111111111111112', 'sig', NULL, '2026-01-01 00:01+00') AS r;
SELECT is(
    (tipping.recompute_trust_badge('alice', now()) ->> 'reputation_score')::numeric,
    tipping.reputation_score(3, 1, 2, 60, TRUE),
    'terms + wallet = verified, worth 10'
);
SELECT is((SELECT wallet_address FROM tipping.trust_badges WHERE discord_id = 'alice'), 'So11111111111111111111111111111111111111112', 'the badge names the wallet');

-- record_badge_mint: only a real mint address, once.
SELECT throws_ok($$SELECT tipping.record_badge_mint('alice', 'fake-mint')$$, 'RT010', NULL, 'RT010: a mint address must be a Solana address');
SELECT throws_ok($$SELECT tipping.record_badge_mint('bob', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA')$$, 'RT021', NULL, 'RT021: no badge to mint');
SELECT is(tipping.record_badge_mint('alice', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA') ->> 'status', 'recorded', 'a real mint address is recorded');
SELECT is(tipping.record_badge_mint('alice', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA') ->> 'status', 'already_recorded', 'recording it again is already_recorded');
SELECT throws_ok($$SELECT tipping.record_badge_mint('alice', '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T')$$, 'RT022', NULL, 'RT022: a badge is minted once');

-- Tickets
CREATE TEMP TABLE t_ticket AS SELECT tipping.open_ticket('alice', '  Lost tip  ', 'it vanished', 'high', 'Alice') AS r;
SELECT results_eq(
    $$SELECT r ->> 'status', r -> 'ticket' ->> 'subject', r -> 'ticket' ->> 'status', r -> 'ticket' ->> 'priority' FROM t_ticket$$,
    $$VALUES ('opened', 'Lost tip', 'open', 'high')$$,
    'open_ticket opens with the given priority'
);
SELECT is(tipping.open_ticket('bob', 'Hello') -> 'ticket' ->> 'priority', 'medium', 'priority defaults to medium');
SELECT throws_ok($$SELECT tipping.open_ticket('alice', '   ')$$, 'RT033', NULL, 'RT033: a ticket needs a subject');
SELECT throws_ok($$SELECT tipping.open_ticket('alice', 'x', NULL, 'critical')$$, 'RT032', NULL, 'RT032: unknown priority');
SELECT throws_ok($$SELECT tipping.open_ticket(NULL, 'x')$$, 'RT006', NULL, 'RT006: a ticket needs a member');
SELECT is((SELECT count(*)::integer FROM tipping.list_tickets('alice')), 1, 'list_tickets by member');
SELECT is((SELECT count(*)::integer FROM tipping.list_tickets(NULL, 'open')), 2, 'list_tickets by status');
SELECT throws_ok($$SELECT * FROM tipping.list_tickets(NULL, 'pending')$$, 'RT031', NULL, 'RT031: unknown status to list');
SELECT is(
    tipping.update_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket), 'in_progress', 'urgent', 'staff1') -> 'ticket' ->> 'status',
    'in_progress',
    'update_ticket changes the status'
);
SELECT is(
    tipping.update_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket), NULL, 'urgent', 'staff1') ->> 'status',
    'unchanged',
    'the same values again are unchanged'
);
SELECT throws_ok(
    $$SELECT tipping.update_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket), 'done', NULL, 'staff1')$$,
    'RT031', NULL, 'RT031: unknown status'
);
SELECT throws_ok(
    $$SELECT tipping.update_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket), NULL, 'asap', 'staff1')$$,
    'RT032', NULL, 'RT032: unknown priority on update'
);
SELECT throws_ok($$SELECT tipping.update_ticket(-1, 'open', NULL, 'staff1')$$, 'RT030', NULL, 'RT030: unknown ticket');
SELECT is(tipping.close_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket)) ->> 'status', 'closed', 'close_ticket closes');
SELECT is(tipping.close_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket)) ->> 'status', 'already_closed', 'closing twice is already_closed');
SELECT throws_ok(
    $$SELECT tipping.update_ticket((SELECT (r -> 'ticket' ->> 'id')::bigint FROM t_ticket), 'open', NULL, 'staff1')$$,
    'RT034', NULL, 'RT034: closed is final'
);
SELECT throws_ok($$SELECT tipping.close_ticket(-1)$$, 'RT030', NULL, 'RT030: closing an unknown ticket');

SELECT * FROM finish();
ROLLBACK;
