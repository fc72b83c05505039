-- The tipping ledger: mint, tip, spend, balance, history, reconcile, credit_reward, every RT0xx
-- error they raise, and that a failed call changes nothing.
BEGIN;
\ir helpers/setup.psql
SELECT plan(85);

-- Shape and privileges.
SELECT has_function('tipping', 'mint', ARRAY['text', 'numeric', 'text', 'text', 'text'], 'tipping.mint exists');
SELECT has_function('tipping', 'tip', ARRAY['text', 'text', 'numeric', 'text', 'text', 'text'], 'tipping.tip exists');
SELECT has_function('tipping', 'spend', ARRAY['text', 'numeric', 'text', 'text', 'text', 'text', 'text'], 'tipping.spend exists');
SELECT has_function('tipping', 'balance', ARRAY['text', 'text'], 'tipping.balance exists');
SELECT has_function('tipping', 'history', ARRAY['text', 'text', 'integer', 'timestamp with time zone'], 'tipping.history exists');
SELECT has_function('tipping', 'reconcile', ARRAY[]::text [], 'tipping.reconcile exists');
SELECT has_function('tipping', 'credit_reward', ARRAY['text', 'numeric', 'text', 'text', 'text', 'text'], 'tipping.credit_reward keeps its signature');
SELECT function_privs_are('tipping', 'tip', ARRAY['text', 'text', 'numeric', 'text', 'text', 'text'], 'anon', ARRAY[]::text [], 'anon cannot tip');
SELECT function_privs_are('tipping', 'mint', ARRAY['text', 'numeric', 'text', 'text', 'text'], 'authenticated', ARRAY[]::text [], 'authenticated cannot mint');
SELECT function_privs_are('tipping', 'spend', ARRAY['text', 'numeric', 'text', 'text', 'text', 'text', 'text'], 'service_role', ARRAY['EXECUTE'], 'service_role can spend');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      WHERE p.pronamespace = 'tipping'::regnamespace
        AND (p.proconfig IS NULL OR NOT 'search_path=""' = ANY(p.proconfig)
             OR has_function_privilege('anon', p.oid, 'EXECUTE')
             OR has_function_privilege('authenticated', p.oid, 'EXECUTE')
             OR obj_description(p.oid, 'pg_proc') IS NULL
             OR p.prosecdef)$$,
    'every tipping function pins search_path, has a comment, is not SECURITY DEFINER and is closed to anon/authenticated'
);

SELECT is_empty(
    $$SELECT c.relname FROM pg_class AS c
      WHERE c.relnamespace = 'tipping'::regnamespace AND c.relkind = 'r' AND NOT c.relrowsecurity$$,
    'every tipping table has RLS enabled (policies: db/policies/tipping.sql, tested by the security suite)'
);
SELECT is_empty(
    $$SELECT table_name FROM information_schema.role_table_grants
      WHERE table_schema = 'tipping' AND grantee IN ('anon', 'authenticated', 'PUBLIC')
        AND table_name IN ('balances', 'users', 'wallet_registrations', 'registration_nonces')$$,
    'anon and authenticated hold no privilege on balances, members, wallets or nonces'
);
SELECT tests.authenticate_as_brand('brand-1');
SELECT throws_ok($$SELECT * FROM tipping.balances$$, '42501', NULL, 'a Partner Portal user cannot read balances');
SELECT throws_ok($$SELECT tipping.balance('alice', 'RSNC')$$, '42501', NULL, 'nor call the ledger functions');
SELECT tests.clear_authentication();

