-- Admin functions and the audit trail: set_event_rule, set_role_effect, manual_reward, set_actor,
-- current_actor, audit_config_change; read functions: leaderboard, member_stats, list_achievements,
-- list_goals, recent_audit, prune_message_window; privileges.
BEGIN;
\ir helpers/setup.psql
SELECT plan(63);

INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s1', 'b1'), ('s2', 'b2');

-- set_event_rule
SELECT is(
    resonance.set_event_rule('s1', 'admin1', 'channel_message', 10, 1, p_detection_config => '{"trigger": "keyword", "keywords": ["gm"]}') ->> 'status',
    'created', 'set_event_rule creates a rule'
);
SELECT is(
    (SELECT detection_method FROM public.monitoring_rules WHERE server_id = 's1' AND event_type = 'channel_message'),
    'gateway_keyword', 'detection_method follows the trigger'
);
SELECT is(
    resonance.set_event_rule(
        's1', 'admin2', 'channel_message', 20, 2, 5, NULL, '["c1"]', '{"claims_period": "week"}', TRUE,
        (SELECT id FROM public.monitoring_rules WHERE server_id = 's1' AND event_type = 'channel_message')
    ) ->> 'status',
    'updated', 'set_event_rule updates a rule by id'
);
SELECT results_eq(
    $$SELECT reward_amount, cooldown_hours, max_claims_per_user, detection_method FROM public.monitoring_rules WHERE server_id = 's1'$$,
    $$VALUES (20::numeric, 2, 5, 'gateway_keyword')$$,
    'the update replaced the rule (a NULL detection_config keeps the trigger)'
);
SELECT is(
    resonance.set_event_rule('s1', 'admin3', 'channel_message', 30) ->> 'status', 'updated',
    'without a rule id the server''s rule of that event type is edited in place'
);
SELECT is((SELECT count(*) FROM public.monitoring_rules WHERE server_id = 's1'), 1::bigint, 'still one rule');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', -1)$$, 'RS305', NULL, 'negative reward raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, -1)$$, 'RS305', NULL, 'negative cooldown raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, NULL, 0)$$, 'RS305', NULL, 'zero cap raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_detection_config => '{"trigger": "magic"}')$$, 'RS305', NULL, 'unknown trigger raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_detection_config => '{"trigger": "keyword", "keywords": []}')$$, 'RS305', NULL, 'empty keywords raise RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_detection_config => '{"trigger": "min_length"}')$$, 'RS305', NULL, 'min_length without a number raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_detection_config => '{"trigger": "reaction_count", "min_reactions": 0}')$$, 'RS305', NULL, 'min_reactions 0 raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_rule_metadata => '{"claims_period": "year"}')$$, 'RS305', NULL, 'unknown claims_period raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_channel_constraints => '"c1"')$$, 'RS305', NULL, 'scalar channel constraints raise RS305');
SELECT throws_ok(
    $$SELECT resonance.set_event_rule('s1', 'a', 'x', 1, p_rule_id => '00000000-0000-0000-0000-000000000000')$$,
    'RS306', NULL, 'an unknown rule id raises RS306'
);
SELECT throws_ok($$SELECT resonance.set_event_rule('s1', 'a', NULL, 1)$$, 'RS301', NULL, 'a missing event type raises RS301');
SELECT throws_ok($$SELECT resonance.set_event_rule('nope', 'a', 'x', 1)$$, 'RS001', NULL, 'an unknown server raises RS001');

-- set_role_effect
SELECT is(resonance.set_role_effect('s1', 'admin1', 'r1', 'multiplier', '{"value": 2}', 'Booster') ->> 'status', 'created', 'set_role_effect creates');
SELECT is(resonance.set_role_effect('s1', 'admin1', 'r1', 'bonus_flat', '{"value": 5}') ->> 'status', 'updated', 'set_role_effect updates the role''s effect');
SELECT results_eq(
    $$SELECT effect_type, effect_config, discord_role_name FROM public.discord_role_configs WHERE server_id = 's1' AND discord_role_id = 'r1'$$,
    $$VALUES ('bonus_flat', '{"value": 5}'::jsonb, 'Booster')$$, 'one effect per role, the name kept'
);
SELECT throws_ok($$SELECT resonance.set_role_effect('s1', 'a', 'r2', 'multiplier', '{"value": 0}')$$, 'RS307', NULL, 'multiplier 0 raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('s1', 'a', 'r2', 'cooldown_reduction', '{"percent": 150}')$$, 'RS307', NULL, 'reduction over 100 raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('s1', 'a', 'r2', 'teleport', '{}')$$, 'RS307', NULL, 'unknown effect raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('s1', 'a', 'r2', 'event_access', '{"event_types": "vip"}')$$, 'RS307', NULL, 'event_types not a list raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('s1', 'a', NULL, 'multiplier', '{"value": 2}')$$, 'RS301', NULL, 'missing role raises RS301');

