-- The outbox: take_outbox (lease, SKIP LOCKED), complete_outbox, fail_outbox (backoff, dead).
BEGIN;
\ir helpers/setup.psql
SELECT plan(24);

SELECT resonance.enqueue_outbox('s-o', 'add_role', '{"n":1}', 'k1') AS id1 \gset
SELECT resonance.enqueue_outbox('s-o', 'remove_role', '{"n":2}') AS id2 \gset
SELECT is(resonance.enqueue_outbox('s-o', 'add_role', '{"n":1}', 'k1'), NULL, 'enqueue_outbox: same dedup key queues once');

SELECT throws_ok($$SELECT * FROM resonance.take_outbox(0, 'w')$$, 'RS440', NULL, 'take_outbox: batch 0 raises RS440');
SELECT throws_ok($$SELECT * FROM resonance.take_outbox(1, '')$$, 'RS441', NULL, 'take_outbox: no worker raises RS441');
SELECT throws_ok($$SELECT * FROM resonance.take_outbox(1, 'w', interval '0')$$, 'RS442', NULL, 'take_outbox: a zero lease raises RS442');

SELECT results_eq(
    $$SELECT id, status, taken_by, attempts FROM resonance.take_outbox(1, 'w1')$$,
    format($$VALUES (%s::bigint, 'taken', 'w1', 1)$$, :'id1'),
    'take_outbox: oldest first, taken with a lease');
SELECT results_eq(
    $$SELECT id FROM resonance.take_outbox(10, 'w2')$$,
    format($$VALUES (%s::bigint)$$, :'id2'),
    'take_outbox: a second worker gets only the other row');
SELECT is_empty($$SELECT * FROM resonance.take_outbox(10, 'w3')$$, 'take_outbox: nothing left while leases run');

SELECT is(resonance.complete_outbox(:'id1', 'w2') ->> 'status', 'not_taken', 'complete_outbox: another worker''s row is not_taken');
SELECT is(resonance.complete_outbox(:'id1', 'w1') ->> 'status', 'done', 'complete_outbox: done');
SELECT is(resonance.complete_outbox(:'id1', 'w1') ->> 'status', 'not_taken', 'complete_outbox: twice is not_taken');

SELECT resonance.fail_outbox(:'id2', 'w2', 'discord 503') AS failed \gset
SELECT is(:'failed'::jsonb ->> 'status', 'pending', 'fail_outbox: pending again');
SELECT results_eq(
    format($$SELECT last_error, attempts, available_at > now() + interval '1 second' FROM resonance.outbox WHERE id = %s$$, :'id2'),
    $$VALUES ('discord 503', 1, TRUE)$$,
    'fail_outbox: last_error kept, available after a backoff');
SELECT is_empty($$SELECT * FROM resonance.take_outbox(10, 'w3')$$, 'take_outbox: a backed-off row waits');
SELECT results_eq(
    $$SELECT attempts FROM resonance.take_outbox(10, 'w3', p_at => now() + interval '3 seconds')$$,
    $$VALUES (2)$$, 'take_outbox: taken again after the backoff');

-- A worker that dies: its row is taken again after the lease.
SELECT is_empty($$SELECT * FROM resonance.take_outbox(10, 'w4', p_at => now() + interval '4 minutes')$$, 'take_outbox: not before the lease ends');
SELECT results_eq(
    $$SELECT taken_by, attempts FROM resonance.take_outbox(10, 'w4', p_at => now() + interval '6 minutes')$$,
    $$VALUES ('w4', 3)$$, 'take_outbox: after the lease another worker takes it');
SELECT is(resonance.complete_outbox(:'id2', 'w3') ->> 'status', 'not_taken', 'complete_outbox: the dead worker lost it');

-- Exponential backoff, then dead after max_attempts.
UPDATE resonance.outbox SET max_attempts = 4 WHERE id = :'id2';
SELECT is((resonance.fail_outbox(:'id2', 'w4', 'e3') ->> 'available_at')::timestamptz > now() + interval '7 seconds', TRUE, 'fail_outbox: backoff doubles (2^3 s)');
SELECT lives_ok($$SELECT * FROM resonance.take_outbox(10, 'w5', p_at => now() + interval '1 minute')$$, 'taken a fourth time');
SELECT is(resonance.fail_outbox(:'id2', 'w5', 'still down') ->> 'status', 'dead', 'fail_outbox: dead after max_attempts');

SELECT is(resonance.fail_outbox(:'id2', 'w5', 'again') ->> 'status', 'not_taken', 'fail_outbox: a dead row is not_taken');

-- Every drops function: search_path pinned, EXECUTE for service_role only.
CREATE TEMP TABLE drops_functions ON COMMIT DROP AS
SELECT p.oid, p.proname, p.proconfig
FROM pg_proc AS p
WHERE p.pronamespace = 'resonance'::regnamespace
    AND p.proname IN (
        'create_drop', 'attach_drop_message', 'claim_drop', 'claim_reaction_drop', 'close_expired_drops',
        'create_milestone', 'evaluate_milestones', 'milestone_criterion_types', 'check_milestone_criteria',
        'role_bonus_amount', 'grant_role', 'revoke_role', 'pay_role_bonus', 'assign_role', 'remove_role',
        'purchase_role', 'claim_one_time_bonus', 'run_auto_drip',
        'enqueue_outbox', 'take_outbox', 'complete_outbox', 'fail_outbox'
    );
SELECT is((SELECT count(*)::integer FROM drops_functions), 22, 'all 22 drops functions exist');
SELECT is_empty($$SELECT proname FROM drops_functions WHERE NOT coalesce(proconfig, '{}') @> ARRAY['search_path=""']$$, 'every drops function pins search_path');
SELECT is_empty(
    $$SELECT proname FROM drops_functions
      WHERE has_function_privilege('anon', oid, 'EXECUTE') OR has_function_privilege('authenticated', oid, 'EXECUTE')
         OR NOT has_function_privilege('service_role', oid, 'EXECUTE')$$,
    'every drops function: service_role only');

SELECT * FROM finish();
ROLLBACK;
