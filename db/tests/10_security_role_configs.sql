-- discord_role_configs: the documented matrix as behaviour, the documented DELETE + INSERT that
-- creates a milestone over an inactive row, and the anon writes safe by default (issue 14).
BEGIN;
\ir helpers/setup.psql
\ir helpers/security.psql
SELECT plan(25);

-- anon reads active rows only.
SELECT tests.authenticate_as('anon');
SELECT results_eq(
    $$SELECT discord_role_id FROM public.discord_role_configs WHERE server_id = 'server_a'$$,
    $$VALUES ('role_a_active')$$,
    'anon reads the active role config and not the inactive one'
);
SELECT is_empty(
    $$DELETE FROM public.discord_role_configs WHERE server_id = 'server_a' AND discord_role_id = 'role_a_inactive' RETURNING id$$,
    'anon cannot delete an inactive row: it cannot see it'
);

-- Safe by default: no server enables anon writes, so every anon write is refused (RS603).
SELECT throws_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_a', 'brand_a', 'role_a_vip', 'multiplier', '{"value": 1000}')$$,
    'RS603', NULL, 'by default anon cannot insert a role config (a 1,000x multiplier)'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET effect_config = '{"value": 1000}'$$,
    'RS603', NULL, 'by default anon cannot update role configs, even with no WHERE'
);
SELECT throws_ok(
    $$DELETE FROM public.discord_role_configs$$,
    'RS603', NULL, 'by default anon cannot delete role configs'
);

-- The operator enables anon writes for server_a (and server_a2) only.
SELECT tests.clear_authentication();
UPDATE public.discord_server_configs
SET config_metadata = coalesce(config_metadata, '{}') || '{"security": {"anon_role_config_writes": true}}'
WHERE server_id IN ('server_a', 'server_a2');
SELECT tests.authenticate_as('anon');

-- The documented milestone write, DELETE + INSERT, over that invisible inactive row.
SELECT lives_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, discord_role_name, effect_type, effect_config, assignment_type, assignment_config)
      VALUES ('server_a', 'brand_a', 'role_a_inactive', 'Whale', 'one_time_bonus', '{"amount": 100}', 'milestone',
              '{"name": "Whale", "criteria": [{"type": "rsnc_earned", "threshold": 5000}]}')$$,
    'anon creates a milestone over an inactive row with the documented DELETE + INSERT, once enabled'
);
SELECT results_eq(
    $$SELECT discord_role_name, assignment_type FROM public.discord_role_configs WHERE server_id = 'server_a' AND discord_role_id = 'role_a_inactive'$$,
    $$VALUES ('Whale'::text, 'milestone'::text)$$,
    'anon now sees the new milestone'
);
SELECT tests.clear_authentication();
SELECT results_eq(
    $$SELECT count(*)::integer, bool_and(is_active) FROM public.discord_role_configs WHERE server_id = 'server_a' AND discord_role_id = 'role_a_inactive'$$,
    $$VALUES (1, TRUE)$$,
    'the inactive row was replaced: one active row remains for that server and role'
);

-- An active row still holds its key: a duplicate INSERT is refused.
SELECT tests.authenticate_as('anon');
SELECT throws_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type) VALUES ('server_a', 'brand_a', 'role_a_active', 'bonus_flat')$$,
    '23505', NULL, 'an INSERT over an active row still violates unique_server_role'
);

