-- Onboarding and the admin API (issue 17): link/unlink, link codes, /setup, channels, checklist;
-- achievements, goals, role assignment rules and the shop, event rules, KPI targets, report
-- schedules, currencies and ticket triage. Each: the happy path, every refusal by SQLSTATE, and the
-- audit row naming the admin. Actor ids differ per call (the actor setting is transaction-local and
-- this file is one transaction), so each audit assertion proves that call named its own actor.
BEGIN;
\ir helpers/setup.psql
SELECT plan(187);

CREATE TEMP TABLE t_audit_mark AS SELECT coalesce(max(id), 0) AS id FROM public.discord_audit_log;

CREATE FUNCTION pg_temp.audited(p_server text, p_action text, p_actor text)
RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (
        SELECT FROM public.discord_audit_log AS l
        WHERE l.server_id = p_server AND l.action = p_action AND l.actor_type = 'admin' AND l.actor_id = p_actor
            AND l.id > (SELECT id FROM t_audit_mark)
    )
$$;

-- ------------------------------------------------------------------------------ privileges
SELECT ok(
    NOT has_function_privilege('authenticated', 'resonance.link_server(text, text, text, text)', 'EXECUTE')
    AND NOT has_function_privilege('anon', 'resonance.setup_server(text, text, text, text)', 'EXECUTE')
    AND has_function_privilege('service_role', 'resonance.setup_server(text, text, text, text)', 'EXECUTE')
    AND has_function_privilege('service_role', 'tipping.add_currency(text, integer, text, text)', 'EXECUTE')
    AND NOT has_function_privilege('authenticated', 'tipping.add_currency(text, integer, text, text)', 'EXECUTE'),
    'the admin API is executable by service_role only'
);

-- ------------------------------------------------------------------------------ link_server
SELECT is(resonance.link_server('1001', 'brandA', 'Guild One', '9001') ->> 'status', 'linked', 'link_server links a new server');
SELECT ok(pg_temp.audited('1001', 'discord_server_configs.insert', '9001'), 'linking is audited with the admin as actor');
SELECT is(resonance.link_server('1001', 'brandA', 'Guild One', '9002') ->> 'status', 'already_linked', 'linking again to the same brand: already_linked');
SELECT throws_ok($$SELECT resonance.link_server('1001', 'brandB', 'x', '9003')$$, 'RS704', NULL, 'another brand''s linked server raises RS704');
SELECT is((SELECT brand_id FROM public.discord_server_configs WHERE server_id = '1001'), 'brandA', 'the refused link changed nothing');
SELECT throws_ok($$SELECT resonance.link_server(NULL, 'brandA', 'x', '9003')$$, 'RS301', NULL, 'missing server id raises RS301');
SELECT throws_ok($$SELECT resonance.link_server('10 01', 'brandA', 'x', '9003')$$, 'RS705', NULL, 'malformed server id raises RS705');
SELECT throws_ok($$SELECT resonance.link_server('1002', 'brand A;', 'x', '9003')$$, 'RS705', NULL, 'malformed brand id raises RS705');
SELECT throws_ok($$SELECT resonance.link_server('1002', 'brandA', repeat('x', 101), '9003')$$, 'RS705', NULL, 'a name over 100 characters raises RS705');
SELECT throws_ok($$SELECT resonance.link_server('1002', 'brandA', 'x', NULL)$$, 'RS301', NULL, 'no actor raises RS301');
SELECT throws_ok($$SELECT resonance.link_server('1002', 'brandA', 'x', 'bad actor')$$, 'RS705', NULL, 'malformed actor raises RS705');

-- ------------------------------------------------------------------------------ unlink_server
SELECT is(resonance.unlink_server('1001', '9004') ->> 'status', 'unlinked', 'unlink_server unlinks');
SELECT is((SELECT is_active FROM public.discord_server_configs WHERE server_id = '1001'), FALSE, 'the unlink is soft: the row stays, inactive');
SELECT ok(pg_temp.audited('1001', 'discord_server_configs.update', '9004'), 'unlinking is audited with the admin as actor');
SELECT is(resonance.unlink_server('1001', '9004') ->> 'status', 'already_unlinked', 'unlinking twice: already_unlinked');
SELECT is(
    (resonance.record_event('1001', 'u1', 'custom', 'src-1')) ->> 'status', 'inactive',
    'events of an unlinked server answer inactive'
);
SELECT throws_ok($$SELECT resonance.unlink_server('4040', '9004')$$, 'RS001', NULL, 'unlinking an unknown server raises RS001');
SELECT is(resonance.link_server('1001', 'brandB', 'Guild One', '9005') ->> 'status', 'relinked', 'an unlinked server may be linked again, even to another brand');
SELECT is(
    resonance.link_server('1001', 'brandB', NULL, '9005') ->> 'status', 'already_linked',
    'after the relink it is linked to the new brand'
);
SELECT is(resonance.unlink_server('1001', '9006') ->> 'status', 'unlinked', 'unlink again');
SELECT is(resonance.link_server('1001', 'brandB', NULL, '9007') ->> 'previous_brand_id', 'brandB', 'relinked to the same brand names it');