-- audit trail
SELECT results_eq(
    $$SELECT action, actor_type, actor_id FROM public.discord_audit_log WHERE server_id = 's1' AND action LIKE 'discord_role_configs.%' ORDER BY id$$,
    $$VALUES ('discord_role_configs.insert', 'admin', 'admin1'), ('discord_role_configs.update', 'admin', 'admin1')$$,
    'role effect changes are audited with the admin as actor'
);
SELECT is(
    (SELECT before_state -> 'effect_config' FROM public.discord_audit_log WHERE action = 'discord_role_configs.update'),
    '{"value": 2}'::jsonb, 'before_state holds the old row'
);
SELECT is(
    (SELECT after_state -> 'effect_config' FROM public.discord_audit_log WHERE action = 'discord_role_configs.update'),
    '{"value": 5}'::jsonb, 'after_state holds the new row'
);
SELECT is(
    (SELECT actor_type || '/' || actor_id FROM public.discord_audit_log WHERE action = 'discord_server_configs.insert' AND server_id = 's2'),
    'bot/bot', 'without a setting (and not a pg_cron job) the actor is the bot, not system'
);
SELECT throws_ok($$SELECT resonance.set_actor('robot', 'x')$$, 'RS309', NULL, 'set_actor refuses unknown actor types with RS309');
SELECT lives_ok($$SELECT resonance.set_actor('bot', 'bot-1')$$, 'set_actor names the actor');
SELECT is(resonance.current_actor(), '{"actor_type": "bot", "actor_id": "bot-1"}'::jsonb, 'current_actor reads the setting');
UPDATE public.discord_server_configs SET server_name = 'Renamed' WHERE server_id = 's2';
SELECT is(
    (SELECT actor_type || ':' || (after_state ->> 'server_name') FROM public.discord_audit_log WHERE action = 'discord_server_configs.update'),
    'bot:Renamed', 'the trigger uses the transaction''s actor'
);
INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('b1', NULL, 'daily_checkin', 5);
SELECT is(
    (SELECT server_id FROM public.discord_audit_log WHERE action = 'monitoring_rules.insert' AND brand_id = 'b1' AND after_state ->> 'server_id' IS NULL),
    'brand:b1', 'a brand-wide rule is logged under brand:<brand_id>'
);
INSERT INTO public.discord_drops (drop_id, server_id, event_id, max_claims) VALUES ('00000000-0000-0000-0000-0000000000d1', 's1', 'e', 5);
UPDATE public.discord_drops SET claims_count = 1 WHERE drop_id = '00000000-0000-0000-0000-0000000000d1';
SELECT is(
    (SELECT count(*) FROM public.discord_audit_log WHERE action LIKE 'discord_drops.%'), 1::bigint,
    'a claims_count change alone is not audited (only the drop creation)'
);
DELETE FROM public.discord_drops WHERE drop_id = '00000000-0000-0000-0000-0000000000d1';
SELECT is(
    (SELECT before_state ->> 'event_id' FROM public.discord_audit_log WHERE action = 'discord_drops.delete'), 'e', 'a delete keeps the before state'
);
SELECT set_config('resonance.actor_type', '', TRUE);

