-- Milestones and threshold roles: create_milestone (upsert over an inactive row), evaluate_milestones.
BEGIN;
\ir helpers/setup.psql
SELECT plan(30);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s-ms', 'b-ms'), ('s-empty', 'b-empty');

-- create_milestone
SELECT throws_ok($$SELECT resonance.create_milestone('s-none', 'r', 'n', '[{"type":"rsnc_earned","threshold":1}]')$$, 'RS001', NULL, 'create_milestone: unknown server raises RS001');
SELECT throws_ok($$SELECT resonance.create_milestone('s-ms', '', 'n', '[{"type":"rsnc_earned","threshold":1}]')$$, 'RS404', NULL, 'create_milestone: no role raises RS404');
SELECT throws_ok($$SELECT resonance.create_milestone('s-ms', 'r', 'n', '[]')$$, 'RS405', NULL, 'create_milestone: empty criteria raise RS405');
SELECT throws_ok($$SELECT resonance.create_milestone('s-ms', 'r', 'n', '[{"type":"karma","threshold":1}]')$$, 'RS405', NULL, 'create_milestone: unknown criterion type raises RS405');
SELECT throws_ok($$SELECT resonance.create_milestone('s-ms', 'r', 'n', '[{"type":"rsnc_earned","threshold":0}]')$$, 'RS405', NULL, 'create_milestone: threshold 0 raises RS405');
SELECT throws_ok($$SELECT resonance.create_milestone('s-ms', 'r', 'n', '[{"type":"rsnc_earned","threshold":5}]', -1)$$, 'RS409', NULL, 'create_milestone: negative bonus raises RS409');

-- An inactive row with the same (server, role) is taken over, not duplicated.
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config, is_active)
VALUES ('s-ms', 'b-ms', 'r-whale', 'multiplier', '{"value":2}', FALSE);
SELECT is(
    resonance.create_milestone('s-ms', 'r-whale', 'Whale', '[{"type":"rsnc_earned","threshold":100}]', 50, 'Earn 100') ->> 'status',
    'saved', 'create_milestone: saved over an inactive row');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_role_configs WHERE server_id = 's-ms' AND discord_role_id = 'r-whale'), 1,
    'create_milestone: still one row per (server, role)');
SELECT results_eq(
    $$SELECT is_active, effect_type, assignment_type, effect_config, assignment_config ->> 'name', assignment_config -> 'criteria'
      FROM public.discord_role_configs WHERE server_id = 's-ms' AND discord_role_id = 'r-whale'$$,
    $$VALUES (TRUE, 'one_time_bonus', 'milestone', '{"amount":50}'::jsonb, 'Whale', '[{"type":"rsnc_earned","threshold":100}]'::jsonb)$$,
    'create_milestone: active milestone with its bonus and criteria');
SELECT lives_ok(
    $$SELECT resonance.create_milestone('s-ms', 'r-chatty', 'Chatty', '[{"type":"messages_count","threshold":3},{"type":"current_streak","threshold":2}]', 10)$$,
    'create_milestone: several criteria over stats and streaks');

-- Below the threshold: nothing.
SELECT is(resonance.apply_reward('s-ms', 'u1', 'test', 'a', 60, '2030-01-01') ->> 'status', 'rewarded', 'a reward below the milestone');
SELECT is_empty($$SELECT FROM public.discord_role_assignments WHERE discord_user_id = 'u1'$$, 'evaluate_milestones: not crossed, nothing assigned');

-- Crossing: assignment, bonus once, outbox.
SELECT is(resonance.apply_reward('s-ms', 'u1', 'test', 'b', 60, '2030-01-02') ->> 'status', 'rewarded', 'a reward crossing the milestone');
SELECT results_eq(
    $$SELECT assigned_by, one_time_bonus_claimed, one_time_bonus_amount, one_time_bonus_claimed_at
      FROM public.discord_role_assignments WHERE discord_user_id = 'u1' AND discord_role_id = 'r-whale'$$,
    $$VALUES ('auto:milestone', TRUE, 50, '2030-01-02'::timestamptz)$$,
    'evaluate_milestones: assignment recorded with its bonus claimed');