-- ------------------------------------------------------------------------------ link codes
CREATE TEMP TABLE t_code AS SELECT resonance.create_link_code('brandC', 'portal-user-1') AS r;
SELECT is((SELECT r ->> 'status' FROM t_code), 'created', 'create_link_code creates a code');
SELECT matches((SELECT r ->> 'code' FROM t_code), '^[A-Z2-9]{8}$', 'the code is 8 characters of A-Z 2-9');
SELECT ok(
    (SELECT (r ->> 'expires_at')::timestamptz BETWEEN now() + interval '9 minutes' AND now() + interval '11 minutes' FROM t_code),
    'the code is valid 10 minutes'
);
SELECT ok(
    EXISTS (SELECT FROM public.discord_audit_log WHERE server_id = 'brand:brandC' AND action = 'link_code.create' AND actor_id = 'portal-user-1'),
    'creating a code is audited under the brand'
);
SELECT ok(
    NOT EXISTS (SELECT FROM public.discord_audit_log WHERE action = 'link_code.create' AND details::text LIKE '%' || (SELECT r ->> 'code' FROM t_code) || '%'),
    'the audit row does not reveal the code'
);
SELECT throws_ok($$SELECT resonance.create_link_code('discord:123', 'p')$$, 'RS705', NULL, 'a self-hosted brand gets no link code (RS705)');
SELECT throws_ok($$SELECT resonance.create_link_code(NULL, 'p')$$, 'RS301', NULL, 'no brand raises RS301');
SELECT throws_ok($$SELECT resonance.create_link_code('brandC', '')$$, 'RS301', NULL, 'no actor raises RS301');
SELECT throws_ok(
    $$SELECT resonance.create_link_code('brandD', 'p') FROM generate_series(1, 21)$$, 'RS706', NULL,
    'a 21st unused code of one brand raises RS706'
);

-- redeem (through /setup)
SELECT is(
    resonance.setup_server('2001', 'Guild Two', '9101', lower((SELECT r ->> 'code' FROM t_code))) ->> 'status', 'linked',
    'setup_server with a valid code (any case) links the guild to the code''s brand'
);
SELECT is((SELECT brand_id FROM public.discord_server_configs WHERE server_id = '2001'), 'brandC', 'the guild belongs to the code''s brand');
SELECT ok(pg_temp.audited('2001', 'link_code.redeem', '9101'), 'redeeming is audited with the admin as actor');
SELECT ok(
    (SELECT redeemed_at IS NOT NULL AND redeemed_server_id = '2001' AND redeemed_by = '9101' FROM resonance.link_codes WHERE code = (SELECT r ->> 'code' FROM t_code)),
    'the code is used up, by whom and for which guild'
);
SELECT throws_ok(
    format($$SELECT resonance.redeem_link_code(%L, '2002', 'x', '9102')$$, (SELECT r ->> 'code' FROM t_code)),
    'RS703', NULL, 'a used code raises RS703'
);
SELECT throws_ok($$SELECT resonance.redeem_link_code('ZZZZZZZZ', '2002', 'x', '9102')$$, 'RS701', NULL, 'an unknown code raises RS701');
SELECT throws_ok($$SELECT resonance.redeem_link_code('  ', '2002', 'x', '9102')$$, 'RS301', NULL, 'no code raises RS301');
INSERT INTO resonance.link_codes (code, brand_id, created_by, created_at, expires_at)
VALUES ('EXPRD234', 'brandC', 'p', now() - interval '20 minutes', now() - interval '10 minutes');
SELECT throws_ok($$SELECT resonance.redeem_link_code('EXPRD234', '2002', 'x', '9102')$$, 'RS702', NULL, 'an expired code raises RS702');
CREATE TEMP TABLE t_code_b AS SELECT resonance.create_link_code('brandE', 'portal-user-2') AS r;
SELECT throws_ok(
    format($$SELECT resonance.setup_server('2001', 'x', '9103', %L)$$, (SELECT r ->> 'code' FROM t_code_b)),
    'RS704', NULL, 'another brand''s code for a linked guild raises RS704'
);
SELECT is(
    (SELECT redeemed_at FROM resonance.link_codes WHERE code = (SELECT r ->> 'code' FROM t_code_b)), NULL,
    'the refused code stays unused'
);

