-- Achievements and community goals: resonance.evaluate_progress, refresh_goals, goal_value.
BEGIN;
\ir helpers/setup.psql
SELECT plan(24);

INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata) VALUES
    ('s1', 'b1', '{"goals": {"refresh_seconds": 0}}'), ('s2', 'b1', '{"goals": {"refresh_seconds": 3600}}');
INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('b1', 's1', 'channel_message', 10);
INSERT INTO public.discord_achievements (achievement_id, server_id, name, achievement_type, threshold, reward_amount) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 's1', 'Chatty', 'message_count', 2, 100),
    ('00000000-0000-0000-0000-0000000000a2', 's1', 'Rich', 'rsnc_earned', 100, 5),
    ('00000000-0000-0000-0000-0000000000a3', 's1', 'Listener', 'voice_hours', 1, 0),
    ('00000000-0000-0000-0000-0000000000a4', 's1', 'Regular', 'streak_days', 2, 3),
    ('00000000-0000-0000-0000-0000000000a5', 's1', 'Popular', 'reactions_received', 1, 1),
    ('00000000-0000-0000-0000-0000000000a6', 's1', 'Fan', 'reactions_given', 1, 1);
-- Goals count from starts_at: these started before the test's events.
INSERT INTO public.discord_community_goals (goal_id, server_id, name, goal_type, target_value, custom_function, deadline, starts_at) VALUES
    ('00000000-0000-0000-0000-0000000000b1', 's1', 'Two members', 'users', 2, NULL, NULL, '2025-12-31'),
    ('00000000-0000-0000-0000-0000000000b2', 's1', 'RSNC', 'rsnc_distributed', 100000, NULL, NULL, '2025-12-31'),
    ('00000000-0000-0000-0000-0000000000b3', 's1', 'DAU', 'dau', 2, NULL, NULL, '2025-12-31'),
    ('00000000-0000-0000-0000-0000000000b4', 's1', 'Custom', 'custom', 5, 'resonance.goal_test_five', NULL, '2025-12-31'),
    ('00000000-0000-0000-0000-0000000000b5', 's1', 'Expired', 'users', 1, NULL, '2025-01-01', '2024-12-31');

CREATE FUNCTION resonance.goal_test_five(p_server_id text) RETURNS numeric LANGUAGE sql SET search_path = '' AS $$ SELECT 5::numeric $$;

