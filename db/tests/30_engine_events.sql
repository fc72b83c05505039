-- Event functions: record_message, record_reaction, record_voice, record_event, daily_checkin.
BEGIN;
\ir helpers/setup.psql
SELECT plan(76);

INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata) VALUES
    ('s1', 'b1', '{"anti_farming": {"min_words": 2, "similarity": 0.8, "window_minutes": 60}}'),
    ('s2', 'b1', '{}');
INSERT INTO public.discord_server_configs (server_id, brand_id, is_active) VALUES ('off', 'b1', FALSE);

INSERT INTO public.monitoring_rules (id, brand_id, server_id, event_type, reward_amount, cooldown_hours, max_claims_per_user,
    detection_config, channel_constraints, rule_metadata, is_enabled) VALUES
    ('00000000-0000-0000-0000-000000000001', 'b1', 's1', 'channel_message', 10, 1, NULL, NULL, NULL, NULL, TRUE),
    ('00000000-0000-0000-0000-000000000002', 'b1', 's1', 'channel_message', 5, NULL, NULL,
        '{"trigger": "keyword", "keywords": ["gm", "c++"], "channels": ["gm-chan"]}', NULL, NULL, TRUE),
    ('00000000-0000-0000-0000-000000000003', 'b1', 's1', 'message_quality', 7, NULL, 2,
        '{"trigger": "min_length", "min_length": 40}', NULL, '{"claims_period": "day"}', TRUE),
    ('00000000-0000-0000-0000-000000000004', 'b1', NULL, 'daily_checkin', 5, NULL, NULL, NULL, NULL,
        '{"streak_bonus": {"per_day": 2, "max": 4}}', TRUE),
    ('00000000-0000-0000-0000-000000000005', 'b1', 's1', 'reaction_threshold', 20, NULL, NULL,
        '{"trigger": "reaction_count", "min_reactions": 2}', NULL, NULL, TRUE),
    ('00000000-0000-0000-0000-000000000006', 'b1', 's1', 'voice_minutes', 1, NULL, NULL,
        '{"min_minutes": 5}', NULL, '{"per_minute": true}', TRUE),
    ('00000000-0000-0000-0000-000000000007', 'b1', 's1', 'quiz', 50, NULL, 1, NULL, '["quiz-chan"]', NULL, TRUE),
    ('00000000-0000-0000-0000-000000000008', 'b1', 's1', 'old_event', 50, NULL, NULL, NULL, NULL, NULL, FALSE),
    ('00000000-0000-0000-0000-000000000009', 'b1', 's1', 'vip_event', 30, 24, NULL, NULL, NULL,
        '{"requires_event_access": true}', TRUE),
    ('00000000-0000-0000-0000-00000000000a', 'b1', 's1', 'reaction_given', 1, NULL, NULL, NULL, NULL, NULL, TRUE);

INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES
    ('s1', 'b1', 'x2', 'multiplier', '{"value": 2}'),
    ('s1', 'b1', 'x3', 'multiplier', '{"value": 3}'),
    ('s1', 'b1', 'plus1', 'bonus_flat', '{"value": 1}'),
    ('s1', 'b1', 'plus2', 'bonus_flat', '{"value": 2}'),
    ('s1', 'b1', 'fast', 'cooldown_reduction', '{"percent": 50}'),
    ('s1', 'b1', 'vip', 'event_access', '{"event_types": ["vip_event"]}');