-- The bot's login role is a member of service_role; membership does not carry BYPASSRLS, so the
-- service_role policies are what let it work.
CREATE ROLE tap_ledger_bot NOLOGIN INHERIT IN ROLE service_role;
GRANT tap_ledger_bot TO current_user;  -- SET ROLE needs membership unless we are a superuser (Supabase's postgres is not)
SET LOCAL ROLE tap_ledger_bot;
SELECT lives_ok($$SELECT tipping.mint('bot-a', 3, 'RSNC', 'bot')$$, 'a member of service_role mints under forced RLS');
SELECT lives_ok($$SELECT tipping.tip('bot-a', 'bot-b', 1, 'RSNC')$$, 'and tips');
SELECT is(tipping.balance('bot-b', 'RSNC'), 1.00000000, 'and reads balances');
SELECT is_empty($$SELECT * FROM tipping.reconcile()$$, 'and reconciles');
RESET ROLE;

-- Test currencies: one with 2 decimals, one inactive.
INSERT INTO tipping.currencies (code, decimals) VALUES ('USD2', 2);
INSERT INTO tipping.currencies (code, decimals, is_active) VALUES ('OLD', 8, FALSE);

-- mint
SELECT isa_ok(tipping.mint('alice', 100, 'RSNC', 'seed', 'mint-alice-1'), 'uuid', 'mint returns a uuid');
SELECT is(tipping.balance('alice', 'RSNC'), 100.00000000, 'mint credits the balance');
SELECT is(
    tipping.mint('alice', 100, 'RSNC', 'seed', 'mint-alice-1'),
    (SELECT id FROM tipping.transactions WHERE idempotency_key = 'mint-alice-1'),
    'a replayed mint returns the first transaction'
);
SELECT is(tipping.balance('alice', 'RSNC'), 100.00000000, 'a replayed mint moves nothing');
SELECT is((SELECT count(*)::integer FROM tipping.transactions WHERE idempotency_key = 'mint-alice-1'), 1, 'one transaction for the key');
SELECT results_eq(
    $$SELECT transaction_type, sender_id, recipient_id, amount, currency, reason, status FROM tipping.transactions WHERE idempotency_key = 'mint-alice-1'$$,
    $$VALUES ('mint', NULL::text, 'alice', 100.00000000::numeric(20, 8), 'RSNC', 'seed', 'completed')$$,
    'mint is a transaction with no sender'
);
SELECT ok(EXISTS (SELECT FROM tipping.users WHERE user_id = 'alice'), 'mint creates the member');
SELECT lives_ok($$SELECT tipping.mint('alice', 0.00000001, 'RSNC', 'dust')$$, 'mint accepts 8 decimals');
SELECT lives_ok($$SELECT tipping.mint('alice', 1.5, 'USD2', 'usd')$$, 'mint accepts another active currency');
SELECT is(tipping.balance('alice', 'USD2'), 1.50000000, 'balances are per currency');

-- tip
CREATE TEMP TABLE t_tip AS SELECT tipping.tip('alice', 'bob', 12.5, 'RSNC', 'server-1', 'tip-1') AS id;
SELECT is(tipping.balance('alice', 'RSNC'), 87.50000001, 'tip debits the sender');
SELECT is(tipping.balance('bob', 'RSNC'), 12.50000000, 'tip credits the receiver (created on the fly)');
SELECT results_eq(
    $$SELECT tp.sender, tp.receiver, tp.amount, tp.currency, tp.server_id, t.transaction_type
      FROM tipping.tips AS tp INNER JOIN tipping.transactions AS t ON t.id = tp.transaction_id
      WHERE tp.id = (SELECT id FROM t_tip)$$,
    $$VALUES ('alice', 'bob', 12.50000000::numeric(20, 8), 'RSNC', 'server-1', 'tip')$$,
    'tip records the tips row, its server and its transaction'
);
SELECT is(tipping.tip('alice', 'bob', 12.5, 'RSNC', 'server-1', 'tip-1'), (SELECT id FROM t_tip), 'a replayed tip returns the first tip id');
SELECT is(tipping.balance('alice', 'RSNC'), 87.50000001, 'a replayed tip debits nothing');
SELECT is(tipping.balance('bob', 'RSNC'), 12.50000000, 'a replayed tip credits nothing');
SELECT is((SELECT count(*)::integer FROM tipping.tips WHERE sender = 'alice'), 1, 'a replayed tip writes no second tips row');
SELECT lives_ok($$SELECT tipping.tip('bob', 'alice', 12.5, 'RSNC')$$, 'a member may tip their whole balance');
SELECT is(tipping.balance('bob', 'RSNC'), 0.00000000, 'down to exactly zero');

-- spend
SELECT tipping.mint('carol', 30, 'RSNC', 'seed');
CREATE TEMP TABLE t_spend AS SELECT tipping.spend('carol', 20, 'RSNC', 'brand-1', 'server-1', 'role:vip', 'buy-1') AS id;
SELECT is(tipping.balance('carol', 'RSNC'), 10.00000000, 'spend debits the member');
SELECT results_eq(
    $$SELECT transaction_type, sender_id, recipient_id, brand_id, server_id, reason FROM tipping.transactions WHERE id = (SELECT id FROM t_spend)$$,
    $$VALUES ('purchase', 'carol', NULL::text, 'brand-1', 'server-1', 'role:vip')$$,
    'spend is a purchase to the brand, out of circulation'
);
SELECT is(tipping.spend('carol', 20, 'RSNC', 'brand-1', 'server-1', 'role:vip', 'buy-1'), (SELECT id FROM t_spend), 'a replayed spend returns the first id');
SELECT is(tipping.balance('carol', 'RSNC'), 10.00000000, 'a replayed spend debits nothing');

-- balance
SELECT is(tipping.balance('nobody', 'RSNC'), 0::numeric, 'balance of an unknown member is 0');
SELECT is(tipping.balance('alice', 'OLD'), 0::numeric, 'an inactive currency is still readable');

-- credit_reward (shares the internals)
CREATE TEMP TABLE t_reward AS SELECT tipping.credit_reward('dave', 5, 'brand-1', 'server-1', 'reward:x') AS id;
SELECT is(tipping.balance('dave', 'RSNC'), 5.00000000, 'credit_reward credits RSNC');
SELECT is(tipping.credit_reward('dave', 5, 'brand-1', 'server-1', 'reward:x'), (SELECT id FROM t_reward), 'a replayed reward returns the first id');
SELECT is(tipping.balance('dave', 'RSNC'), 5.00000000, 'a replayed reward credits nothing');
SELECT results_eq(
    $$SELECT transaction_type, brand_id, reason FROM tipping.transactions WHERE id = (SELECT id FROM t_reward)$$,
    $$VALUES ('reward', 'brand-1', 'reward')$$,
    'credit_reward writes a reward transaction naming the brand'
);

-- Errors: each its own SQLSTATE, and nothing changes.
CREATE TEMP TABLE t_before AS
SELECT
    (SELECT count(*) FROM tipping.transactions) AS transactions,
    (SELECT count(*) FROM tipping.tips) AS tips,
    (SELECT sum(amount) FROM tipping.balances) AS total;

SELECT throws_ok($$SELECT tipping.tip('carol', 'alice', 10.00000001, 'RSNC')$$, 'RT001', NULL, 'RT001: tip more than the balance');
SELECT throws_ok($$SELECT tipping.spend('carol', 11, 'RSNC', 'brand-1')$$, 'RT001', NULL, 'RT001: spend more than the balance');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', 2, 'USD2')$$, 'RT001', NULL, 'RT001: tip in a currency the sender lacks enough of');
SELECT throws_ok($$SELECT tipping.tip('bob', 'alice', 1, 'OLD')$$, 'RT005', NULL, 'RT005: tip in an inactive currency');
SELECT throws_ok($$SELECT tipping.tip('alice', 'alice', 1, 'RSNC')$$, 'RT002', NULL, 'RT002: tip to self');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', 0, 'RSNC')$$, 'RT003', NULL, 'RT003: zero tip');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', -1, 'RSNC')$$, 'RT003', NULL, 'RT003: negative tip');
SELECT throws_ok($$SELECT tipping.mint('alice', NULL, 'RSNC', 'x')$$, 'RT003', NULL, 'RT003: NULL amount');
SELECT throws_ok($$SELECT tipping.spend('alice', -5, 'RSNC', 'brand-1')$$, 'RT003', NULL, 'RT003: negative spend');
SELECT throws_ok($$SELECT tipping.credit_reward('dave', 0, 'brand-1', 'server-1', 'reward:zero')$$, 'RT003', NULL, 'RT003: zero reward');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', 0.000000001, 'RSNC')$$, 'RT004', NULL, 'RT004: 9 decimals');
SELECT throws_ok($$SELECT tipping.mint('alice', 1.001, 'USD2', 'x')$$, 'RT004', NULL, 'RT004: more decimals than the currency allows');
SELECT throws_ok($$SELECT tipping.credit_reward('dave', 1.123456789, 'brand-1', 'server-1', 'reward:y')$$, 'RT004', NULL, 'RT004: over-precise reward');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', 1, 'NOPE')$$, 'RT005', NULL, 'RT005: unknown currency');
SELECT throws_ok($$SELECT tipping.mint('alice', 1, 'OLD', 'x')$$, 'RT005', NULL, 'RT005: inactive currency');
SELECT throws_ok($$SELECT tipping.balance('alice', 'NOPE')$$, 'RT005', NULL, 'RT005: balance in an unknown currency');
SELECT throws_ok($$SELECT tipping.tip('ghost', 'alice', 1, 'RSNC')$$, 'RT006', NULL, 'RT006: tip from an unknown member');
SELECT throws_ok($$SELECT tipping.spend('ghost', 1, 'RSNC', 'brand-1')$$, 'RT006', NULL, 'RT006: spend by an unknown member');
SELECT throws_ok($$SELECT tipping.mint(NULL, 1, 'RSNC', 'x')$$, 'RT006', NULL, 'RT006: mint without a member');
SELECT throws_ok($$SELECT tipping.tip('alice', NULL, 1, 'RSNC')$$, 'RT006', NULL, 'RT006: tip without a receiver');
SELECT throws_ok($$SELECT tipping.mint('alice', 2, 'RSNC', 'seed', 'mint-alice-1')$$, 'RT007', NULL, 'RT007: key reused with another amount');
SELECT throws_ok($$SELECT tipping.tip('alice', 'bob', 100, 'RSNC', NULL, 'mint-alice-1')$$, 'RT007', NULL, 'RT007: key reused for another kind of movement');
SELECT throws_ok($$SELECT * FROM tipping.history('alice', NULL, 0)$$, 'RT008', NULL, 'RT008: history limit out of range');

