-- Drops: create_drop, attach_drop_message, claim_drop (every status), claim_reaction_drop, close_expired_drops.
BEGIN;
\ir helpers/setup.psql
SELECT plan(50);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s-drop', 'b-drop'), ('s-other', 'b-other');
INSERT INTO public.monitoring_rules (id, brand_id, server_id, event_type, reward_amount)
VALUES ('00000000-0000-0000-0000-00000000d001', 'b-drop', 's-drop', 'drop', 40);
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
VALUES ('s-drop', 'b-drop', 'r-vip', 'event_access', '{"event_types":["drop"]}');

-- create_drop
SELECT throws_ok($$SELECT resonance.create_drop('s-none', 'button', 'c')$$, 'RS001', NULL, 'create_drop: unknown server raises RS001');
SELECT throws_ok($$SELECT resonance.create_drop('s-drop', 'pigeon', 'c', p_reward_amount => 1)$$, 'RS402', NULL, 'create_drop: unknown type raises RS402');
SELECT throws_ok($$SELECT resonance.create_drop('s-drop', 'reaction', 'c', 'm', p_reward_amount => 1)$$, 'RS402', NULL, 'create_drop: reaction drop without emoji raises RS402');
SELECT throws_ok($$SELECT resonance.create_drop('s-drop', 'button', 'c', p_max_claims => 0, p_reward_amount => 1)$$, 'RS402', NULL, 'create_drop: max_claims 0 raises RS402');
SELECT throws_ok(
    $$SELECT resonance.create_drop('s-drop', 'button', 'c', p_expires_at => '2030-01-01', p_reward_amount => 1, p_at => '2030-01-01')$$,
    'RS402', NULL, 'create_drop: expiry not after now raises RS402');
SELECT throws_ok($$SELECT resonance.create_drop('s-drop', 'button', 'c')$$, 'RS403', NULL, 'create_drop: no amount and no rule raises RS403');
SELECT throws_ok($$SELECT resonance.create_drop('s-drop', 'button', 'c', p_reward_amount => 2.5)$$, 'RS403', NULL, 'create_drop: fractional amount raises RS403');

SELECT resonance.create_drop(
    's-drop', 'button', 'c-1', 'm-1', NULL, '2030-01-01 12:00+00', 2, NULL, '00000000-0000-0000-0000-00000000d001', NULL, 'admin', '2030-01-01 11:00+00'
) AS created \gset
SELECT is(:'created'::jsonb ->> 'status', 'created', 'create_drop: created');
SELECT is((:'created'::jsonb ->> 'reward_amount')::numeric, 40::numeric, 'create_drop: the rule''s reward is the default');
SELECT is(:'created'::jsonb -> 'required_role_ids', '["r-vip"]'::jsonb, 'create_drop: event_access roles for drops are required by default');
SELECT is(
    (SELECT rule_id FROM public.discord_drops WHERE drop_id = (:'created'::jsonb ->> 'drop_id')::uuid),
    '00000000-0000-0000-0000-00000000d001'::uuid, 'create_drop: the rule is recorded');
SELECT (:'created'::jsonb ->> 'drop_id') AS d1 \gset

-- claim_drop
SELECT throws_ok($$SELECT resonance.claim_drop('00000000-0000-0000-0000-000000000000', 'u1')$$, 'RS401', NULL, 'claim_drop: unknown drop raises RS401');
SELECT throws_ok(format($$SELECT resonance.claim_drop(%L, '')$$, :'d1'), 'RS404', NULL, 'claim_drop: no member raises RS404');
SELECT is(resonance.claim_drop(:'d1', 'u1', '{r-other}', '2030-01-01 11:30+00') ->> 'status', 'not_eligible', 'claim_drop: not_eligible without a required role');

