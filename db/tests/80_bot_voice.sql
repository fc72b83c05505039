-- The bot's voice sessions: one open per member, one winner on leave, forget once credited.
BEGIN;
\ir helpers/setup.psql
SELECT plan(39);

SELECT has_table('resonance', 'voice_sessions', 'resonance.voice_sessions exists');

SELECT function_privs_are(
    'resonance', 'voice_session_leave', ARRAY['text', 'text', 'timestamp with time zone'], 'anon', ARRAY[]::text [],
    'anon cannot end voice sessions'
);
SELECT function_privs_are(
    'resonance', 'voice_session_leave', ARRAY['text', 'text', 'timestamp with time zone'], 'service_role',
    ARRAY['EXECUTE'], 'service_role can end voice sessions'
);

SELECT throws_ok(
    $$SELECT resonance.voice_session_join('g1', 'u1', 'v1', '{}', NULL)$$, 'RS001', NULL,
    'no voice session in a server that is not linked'
);
INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ('g1', 'b1', 'G1');

CREATE TEMP TABLE s ON COMMIT DROP AS
SELECT resonance.voice_session_join('g1', 'u1', 'v1', ARRAY['r1'], '2026-03-01 12:00+00') AS id;

SELECT is(
    resonance.voice_session_join('g1', 'u1', 'v2', '{}', '2026-03-01 12:05+00'), (SELECT id FROM s),
    'joining again keeps the open session'
);
SELECT is(
    (SELECT started_at FROM resonance.voice_sessions), '2026-03-01 12:00+00'::timestamptz,
    'the first start is kept'
);

SELECT results_eq(
    $$SELECT session_id, channel_id, ended_at FROM resonance.voice_session_leave('g1', 'u1', '2026-03-01 12:30+00')$$,
    $$SELECT id, 'v1'::text, '2026-03-01 12:30+00'::timestamptz FROM s$$,
    'leave ends the session and returns it'
);
SELECT is_empty(
    $$SELECT * FROM resonance.voice_session_leave('g1', 'u1', '2026-03-01 12:31+00')$$,
    'a second leave finds nothing open'
);
SELECT is(
    (SELECT count(*)::int FROM resonance.voice_sessions_pending('g1')), 1,
    'the ended session waits to be credited'
);
SELECT ok(resonance.voice_session_credited((SELECT id FROM s)), 'credited: forgotten');
SELECT ok(NOT resonance.voice_session_credited((SELECT id FROM s)), 'credited twice: already forgotten');
SELECT is_empty(
    $$SELECT * FROM resonance.voice_session_leave('g1', 'nobody', NULL)$$,
    'leaving without a session returns nothing'
);


-- Checkpoints: an open session is stamped, an ended one is not; the pending list shows the stamp.
SELECT resonance.voice_session_join('g1', 'u2', 'v1', '{}', '2026-03-01 13:00+00');
SELECT is(resonance.voice_checkpoint(ARRAY['g1'], '2026-03-01 13:07+00'), 1, 'checkpoint stamps the open session');
SELECT is(resonance.voice_checkpoint(ARRAY['other'], '2026-03-01 13:08+00'), 0, 'another server: nothing stamped');
SELECT is(
    (SELECT checkpoint_at FROM resonance.voice_sessions_pending('g1') WHERE user_id = 'u2'),
    '2026-03-01 13:07+00'::timestamptz, 'pending sessions carry their last checkpoint'
);

-- Linked servers and their voice policy.
UPDATE public.discord_server_configs SET config_metadata = '{"voice": {"count_alone": true}}' WHERE server_id = 'g1';
SELECT results_eq(
    $$SELECT server_id, voice_count_alone, voice_count_deafened FROM resonance.bot_servers(ARRAY['g1', 'nope'])$$,
    $$VALUES ('g1'::text, TRUE, FALSE)$$,
    'bot_servers: only linked guilds, with their voice policy'
);

