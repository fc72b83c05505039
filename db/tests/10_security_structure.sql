-- The policy structure of public and tipping, written out: which policies each table has, for
-- which roles and which command; and the table privileges anon and authenticated hold. A renamed,
-- dropped or widened policy or grant fails here. (analytics.sql belongs to the analytics helper;
-- the lints in 10_security_lints.sql hold it to RLS, FORCE RLS and the wrapped tenant setting.)
BEGIN;
\ir helpers/setup.psql

CREATE TEMP TABLE expected_policies (
    schema_name text, table_name text, policy_name text, cmd text, roles text
) ON COMMIT DROP;

INSERT INTO expected_policies VALUES
    ('public', 'discord_achievements', 'brand users add achievements to their own servers', 'INSERT', 'authenticated'),
    ('public', 'discord_achievements', 'brand users change their own achievements', 'UPDATE', 'authenticated'),
    ('public', 'discord_achievements', 'brand users read their own achievements', 'SELECT', 'authenticated'),
    ('public', 'discord_achievements', 'brand users remove their own achievements', 'DELETE', 'authenticated'),
    ('public', 'discord_achievements', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_audit_log', 'brand users read their own audit log', 'SELECT', 'authenticated'),
    ('public', 'discord_audit_log', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_job_errors', 'brand users read their own job errors', 'SELECT', 'authenticated'),
    ('public', 'discord_job_errors', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_community_goals', 'brand users add goals to their own servers', 'INSERT', 'authenticated'),
    ('public', 'discord_community_goals', 'brand users change their own goals', 'UPDATE', 'authenticated'),
    ('public', 'discord_community_goals', 'brand users read their own goals', 'SELECT', 'authenticated'),
    ('public', 'discord_community_goals', 'brand users remove their own goals', 'DELETE', 'authenticated'),
    ('public', 'discord_community_goals', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_drop_claims', 'brand users read their own drop claims', 'SELECT', 'authenticated'),
    ('public', 'discord_drop_claims', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_drops', 'brand users read their own drops', 'SELECT', 'authenticated'),
    ('public', 'discord_drops', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_kpi_configs', 'brand users add KPI targets to their own servers', 'INSERT', 'authenticated'),
    ('public', 'discord_kpi_configs', 'brand users change their own KPI targets', 'UPDATE', 'authenticated'),
    ('public', 'discord_kpi_configs', 'brand users read their own KPI targets', 'SELECT', 'authenticated'),
    ('public', 'discord_kpi_configs', 'brand users remove their own KPI targets', 'DELETE', 'authenticated'),
    ('public', 'discord_kpi_configs', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_kpi_snapshots', 'brand users read their own KPI snapshots', 'SELECT', 'authenticated'),
    ('public', 'discord_kpi_snapshots', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_report_schedules', 'brand users add report schedules to their own servers', 'INSERT', 'authenticated'),
    ('public', 'discord_report_schedules', 'brand users change their own report schedules', 'UPDATE', 'authenticated'),
    ('public', 'discord_report_schedules', 'brand users read their own report schedules', 'SELECT', 'authenticated'),
    ('public', 'discord_report_schedules', 'brand users remove their own report schedules', 'DELETE', 'authenticated'),
    ('public', 'discord_report_schedules', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_role_assignments', 'brand users read their own role assignments', 'SELECT', 'authenticated'),
    ('public', 'discord_role_assignments', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_role_configs', 'anon_delete_role_configs', 'DELETE', 'anon'),
    ('public', 'discord_role_configs', 'anon_read_active_role_configs', 'SELECT', 'anon'),
    ('public', 'discord_role_configs', 'anon_update_role_configs', 'UPDATE', 'anon'),
    ('public', 'discord_role_configs', 'anon_write_role_configs', 'INSERT', 'anon'),
    ('public', 'discord_role_configs', 'service_role_full_access_role_configs', 'ALL', 'service_role'),
    ('public', 'discord_server_configs', 'brand users change their own servers', 'UPDATE', 'authenticated'),
    ('public', 'discord_server_configs', 'brand users read their own servers', 'SELECT', 'authenticated'),
    ('public', 'discord_server_configs', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_user_achievements', 'brand users read their own member achievements', 'SELECT', 'authenticated'),
    ('public', 'discord_user_achievements', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_user_stats', 'brand users read their own member stats', 'SELECT', 'authenticated'),
    ('public', 'discord_user_stats', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'discord_user_streaks', 'brand users read their own member streaks', 'SELECT', 'authenticated'),
    ('public', 'discord_user_streaks', 'service_role has full access', 'ALL', 'service_role'),
    ('public', 'monitoring_rules', 'brand users add their own event rules', 'INSERT', 'authenticated'),
    ('public', 'monitoring_rules', 'brand users change their own event rules', 'UPDATE', 'authenticated'),
    ('public', 'monitoring_rules', 'brand users read their own event rules', 'SELECT', 'authenticated'),
    ('public', 'monitoring_rules', 'brand users remove their own event rules', 'DELETE', 'authenticated'),
    ('public', 'monitoring_rules', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'balances', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'currencies', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'registration_nonces', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'tickets', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'tips', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'transactions', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'trust_badges', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'users', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'verifications', 'service_role has full access', 'ALL', 'service_role'),
    ('tipping', 'wallet_registrations', 'service_role has full access', 'ALL', 'service_role');

CREATE TEMP TABLE expected_table_privs (schema_name text, table_name text, anon_privs text, authenticated_privs text) ON COMMIT DROP;

INSERT INTO expected_table_privs VALUES
    ('public', 'discord_server_configs', '', 'SELECT'),
    ('public', 'monitoring_rules', '', 'SELECT,INSERT,UPDATE,DELETE'),
    ('public', 'discord_role_configs', 'SELECT,INSERT,UPDATE,DELETE', ''),
    ('public', 'discord_achievements', '', 'SELECT,INSERT,UPDATE,DELETE'),
    ('public', 'discord_community_goals', '', 'SELECT,INSERT,UPDATE,DELETE'),
    ('public', 'discord_kpi_configs', '', 'SELECT,INSERT,UPDATE,DELETE'),
    ('public', 'discord_report_schedules', '', 'SELECT,INSERT,UPDATE,DELETE'),
    ('public', 'discord_role_assignments', '', 'SELECT'),
    ('public', 'discord_user_stats', '', 'SELECT'),
    ('public', 'discord_user_streaks', '', 'SELECT'),
    ('public', 'discord_drops', '', 'SELECT'),
    ('public', 'discord_drop_claims', '', 'SELECT'),
    ('public', 'discord_user_achievements', '', 'SELECT'),
    ('public', 'discord_kpi_snapshots', '', 'SELECT'),
    ('public', 'discord_audit_log', '', 'SELECT'),
    ('public', 'discord_job_errors', '', 'SELECT'),
    ('tipping', 'transactions', '', ''),
    ('tipping', 'tips', '', ''),
    ('tipping', 'currencies', '', ''),
    ('tipping', 'users', '', ''),
    ('tipping', 'balances', '', ''),
    ('tipping', 'trust_badges', '', ''),
    ('tipping', 'wallet_registrations', '', ''),
    ('tipping', 'registration_nonces', '', ''),
    ('tipping', 'verifications', '', ''),
    ('tipping', 'tickets', '', '');

SELECT plan(
    (SELECT count(*)::integer FROM (SELECT DISTINCT schema_name, table_name FROM expected_policies) AS t)
    + (SELECT 2 * count(*)::integer FROM expected_policies)
    + (SELECT 2 * count(*)::integer FROM expected_table_privs)
    + 6
);

SELECT policies_are(e.schema_name, e.table_name, e.names, format('%s.%s has exactly its policies', e.schema_name, e.table_name))
FROM (
    SELECT schema_name, table_name, array_agg(policy_name) AS names FROM expected_policies GROUP BY schema_name, table_name
) AS e;

SELECT policy_roles_are(
    e.schema_name, e.table_name, e.policy_name, string_to_array(e.roles, ','),
    format('policy "%s" on %s.%s applies to %s', e.policy_name, e.schema_name, e.table_name, e.roles)
)
FROM expected_policies AS e;

SELECT policy_cmd_is(
    e.schema_name, e.table_name, e.policy_name, e.cmd,
    format('policy "%s" on %s.%s is FOR %s', e.policy_name, e.schema_name, e.table_name, e.cmd)
)
FROM expected_policies AS e;

SELECT table_privs_are(
    e.schema_name, e.table_name, 'anon', string_to_array(nullif(e.anon_privs, ''), ','),
    format('anon holds exactly {%s} on %s.%s', e.anon_privs, e.schema_name, e.table_name)
)
FROM expected_table_privs AS e;

SELECT table_privs_are(
    e.schema_name, e.table_name, 'authenticated', string_to_array(nullif(e.authenticated_privs, ''), ','),
    format('authenticated holds exactly {%s} on %s.%s', e.authenticated_privs, e.schema_name, e.table_name)
)
FROM expected_table_privs AS e;

-- A portal user edits a server's settings, never its key or its brand.
SELECT column_privs_are('public', 'discord_server_configs', 'server_name', 'authenticated', ARRAY['SELECT', 'UPDATE'], 'authenticated may rename a server');
SELECT column_privs_are('public', 'discord_server_configs', 'config_metadata', 'authenticated', ARRAY['SELECT', 'UPDATE'], 'authenticated may edit config_metadata');
SELECT column_privs_are('public', 'discord_server_configs', 'brand_id', 'authenticated', ARRAY['SELECT'], 'authenticated may not move a server to another brand');
SELECT column_privs_are('public', 'discord_server_configs', 'server_id', 'authenticated', ARRAY['SELECT'], 'authenticated may not rekey a server');

-- The policy helpers: the server helper is for authenticated and service_role, never anon; the
-- role-config trigger runs as its owner and is executable by nobody.
SELECT function_privs_are('private', 'brand_server_ids', ARRAY[]::text [], 'anon', ARRAY[]::text [], 'anon cannot run private.brand_server_ids()');
SELECT function_privs_are(
    'private', 'replace_inactive_role_config', ARRAY[]::text [], 'authenticated', ARRAY[]::text [],
    'authenticated cannot run private.replace_inactive_role_config()'
);

SELECT * FROM finish();
ROLLBACK;
