-- The lean reward path (issue 18) and rule semantics (issue 16): one money ledger, one event
-- skeleton, server rules replacing brand rules, channels by id or name, batches, inactive servers.
BEGIN;
\ir helpers/setup.psql
SELECT plan(34);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('k1', 'kb'), ('k2', 'kb');
INSERT INTO public.discord_server_configs (server_id, brand_id, is_active) VALUES ('koff', 'kb', FALSE);
INSERT INTO public.monitoring_rules (id, brand_id, server_id, event_type, reward_amount, detection_config, is_enabled) VALUES
    ('00000000-0000-0000-0000-0000000000b1', 'kb', NULL, 'channel_message', 3, NULL, TRUE),
    ('00000000-0000-0000-0000-0000000000b2', 'kb', 'k1', 'channel_message', 100, NULL, TRUE),
    -- The Resonance seed doc's keyword example, verbatim: channels by NAME.
    ('00000000-0000-0000-0000-0000000000b3', 'kb', 'k1', 'keyword', 5,
        '{"trigger": "keyword", "keywords": ["gm","gn","gz"], "channels": ["gm-channel"]}', TRUE);

-- 16.2: a server rule of an event type replaces the brand rule of that type for that server.
SELECT is(
    (resonance.record_message('k1', 'u1', 'c-1', 'm1', 'hello there everyone', '{}', NULL, '2030-01-01 10:00Z') ->> 'amount')::numeric,
    100::numeric, 'a server rule replaces the brand rule of its event type: 100, not 103');
SELECT is(
    (resonance.record_message('k2', 'u1', 'c-1', 'm1', 'hello there everyone', '{}', NULL, '2030-01-01 10:00Z') ->> 'amount')::numeric,
    3::numeric, 'another server of the brand keeps the brand rule');
SELECT is(
    (SELECT count(*)::integer FROM resonance.event_rules('k1', 'kb', ARRAY['channel_message'])), 1,
    'event_rules: one channel_message rule for k1 (the server''s)');

-- 16.3: channels by id or by name.
SELECT is(
    resonance.record_message('k1', 'u2', '111', 'm2', 'gm', '{}', NULL, '2030-01-01 10:00Z', 'gm-channel') -> 'rules'
        -> 1 ->> 'status',
    'rewarded', 'the seed''s keyword rule fires for "gm" in #gm-channel (the name passed with the id)');
SELECT is(
    resonance.record_message('k1', 'u3', '222', 'm3', 'gm', '{}', NULL, '2030-01-01 10:01Z', 'general') -> 'rules'
        -> 1 ->> 'reason',
    'channel', 'not in another channel');
UPDATE public.monitoring_rules SET detection_config = detection_config || '{"channels": ["gm-channel", "333"]}'
WHERE id = '00000000-0000-0000-0000-0000000000b3';
SELECT is(
    resonance.record_message('k1', 'u2', '333', 'm4', 'gn all', '{}', NULL, '2030-01-01 10:02Z') -> 'rules' -> 1 ->> 'status',
    'rewarded', 'a channel id in the list still matches without a name');
SELECT ok(resonance.channel_listed(ARRAY['#GM-Channel'], NULL, 'gm-channel'), 'names match case-insensitively, a leading # ignored');

-- 18.1: one money ledger: each decision references its transaction, written with it.
SELECT is_empty(
    $$SELECT l.id FROM resonance.reward_ledger AS l
      LEFT JOIN tipping.transactions AS t ON t.id = l.transaction_id
      WHERE l.amount > 0 AND (t.id IS NULL OR t.amount <> l.amount OR t.recipient_id <> l.discord_user_id
          OR t.idempotency_key <> 'reward:' || l.id OR t.transaction_type <> 'reward')$$,
    'every decision with an amount references its reward transaction (same member, amount, key reward:<id>)');
SELECT fk_ok('resonance', 'reward_ledger', 'transaction_id', 'tipping', 'transactions', 'id');
SELECT unalike(
    pg_get_functiondef('resonance.close_event(text, text, timestamptz, jsonb, jsonb, boolean)'::regprocedure),
    '%UPDATE resonance.reward_ledger%', 'no back-patching update of a decision');
SELECT is_empty($$SELECT * FROM tipping.reconcile()$$, 'reconcile is empty on a healthy ledger');
UPDATE resonance.reward_ledger SET amount = amount + 100 WHERE discord_user_id = 'u2';
SELECT is(
    (SELECT difference FROM tipping.reconcile() WHERE user_id = 'u2'), 400::numeric,
    'reconcile sees four decisions raised by 100 that their transactions never paid');
SELECT is(resonance.check_ledger(), 1, 'check_ledger counts it');
UPDATE resonance.reward_ledger SET amount = amount - 100 WHERE discord_user_id = 'u2';
SELECT is_empty($$SELECT * FROM tipping.reconcile()$$, 'healthy again');

-- The one event skeleton: the five record_* functions go through open_event, event_rules, close_event.
SELECT is(
    (SELECT count(*)::integer FROM pg_proc AS p
     WHERE p.pronamespace = 'resonance'::regnamespace
         AND p.proname IN ('record_message', 'record_reaction', 'record_voice', 'record_event', 'daily_checkin')
         AND p.prosrc LIKE '%resonance.open_event(%' AND p.prosrc LIKE '%resonance.event_rules(%'
         AND p.prosrc LIKE '%resonance.close_event(%'),
    5, 'each record_* function is open_event + event_rules + its matcher + close_event');
SELECT is(
    (SELECT count(*)::integer FROM pg_proc AS p
     WHERE p.pronamespace = 'resonance'::regnamespace AND p.prosrc LIKE '%r.brand_id = p_brand_id%'),
    1, 'the rule filter is written once');