SELECT results_eq(
    $$SELECT (SELECT count(*) FROM tipping.transactions), (SELECT count(*) FROM tipping.tips), (SELECT sum(amount) FROM tipping.balances)$$,
    $$SELECT transactions, tips, total FROM t_before$$,
    'failed calls moved nothing and recorded nothing'
);
SELECT is(tipping.balance('carol', 'RSNC'), 10.00000000, 'the refused tip left the sender''s balance whole');

-- history
SELECT results_eq(
    $$SELECT transaction_type, direction, counterparty_id, amount, delta FROM tipping.history('bob') ORDER BY delta$$,
    $$VALUES ('tip', 'out', 'alice', 12.50000000::numeric, -12.50000000::numeric), ('tip', 'in', 'alice', 12.50000000::numeric, 12.50000000::numeric)$$,
    'history shows both directions with the counterparty and the signed delta'
);
SELECT is((SELECT count(*)::integer FROM tipping.history('alice')), 5, 'history lists every movement of a member');
SELECT is((SELECT count(*)::integer FROM tipping.history('alice', 'USD2')), 1, 'history filters by currency');
SELECT is((SELECT count(*)::integer FROM tipping.history('alice', NULL, 2)), 2, 'history honours the limit');
SELECT is((SELECT count(*)::integer FROM tipping.history('alice', NULL, 50, now())), 0, 'history pages with p_before');
SELECT is_empty($$SELECT * FROM tipping.history('nobody')$$, 'history of an unknown member is empty');
SELECT is(
    (SELECT tip_id FROM tipping.history('bob') WHERE direction = 'in'),
    (SELECT id FROM t_tip),
    'history links a tip movement to its tip'
);
SELECT is((SELECT brand_id FROM tipping.history('carol') WHERE transaction_type = 'purchase'), 'brand-1', 'history names the brand of a purchase');

