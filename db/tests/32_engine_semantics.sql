-- Engine semantics a community manager expects (issue 16): activity = actions, streak as of today,
-- goals from their start (failed goals, announcements), role holdings, Loyalteez names.
BEGIN;
\ir helpers/setup.psql
SELECT plan(32);

INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata) VALUES
    ('e1', 'eb', '{"announcements": {"channel_id": "ann-1"}}'),
    ('e2', 'eb', '{}');

-- 16.1: a day whose only event was a drip to two idle holders has no active user.
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES
    ('e1', 'eb', 'dripper', 'auto_drip', '{"amount": 5, "period": "day"}');
SELECT resonance.assign_role('e1', 'idle1', 'dripper', 'external', '2030-03-01 00:00Z');
SELECT resonance.assign_role('e1', 'idle2', 'dripper', 'external', '2030-03-01 00:00Z');
SELECT is(resonance.run_auto_drip('2030-03-02 12:00Z'), 2, 'the drip pays both idle holders');
SELECT is(
    resonance.compute_kpis('e1', '2030-03-02') -> 'daily_active_users', '0'::jsonb,
    'a drip is not activity: daily_active_users 0');
SELECT is(
    resonance.compute_kpis('e1', '2030-03-02') -> 'weekly_active_users', '0'::jsonb,
    'nor weekly_active_users');
SELECT is(
    (SELECT last_active_at FROM public.discord_user_stats WHERE server_id = 'e1' AND discord_user_id = 'idle1'), NULL::timestamptz,
    'a drip does not make the member last active');
SELECT lives_ok($$SELECT resonance.record_message('e1', 'idle1', 'c', 'x1', 'hello there', '{}', NULL, '2030-03-02 13:00Z')$$, 'then one of them talks');
SELECT is(resonance.compute_kpis('e1', '2030-03-02') -> 'daily_active_users', '1'::jsonb, 'a message is an action: 1');

-- 16.6: a removal stops further drips at once; a tip re-evaluates balance roles.
SELECT is(resonance.remove_role('e1', 'idle2', 'dripper', 'external', '2030-03-02 14:00Z') ->> 'status', 'removed', 'idle2 loses the role');
SELECT is(resonance.run_auto_drip('2030-03-03 12:00Z'), 1, 'the next day only idle1 is paid');
SELECT is(
    (SELECT count(*)::integer FROM resonance.reward_ledger WHERE discord_user_id = 'idle2' AND event_type = 'auto_drip'), 1,
    'idle2 got no drip after the removal');
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config, assignment_type, assignment_config)
VALUES ('e1', 'eb', 'rich', 'multiplier', '{"value": 1}', 'balance_threshold', '{"threshold": 8}');
SELECT lives_ok($$SELECT tipping.tip('idle1', 'idle2', 3, 'RSNC', 'e1')$$, 'idle1 (10) tips idle2 (5) 3 RSNC');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_role_assignments
     WHERE server_id = 'e1' AND discord_user_id = 'idle2' AND discord_role_id = 'rich' AND removed_at IS NULL), 1,
    'after the tip idle2 (8) holds the balance role');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_role_assignments
     WHERE server_id = 'e1' AND discord_user_id = 'idle1' AND discord_role_id = 'rich' AND removed_at IS NULL), 0,
    'and idle1 (7) does not');

-- 16.5: the streak as of today.
INSERT INTO public.discord_user_streaks (server_id, discord_user_id, current_streak, longest_streak, last_checkin)
VALUES ('e1', 'lapsed', 2, 2, now() - interval '11 months'), ('e1', 'alive', 3, 3, now() - interval '1 day');
SELECT is((resonance.member_stats('e1', 'lapsed') ->> 'current_streak')::integer, 0, 'a lapsed streak reads 0 in /stats');
SELECT is((resonance.member_stats('e1', 'lapsed') ->> 'stored_streak')::integer, 2, 'the stored value is kept');
SELECT is((resonance.member_stats('e1', 'alive') ->> 'current_streak')::integer, 3, 'a check-in yesterday keeps it alive');

-- 16.4: goals count from their start, fail after their deadline, and are announced.
INSERT INTO public.discord_community_goals (goal_id, server_id, name, goal_type, target_value, starts_at, deadline) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'e2', 'Fifty', 'rsnc_distributed', 50, '2030-04-01', NULL),
    ('00000000-0000-0000-0000-0000000000f2', 'e1', 'Missed', 'users', 1000, '2030-01-01', '2030-02-01');