-- Security 14.2: no advisory lock a tenant could take; the member lock is a row tenants cannot lock.
SELECT is(
    (SELECT count(*)::integer FROM pg_proc AS p
     WHERE p.pronamespace = 'resonance'::regnamespace AND p.prosrc LIKE '%resonance.member:%'),
    0, 'no advisory lock on resonance.member:<server>:<user>');
SELECT tests.authenticate_as_brand('kb');
SELECT throws_ok(
    $$SELECT 1 FROM public.discord_user_stats WHERE server_id = 'k1' FOR UPDATE$$, '42501', NULL,
    'a tenant cannot lock a member''s stats row (FOR UPDATE)');
SELECT throws_ok(
    $$SELECT 1 FROM public.discord_user_stats WHERE server_id = 'k1' FOR KEY SHARE$$, '42501', NULL,
    'nor FOR KEY SHARE');
SELECT tests.clear_authentication();

-- 18.4: batches: the same statuses and exactly-once keys as one call each.
SELECT is(
    (SELECT jsonb_agg(e ->> 'status') FROM jsonb_array_elements(resonance.record_messages(jsonb_build_array(
        jsonb_build_object('server_id', 'k2', 'user_id', 'u5', 'channel_id', 'c', 'message_id', 'b1', 'content', 'first of the burst', 'occurred_at', '2030-01-02T10:00:00Z'),
        jsonb_build_object('server_id', 'k2', 'user_id', 'u5', 'channel_id', 'c', 'message_id', 'b1', 'content', 'first of the burst', 'occurred_at', '2030-01-02T10:00:00Z'),
        jsonb_build_object('server_id', 'koff', 'user_id', 'u5', 'channel_id', 'c', 'message_id', 'b2', 'content', 'x'),
        jsonb_build_object('server_id', 'k2', 'user_id', 'u6', 'channel_id', 'c', 'message_id', 'b3', 'content', 'another one entirely', 'occurred_at', '2030-01-02T10:00:00Z')
    ))) AS e),
    '["rewarded", "duplicate", "inactive", "rewarded"]'::jsonb, 'record_messages: per item statuses, replay inside the batch is duplicate');
SELECT is(
    resonance.record_message('k2', 'u5', 'c', 'b1', 'first of the burst') ->> 'status', 'duplicate',
    'a message of a batch replayed alone is duplicate');
SELECT throws_ok($$SELECT resonance.record_messages('{}')$$, 'RS310', NULL, 'record_messages needs an array');
SELECT is(
    (SELECT jsonb_agg(e ->> 'status') FROM jsonb_array_elements(resonance.record_reactions(jsonb_build_array(
        jsonb_build_object('server_id', 'k2', 'reactor_id', 'u5', 'author_id', 'u6', 'channel_id', 'c', 'message_id', 'b3', 'emoji', 'x'),
        jsonb_build_object('server_id', 'k2', 'reactor_id', 'u5', 'author_id', 'u6', 'channel_id', 'c', 'message_id', 'b3', 'emoji', 'x'),
        jsonb_build_object('server_id', 'k2', 'reactor_id', 'u6', 'author_id', 'u6', 'channel_id', 'c', 'message_id', 'b3', 'emoji', 'x')
    ))) AS e),
    '["recorded", "duplicate", "ignored"]'::jsonb, 'record_reactions: per item statuses');
SELECT throws_ok($$SELECT resonance.record_reactions('3')$$, 'RS310', NULL, 'record_reactions needs an array');

-- 16.9: every entry point treats an inactive server the same way.
SELECT (resonance.create_drop('koff', 'button', 'c', NULL, NULL, NULL, 5, 10, 'custom', '{}') ->> 'drop_id') AS doff \gset
SELECT is(resonance.claim_drop(:'doff', 'u1') ->> 'status', 'inactive', 'a drop on an inactive server answers inactive');
SELECT is(
    (SELECT claims_count FROM public.discord_drops WHERE drop_id = :'doff'), 0, 'and is not claimed');
SELECT is(resonance.daily_checkin('koff', 'u1') ->> 'status', 'inactive', 'a check-in on an inactive server answers inactive');
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config, assignment_type, assignment_config)
VALUES ('koff', 'kb', 'shop', 'one_time_bonus', '{"amount": 5}', 'purchase', '{"price": 1}');
SELECT is(resonance.claim_one_time_bonus('koff', 'u1', 'shop', '{shop}') ->> 'status', 'inactive', 'a one-time bonus on an inactive server answers inactive');
SELECT is(resonance.purchase_role('koff', 'u1', 'shop') ->> 'status', 'inactive', 'a purchase on an inactive server answers inactive');
SELECT is(resonance.manual_reward('koff', 'admin', 'u1', 5, 'thanks') ->> 'status', 'inactive', 'a manual reward on an inactive server answers inactive');
SELECT is(resonance.record_voice('koff', 'u1', 'c', 'vs1', 10) ->> 'status', 'inactive', 'voice on an inactive server answers inactive');
SELECT is(resonance.record_event('koff', 'u1', 'quiz', 'q1') ->> 'status', 'inactive', 'a custom event on an inactive server answers inactive');
SELECT is(resonance.record_reaction('koff', 'u1', 'u2', 'c', 'm', 'x') ->> 'status', 'inactive', 'a reaction on an inactive server answers inactive');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_user_stats WHERE server_id = 'koff'), 0,
    'nothing of an inactive server''s events was recorded');

SELECT * FROM finish();
ROLLBACK;