-- /setup without a code
CREATE TEMP TABLE t_setup AS SELECT resonance.setup_server('3001', 'Guild Three', '9201') AS r;
SELECT is((SELECT r ->> 'status' FROM t_setup), 'linked', 'setup_server without a code links the guild');
SELECT is((SELECT r ->> 'brand_id' FROM t_setup), 'discord:3001', 'to its self-hosted brand discord:<guild id>');
SELECT is((SELECT r -> 'checklist' ->> 'self_hosted' FROM t_setup), 'true', 'the checklist says self-hosted');
SELECT is(
    (SELECT jsonb_agg(i ->> 'key' ORDER BY i ->> 'key') FROM t_setup, jsonb_array_elements(r -> 'checklist' -> 'items') AS i),
    '["drops_channel", "report_channel", "roles", "rules"]'::jsonb, 'the checklist has its four items'
);
SELECT is(
    (SELECT count(*) FROM t_setup, jsonb_array_elements(r -> 'checklist' -> 'items') AS i WHERE i -> 'done' = 'false'::jsonb),
    4::bigint, 'nothing is configured on a fresh server (each item says done false)'
);
SELECT is(resonance.setup_server('3001', 'Guild Three', '9202') ->> 'status', 'already_linked', '/setup again: already_linked');
SELECT is(resonance.setup_server('2001', 'Guild Two', '9203') ->> 'brand_id', 'brandC', '/setup without a code keeps the brand a guild has');
SELECT is(resonance.setup_checklist('4040') ->> 'linked', 'false', 'the checklist of an unknown guild says not linked');

-- channels
SELECT is(resonance.set_server_channel('3001', '9204', 'drops', '555') ->> 'status', 'set', 'set_server_channel sets the drops channel');
SELECT is(
    (SELECT config_metadata -> 'channels' ->> 'drops' FROM public.discord_server_configs WHERE server_id = '3001'), '555',
    'stored in config_metadata.channels'
);
SELECT ok(pg_temp.audited('3001', 'discord_server_configs.update', '9204'), 'setting a channel is audited');
SELECT is(resonance.set_server_channel('3001', '9204', 'alerts', '556') -> 'channels', '{"drops": "555", "alerts": "556"}'::jsonb, 'channels accumulate');
SELECT is(resonance.set_server_channel('3001', '9204', 'alerts', NULL) ->> 'status', 'cleared', 'NULL clears a channel');
SELECT throws_ok($$SELECT resonance.set_server_channel('3001', '9204', 'memes', '1')$$, 'RS741', NULL, 'unknown channel kind raises RS741');
SELECT throws_ok($$SELECT resonance.set_server_channel('3001', '9204', 'drops', '#general')$$, 'RS741', NULL, 'a channel name instead of an id raises RS741');
SELECT throws_ok($$SELECT resonance.set_server_channel('4040', '9204', 'drops', '1')$$, 'RS001', NULL, 'unknown server raises RS001');

-- anti-farming
SELECT is(
    resonance.set_anti_farming('3001', '9205', 0.8, 3, 60) -> 'anti_farming',
    '{"similarity": 0.8, "min_words": 3, "window_minutes": 60, "enabled": true}'::jsonb, 'set_anti_farming sets the thresholds'
);
SELECT is(
    (SELECT config_metadata -> 'channels' ->> 'drops' FROM public.discord_server_configs WHERE server_id = '3001'), '555',
    'other settings are kept'
);
SELECT ok(pg_temp.audited('3001', 'discord_server_configs.update', '9205'), 'anti-farming changes are audited');
SELECT throws_ok($$SELECT resonance.set_anti_farming('3001', 'a', 1.5)$$, 'RS742', NULL, 'similarity above 1 raises RS742');
SELECT throws_ok($$SELECT resonance.set_anti_farming('3001', 'a', 0.9, -1)$$, 'RS742', NULL, 'negative min_words raise RS742');
SELECT throws_ok($$SELECT resonance.set_anti_farming('3001', 'a', 0.9, 0, 0)$$, 'RS742', NULL, 'an empty window raises RS742');