SELECT resonance.apply_reward('e2', 'm1', 'seed', 'past', 30, '2030-03-15');
SELECT resonance.apply_reward('e2', 'm1', 'seed', 'new1', 20, '2030-04-02');
SELECT is(resonance.refresh_goals('e2', '2030-04-02 12:00Z'), 0, 'the 30 RSNC before the goal started do not count');
SELECT is((SELECT current_value FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000f1'), 20::numeric, 'it counts 20');
SELECT resonance.apply_reward('e2', 'm1', 'seed', 'new2', 30, '2030-04-03');
SELECT is(resonance.refresh_goals('e2', '2030-04-03 12:00Z'), 1, '50 new RSNC complete it');
SELECT lives_ok($$SELECT resonance.refresh_goals('e1', '2030-03-01 12:00Z')$$, 'the job passes the missed deadline');
SELECT is(
    (SELECT status FROM resonance.list_goals('e1') WHERE goal_id = '00000000-0000-0000-0000-0000000000f2'), 'failed',
    'a goal past its deadline below its target is closed as failed');
SELECT isnt((SELECT failed_at FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000f2'), NULL, 'failed_at is set');
INSERT INTO public.discord_achievements (server_id, name, achievement_type, threshold, reward_amount) VALUES ('e1', 'First words', 'message_count', 1, 0);
SELECT lives_ok($$SELECT resonance.record_message('e1', 'talker', 'c', 'x2', 'my first words here', '{}', NULL, '2030-03-02 15:00Z')$$, 'a member completes an achievement');
SELECT is(
    (SELECT payload ->> 'channel_id' FROM resonance.outbox WHERE dedup_key LIKE 'achievement_completed:%:talker'), 'ann-1',
    'the achievement is announced through the outbox in the configured channel');

-- 16.10: Loyalteez names.
INSERT INTO public.discord_community_goals (server_id, name, goal_type, target_value) VALUES ('e1', 'Old style', 'ltz_distributed', 5);
SELECT is((SELECT goal_type FROM public.discord_community_goals WHERE name = 'Old style'), 'rsnc_distributed', 'ltz_distributed is stored as rsnc_distributed');
INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
VALUES ('e1', 'eb', 'old-bonus', 'flat_bonus', '{"effect_value": 4}');
SELECT is(
    (SELECT effect_type || ':' || (effect_config ->> 'value') FROM public.discord_role_configs WHERE discord_role_id = 'old-bonus'),
    'bonus_flat:4', 'flat_bonus with effect_value is stored as bonus_flat with value');
SELECT is(
    (SELECT ltz_earned FROM public.discord_user_stats WHERE server_id = 'e2' AND discord_user_id = 'm1'), 80::bigint,
    'ltz_earned reads rsnc_earned for old clients');

-- 16.11: the audit log names who acted.
SELECT resonance.create_drop('e1', 'button', 'c', p_reward_amount => 5, p_created_by => 'admin-77', p_required_role_ids => '{}');
SELECT is(
    (SELECT actor_type || '/' || actor_id FROM public.discord_audit_log WHERE server_id = 'e1' AND action = 'discord_drops.insert'),
    'admin/admin-77', '/drop create is logged as the admin who ran it');
SELECT resonance.set_kpi_target('e1', 'churn_rate', 0.2, 'week', 0.4, TRUE, 'admin-78', TRUE);
SELECT is(
    (SELECT actor_type || '/' || actor_id || '/' || is_test FROM public.discord_audit_log WHERE server_id = 'e1' AND action = 'discord_kpi_configs.insert'),
    'admin/admin-78/true', 'a KPI target is logged with the admin and the caller''s is_test');
SELECT resonance.create_milestone('e1', 'r-ms', 'Talker', '[{"type": "messages_count", "threshold": 3}]', 0, NULL, NULL, 0, 'admin-79');
SELECT is(
    (SELECT actor_type || '/' || actor_id FROM public.discord_audit_log WHERE server_id = 'e1' AND action = 'discord_role_configs.insert'
        AND after_state ->> 'discord_role_id' = 'r-ms'),
    'admin/admin-79', '/milestone create is logged as the admin');
SELECT is(
    (SELECT actor_type FROM public.discord_audit_log WHERE server_id = 'e1' AND action = 'discord_role_configs.insert'
        AND after_state ->> 'discord_role_id' = 'dripper'),
    'bot', 'a change nobody named on the bot''s connection is the bot''s, not system');

SELECT resonance.set_report_schedule('e1', 'daily', 'rep-1', NULL, TRUE, 'admin-80');
SELECT is(
    (SELECT actor_type || '/' || actor_id FROM public.discord_audit_log WHERE server_id = 'e1' AND action = 'discord_report_schedules.insert'),
    'admin/admin-80', '/reports schedule is logged as the admin');
-- 16.7: reports show each metric against its target.
SELECT resonance.set_kpi_target('e1', 'daily_active_users', 5, 'day');
SELECT is(
    (SELECT t FROM jsonb_array_elements(resonance.build_report('e1', 'daily', '2030-03-02') -> 'targets') AS t
     WHERE t ->> 'metric' = 'daily_active_users'),
    '{"metric": "daily_active_users", "value": 2, "target_value": 5, "alert_threshold": null, "target_met": false}'::jsonb,
    'a daily report shows DAU 2 (idle1, talker) against its target 5, missed');

SELECT * FROM finish();
ROLLBACK;
