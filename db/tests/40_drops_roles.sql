-- Role assignments: purchase_role, claim_one_time_bonus, assign_role/remove_role, run_auto_drip.
BEGIN;
\ir helpers/setup.psql
SELECT plan(33);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s-r', 'b-r');
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config, assignment_type, assignment_config) VALUES
    ('s-r', 'b-r', 'r-shop', 'multiplier', '{"value":2}', 'purchase', '{"price":100}'),
    ('s-r', 'b-r', 'r-free', 'multiplier', '{"value":2}', 'manual', '{}'),
    ('s-r', 'b-r', 'r-rich', 'multiplier', '{"value":1.5}', 'balance_threshold', '{"threshold":100}'),
    ('s-r', 'b-r', 'r-og', 'one_time_bonus', '{"amount":25}', 'external', '{}'),
    ('s-r', 'b-r', 'r-drip', 'auto_drip', '{"amount":3,"period":"day"}', 'external', '{}'),
    ('s-r', 'b-r', 'r-weekly', 'auto_drip', '{"amount":10,"period":"week"}', 'external', '{}');

-- purchase_role
SELECT lives_ok($$SELECT resonance.apply_reward('s-r', 'buyer', 'test', 'seed', 150, '2030-01-01')$$, 'the buyer earns 150');
SELECT is(
    (SELECT assigned_by FROM public.discord_role_assignments WHERE discord_user_id = 'buyer' AND discord_role_id = 'r-rich'), 'auto:balance',
    'a balance of 150 crosses the 100 threshold');
SELECT throws_ok($$SELECT resonance.purchase_role('s-r', 'buyer', 'r-none')$$, 'RS406', NULL, 'purchase_role: unknown role raises RS406');
SELECT throws_ok($$SELECT resonance.purchase_role('s-r', 'buyer', 'r-free')$$, 'RS407', NULL, 'purchase_role: a role not for sale raises RS407');
SELECT throws_ok($$SELECT resonance.purchase_role('s-r', 'poor', 'r-shop')$$, 'RT006', NULL, 'purchase_role: a member unknown to the ledger cannot pay');

SELECT resonance.purchase_role('s-r', 'buyer', 'r-shop', NULL, '2030-01-02') AS bought \gset
SELECT is(:'bought'::jsonb ->> 'status', 'purchased', 'purchase_role: purchased');
SELECT is((SELECT amount FROM tipping.balances WHERE user_id = 'buyer'), 50::numeric(20, 8), 'purchase_role: the price left the balance');
SELECT results_eq(
    $$SELECT assigned_by, ltz_spent FROM public.discord_role_assignments WHERE discord_user_id = 'buyer' AND discord_role_id = 'r-shop'$$,
    $$VALUES ('purchase', 100)$$, 'purchase_role: assignment with ltz_spent');
SELECT is(
    (SELECT count(*)::integer FROM resonance.outbox WHERE kind = 'add_role' AND payload ->> 'role_id' = 'r-shop'), 1,
    'purchase_role: an outbox add_role');
SELECT is(
    (SELECT transaction_type FROM tipping.transactions WHERE id = (:'bought'::jsonb ->> 'transaction_id')::uuid), 'purchase',
    'purchase_role: a purchase transaction in the ledger');
SELECT is(
    (SELECT removed_by FROM public.discord_role_assignments WHERE discord_user_id = 'buyer' AND discord_role_id = 'r-rich'), 'auto:balance',
    'purchase_role: balance_threshold role removed when the balance falls below');
SELECT is(
    (SELECT count(*)::integer FROM resonance.outbox WHERE kind = 'remove_role' AND payload ->> 'role_id' = 'r-rich'), 1,
    'purchase_role: an outbox remove_role for it');
SELECT is(resonance.purchase_role('s-r', 'buyer', 'r-shop') ->> 'status', 'already_owned', 'purchase_role: already_owned');

