-- Two brands with one row of their own in every table of public, tipping and analytics, for the
-- security tests (pgTAP \ir's it; tests/test_security_isolation.py runs it too). Plain SQL, run as
-- the superuser. Every row of brand x carries a marker: brand_x, server_x, user_x or tenant brand_x
-- (x = a or b), so a leak is a row whose text contains the other brand's marker. Brand a also owns
-- server_a2 (no rows) and brand b server_b2, for inserts into one-row-per-server tables.

INSERT INTO public.discord_server_configs (server_id, brand_id, server_name)
SELECT 'server_' || x || s, 'brand_' || x, 'Server ' || x || s
FROM (VALUES ('a'), ('b')) AS brands (x) CROSS JOIN (VALUES (''), ('2')) AS servers (s);

INSERT INTO public.monitoring_rules (id, brand_id, server_id, event_type, reward_amount)
SELECT ('00000000-0000-4000-8000-00000000100' || x)::uuid, 'brand_' || x, 'server_' || x, 'message', 1
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, assignment_type, is_active)
SELECT 'server_' || x, 'brand_' || x, 'role_' || x || '_' || state, 'multiplier', 'external', state = 'active'
FROM (VALUES ('a'), ('b')) AS brands (x) CROSS JOIN (VALUES ('active'), ('inactive')) AS states (state);

INSERT INTO public.discord_role_assignments (server_id, brand_id, discord_user_id, discord_role_id, assigned_by)
SELECT 'server_' || x, 'brand_' || x, 'user_' || x, 'role_' || x || '_active', 'manual'
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_user_stats (server_id, discord_user_id, messages_count)
SELECT 'server_' || x, 'user_' || x, 3
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_user_streaks (server_id, discord_user_id, current_streak, longest_streak)
SELECT 'server_' || x, 'user_' || x, 1, 2
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_drops (drop_id, server_id, event_id, drop_type, max_claims)
SELECT ('00000000-0000-4000-8000-00000000200' || x)::uuid, 'server_' || x, 'drop_' || x, 'button', 10
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_drop_claims (drop_id, discord_user_id, reward_amount, server_id)
SELECT ('00000000-0000-4000-8000-00000000200' || x)::uuid, 'user_' || x, 5, 'server_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_achievements (achievement_id, server_id, name, achievement_type, threshold, reward_amount)
SELECT ('00000000-0000-4000-8000-00000000300' || x)::uuid, 'server_' || x, 'Chatty ' || x, 'message_count', 10, 5
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_user_achievements (server_id, discord_user_id, achievement_id, progress)
SELECT 'server_' || x, 'user_' || x, ('00000000-0000-4000-8000-00000000300' || x)::uuid, 3
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_community_goals (goal_id, server_id, name, goal_type, target_value)
SELECT ('00000000-0000-4000-8000-00000000400' || x)::uuid, 'server_' || x, 'Goal ' || x, 'users', 100
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_audit_log (server_id, brand_id, actor_type, actor_id, action)
SELECT 'server_' || x, 'brand_' || x, 'admin', 'user_' || x, 'seed'
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_kpi_configs (server_id, metric, target_value)
SELECT 'server_' || x, 'daily_active_users', 50
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_kpi_snapshots (server_id, snapshot_date, metrics)
SELECT 'server_' || x, DATE '2026-01-01', '{"daily_active_users": 1}'::jsonb
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO public.discord_report_schedules (server_id, frequency, channel_id)
SELECT 'server_' || x, 'daily', 'channel_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

-- The ledger through its own entry point (users, balances, transactions).
DO $$
BEGIN
    PERFORM tipping.credit_reward('user_' || x, 100, 'brand_' || x, 'server_' || x, 'security-seed:' || x, 'seed')
    FROM (VALUES ('a'), ('b')) AS brands (x);
    PERFORM tipping.credit_reward('user_' || x || '_friend', 1, 'brand_' || x, 'server_' || x, 'security-seed:friend:' || x, 'seed')
    FROM (VALUES ('a'), ('b')) AS brands (x);
END;
$$;

INSERT INTO tipping.users (user_id)
SELECT 'user_' || x || '_spare' FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.tips (sender, receiver, amount, currency, server_id)
SELECT 'user_' || x, 'user_' || x || '_friend', 1, 'RSNC', 'server_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.trust_badges (discord_id, discord_username, reputation_score)
SELECT 'user_' || x, 'member user_' || x, 1
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.wallet_registrations (discord_user_id, wallet_address)
SELECT 'user_' || x, 'wallet_of_user_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.registration_nonces (nonce, discord_user_id)
SELECT 'nonce_of_user_' || x, 'user_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.verifications (discord_id, terms_version)
SELECT 'user_' || x, 'v1'
FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO tipping.tickets (discord_id, subject)
SELECT 'user_' || x, 'help for user_' || x
FROM (VALUES ('a'), ('b')) AS brands (x);

-- The analytics warehouse: both tenants sync the same guild, user and message ids.
INSERT INTO analytics.servers (tenant_id, id, name)
SELECT 'brand_' || x, 1, 'Guild' FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.users (tenant_id, id, username)
SELECT 'brand_' || x, u, 'member' || u FROM (VALUES ('a'), ('b')) AS brands (x) CROSS JOIN (VALUES (10), (11)) AS users (u);

INSERT INTO analytics.server_members (tenant_id, server_id, user_id)
SELECT 'brand_' || x, 1, 10 FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.channels (tenant_id, id, server_id, name)
SELECT 'brand_' || x, 100, 1, 'general' FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.messages (tenant_id, id, server_id, channel_id, author_id, content, created_at)
SELECT 'brand_' || x, 1000, 1, 100, 10, 'hello', TIMESTAMPTZ '2026-01-01 00:00+00' FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.message_mentions (tenant_id, message_id, user_id)
SELECT 'brand_' || x, 1000, 11 FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.emojis (tenant_id, name)
SELECT 'brand_' || x, 'thumbsup' FROM (VALUES ('a'), ('b')) AS brands (x);

INSERT INTO analytics.reactions (tenant_id, message_id, emoji_id, user_id)
SELECT e.tenant_id, 1000, e.id, 11 FROM analytics.emojis AS e WHERE e.tenant_id IN ('brand_a', 'brand_b');

-- The engine's audit trigger logged the seed's configuration rows: keep only the one seeded row per
-- brand that the matrix counts.
DELETE FROM public.discord_audit_log WHERE action <> 'seed';