SELECT is(
    resonance.record_message('s1', 'u1', 'c', 'm1', 'first message here', '{}', NULL, '2026-01-01 10:00Z') ->> 'amount', '10.00000000',
    'a message pays its rule'
);
SELECT is(
    (SELECT progress FROM public.discord_user_achievements WHERE discord_user_id = 'u1' AND achievement_id = '00000000-0000-0000-0000-0000000000a1'),
    1, 'message_count progress follows messages_count'
);
SELECT is(
    (SELECT completed_at FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000b4'),
    '2026-01-01 10:00Z'::timestamptz, 'a custom goal completes from its function'
);
SELECT is(
    (SELECT current_value FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000b5'),
    0::numeric, 'a goal past its deadline is not refreshed'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'c', 'm2', 'second message, entirely new words', '{}', NULL, '2026-01-01 10:01Z') ->> 'amount', '10.00000000',
    'the second message pays its rule (achievement rewards are separate rewards)'
);
SELECT results_eq(
    $$SELECT achievement_id::text, progress, completed_at IS NOT NULL, claimed_at IS NOT NULL FROM public.discord_user_achievements
      WHERE discord_user_id = 'u1' AND achievement_id IN ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a2')
      ORDER BY 1$$,
    $$VALUES ('00000000-0000-0000-0000-0000000000a1', 2, TRUE, TRUE), ('00000000-0000-0000-0000-0000000000a2', 100, TRUE, TRUE)$$,
    'Chatty completes at 2 messages, its 100 RSNC then completes Rich (rsnc_earned, capped progress)'
);
SELECT is(
    (SELECT sum(amount) FROM resonance.reward_ledger WHERE event_type = 'achievement' AND discord_user_id = 'u1'), 105.0,
    'each achievement reward paid once'
);
SELECT is(
    (SELECT rsnc_earned FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'u1'), 125::bigint,
    'rsnc_earned = 2 messages + 2 achievements'
);
SELECT lives_ok(
    $$SELECT resonance.evaluate_progress('s1', 'u1', '2026-01-01 11:00Z')$$, 'evaluate_progress again is harmless'
);
SELECT is(
    (SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'achievement' AND discord_user_id = 'u1'), 2::bigint,
    'no second payment for completed achievements'
);
SELECT is(
    (SELECT completed_at FROM public.discord_user_achievements WHERE discord_user_id = 'u1' AND achievement_id = '00000000-0000-0000-0000-0000000000a1'),
    '2026-01-01 10:01Z'::timestamptz, 'completed_at is set once'
);
SELECT lives_ok($$SELECT resonance.record_voice('s1', 'u1', 'vc', 'v1', 61, '{}', '2026-01-01 12:00Z')$$, 'a voice session');
SELECT lives_ok($$SELECT resonance.daily_checkin('s1', 'u1', '{}', '2026-01-01 12:00Z'), resonance.daily_checkin('s1', 'u1', '{}', '2026-01-02 12:00Z')$$, 'two check-ins');
SELECT lives_ok($$SELECT resonance.record_reaction('s1', 'u2', 'u1', 'c', 'm1', 'x', '{}', '2026-01-02 12:00Z')$$, 'a reaction');
SELECT results_eq(
    $$SELECT discord_user_id, achievement_id::text, completed_at IS NOT NULL FROM public.discord_user_achievements
      WHERE achievement_id IN ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000a4',
          '00000000-0000-0000-0000-0000000000a5', '00000000-0000-0000-0000-0000000000a6') AND completed_at IS NOT NULL
      ORDER BY 1, 2$$,
    $$VALUES ('u1', '00000000-0000-0000-0000-0000000000a3', TRUE), ('u1', '00000000-0000-0000-0000-0000000000a4', TRUE),
        ('u1', '00000000-0000-0000-0000-0000000000a5', TRUE), ('u2', '00000000-0000-0000-0000-0000000000a6', TRUE)$$,
    'voice_hours, streak_days, reactions_received (author) and reactions_given (reactor) complete'
);
SELECT results_eq(
    $$SELECT goal_id::text, current_value, completed_at IS NOT NULL FROM public.discord_community_goals
      WHERE goal_id IN ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000b3') ORDER BY 1$$,
    $$VALUES ('00000000-0000-0000-0000-0000000000b1', 2::numeric, TRUE), ('00000000-0000-0000-0000-0000000000b3', 2::numeric, TRUE)$$,
    'users and dau goals complete when two members are seen and active the same day'
);
SELECT is(
    resonance.refresh_goals('s1', '2026-01-02 13:00Z'), 0, 'refresh_goals completes nothing twice'
);
SELECT is(
    (SELECT current_value FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000b2'),
    (SELECT sum(rsnc_earned)::numeric FROM public.discord_user_stats WHERE server_id = 's1'),
    'rsnc_distributed follows RSNC earned in the server'
);

-- the reward path refreshes a goal at most every refresh_seconds (default 5); refresh_goals catches up
INSERT INTO public.discord_community_goals (goal_id, server_id, name, goal_type, target_value, starts_at) VALUES
    ('00000000-0000-0000-0000-0000000000c1', 's2', 'Two here', 'users', 2, '2025-12-31');
SELECT lives_ok($$SELECT resonance.record_message('s2', 'u1', 'c', 'n1', 'hello in another server', '{}', NULL, '2026-01-03 10:00Z')$$, 'first member in s2');
SELECT lives_ok($$SELECT resonance.record_message('s2', 'u2', 'c', 'n2', 'a second member says hi', '{}', NULL, '2026-01-03 10:01Z')$$, 'second member in s2');
SELECT is(
    (SELECT current_value FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000c1'), 1::numeric,
    'the second refresh within refresh_seconds was throttled'
);
SELECT is(resonance.refresh_all_goals('2026-01-03 10:02Z'), 1, 'refresh_all_goals (the job) completes it');
SELECT is(
    (SELECT completed_at FROM public.discord_community_goals WHERE goal_id = '00000000-0000-0000-0000-0000000000c1'),
    '2026-01-03 10:02Z'::timestamptz, 'completed at the refresh time'
);
SELECT is(resonance.refresh_all_goals('2026-01-03 10:03Z'), 0, 'and never again');

SELECT * FROM finish();
ROLLBACK;