-- ------------------------------------------------------------------------------ event rules
CREATE TEMP TABLE t_rule AS SELECT resonance.set_event_rule('3001', '9301', 'channel_message', 5, 0) AS r;
SELECT ok(pg_temp.audited('3001', 'monitoring_rules.insert', '9301'), 'set_event_rule is audited with the admin');
SELECT throws_ok($$SELECT resonance.set_event_rule('3001', 'a', 'x', 1000001)$$, 'RS305', NULL, 'a reward above 1000000 raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('3001', 'a', 'x', 1, 8761)$$, 'RS305', NULL, 'a cooldown above a year raises RS305');
SELECT throws_ok($$SELECT resonance.set_event_rule('3001', 'a', 'x', 1, 1, 1000001)$$, 'RS305', NULL, 'a cap above 1000000 raises RS305');
SELECT is(
    (SELECT count(*) FROM resonance.list_event_rules('3001') WHERE is_enabled AND NOT brand_wide), 1::bigint,
    'list_event_rules lists the server''s rule'
);
SELECT is(
    resonance.disable_event_rule('3001', '9302', (SELECT (r ->> 'rule_id')::uuid FROM t_rule)) ->> 'status', 'disabled',
    'disable_event_rule disables'
);
SELECT ok(pg_temp.audited('3001', 'monitoring_rules.update', '9302'), 'disabling a rule is audited with the admin');
SELECT is(
    resonance.disable_event_rule('3001', '9302', (SELECT (r ->> 'rule_id')::uuid FROM t_rule)) ->> 'status', 'already_disabled',
    'disabling twice: already_disabled'
);
SELECT is((SELECT is_enabled FROM resonance.list_event_rules('3001')), FALSE, 'the disabled rule is still listed, disabled');
SELECT throws_ok(
    format($$SELECT resonance.disable_event_rule('2001', '9302', %L)$$, (SELECT r ->> 'rule_id' FROM t_rule)),
    'RS306', NULL, 'another server''s rule raises RS306'
);
SELECT throws_ok($$SELECT * FROM resonance.list_event_rules('4040')$$, 'RS001', NULL, 'list_event_rules of an unknown server raises RS001');
SELECT is(
    resonance.set_event_rule('3001', '9303', 'channel_message', 5, 0, p_is_enabled => TRUE) ->> 'status', 'updated',
    'set_event_rule re-enables the rule'
);

-- role effects (bounds added for this API)
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'multiplier', '{"value": 101}')$$, 'RS307', NULL, 'a multiplier above 100 raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'bonus_flat', '{"value": 1000001}')$$, 'RS307', NULL, 'a flat bonus above 1000000 raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'one_time_bonus', '{"amount": 1000001}')$$, 'RS307', NULL, 'a one-time bonus above 1000000 raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'auto_drip', '{"amount": 5, "period": "hour"}')$$, 'RS307', NULL, 'an unknown drip period raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'multiplier', '{}')$$, 'RS307', NULL, 'a multiplier without a value raises RS307');
SELECT throws_ok($$SELECT resonance.set_role_effect('3001', 'a', '77', 'one_time_bonus', '{"amount": "5"}')$$, 'RS307', NULL, 'an amount as a string raises RS307');
SELECT is(resonance.set_role_effect('3001', '9304', '77', 'auto_drip', '{"amount": 5, "period": "week"}') ->> 'status', 'created', 'a weekly drip is accepted');
SELECT ok(pg_temp.audited('3001', 'discord_role_configs.insert', '9304'), 'set_role_effect is audited with the admin');