-- record_message
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm1', 'GM friends, good morning', '{x2,x3,plus1,plus2}', NULL, '2026-01-01 10:00Z') ->> 'status',
    'rewarded', 'record_message: a message matching rules is rewarded'
);
SELECT is(
    (SELECT sum(amount) FROM resonance.reward_ledger WHERE source_id LIKE 'm1:%'), 51.0,
    'largest multiplier (3) and summed bonus_flat (3): 10*3+3 + 5*3+3'
);
SELECT is(
    (SELECT count(*) FROM resonance.reward_ledger WHERE source_id LIKE 'm1:%'), 2::bigint,
    'one ledger row per matched rule (source message:rule)'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm1', 'GM friends, good morning', '{x2}', NULL, '2026-01-01 10:00Z'),
    '{"status": "duplicate", "amount": 0, "rules": []}'::jsonb,
    'a replayed message id is a duplicate'
);
SELECT is(
    (SELECT messages_count FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'u1'), 1,
    'the replay did not count the message twice'
);
SELECT is(
    (SELECT rsnc_earned FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'u1'), 51::bigint,
    'rsnc_earned follows the rewards'
);
SELECT is(
    (SELECT messages_count FROM resonance.daily_activity WHERE server_id = 's1' AND discord_user_id = 'u1' AND activity_date = '2026-01-01'), 1,
    'daily activity counts the message on its UTC day'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm2', 'GM friends, good morning!', '{}', NULL, '2026-01-01 10:05Z') #>> '{status}',
    'farmed', 'a near-identical message is farmed'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm2b', 'GM friends, good morning!', '{}', NULL, '2026-01-01 10:05Z') ->> 'reason',
    'similar', 'farmed says why: similar'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'general', 'm3', 'hello', '{}', NULL, '2026-01-01 10:06Z') ->> 'reason',
    'too_short', 'fewer words than min_words is farmed: too_short'
);
SELECT is(
    (SELECT messages_count FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'u1'), 1,
    'farmed messages are not counted'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'general', 'm4', 'a completely different thought about the weather today', '{}', NULL, '2026-01-01 10:20Z')
    -> 'rules',
    jsonb_build_array(
        jsonb_build_object('rule_id', '00000000-0000-0000-0000-000000000001', 'event_type', 'channel_message', 'status', 'cooldown',
            'amount', 0, 'cooldown_until', '2026-01-01T11:00:00+00:00'),
        jsonb_build_object('rule_id', '00000000-0000-0000-0000-000000000002', 'event_type', 'channel_message', 'status', 'not_matched',
            'reason', 'channel', 'amount', 0),
        jsonb_build_object('rule_id', '00000000-0000-0000-0000-000000000003', 'event_type', 'message_quality', 'status', 'rewarded',
            'amount', 7, 'base', 7, 'multiplier', 1, 'bonus_flat', 0)
    ),
    'per-rule statuses: cooldown, not_matched (channel), rewarded (min_length)'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'general', 'm5', 'reduced cooldown lets this member earn again sooner than others', '{fast}', NULL, '2026-01-01 10:31Z')
    -> 'rules' -> 0 ->> 'status',
    'rewarded', 'cooldown_reduction 50%: a 1h cooldown lasts 30 minutes'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'general', 'm6', 'yet another long message with many words to be of good quality', '{}', NULL, '2026-01-01 12:00Z')
    -> 'rules' -> 2 ->> 'status',
    'cap_reached', 'max_claims_per_user per day: the third quality message of the day is capped'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'general', 'm7', 'on the next day the daily quality cap starts over again for me', '{}', NULL, '2026-01-02 12:00Z')
    -> 'rules' -> 2 ->> 'status',
    'rewarded', 'the daily cap resets on the next UTC day'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm8', 'I like gmail and c++ code', '{}', NULL, '2026-01-02 13:00Z')
    -> 'rules' -> 1 ->> 'status',
    'rewarded', 'keyword with regex characters (c++) matches as a whole word'
);
SELECT is(
    resonance.record_message('s1', 'u1', 'gm-chan', 'm9', 'my mail provider of choice is gmail', '{}', NULL, '2026-01-02 13:01Z')
    -> 'rules' -> 1 ->> 'reason',
    'keyword', 'gmail does not match the keyword gm'
);
SELECT is(
    resonance.record_message('s2', 'u1', 'general', 'x1', 'one', '{}', NULL, '2026-01-02 13:00Z') ->> 'status',
    'recorded', 'a server without rules records the message (no anti-farming minimum by default)'
);
SELECT throws_ok(
    $$SELECT resonance.record_message('nope', 'u1', 'c', 'm', 'hi')$$, 'RS001', NULL, 'record_message: unknown server raises RS001'
);
SELECT throws_ok(
    $$SELECT resonance.record_message('s1', 'u1', 'c', NULL, 'hi')$$, 'RS301', NULL, 'record_message: missing message id raises RS301'
);
SELECT throws_ok(
    $$SELECT resonance.record_message('s1', '', 'c', 'm', 'hi')$$, 'RS301', NULL, 'record_message: blank user id raises RS301'
);