SELECT resonance.claim_drop(:'d1', 'u1', '{r-vip}', '2030-01-01 11:30+00') AS c1 \gset
SELECT is(:'c1'::jsonb ->> 'status', 'claimed', 'claim_drop: claimed');
SELECT is((:'c1'::jsonb ->> 'amount')::numeric, 40::numeric, 'claim_drop: claimed carries the amount');
SELECT is(resonance.claim_drop(:'d1', 'u1', '{r-vip}', '2030-01-01 11:31+00') ->> 'status', 'already_claimed', 'claim_drop: a second click is already_claimed');
SELECT is(resonance.claim_drop(:'d1', 'u2', '{r-vip}', '2030-01-01 11:32+00') ->> 'status', 'claimed', 'claim_drop: a second member claims');
SELECT is(resonance.claim_drop(:'d1', 'u3', '{r-vip}', '2030-01-01 11:33+00') ->> 'status', 'sold_out', 'claim_drop: sold_out after max_claims');
SELECT is((SELECT claims_count FROM public.discord_drops WHERE drop_id = :'d1'), 2, 'claim_drop: claims_count = max_claims');
SELECT is((SELECT count(*)::integer FROM public.discord_drop_claims WHERE drop_id = :'d1'), 2, 'claim_drop: one claim row per winner');
-- Decide first, pay right after: the decision pays nothing; pay_drop_claim pays once; the job pays the rest.
SELECT is(
    (SELECT paid_at FROM public.discord_drop_claims WHERE drop_id = :'d1' AND discord_user_id = 'u1'), NULL::timestamptz,
    'claim_drop: a decided claim is unpaid until pay_drop_claim');
SELECT is(
    (SELECT count(*)::integer FROM resonance.reward_ledger WHERE event_type = 'drop_claim'), 0,
    'claim_drop: the decision writes no reward');
SELECT is(resonance.pay_drop_claim((:'c1'::jsonb ->> 'claim_id')::uuid) ->> 'status', 'paid', 'pay_drop_claim: paid');
SELECT is(resonance.pay_drop_claim((:'c1'::jsonb ->> 'claim_id')::uuid) ->> 'status', 'already_paid', 'pay_drop_claim: a second payment pays nothing');
SELECT throws_ok($$SELECT resonance.pay_drop_claim('00000000-0000-0000-0000-000000000000')$$, 'RS410', NULL, 'pay_drop_claim: unknown claim raises RS410');
SELECT is(resonance.pay_unpaid_drop_claims(), 1, 'pay_unpaid_drop_claims pays the one decided, unpaid claim (u2)');
SELECT is(resonance.pay_unpaid_drop_claims(), 0, 'pay_unpaid_drop_claims: nothing left to pay');
SELECT is(
    (SELECT count(*)::integer FROM resonance.reward_ledger WHERE event_type = 'drop_claim'), 2,
    'one reward decision per winner');
SELECT is(
    (SELECT amount FROM tipping.balances WHERE user_id = 'u1' AND currency = 'RSNC'), 40::numeric(20, 8),
    'claim_drop: the reward reaches the ledger');
SELECT is(
    (SELECT rule_id FROM resonance.reward_ledger WHERE event_type = 'drop_claim' AND source_id = :'d1' || ':u1'),
    '00000000-0000-0000-0000-00000000d001'::uuid, 'claim_drop: reward ledger row keyed drop:user');
SELECT is(
    (SELECT rsnc_earned FROM public.discord_user_stats WHERE server_id = 's-drop' AND discord_user_id = 'u1'), 40::bigint,
    'claim_drop: stats follow');
SELECT is(
    (SELECT drops_claimed FROM resonance.daily_activity WHERE server_id = 's-drop' AND discord_user_id = 'u1'), 1,
    'claim_drop: daily_activity.drops_claimed follows');