-- ------------------------------------------------------------------------------ achievements
CREATE TEMP TABLE t_ach AS SELECT resonance.set_achievement('3001', '9401', 'Chatterbox', 'message_count', 100, 50, '100 messages') AS r;
SELECT is((SELECT r ->> 'status' FROM t_ach), 'created', 'set_achievement creates');
SELECT ok(pg_temp.audited('3001', 'discord_achievements.insert', '9401'), 'creating an achievement is audited with the admin');
SELECT is(
    resonance.set_achievement('3001', '9402', 'chatterbox', 'message_count', 200, 60) ->> 'status', 'updated',
    'the same name (any case) updates it'
);
SELECT results_eq(
    $$SELECT name, threshold, reward_amount, description FROM public.discord_achievements WHERE server_id = '3001'$$,
    $$VALUES ('chatterbox', 200, 60::numeric, '100 messages')$$, 'one achievement, updated, description kept'
);
SELECT ok(pg_temp.audited('3001', 'discord_achievements.update', '9402'), 'updating an achievement is audited with the admin');
SELECT is(
    resonance.set_achievement('3001', '9403', 'Renamed', 'message_count', 200, 60, p_achievement_id => (SELECT (r ->> 'achievement_id')::uuid FROM t_ach)) ->> 'status',
    'updated', 'by id, the name can change'
);
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', ' ', 'message_count', 1, 0)$$, 'RS711', NULL, 'blank name raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'karma', 1, 0)$$, 'RS711', NULL, 'unknown type raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 0, 0)$$, 'RS711', NULL, 'threshold 0 raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 1000000001, 0)$$, 'RS711', NULL, 'threshold above 1e9 raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 1, 1000001)$$, 'RS711', NULL, 'reward above 1e6 raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 1, 1.5)$$, 'RS711', NULL, 'a fractional reward raises RS711');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 1, -1)$$, 'RS711', NULL, 'a negative reward raises RS711');
SELECT throws_ok(
    $$SELECT resonance.set_achievement('3001', 'a', 'x', 'message_count', 1, 0, p_achievement_id => '00000000-0000-0000-0000-000000000000')$$,
    'RS712', NULL, 'an unknown achievement id raises RS712'
);
SELECT throws_ok($$SELECT resonance.set_achievement('4040', 'a', 'x', 'message_count', 1, 0)$$, 'RS001', NULL, 'unknown server raises RS001');
SELECT throws_ok($$SELECT resonance.set_achievement('3001', NULL, 'x', 'message_count', 1, 0)$$, 'RS301', NULL, 'no actor raises RS301');
SELECT is(
    resonance.disable_achievement('3001', '9404', (SELECT (r ->> 'achievement_id')::uuid FROM t_ach)) ->> 'status', 'disabled',
    'disable_achievement disables'
);
SELECT ok(pg_temp.audited('3001', 'discord_achievements.update', '9404'), 'disabling an achievement is audited with the admin');
SELECT is(
    resonance.disable_achievement('3001', '9404', (SELECT (r ->> 'achievement_id')::uuid FROM t_ach)) ->> 'status', 'already_disabled',
    'twice: already_disabled'
);
SELECT throws_ok(
    format($$SELECT resonance.disable_achievement('2001', 'a', %L)$$, (SELECT r ->> 'achievement_id' FROM t_ach)),
    'RS712', NULL, 'another server''s achievement raises RS712'
);
SELECT results_eq(
    $$SELECT name, is_active, completions FROM resonance.list_achievement_configs('3001')$$,
    $$VALUES ('Renamed', FALSE, 0::bigint)$$, 'list_achievement_configs lists it, disabled'
);