-- record_reaction
SELECT is(
    resonance.record_reaction('s1', 'u1', 'u1', 'general', 'm4', 'x') ->> 'reason', 'self_reaction', 'a self-reaction is ignored'
);
SELECT is(
    resonance.record_reaction('s1', 'r1', 'u1', 'general', 'm4', '👍', '{x2}', '2026-01-02 14:00Z') ->> 'status', 'rewarded',
    'record_reaction: the reactor is paid by a reaction_given rule'
);
SELECT is(
    (SELECT amount FROM resonance.reward_ledger WHERE source_id = 'm4:r1:00000000-0000-0000-0000-00000000000a'), 2.0,
    'reaction_given pays the reactor with the reactor''s multiplier'
);
SELECT is(
    resonance.record_reaction('s1', 'r1', 'u1', 'general', 'm4', '👍', '{x2}', '2026-01-02 14:00Z') ->> 'status', 'duplicate',
    'a replayed reaction is a duplicate'
);
SELECT is(
    resonance.record_reaction('s1', 'r1', 'u1', 'general', 'm4', '🔥', '{}', '2026-01-02 14:01Z') ->> 'unique_reactors', '1',
    'a second emoji from the same reactor is not a new unique reactor'
);
SELECT is(
    resonance.record_reaction('s1', 'r2', 'u1', 'general', 'm4', '👍', '{}', '2026-01-02 14:02Z') -> 'rules' -> 0,
    jsonb_build_object('rule_id', '00000000-0000-0000-0000-000000000005', 'event_type', 'reaction_threshold', 'status', 'rewarded',
        'amount', 20, 'base', 20, 'multiplier', 1, 'bonus_flat', 0, 'member', 'u1', 'unique_reactors', 2),
    'reaching min_reactions unique reactors pays the author'
);
SELECT is(
    resonance.record_reaction('s1', 'r3', 'u1', 'general', 'm4', '👍', '{}', '2026-01-02 14:03Z') -> 'rules' -> 0 ->> 'status',
    'duplicate', 'a further reactor does not pay the author again for the same message'
);
SELECT results_eq(
    $$SELECT reactions_count, reactions_received FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id IN ('r1', 'u1')
      ORDER BY discord_user_id$$,
    $$VALUES (2, 0), (0, 4)$$,
    'reactions_count for the reactor, reactions_received for the author'
);
SELECT is(
    (SELECT reactions_received FROM resonance.daily_activity WHERE server_id = 's1' AND discord_user_id = 'u1' AND activity_date = '2026-01-02'), 4,
    'daily activity counts reactions received'
);
SELECT lives_ok(
    $$SELECT resonance.create_drop('s1', 'reaction', 'general', 'dropmsg', '🎁', '2026-01-03 00:00Z', 5, 25, p_at => '2026-01-02 13:00Z')$$,
    'a reaction drop (drops helper)'
);
SELECT is(
    resonance.record_reaction('s1', 'r9', 'bot', 'general', 'dropmsg', '🎁', '{}', '2026-01-02 14:10Z') -> 'drop' ->> 'status', 'claimed',
    'record_reaction claims a reaction drop for the reactor'
);
SELECT ok(
    NOT (resonance.record_reaction('s1', 'r9', 'u1', 'general', 'm7', '🎁', '{}', '2026-01-02 14:11Z') ? 'drop'),
    'an ordinary reaction carries no drop answer'
);
SELECT throws_ok(
    $$SELECT resonance.record_reaction('s1', 'a', 'b', 'c', 'm', NULL)$$, 'RS301', NULL, 'record_reaction: missing emoji raises RS301'
);
SELECT throws_ok(
    $$SELECT resonance.record_reaction('nope', 'a', 'b', 'c', 'm', 'e')$$, 'RS001', NULL, 'record_reaction: unknown server raises RS001'
);

-- record_voice
SELECT is(
    resonance.record_voice('s1', 'u2', 'vc', 'sess1', 12, '{plus1}', '2026-01-02 15:00Z') ->> 'amount', '13.00000000',
    'record_voice: per-minute rule pays minutes * reward + bonus'
);
SELECT is(
    resonance.record_voice('s1', 'u2', 'vc', 'sess1', 12, '{plus1}', '2026-01-02 15:00Z') ->> 'status', 'duplicate',
    'a replayed voice session is a duplicate'
);
SELECT is(
    resonance.record_voice('s1', 'u2', 'vc', 'sess2', 3, '{}', '2026-01-02 16:00Z') -> 'rules' -> 0 ->> 'reason', 'min_minutes',
    'a session shorter than min_minutes is not matched'
);
SELECT is(
    (SELECT voice_minutes FROM public.discord_user_stats WHERE server_id = 's1' AND discord_user_id = 'u2'), 15,
    'voice minutes counted once per session'
);
SELECT throws_ok(
    $$SELECT resonance.record_voice('s1', 'u2', 'vc', 'sess3', -1)$$, 'RS302', NULL, 'record_voice: negative minutes raise RS302'
);
SELECT throws_ok(
    $$SELECT resonance.record_voice('s1', 'u2', 'vc', NULL, 1)$$, 'RS301', NULL, 'record_voice: missing session raises RS301'
);
SELECT throws_ok(
    $$SELECT resonance.record_voice('nope', 'u2', 'vc', 's', 1)$$, 'RS001', NULL, 'record_voice: unknown server raises RS001'
);