-- A Partner Portal write (a role that cannot write the audit log) is audited, as the JWT subject.
-- (No BYPASSRLS: only a superuser may create such a role, and Supabase's postgres is none; a policy
-- of its own lets the probe write. The runner joins it so that SET ROLE is allowed there too.)
CREATE ROLE tests_engine_audit_probe;
GRANT tests_engine_audit_probe TO current_user;
GRANT USAGE ON SCHEMA public TO tests_engine_audit_probe;
GRANT INSERT ON public.discord_kpi_configs TO tests_engine_audit_probe;
CREATE POLICY tests_engine_audit_probe_writes ON public.discord_kpi_configs FOR INSERT TO tests_engine_audit_probe WITH CHECK (TRUE);
SELECT set_config('request.jwt.claims', '{"sub": "portal-user-7", "role": "authenticated"}', TRUE);
SET LOCAL ROLE tests_engine_audit_probe;
INSERT INTO public.discord_kpi_configs (server_id, metric, target_value) VALUES ('s1', 'daily_active_users', 50);
RESET ROLE;
SELECT set_config('request.jwt.claims', '', TRUE);
SELECT is(
    (SELECT actor_type || ':' || actor_id FROM public.discord_audit_log WHERE action = 'discord_kpi_configs.insert'),
    'user:portal-user-7', 'a portal write is audited with the JWT subject as a user, although that role cannot write the log'
);

-- manual_reward
SELECT is(
    resonance.manual_reward('s1', 'admin1', 'u1', 50, 'helped a newcomer', 'int-1', '2026-01-05 10:00Z') ->> 'status', 'rewarded',
    'manual_reward pays'
);
SELECT is(
    resonance.manual_reward('s1', 'admin1', 'u1', 50, 'helped a newcomer', 'int-1', '2026-01-05 10:00Z') ->> 'status', 'duplicate',
    'manual_reward is idempotent on its source id'
);
SELECT results_eq(
    $$SELECT actor_type, actor_id, target_user_id, details ->> 'reason' FROM public.discord_audit_log WHERE action = 'manual_reward'$$,
    $$VALUES ('admin', 'admin1', 'u1', 'helped a newcomer')$$, 'manual_reward is audited once with its reason'
);
SELECT throws_ok($$SELECT resonance.manual_reward('s1', 'a', 'u1', 0, 'r')$$, 'RS308', NULL, 'amount 0 raises RS308');
SELECT throws_ok($$SELECT resonance.manual_reward('s1', 'a', 'u1', 1.5, 'r')$$, 'RS308', NULL, 'a fractional amount raises RS308');
SELECT throws_ok($$SELECT resonance.manual_reward('s1', 'a', 'u1', 5, ' ')$$, 'RS301', NULL, 'a blank reason raises RS301');

-- read functions
SELECT lives_ok($$SELECT resonance.manual_reward('s1', 'a', 'u2', 80, 'r', 'int-2', '2026-01-06 10:00Z'),
    resonance.manual_reward('s1', 'a', 'u3', 80, 'r', 'int-3', '2026-01-06 10:00Z')$$, 'two more rewards');