-- Roles follow Discord: added and removed, for configured roles only; the bonus once.
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
VALUES ('g1', 'b1', 'r-bonus', 'one_time_bonus', '{"amount": 25}'), ('g1', 'b1', 'r-drip', 'auto_drip', '{"amount": 1}');
SELECT is(
    resonance.sync_member_roles('g1', 'u9', ARRAY['r-bonus', 'r-drip', 'r-unconfigured'], '2026-03-01 14:00+00')
    - 'bonuses',
    '{"status": "synced", "added": ["r-bonus", "r-drip"], "removed": []}'::jsonb,
    'sync: configured roles held in Discord are recorded'
);
SELECT is(tipping.balance('u9', 'RSNC'), 25::numeric, 'sync: the one-time bonus is paid');
SELECT is(
    resonance.sync_member_roles('g1', 'u9', ARRAY['r-bonus'], '2026-03-01 14:05+00') - 'bonuses',
    '{"status": "synced", "added": [], "removed": ["r-drip"]}'::jsonb,
    'sync: a role removed in Discord is recorded removed'
);
SELECT is(
    (SELECT removed_by FROM public.discord_role_assignments WHERE discord_user_id = 'u9' AND discord_role_id = 'r-drip'),
    'external', 'sync: removed as seen in Discord (no outbox row)'
);
SELECT is(
    (SELECT count(*)::int FROM resonance.outbox WHERE server_id = 'g1' AND kind IN ('add_role', 'remove_role')), 0,
    'sync: Discord is not told what it already shows'
);
SELECT resonance.sync_member_roles('g1', 'u9', ARRAY['r-bonus', 'r-drip'], '2026-03-01 14:10+00');
SELECT is(tipping.balance('u9', 'RSNC'), 25::numeric, 'sync again, role back: the bonus is not paid twice');
SELECT throws_ok(
    $$SELECT resonance.sync_member_roles('nope', 'u9', '{}', NULL)$$, 'RS001', NULL, 'sync: unlinked server raises RS001'
);
SELECT is(
    resonance.reconcile_server_roles('g1', '{"u9": ["r-bonus"], "u10": ["r-drip", "x"], "u11": ["x"]}', NULL),
    '{"status": "reconciled", "members": 2, "added": 1, "removed": 1}'::jsonb,
    'reconcile at startup: only members holding or recorded with configured roles, both ways'
);
SELECT is(
    resonance.reconcile_server_roles('g1', '{}', NULL) ->> 'removed', '2',
    'reconcile: members gone from the guild hold nothing'
);
SELECT throws_ok($$SELECT resonance.reconcile_server_roles('nope', '{}', NULL)$$, 'RS001', NULL, 'reconcile: RS001');

-- Interactions: claimed once, the stored answer returned to a retry.
SELECT is(resonance.claim_interaction('i-1', 'g1', 'reward') ->> 'status', 'claimed', 'interaction claimed');
SELECT resonance.finish_interaction('i-1', '{"status": "rewarded", "amount": 5}');
SELECT is(
    resonance.claim_interaction('i-1', 'g1', 'reward'),
    '{"status": "duplicate", "result": {"status": "rewarded", "amount": 5}}'::jsonb,
    'a retry of the interaction gets the first answer'
);
SELECT throws_ok($$SELECT resonance.claim_interaction('', 'g1', 'x')$$, 'RS404', NULL, 'no interaction id: RS404');

-- Drops: compensation and the sold-out edit through the outbox.
SELECT (resonance.create_drop('g1', 'button', 'c-1', p_max_claims => 1, p_reward_amount => 3,
                              p_required_role_ids => '{}') ->> 'drop_id') AS d1 \gset
SELECT is(resonance.cancel_drop(:'d1') ->> 'status', 'cancelled', 'cancel_drop: an unclaimed drop goes');
SELECT is((SELECT count(*)::int FROM public.discord_drops WHERE drop_id = :'d1'), 0, 'cancel_drop: deleted');
SELECT (resonance.create_drop('g1', 'button', 'c-1', p_max_claims => 1, p_reward_amount => 3,
                              p_required_role_ids => '{}') ->> 'drop_id') AS d2 \gset
SELECT resonance.attach_drop_message(:'d2', 'c-1', 'm-2');
SELECT is(resonance.claim_drop(:'d2', 'u1') ->> 'status', 'claimed', 'the last claim');
SELECT is(
    (SELECT payload ->> 'message_id' FROM resonance.outbox WHERE payload ->> 'type' = 'drop_sold_out'), 'm-2',
    'selling out queues the edit of the drop message'
);
SELECT is(resonance.cancel_drop(:'d2') ->> 'status', 'kept', 'cancel_drop: a claimed drop stays');
SELECT is(resonance.close_expired_drops('2099-01-01'), 0, 'no expiry: nothing to close');

-- Bounds admins cannot pass.
SELECT throws_ok(
    $$INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount)
      VALUES ('b1', 'g1', 'channel_message', 9007199254740992)$$,
    '23514', NULL, 'a reward amount of 2^53 is refused'
);
SELECT throws_ok(
    $$SELECT resonance.create_drop('g1', 'button', 'c-1', p_max_claims => 1000000, p_reward_amount => 3)$$,
    '23514', NULL, 'a drop for a million claimers is refused'
);

-- Outbox leases handed back on shutdown.
SELECT resonance.take_outbox(10, 'w1');
SELECT is(resonance.release_outbox('w1'), 1, 'release hands back the taken row');
SELECT is(
    (SELECT status || ':' || attempts FROM resonance.outbox WHERE payload ->> 'type' = 'drop_sold_out'), 'pending:0',
    'released: pending, and the take is not counted as an attempt'
);

SELECT * FROM finish();
ROLLBACK;