-- record_event
SELECT is(
    resonance.record_event('s1', 'u3', 'quiz', 'q1', '{}', 'quiz-chan', '{}', '2026-01-03 10:00Z') ->> 'status', 'rewarded',
    'record_event: a custom event pays its rule'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'quiz', 'q1', '{}', 'quiz-chan', '{}', '2026-01-03 10:00Z') ->> 'status', 'duplicate',
    'record_event: a replay is a duplicate'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'quiz', 'q2', '{}', 'quiz-chan', '{}', '2026-01-03 10:01Z') ->> 'status', 'cap_reached',
    'record_event: lifetime max_claims_per_user -> cap_reached'
);
SELECT is(
    resonance.record_event('s1', 'u4', 'quiz', 'q3', '{}', 'other', '{}', '2026-01-03 10:01Z') ->> 'status', 'not_matched',
    'record_event: a channel outside channel_constraints -> not_matched'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'old_event', 'o1') ->> 'status', 'disabled', 'record_event: only a disabled rule -> disabled'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'nothing', 'n1') ->> 'status', 'no_rule', 'record_event: no rule -> no_rule'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'vip_event', 'v1', '{x2}', NULL, '{}', '2026-01-03 10:00Z') ->> 'status', 'no_access',
    'record_event: a rule requiring event access refuses members without the role'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'vip_event', 'v2', '{vip,x2}', NULL, '{}', '2026-01-03 10:00Z') ->> 'amount', '60.00000000',
    'record_event: a holder of the event_access role is paid'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'vip_event', 'v3', '{vip}', NULL, '{}', '2026-01-03 20:00Z') ->> 'status', 'cooldown',
    'record_event: cooldown_hours per member and rule'
);
SELECT is(
    resonance.record_event('s1', 'u3', 'vip_event', 'v4', '{vip,fast}', NULL, '{}', '2026-01-03 22:00Z') ->> 'status', 'rewarded',
    'record_event: cooldown_reduction shortens the 24h cooldown to 12h'
);
SELECT throws_ok(
    $$SELECT resonance.record_event('s1', 'u3', NULL, 'x')$$, 'RS301', NULL, 'record_event: missing event type raises RS301'
);
SELECT throws_ok(
    $$SELECT resonance.record_event('nope', 'u3', 'quiz', 'x')$$, 'RS001', NULL, 'record_event: unknown server raises RS001'
);

-- daily_checkin (brand-wide rule with server_id NULL)
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-10 23:59:59Z') - 'rules',
    '{"status": "checked_in", "amount": 5.00000000, "current_streak": 1, "longest_streak": 1, "day": "2026-01-10"}'::jsonb,
    'daily_checkin: the first check-in starts a streak and pays the brand-wide rule'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-10 12:00Z') ->> 'status', 'already_checked_in', 'same UTC day: already_checked_in'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-11 00:00:01Z') - 'rules',
    '{"status": "checked_in", "amount": 7.00000000, "current_streak": 2, "longest_streak": 2, "day": "2026-01-11"}'::jsonb,
    'just after UTC midnight: next day extends the streak, with the streak bonus'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-12 08:00Z') ->> 'amount', '9.00000000', 'day 3: bonus 2 per day'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-13 08:00Z') ->> 'amount', '9.00000000', 'day 4: bonus capped at max 4'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-15 08:00Z') - 'rules',
    '{"status": "checked_in", "amount": 5.00000000, "current_streak": 1, "longest_streak": 4, "day": "2026-01-15"}'::jsonb,
    'a missed day resets the streak to 1 and keeps longest_streak'
);
SELECT is(
    resonance.daily_checkin('s1', 'u5', '{}', '2026-01-12 08:00Z') ->> 'status', 'already_checked_in',
    'an older day replayed changes nothing'
);
SELECT is(
    (SELECT sum(checkins)::integer FROM resonance.daily_activity WHERE server_id = 's1' AND discord_user_id = 'u5'), 5,
    'one check-in per day in daily activity'
);
SELECT is(
    resonance.daily_checkin('s2', 'u5', '{}', '2026-01-10 08:00Z') ->> 'amount', '5.00000000',
    'the brand-wide rule pays in every server of the brand, streaks per server'
);
SELECT throws_ok($$SELECT resonance.daily_checkin('nope', 'u5')$$, 'RS001', NULL, 'daily_checkin: unknown server raises RS001');
SELECT throws_ok($$SELECT resonance.daily_checkin('s1', NULL)$$, 'RS301', NULL, 'daily_checkin: missing user raises RS301');