-- The expiry instant: just before claims, at the instant is expired.
SELECT (resonance.create_drop('s-drop', 'button', 'c-2', NULL, NULL, '2030-02-01 00:00+00', NULL, 5, 'custom', '{}', NULL, '2030-01-31 00:00+00') ->> 'drop_id') AS d2 \gset
SELECT is(resonance.claim_drop(:'d2', 'u1', '{}', '2030-01-31 23:59:59.999999+00') ->> 'status', 'claimed', 'claim_drop: claimed a microsecond before expiry');
SELECT is(resonance.claim_drop(:'d2', 'u2', '{}', '2030-02-01 00:00+00') ->> 'status', 'expired', 'claim_drop: expired at the expiry instant');
SELECT (resonance.create_drop('s-drop', 'button', 'c-2', NULL, NULL, '2020-01-02', NULL, 5, 'custom', '{}', NULL, '2020-01-01') ->> 'drop_id') AS d2b \gset
SELECT is(resonance.claim_drop(:'d2b', 'u3') ->> 'status', 'expired', 'claim_drop: expired by the clock (p_at NULL)');

-- Reaction drops
SELECT (resonance.create_drop('s-drop', 'reaction', 'c-3', 'm-3', '🎁', NULL, 1, 7, 'custom', '{}') ->> 'drop_id') AS d3 \gset
SELECT is(resonance.claim_reaction_drop('s-drop', 'm-3', '👍', 'u1') ->> 'status', 'no_drop', 'claim_reaction_drop: another emoji claims nothing');
SELECT is(resonance.claim_reaction_drop('s-other', 'm-3', '🎁', 'u1') ->> 'status', 'no_drop', 'claim_reaction_drop: another server''s reaction claims nothing');
SELECT is(resonance.claim_reaction_drop('s-drop', 'm-3', '🎁', 'u1') ->> 'status', 'claimed', 'claim_reaction_drop: the drop''s emoji claims');
SELECT is(resonance.claim_reaction_drop('s-drop', 'm-3', '🎁', 'u1') ->> 'status', 'already_claimed', 'claim_reaction_drop: again is already_claimed');
SELECT is(resonance.claim_reaction_drop('s-drop', 'm-3', '🎁', 'u2') ->> 'status', 'sold_out', 'claim_reaction_drop: sold_out');

-- attach_drop_message
SELECT (resonance.create_drop('s-drop', 'button', 'c-4', p_reward_amount => 1, p_required_role_ids => '{}') ->> 'drop_id') AS d4 \gset
SELECT is(resonance.attach_drop_message(:'d4', NULL, 'm-4') ->> 'status', 'attached', 'attach_drop_message: attached');
SELECT throws_ok($$SELECT resonance.attach_drop_message('00000000-0000-0000-0000-000000000000', 'c', 'm')$$, 'RS401', NULL, 'attach_drop_message: unknown drop raises RS401');

-- close_expired_drops
SELECT is(resonance.close_expired_drops('2030-02-01 00:00+00'), 3, 'close_expired_drops: closes the drops expired by then');
SELECT is(resonance.close_expired_drops('2030-02-01 00:00+00'), 0, 'close_expired_drops: a second run closes nothing');
SELECT is(
    (SELECT count(*)::integer FROM resonance.outbox WHERE kind = 'send_message' AND payload ->> 'type' = 'drop_closed'), 3,
    'close_expired_drops: one drop_closed message each');
SELECT is(resonance.claim_drop(:'d1', 'u9', '{r-vip}', '2030-01-01 11:34+00') ->> 'status', 'expired', 'claim_drop: a closed drop answers expired');

SELECT function_privs_are('resonance', 'claim_drop', ARRAY['uuid', 'text', 'text[]', 'timestamp with time zone'], 'authenticated', '{}'::text [], 'claim_drop: not for authenticated');
SELECT function_privs_are('resonance', 'claim_drop', ARRAY['uuid', 'text', 'text[]', 'timestamp with time zone'], 'service_role', ARRAY['EXECUTE'], 'claim_drop: service_role executes');
SELECT function_privs_are(
    'resonance', 'create_drop',
    ARRAY['text', 'text', 'text', 'text', 'text', 'timestamp with time zone', 'integer', 'numeric', 'text', 'text[]', 'text', 'timestamp with time zone'],
    'anon', '{}'::text [], 'create_drop: not for anon');

SELECT * FROM finish();
ROLLBACK;