-- Enabled: insert, update, delete active rows of that server.
SELECT lives_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_a', 'brand_a', 'role_a_vip', 'multiplier', '{"value": 2.0}')$$,
    'anon inserts a role config on an enabled server (anon_write_role_configs)'
);
SELECT results_eq(
    $$UPDATE public.discord_role_configs SET priority = 5 WHERE server_id = 'server_a' AND discord_role_id = 'role_a_vip' RETURNING priority$$,
    $$VALUES (5)$$,
    'anon updates an active role config of an enabled server (anon_update_role_configs)'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET is_active = FALSE WHERE server_id = 'server_a' AND discord_role_id = 'role_a_vip'$$,
    '42501', NULL, 'anon cannot deactivate a row (anon_update_role_configs: active rows only)'
);
SELECT throws_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, is_active) VALUES ('server_a', 'brand_a', 'role_a_hidden', 'multiplier', FALSE)$$,
    '42501', NULL, 'anon cannot insert an inactive row (anon_write_role_configs: active rows only)'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET server_id = 'server_a2' WHERE server_id = 'server_a' AND discord_role_id = 'role_a_vip'$$,
    'RS604', NULL, 'anon cannot move a row to another server, even an enabled one of the same brand'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET brand_id = 'brand_b' WHERE server_id = 'server_a' AND discord_role_id = 'role_a_vip'$$,
    'RS604', NULL, 'anon cannot move a row to another brand'
);
SELECT throws_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type) VALUES ('server_a', 'brand_b', 'role_a_forged', 'bonus_flat')$$,
    'RS604', NULL, 'anon cannot insert a row in another brand''s name on an enabled server'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET priority = 9 WHERE server_id = 'server_b'$$,
    'RS603', NULL, 'enabling server_a does not open another brand''s server'
);
SELECT throws_ok(
    $$UPDATE public.discord_role_configs SET priority = 9$$,
    'RS603', NULL, 'an UPDATE with no WHERE is refused whole: it reaches a server that is not enabled'
);
SELECT results_eq(
    $$DELETE FROM public.discord_role_configs WHERE server_id = 'server_a' AND discord_role_id = 'role_a_vip' RETURNING discord_role_id$$,
    $$VALUES ('role_a_vip')$$,
    'anon deletes an active role config of an enabled server (anon_delete_role_configs)'
);

-- Configuration JSON is validated whoever writes it (RS602, naming the key).
SELECT tests.authenticate_as('service_role');
SELECT throws_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_b', 'brand_b', 'role_b_lots', 'auto_drip', '{"amount": "lots"}')$$,
    'RS602', NULL, 'a role config with {"amount": "lots"} is refused when written'
);
SELECT tests.clear_authentication();

-- Portal users see nothing of this table; service_role sees and writes everything.
SELECT tests.authenticate_as_brand('brand_a');
SELECT throws_ok('SELECT 1 FROM public.discord_role_configs', '42501', NULL, 'a brand user cannot read role configs');
SELECT tests.authenticate_as('service_role');
CREATE TEMP TABLE inactive_b ON COMMIT DROP AS
SELECT id FROM public.discord_role_configs WHERE server_id = 'server_b' AND discord_role_id = 'role_b_inactive';
SELECT results_eq(
    $$SELECT count(*)::integer FROM public.discord_role_configs WHERE server_id = 'server_b'$$,
    $$VALUES (2)$$,
    'service_role sees active and inactive role configs'
);
SELECT lives_ok(
    $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, assignment_type)
      VALUES ('server_b', 'brand_b', 'role_b_inactive', 'one_time_bonus', 'milestone')
      ON CONFLICT (server_id, discord_role_id) DO UPDATE SET assignment_type = excluded.assignment_type, is_active = TRUE$$,
    'service_role upserts a milestone over an inactive row'
);
SELECT results_eq(
    $$SELECT assignment_type, is_active, id = (SELECT id FROM inactive_b) FROM public.discord_role_configs WHERE server_id = 'server_b' AND discord_role_id = 'role_b_inactive'$$,
    $$VALUES ('milestone'::text, TRUE, TRUE)$$,
    'service_role''s upsert took the inactive row over (same id) and re-activated it'
);
SELECT lives_ok(
    $$SELECT resonance.create_milestone('server_b', 'role_b_active', 'Regular', '[{"type": "messages_count", "threshold": 10}]', 5)$$,
    'the bot''s resonance.create_milestone still works as service_role'
);

SELECT * FROM finish();
ROLLBACK;