-- an inactive server earns and counts nothing
SELECT results_eq(
    $$SELECT x ->> 'status' FROM (VALUES
        (resonance.record_message('off', 'u1', 'c', 'm1', 'hello there friends')),
        (resonance.record_reaction('off', 'u1', 'u2', 'c', 'm1', 'x')),
        (resonance.record_voice('off', 'u1', 'c', 'v1', 30)),
        (resonance.record_event('off', 'u1', 'quiz', 'q1')),
        (resonance.daily_checkin('off', 'u1'))) AS t (x)$$,
    $$VALUES ('inactive'), ('inactive'), ('inactive'), ('inactive'), ('inactive')$$,
    'every event function answers inactive for an inactive server'
);
SELECT is_empty(
    $$SELECT 1 FROM public.discord_user_stats WHERE server_id = 'off' UNION ALL SELECT 1 FROM resonance.processed_events WHERE server_id = 'off'
      UNION ALL SELECT 1 FROM public.discord_user_streaks WHERE server_id = 'off'$$,
    'and records nothing'
);

-- rule helpers
SELECT is(resonance.json_text_list('["a", "b"]'), ARRAY['a', 'b'], 'json_text_list: an array');
SELECT is(resonance.json_text_list('"a"'), ARRAY['a'], 'json_text_list: a single string');
SELECT is(resonance.json_text_list('{}'), NULL, 'json_text_list: anything else is NULL');
SELECT results_eq(
    $$SELECT resonance.rule_trigger(r) FROM public.monitoring_rules AS r WHERE r.id IN (
        '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002',
        '00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000005') ORDER BY r.id$$,
    $$VALUES ('channel'), ('keyword'), ('min_length'), ('reaction_count')$$,
    'rule_trigger: channel-only, keyword, min_length, reaction_count'
);
SELECT is(
    resonance.rule_trigger(jsonb_populate_record(NULL::public.monitoring_rules, '{"event_type": "x", "detection_method": "[\"gateway_reaction\"]"}')),
    'reaction_count', 'rule_trigger: derived from a detection_method JSON array'
);
SELECT ok(
    resonance.content_matches(
        (SELECT r FROM public.monitoring_rules AS r WHERE r.id = '00000000-0000-0000-0000-000000000002'), 'well, GM!'
    )
    AND NOT resonance.content_matches(
        (SELECT r FROM public.monitoring_rules AS r WHERE r.id = '00000000-0000-0000-0000-000000000002'), 'gm_bot online'
    ),
    'content_matches: whole words only (_ is part of a word)'
);
SELECT results_eq(
    $$SELECT resonance.rule_channel_ok(
        jsonb_populate_record(NULL::public.monitoring_rules, jsonb_build_object('channel_constraints', c.constraints::jsonb)),
        c.channel
    ) FROM (VALUES (1, NULL, 'any'), (2, '["a"]', 'a'), (3, '["a"]', 'b'), (4, '{"excluded": ["b"]}', 'b'),
        (5, '{"allowed": ["a"], "blocked": ["b"]}', 'a'), (6, '["a"]', NULL)) AS c (n, constraints, channel) ORDER BY c.n$$,
    $$VALUES (TRUE), (TRUE), (FALSE), (FALSE), (TRUE), (FALSE)$$,
    'rule_channel_ok: lists, allowed/excluded objects, no channel'
);

-- role effects
SELECT is(
    resonance.role_effects('s1', '{x2,x3,plus1,plus2,fast,vip,unknown}') - 'roles',
    '{"multiplier": 3, "bonus_flat": 3, "cooldown_reduction": 50, "event_access": ["vip_event"], "event_access_all": false}'::jsonb,
    'role_effects: largest multiplier, summed bonus, largest reduction, union of access'
);
SELECT is(
    resonance.role_effects('s1', '{}') - 'roles',
    '{"multiplier": 1, "bonus_flat": 0, "cooldown_reduction": 0, "event_access": [], "event_access_all": false}'::jsonb,
    'role_effects: no roles, neutral effects'
);

SELECT * FROM finish();
ROLLBACK;