-- ------------------------------------------------------------------------------ goals
CREATE TEMP TABLE t_goal AS SELECT resonance.set_goal('3001', '9501', 'Big month', 'rsnc_distributed', 5000, (now() AT TIME ZONE 'UTC')::date + 30) AS r;
SELECT is((SELECT r ->> 'status' FROM t_goal), 'created', 'set_goal creates');
SELECT ok((SELECT (r ->> 'starts_at')::timestamptz = now() FROM t_goal), 'a goal starts now by default');
SELECT ok(pg_temp.audited('3001', 'discord_community_goals.insert', '9501'), 'creating a goal is audited with the admin');
SELECT is(
    resonance.set_goal('3001', '9502', 'Old style', 'ltz_distributed', 10) ->> 'status', 'created',
    'ltz_distributed is accepted'
);
SELECT is(
    (SELECT goal_type FROM public.discord_community_goals WHERE name = 'Old style'), 'rsnc_distributed', 'and stored as rsnc_distributed'
);
SELECT is(
    resonance.set_goal('3001', '9503', 'Big month', 'rsnc_distributed', 6000, NULL, now() + interval '1 day', (SELECT (r ->> 'goal_id')::uuid FROM t_goal)) ->> 'status',
    'updated', 'set_goal updates by id'
);
SELECT ok(pg_temp.audited('3001', 'discord_community_goals.update', '9503'), 'updating a goal is audited with the admin');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', '', 'dau', 1)$$, 'RS721', NULL, 'blank name raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'karma', 1)$$, 'RS721', NULL, 'unknown type raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'dau', 0)$$, 'RS721', NULL, 'target 0 raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'dau', 1000000000001)$$, 'RS721', NULL, 'target above 1e12 raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'dau', 1, '2020-01-01')$$, 'RS721', NULL, 'a deadline before the start raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'dau', 1, (now() + interval '11 years')::date)$$, 'RS721', NULL, 'a deadline over ten years out raises RS721');
SELECT throws_ok($$SELECT resonance.set_goal('3001', 'a', 'x', 'custom', 1)$$, 'RS721', NULL, 'a custom goal without its function raises RS721');
SELECT throws_ok(
    $$SELECT resonance.set_goal('3001', 'a', 'x', 'custom', 1, p_custom_function => 'resonance.goal_nope')$$,
    'RS721', NULL, 'a custom goal with a missing function raises RS721'
);
SELECT throws_ok(
    $$SELECT resonance.set_goal('3001', 'a', 'x', 'dau', 1, p_goal_id => '00000000-0000-0000-0000-000000000000')$$,
    'RS722', NULL, 'an unknown goal id raises RS722'
);
SELECT is(
    resonance.disable_goal('3001', '9504', (SELECT (r ->> 'goal_id')::uuid FROM t_goal)) ->> 'status', 'disabled',
    'disable_goal disables'
);
SELECT ok(pg_temp.audited('3001', 'discord_community_goals.update', '9504'), 'disabling a goal is audited with the admin');
SELECT is(
    (SELECT count(*) FROM resonance.list_goals('3001') WHERE name = 'Big month'), 0::bigint,
    'a disabled goal is not shown to members'
);
SELECT is(
    (SELECT is_active FROM resonance.list_goal_configs('3001') WHERE name = 'Big month'), FALSE,
    'the admin list shows it, disabled'
);
SELECT is(
    resonance.disable_goal('3001', '9504', (SELECT (r ->> 'goal_id')::uuid FROM t_goal)) ->> 'status', 'already_disabled',
    'twice: already_disabled'
);
SELECT throws_ok(
    format($$SELECT resonance.disable_goal('2001', 'a', %L)$$, (SELECT r ->> 'goal_id' FROM t_goal)),
    'RS722', NULL, 'another server''s goal raises RS722'
);

-- ------------------------------------------------------------------------------ roles and the shop
SELECT is(
    resonance.set_role_assignment('3001', '9601', '88', 'purchase', '{"price": 500}', 'VIP') ->> 'status', 'created',
    'set_role_assignment puts a role on sale'
);
SELECT ok(pg_temp.audited('3001', 'discord_role_configs.insert', '9601'), 'setting a price is audited with the admin');
SELECT results_eq(
    $$SELECT role_id, role_name, price, effect_type FROM resonance.shop_items('3001')$$,
    $$VALUES ('88', 'VIP', 500::numeric, 'bonus_flat')$$, 'shop_items lists it with its price and a neutral effect'
);
SELECT is(
    resonance.set_role_assignment('3001', '9602', '77', 'purchase', '{"price": 250}') ->> 'status', 'updated',
    'a role with an effect can be put on sale'
);
SELECT is(
    (SELECT effect_type FROM public.discord_role_configs WHERE server_id = '3001' AND discord_role_id = '77'), 'auto_drip',
    'and keeps its effect'
);
SELECT is((SELECT array_agg(role_id ORDER BY price) FROM resonance.shop_items('3001')), ARRAY['77', '88'], 'the shop lists cheapest first');
SELECT is(
    resonance.set_role_assignment('3001', '9603', '99', 'activity_threshold', '{"type": "messages_count", "threshold": 50}') -> 'assignment_config',
    '{"criteria": [{"type": "messages_count", "threshold": 50}]}'::jsonb, 'the short activity form is stored as criteria'
);
SELECT is(
    resonance.set_role_assignment('3001', '9604', '98', 'balance_threshold', '{"threshold": 1000}') ->> 'status', 'created',
    'a balance threshold role'
);
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'purchase', '{"price": 0}')$$, 'RS731', NULL, 'price 0 raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'purchase', '{"price": 1000000001}')$$, 'RS731', NULL, 'price above 1e9 raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'purchase', '{"price": 2.5}')$$, 'RS731', NULL, 'a fractional price raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'purchase', '{"price": "500"}')$$, 'RS731', NULL, 'a price as a string raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'balance_threshold', '{}')$$, 'RS731', NULL, 'a balance role without threshold raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'activity_threshold', '{"type": "karma", "threshold": 5}')$$, 'RS731', NULL, 'an unknown activity criterion raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'milestone', '{}')$$, 'RS731', NULL, 'milestones go through create_milestone (RS731)');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'purchase', '[500]')$$, 'RS731', NULL, 'a config that is not an object raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', '1', 'manual', '{}', NULL, 5000)$$, 'RS731', NULL, 'priority outside -1000..1000 raises RS731');
SELECT throws_ok($$SELECT resonance.set_role_assignment('3001', 'a', NULL, 'manual')$$, 'RS301', NULL, 'no role raises RS301');
SELECT is(resonance.disable_role('3001', '9605', '88') ->> 'status', 'disabled', 'disable_role takes a role off');
SELECT ok(pg_temp.audited('3001', 'discord_role_configs.update', '9605'), 'disabling a role is audited with the admin');
SELECT is((SELECT array_agg(role_id) FROM resonance.shop_items('3001')), ARRAY['77'], 'a disabled role is no longer for sale');
SELECT is(resonance.disable_role('3001', '9605', '88') ->> 'status', 'already_disabled', 'twice: already_disabled');
SELECT throws_ok($$SELECT resonance.disable_role('3001', 'a', '12345')$$, 'RS732', NULL, 'an unconfigured role raises RS732');
SELECT is(
    (SELECT count(*) FROM resonance.list_role_configs('3001')), 4::bigint, 'list_role_configs lists every configured role'
);