-- Too little balance: RT001, nothing changes.
SELECT lives_ok($$SELECT resonance.apply_reward('s-r', 'poor', 'test', 'seed-poor', 10, '2030-01-01')$$, 'a member with 10');
SELECT throws_ok($$SELECT resonance.purchase_role('s-r', 'poor', 'r-shop')$$, 'RT001', NULL, 'purchase_role: too little balance raises RT001');
SELECT is_empty($$SELECT FROM public.discord_role_assignments WHERE discord_user_id = 'poor' AND discord_role_id = 'r-shop'$$, 'purchase_role: no assignment left behind');
SELECT is((SELECT amount FROM tipping.balances WHERE user_id = 'poor'), 10::numeric(20, 8), 'purchase_role: the balance is untouched');

-- claim_one_time_bonus
SELECT throws_ok($$SELECT resonance.claim_one_time_bonus('s-none', 'u', 'r-og', '{r-og}')$$, 'RS001', NULL, 'claim_one_time_bonus: unknown server raises RS001');
SELECT is(resonance.claim_one_time_bonus('s-r', 'og', 'r-og', '{r-x}') ->> 'status', 'not_eligible', 'claim_one_time_bonus: not_eligible when the role is not held');
SELECT is(resonance.claim_one_time_bonus('s-r', 'og', 'r-free', '{r-free}') ->> 'status', 'not_eligible', 'claim_one_time_bonus: not_eligible for a role without a bonus');
SELECT resonance.claim_one_time_bonus('s-r', 'og', 'r-og', '{r-og,r-x}', '2030-01-03') AS paid \gset
SELECT is(:'paid'::jsonb ->> 'status', 'paid', 'claim_one_time_bonus: paid');
SELECT is((:'paid'::jsonb ->> 'amount')::numeric, 25::numeric, 'claim_one_time_bonus: paid carries the amount');
SELECT results_eq(
    $$SELECT assigned_by, one_time_bonus_claimed, one_time_bonus_amount FROM public.discord_role_assignments WHERE discord_user_id = 'og' AND discord_role_id = 'r-og'$$,
    $$VALUES ('external', TRUE, 25)$$, 'claim_one_time_bonus: recorded on the assignment');
SELECT is(resonance.claim_one_time_bonus('s-r', 'og', 'r-og', '{r-og}') ->> 'status', 'already_claimed', 'claim_one_time_bonus: already_claimed');

-- assign_role / remove_role
SELECT throws_ok($$SELECT resonance.assign_role('s-r', 'm', 'r-free', 'auto:magic')$$, 'RS408', NULL, 'assign_role: assigned_by other than manual/external raises RS408');
SELECT is(resonance.assign_role('s-r', 'm', 'r-free') ->> 'status', 'assigned', 'assign_role: assigned (manual, queued for Discord)');
SELECT is(resonance.assign_role('s-r', 'm', 'r-free') ->> 'status', 'already_assigned', 'assign_role: already_assigned');
SELECT is(resonance.remove_role('s-r', 'm', 'r-free') ->> 'status', 'removed', 'remove_role: removed');
SELECT is(resonance.remove_role('s-r', 'm', 'r-free') ->> 'status', 'not_assigned', 'remove_role: not_assigned');

-- run_auto_drip: holders paid once per period.
SELECT is(
    (SELECT count(*)::integer FROM (VALUES ('h1', 'r-drip'), ('h2', 'r-drip'), ('h1', 'r-weekly')) AS v (h, r)
     WHERE resonance.assign_role('s-r', v.h, v.r, 'external', '2030-01-01') ->> 'status' = 'assigned'), 3,
    'assign_role: external holders recorded');
SELECT is(resonance.run_auto_drip('2030-01-10 08:00+00'), 3, 'run_auto_drip: every holder paid');
SELECT is(resonance.run_auto_drip('2030-01-10 20:00+00'), 0, 'run_auto_drip: same day pays nothing more');
SELECT is(resonance.run_auto_drip('2030-01-11 08:00+00'), 2, 'run_auto_drip: next day pays the daily role again, not the weekly one');

SELECT * FROM finish();
ROLLBACK;