SELECT results_eq(
    $$SELECT rank, discord_user_id, rsnc_earned FROM resonance.leaderboard('s1', 'all', 10)$$,
    $$VALUES (1::bigint, 'u2', 80::numeric), (1::bigint, 'u3', 80::numeric), (3::bigint, 'u1', 50::numeric)$$,
    'leaderboard all: ties share a rank'
);
SELECT results_eq(
    $$SELECT discord_user_id FROM resonance.leaderboard('s1', 'day', 1, '2026-01-06 23:00Z')$$,
    $$VALUES ('u2')$$, 'leaderboard day with a limit'
);
SELECT results_eq(
    $$SELECT discord_user_id, rsnc_earned FROM resonance.leaderboard('s1', 'week', 10, '2026-01-06 23:00Z') WHERE discord_user_id = 'u1'$$,
    $$VALUES ('u1', 50::numeric)$$, 'leaderboard week counts from Monday (2026-01-05)'
);
SELECT throws_ok($$SELECT * FROM resonance.leaderboard('s1', 'year', 10)$$, 'RS303', NULL, 'an unknown period raises RS303');
SELECT throws_ok($$SELECT * FROM resonance.leaderboard('s1', 'all', 0)$$, 'RS304', NULL, 'limit 0 raises RS304');
SELECT is(
    resonance.member_stats('s1', 'u1') - 'first_seen_at' - 'last_active_at',
    '{"server_id": "s1", "user_id": "u1", "known": true, "messages_count": 0, "voice_minutes": 0, "reactions_given": 0, "reactions_count": 0,
      "reactions_received": 0, "rsnc_earned": 50, "current_streak": 0, "stored_streak": 0, "longest_streak": 0, "last_checkin": null,
      "balance": 50.00000000, "rank": 3, "achievements_completed": 0}'::jsonb,
    'member_stats'
);
SELECT is(resonance.member_stats('s1', 'ghost') ->> 'known', 'false', 'member_stats of an unknown member');
INSERT INTO public.discord_achievements (server_id, name, achievement_type, threshold) VALUES ('s1', 'Chatty', 'message_count', 10);
INSERT INTO public.discord_community_goals (server_id, name, goal_type, target_value, current_value) VALUES ('s1', 'Grow', 'users', 10, 4);
SELECT results_eq(
    $$SELECT name, progress, completed_at FROM resonance.list_achievements('s1', 'u1')$$,
    $$VALUES ('Chatty', 0, NULL::timestamptz)$$, 'list_achievements with the member''s progress'
);
SELECT results_eq(
    $$SELECT name, current_value, percent FROM resonance.list_goals('s1')$$,
    $$VALUES ('Grow', 4::numeric, 40.0)$$, 'list_goals with percent'
);
SELECT is(
    (SELECT action FROM resonance.recent_audit('s1', 1)), 'discord_community_goals.insert', 'recent_audit newest first'
);
SELECT throws_ok($$SELECT * FROM resonance.recent_audit('s1', 1000)$$, 'RS304', NULL, 'recent_audit limit over 100 raises RS304');

-- retention
INSERT INTO resonance.message_window (server_id, discord_user_id, message_id, content, occurred_at) VALUES
    ('s1', 'u1', 'old', 'old text', '2026-01-01 00:00Z'), ('s1', 'u1', 'new', 'new text', '2026-01-03 00:00Z');
SELECT is(resonance.prune_message_window('2026-01-02 00:00Z'), 1, 'prune_message_window deletes texts older than p_before');
SELECT is((SELECT array_agg(message_id) FROM resonance.message_window), ARRAY['new'], 'newer texts are kept');
SELECT throws_ok($$SELECT resonance.prune_message_window(NULL)$$, 'RS301', NULL, 'prune_message_window(NULL) raises RS301');

-- privileges and hygiene of every engine function
CREATE TEMP TABLE engine_functions ON COMMIT DROP AS
SELECT p.oid, p.oid::regprocedure::text AS signature, p.proconfig, p.prosecdef
FROM pg_catalog.pg_proc AS p
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'resonance' AND p.proname IN (
    'record_message', 'record_reaction', 'record_voice', 'record_event', 'daily_checkin', 'role_effects', 'decide_rule',
    'rule_channel_ok', 'rule_trigger', 'content_matches', 'json_text_list', 'event_rules', 'server_brand', 'open_event', 'require_text',
    'close_event', 'apply_reward', 'channel_listed', 'record_messages', 'record_reactions',
    'evaluate_progress', 'goal_value', 'refresh_goals', 'store_goal_value', 'refresh_all_goals', 'set_actor', 'current_actor', 'audit_config_change',
    'set_event_rule', 'set_role_effect', 'manual_reward', 'leaderboard', 'member_stats', 'list_achievements',
    'list_goals', 'recent_audit', 'prune_message_window'
);
SELECT is((SELECT count(*) FROM engine_functions), 37::bigint, 'all 37 engine functions exist');
SELECT is_empty(
    $$SELECT signature FROM engine_functions WHERE has_function_privilege('anon', oid, 'EXECUTE')
        OR has_function_privilege('authenticated', oid, 'EXECUTE')$$,
    'no engine function is executable by anon or authenticated'
);
SELECT is_empty(
    $$SELECT signature FROM engine_functions WHERE NOT has_function_privilege('service_role', oid, 'EXECUTE')
        AND signature <> 'resonance.audit_config_change()'$$,
    'service_role executes every engine function'
);
SELECT is_empty(
    $$SELECT signature FROM engine_functions WHERE NOT coalesce('search_path=""' = ANY(proconfig), FALSE)$$,
    'every engine function pins search_path'
);

SELECT * FROM finish();
ROLLBACK;