SELECT is(
    (SELECT rsnc_earned FROM public.discord_user_stats WHERE server_id = 's-ms' AND discord_user_id = 'u1'), 170::bigint,
    'evaluate_milestones: the bonus is paid through apply_reward (60 + 60 + 50)');
SELECT is(
    (SELECT count(*)::integer FROM resonance.reward_ledger WHERE event_type = 'one_time_bonus' AND source_id = 'r-whale:u1'), 1,
    'evaluate_milestones: one bonus in the reward ledger');
SELECT is(
    (SELECT count(*)::integer FROM resonance.outbox WHERE kind = 'add_role' AND payload ->> 'user_id' = 'u1' AND payload ->> 'role_id' = 'r-whale'), 1,
    'evaluate_milestones: one outbox add_role');
SELECT is(resonance.apply_reward('s-ms', 'u1', 'test', 'c', 60, '2030-01-03') ->> 'status', 'rewarded', 'another reward after the crossing');
SELECT is(
    (SELECT count(*)::integer FROM resonance.reward_ledger WHERE event_type = 'one_time_bonus'), 1,
    'evaluate_milestones: the bonus is not paid again');

-- A removed milestone role is not handed back.
SELECT is(resonance.remove_role('s-ms', 'u1', 'r-whale') ->> 'status', 'removed', 'an admin removes the milestone role');
SELECT lives_ok($$SELECT resonance.evaluate_milestones('s-ms', 'u1', '2030-01-04')$$, 'evaluate again');
SELECT isnt(
    (SELECT removed_at FROM public.discord_role_assignments WHERE discord_user_id = 'u1' AND discord_role_id = 'r-whale'), NULL,
    'evaluate_milestones: a milestone is assigned once, ever');

-- Streak and message criteria.
INSERT INTO public.discord_user_stats (server_id, discord_user_id, messages_count) VALUES ('s-ms', 'u2', 5);
SELECT lives_ok($$SELECT resonance.evaluate_milestones('s-ms', 'u2', '2030-01-01')$$, 'messages met, streak not');
SELECT is_empty($$SELECT FROM public.discord_role_assignments WHERE discord_user_id = 'u2' AND discord_role_id = 'r-chatty'$$, 'evaluate_milestones: every criterion must hold');
INSERT INTO public.discord_user_streaks (server_id, discord_user_id, current_streak, longest_streak, last_checkin) VALUES ('s-ms', 'u2', 2, 2, '2030-01-01 08:00+00');
SELECT lives_ok($$SELECT resonance.evaluate_milestones('s-ms', 'u2', '2030-01-01')$$, 'both met');
SELECT isnt_empty($$SELECT FROM public.discord_role_assignments WHERE discord_user_id = 'u2' AND discord_role_id = 'r-chatty' AND one_time_bonus_claimed$$, 'evaluate_milestones: streak criteria count');

-- activity_threshold and balance_threshold
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, assignment_type, assignment_config) VALUES
    ('s-ms', 'b-ms', 'r-active', 'multiplier', 'activity_threshold', '{"criteria":[{"type":"messages_count","threshold":4}]}'),
    ('s-ms', 'b-ms', 'r-rich', 'multiplier', 'balance_threshold', '{"threshold":100}');
SELECT lives_ok($$SELECT resonance.evaluate_milestones('s-ms', 'u2', '2030-01-05')$$, 'u2 has 5 messages, balance 10');
SELECT results_eq(
    $$SELECT discord_role_id, assigned_by FROM public.discord_role_assignments WHERE discord_user_id = 'u2' AND discord_role_id IN ('r-active', 'r-rich')$$,
    $$VALUES ('r-active', 'auto:activity')$$,
    'evaluate_milestones: activity_threshold assigned, balance_threshold not');
SELECT lives_ok($$SELECT resonance.evaluate_milestones('s-ms', 'u1', '2030-01-05')$$, 'u1 has a balance of 230');
SELECT results_eq(
    $$SELECT assigned_by, removed_at IS NULL FROM public.discord_role_assignments WHERE discord_user_id = 'u1' AND discord_role_id = 'r-rich'$$,
    $$VALUES ('auto:balance', TRUE)$$,
    'evaluate_milestones: balance_threshold assigned when the balance crosses it');

SELECT * FROM finish();
ROLLBACK;