-- reconcile
SELECT is_empty($$SELECT * FROM tipping.reconcile()$$, 'reconcile is empty on a healthy ledger');
SELECT is(
    (SELECT sum(amount) FROM tipping.balances WHERE currency = 'RSNC'),
    (SELECT sum(amount) FILTER (WHERE transaction_type IN ('mint', 'reward')) - coalesce(sum(amount) FILTER (WHERE transaction_type IN ('purchase', 'burn')), 0)
     FROM tipping.transactions WHERE currency = 'RSNC'),
    'the sum of balances is issued minus taken out of circulation'
);
UPDATE tipping.balances SET amount = amount + 1 WHERE user_id = 'bob' AND currency = 'RSNC';
SELECT results_eq(
    $$SELECT user_id, currency, balance, ledger_total, difference FROM tipping.reconcile()$$,
    $$VALUES ('bob', 'RSNC', 1.00000000::numeric, 0::numeric, 1.00000000::numeric)$$,
    'reconcile reports a balance that drifted from its movements'
);
DELETE FROM tipping.balances WHERE user_id = 'dave';
SELECT is((SELECT difference FROM tipping.reconcile() WHERE user_id = 'dave'), -5::numeric, 'reconcile reports movements without a balance row');

SELECT * FROM finish();
ROLLBACK;
