-- The role matrix, cell by cell: every table of public and tipping, each command (SELECT, INSERT,
-- UPDATE, DELETE) as anon, as a user of brand a, of brand b, as a signed-in user without a brand,
-- and as service_role, always against brand a's rows. Outcome per cell: a row count, E (42501:
-- no privilege or a row-level security violation), A (RS603: anon role-config writes, refused
-- unless the server enables them) or R (service_role on the ledger: RLS lets it through; the
-- ledger's own rules may still refuse a raw write with another error).
-- The analytics tables are covered by the lints (10_security_lints.sql) and the pytest.
BEGIN;
\ir helpers/setup.psql
\ir helpers/security.psql

CREATE TEMP TABLE matrix (
    tbl text, pred text, ins text, upd text, anon text, brand_a text, brand_b text, service text
) ON COMMIT DROP;

-- anon / brand_a / brand_b / service_role: one character per command, in the order S I U D.
-- The signed-in user without a brand gets brand_b's column (a stranger to brand a).
INSERT INTO matrix VALUES
    ('public.discord_server_configs', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('server_a3', 'brand_a')$$,
        -- service_role's DELETE passes RLS; the server's history then RESTRICTs it (purge_server forgets a server).
        $$server_name = 'renamed'$$, 'EEEE', '1E1E', '0E0E', '111R'),
    ('public.monitoring_rules', $$brand_id = 'brand_a'$$,
        $$INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount) VALUES ('brand_a', 'server_a', 'reaction', 1)$$,
        $$reward_amount = 2$$, 'EEEE', '1111', '0E00', '1111'),
    ('public.discord_role_configs', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type) VALUES ('server_a', 'brand_a', 'role_a_new', 'bonus_flat')$$,
        $$priority = 1$$, '1AAA', 'EEEE', 'EEEE', '2122'),
    ('public.discord_achievements', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_achievements (server_id, name, threshold) VALUES ('server_a', 'New', 5)$$,
        $$description = 'changed'$$, 'EEEE', '1111', '0E00', '1111'),
    ('public.discord_community_goals', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_community_goals (server_id, name, target_value) VALUES ('server_a', 'New goal', 10)$$,
        $$target_value = 20$$, 'EEEE', '1111', '0E00', '1111'),
    ('public.discord_kpi_configs', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_kpi_configs (server_id, metric, target_value) VALUES ('server_a', 'churn_rate', 1)$$,
        $$target_value = 60$$, 'EEEE', '1111', '0E00', '1111'),
    ('public.discord_report_schedules', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_report_schedules (server_id, frequency, channel_id) VALUES ('server_a2', 'daily', 'channel_new')$$,
        $$channel_id = 'channel_new'$$, 'EEEE', '1111', '0E00', '1111'),
    ('public.discord_role_assignments', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_role_assignments (server_id, brand_id, discord_user_id, discord_role_id, assigned_by) VALUES ('server_a', 'brand_a', 'user_a_new', 'role_a_active', 'manual')$$,
        $$removed_by = 'someone'$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_user_stats', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_user_stats (server_id, discord_user_id) VALUES ('server_a', 'user_a_new')$$,
        $$messages_count = 4$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_user_streaks', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_user_streaks (server_id, discord_user_id) VALUES ('server_a', 'user_a_new')$$,
        $$current_streak = 2$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_drops', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_drops (server_id, event_id) VALUES ('server_a', 'drop_new')$$,
        $$emoji = 'star'$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_drop_claims', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_drop_claims (drop_id, discord_user_id, server_id) VALUES ('00000000-0000-4000-8000-00000000200a', 'user_a_new', 'server_a')$$,
        $$reward_amount = 6$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_user_achievements', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_user_achievements (server_id, discord_user_id, achievement_id) VALUES ('server_a', 'user_a_new', '00000000-0000-4000-8000-00000000300a')$$,
        $$progress = 4$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_kpi_snapshots', $$server_id = 'server_a'$$,
        $$INSERT INTO public.discord_kpi_snapshots (server_id, snapshot_date, metrics) VALUES ('server_a', '2026-01-02', '{}')$$,
        $$metrics = '{}'$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_audit_log', $$server_id = 'server_a' AND action = 'seed'$$,
        $$INSERT INTO public.discord_audit_log (server_id, brand_id, action) VALUES ('server_a', 'brand_a', 'forged')$$,
        $$action = 'tampered'$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('public.discord_job_errors', $$server_id = 'server_a' AND job = 'auto_drip'$$,
        $$INSERT INTO public.discord_job_errors (job, server_id, brand_id, error_code, error_message, missed_from) VALUES ('kpi_snapshot', 'server_a', 'brand_a', '22P02', 'forged', now())$$,
        $$failures = 9$$, 'EEEE', '1EEE', '0EEE', '1111'),
    ('tipping.transactions', $$idempotency_key = 'security-seed:a'$$,
        $$INSERT INTO tipping.transactions (transaction_type, recipient_id, amount, currency, brand_id, server_id) VALUES ('reward', 'user_a', 1, 'RSNC', 'brand_a', 'server_a')$$,
        $$reason = 'tampered'$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.tips', $$server_id = 'server_a'$$,
        $$INSERT INTO tipping.tips (sender, receiver, amount, currency, server_id) VALUES ('user_a', 'user_a_friend', 1, 'RSNC', 'server_a')$$,
        $$signature = 'forged'$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.currencies', $$code = 'RSNC'$$,
        $$INSERT INTO tipping.currencies (code) VALUES ('TESTA')$$,
        $$is_active = TRUE$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.users', $$user_id = 'user_a'$$,
        $$INSERT INTO tipping.users (user_id) VALUES ('user_a_new')$$,
        $$updated_at = now()$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.balances', $$user_id = 'user_a'$$,
        $$INSERT INTO tipping.balances (user_id, currency, amount) VALUES ('user_a_spare', 'RSNC', 0)$$,
        $$updated_at = now()$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.trust_badges', $$discord_id = 'user_a'$$,
        $$INSERT INTO tipping.trust_badges (discord_id) VALUES ('user_a_new')$$,
        $$reputation_score = 2$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.wallet_registrations', $$discord_user_id = 'user_a'$$,
        $$INSERT INTO tipping.wallet_registrations (discord_user_id, wallet_address) VALUES ('user_a_new', 'wallet_new')$$,
        $$discord_username = 'renamed'$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.registration_nonces', $$discord_user_id = 'user_a'$$,
        $$INSERT INTO tipping.registration_nonces (nonce, discord_user_id) VALUES ('nonce_new', 'user_a')$$,
        $$used = TRUE$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.verifications', $$discord_id = 'user_a'$$,
        $$INSERT INTO tipping.verifications (discord_id) VALUES ('user_a_new')$$,
        $$verified = TRUE$$, 'EEEE', 'EEEE', 'EEEE', '1RRR'),
    ('tipping.tickets', $$discord_id = 'user_a'$$,
        $$INSERT INTO tipping.tickets (discord_id, subject) VALUES ('user_a', 'new ticket')$$,
        $$priority = 'high'$$, 'EEEE', 'EEEE', 'EEEE', '1RRR');

-- One job error of brand a's server (the jobs write them as service_role).
INSERT INTO public.discord_job_errors (job, server_id, brand_id, error_code, error_message, missed_from)
VALUES ('auto_drip', 'server_a', 'brand_a', '22P02', 'invalid input syntax for type numeric: "lots"', now());

CREATE TEMP TABLE cells ON COMMIT DROP AS
SELECT
    m.tbl,
    a.actor,
    c.cmd,
    substr(
        CASE a.actor
            WHEN 'anon' THEN m.anon WHEN 'brand_a' THEN m.brand_a WHEN 'service_role' THEN m.service ELSE m.brand_b
        END,
        c.pos, 1
    ) AS expected,
    CASE c.cmd
        WHEN 'SELECT' THEN format('SELECT 1 FROM %s WHERE %s', m.tbl, m.pred)
        WHEN 'INSERT' THEN m.ins || ' RETURNING 1'
        WHEN 'UPDATE' THEN format('UPDATE %s SET %s WHERE %s RETURNING 1', m.tbl, m.upd, m.pred)
        ELSE format('DELETE FROM %s WHERE %s RETURNING 1', m.tbl, m.pred)
    END AS stmt
FROM matrix AS m
CROSS JOIN (VALUES ('anon'), ('brand_a'), ('brand_b'), ('nobrand'), ('service_role')) AS a (actor)
CROSS JOIN (VALUES (1, 'SELECT'), (2, 'INSERT'), (3, 'UPDATE'), (4, 'DELETE')) AS c (pos, cmd);

SELECT plan((SELECT count(*)::integer + 1 FROM cells));

-- Every table of public and tipping is in the matrix (a new table must join it).
SELECT set_eq(
    $$SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class AS c
      INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public', 'tipping') AND c.relkind IN ('r', 'p')$$,
    $$SELECT tbl FROM matrix$$,
    'the matrix covers every table of public and tipping'
);

SELECT is(
    CASE
        WHEN t.expected = 'R' AND (t.got = '1' OR t.got LIKE 'X:%') THEN 'R'
        WHEN t.got LIKE 'X:RS603 %' THEN 'A'
        ELSE t.got
    END,
    t.expected,
    format('%s %s %s: %s', t.actor, t.cmd, t.tbl, CASE t.expected WHEN 'E' THEN 'denied (42501)' WHEN 'A' THEN 'refused (RS603, not enabled)' WHEN 'R' THEN 'not blocked by RLS' ELSE t.expected || ' row(s)' END)
)
FROM (SELECT cells.*, tests.try_as(cells.actor, cells.stmt) AS got FROM cells) AS t;

SELECT * FROM finish();
ROLLBACK;