-- ------------------------------------------------------------------------------ KPI targets, reports
SELECT resonance.set_actor('admin', '9701');
SELECT lives_ok($$SELECT resonance.set_kpi_target('3001', 'daily_active_users', 50, 'week', 20)$$, 'a KPI target under the admin''s name');
SELECT is(resonance.disable_kpi_target('3001', '9702', 'daily_active_users', 'week') ->> 'status', 'disabled', 'disable_kpi_target disables');
SELECT ok(pg_temp.audited('3001', 'discord_kpi_configs.update', '9702'), 'disabling a KPI target is audited with the admin');
SELECT is(resonance.disable_kpi_target('3001', '9702', 'daily_active_users', 'week') ->> 'status', 'already_disabled', 'twice: already_disabled');
SELECT throws_ok($$SELECT resonance.disable_kpi_target('3001', 'a', 'churn_rate', 'week')$$, 'RS751', NULL, 'no such target raises RS751');
SELECT results_eq(
    $$SELECT metric, period, is_active FROM resonance.list_kpi_targets('3001')$$,
    $$VALUES ('daily_active_users', 'week', FALSE)$$, 'list_kpi_targets lists it'
);
SELECT throws_ok($$SELECT resonance.disable_report_schedule('3001', 'a')$$, 'RS752', NULL, 'no schedule raises RS752');
SELECT lives_ok($$SELECT resonance.set_report_schedule('3001', 'weekly', '557', 1)$$, 'a report schedule');
SELECT is(
    (SELECT count(*) FROM jsonb_array_elements(resonance.setup_checklist('3001') -> 'items') AS i WHERE (i ->> 'done')::boolean),
    4::bigint, 'with a rule, roles, a drops channel and a schedule the checklist is complete'
);
SELECT is(resonance.disable_report_schedule('3001', '9703') ->> 'status', 'disabled', 'disable_report_schedule stops reports');
SELECT ok(pg_temp.audited('3001', 'discord_report_schedules.update', '9703'), 'stopping reports is audited with the admin');

-- KPI alerts go to the alerts channel when one is set (no report schedule needed)
SELECT resonance.link_server('5001', 'brandK', 'KPI guild', '9704');
SELECT resonance.set_kpi_target('5001', 'daily_active_users', 20, 'day', 10);
INSERT INTO public.discord_kpi_snapshots (server_id, snapshot_date, snapshot_type, metrics)
VALUES ('5001', '2026-05-31', 'daily', '{"daily_active_users": 2}');
SELECT is(resonance.check_kpi_alerts('2026-05-31', '5001'), 0, 'no alerts channel and no report schedule: no alert');
SELECT resonance.set_server_channel('5001', '9704', 'alerts', '999');
SELECT is(resonance.check_kpi_alerts('2026-05-31', '5001'), 1, 'with an alerts channel the breach is queued');
SELECT is(
    (SELECT payload ->> 'channel_id' FROM resonance.outbox WHERE dedup_key = 'kpi_alert:5001:daily_active_users:day:2026-05-31'),
    '999', 'to the alerts channel'
);

-- ------------------------------------------------------------------------------ currencies
SELECT is(tipping.add_currency('usdc', 6, '9801', '3001') ->> 'status', 'added', 'add_currency adds (code upper-cased)');
SELECT ok(pg_temp.audited('3001', 'currency.add', '9801'), 'adding a currency is audited with the admin');
SELECT is(tipping.add_currency('USDC', 6, '9801') ->> 'status', 'exists', 'the same currency again: exists');
SELECT throws_ok($$SELECT tipping.add_currency('USDC', 2, '9801')$$, 'RT041', NULL, 'other decimals for an existing code raise RT041');
SELECT throws_ok($$SELECT tipping.add_currency('U', 2, '9801')$$, 'RT040', NULL, 'a one-letter code raises RT040');
SELECT throws_ok($$SELECT tipping.add_currency('USD$', 2, '9801')$$, 'RT040', NULL, 'a symbol in the code raises RT040');
SELECT throws_ok($$SELECT tipping.add_currency('ABC', 9, '9801')$$, 'RT040', NULL, 'more than 8 decimals raise RT040');
SELECT throws_ok($$SELECT tipping.add_currency('ABC', 2, NULL)$$, 'RT035', NULL, 'no actor raises RT035');
SELECT is(tipping.set_currency_active('USDC', FALSE, '9802') ->> 'status', 'disabled', 'set_currency_active disables');
SELECT ok(pg_temp.audited('tipping', 'currency.disable', '9802'), 'disabling a currency is audited (under tipping)');
SELECT throws_ok($$SELECT tipping.mint('u1', 1, 'USDC', 'test')$$, 'RT005', NULL, 'a disabled currency no longer moves');
SELECT is(tipping.set_currency_active('USDC', FALSE, '9802') ->> 'status', 'unchanged', 'twice: unchanged');
SELECT throws_ok($$SELECT tipping.set_currency_active('RSNC', FALSE, '9802')$$, 'RT042', NULL, 'RSNC cannot be switched off');
SELECT throws_ok($$SELECT tipping.set_currency_active('NOPE', TRUE, '9802')$$, 'RT005', NULL, 'unknown currency raises RT005');
SELECT is((SELECT is_active FROM tipping.list_currencies() WHERE code = 'USDC'), FALSE, 'list_currencies lists it, inactive');

-- ------------------------------------------------------------------------------ ticket triage
CREATE TEMP TABLE t_ticket17 AS SELECT (tipping.open_ticket('555000', 'Tip missing') -> 'ticket' ->> 'id')::bigint AS id;
SELECT is(
    tipping.update_ticket((SELECT id FROM t_ticket17), 'in_progress', 'high', '9901', '3001') -> 'ticket' ->> 'handled_by', '9901',
    'update_ticket records the staff member'
);
SELECT ok(
    EXISTS (
        SELECT FROM public.discord_audit_log
        WHERE server_id = '3001' AND action = 'ticket.update' AND actor_id = '9901' AND target_user_id = '555000'
            AND before_state ->> 'status' = 'open' AND after_state ->> 'status' = 'in_progress'
    ),
    'a ticket change is audited with staff, member, before and after'
);
SELECT throws_ok(
    format($$SELECT tipping.update_ticket(%s, 'resolved')$$, (SELECT id FROM t_ticket17)), 'RT035', NULL,
    'a ticket change without staff raises RT035'
);
SELECT is(
    (SELECT count(*) FROM tipping.list_tickets(NULL, 'in_progress') WHERE id = (SELECT id FROM t_ticket17)), 1::bigint,
    'staff list tickets by status'
);

-- ------------------------------------------------------------------------------ /terms
SELECT is(tipping.verification_status('556000') ->> 'status', 'not_accepted', 'verification_status before the terms: not_accepted');
SELECT is(tipping.accept_terms('556000', 'v1') ->> 'status', 'accepted', 'accept_terms');
SELECT is(tipping.verification_status('556000') ->> 'terms_version', 'v1', 'verification_status after: the version accepted');
SELECT throws_ok($$SELECT tipping.verification_status(' ')$$, 'RT006', NULL, 'no member raises RT006');

SELECT * FROM finish();
ROLLBACK;
