"""Our own adversarial suite (issue 14): attacks as a tenant of the SQL console, as a brand-A Partner
Portal user (role authenticated, as PostgREST sets it) and as anon, against two brands seeded with
distinctive secrets, with ANALYZE run so planner statistics exist.

Every attack states what must happen and WHY: the SQLSTATE of the layer that should refuse it, so a
refusal by accident (a typo, a missing column) fails the test instead of passing it. An attack
expected to run (None) must return nothing of brand b's. The layers (docs/security.md):

  42601  the console's wrapper: only one query expression fits `SELECT * FROM (<text>) AS q`
  42P11  one statement per cursor (a break-out of the wrapper that adds a statement)
  0A000  Postgres: a data-modifying WITH only at the top level (never inside the wrapper)
  42501  privileges (GRANTs, RLS WITH CHECK), checked when the console opens the cursor as its role
  42883  name resolution: the function does not exist for the console role (dblink is not installed)
  RA004  the console's function allowlist, checked on Postgres's own parse tree
  RA005  the console's relation allowlist (analytics tables and views only)
  RA006  the console refuses to run beside a cursor the calling session left open
  57014  the statement timeout (at most 30 s, set by the caller)
  RS601/RS602  configuration JSON validated on write, naming the key
  RS603/RS604  anon role-config writes: off unless the server enables them; rows never move
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from resonance import testing
from resonance.paths import db_dir

SEED = (db_dir() / "tests" / "helpers" / "security_seed.sql").read_text()

# Brand b's secrets, on top of the shared seed (which already marks rows brand_b/server_b/user_b).
SECRETS = """
INSERT INTO analytics.users (tenant_id, id, username) VALUES ('brand_b', 4242, 'secret_b_user');
INSERT INTO analytics.messages (tenant_id, id, server_id, channel_id, author_id, content, created_at)
SELECT 'brand_b', 2000 + g, 1, 100, 4242, 'SECRET-B zebra plan ' || g, TIMESTAMPTZ '2026-01-02 00:00+00'
FROM generate_series(1, 200) AS g;
INSERT INTO analytics.messages (tenant_id, id, server_id, channel_id, author_id, content, created_at)
SELECT 'brand_a', 5000 + g, 1, 100, 10, 'a says hello ' || g, TIMESTAMPTZ '2026-01-02 00:00+00'
FROM generate_series(1, 20) AS g;
UPDATE public.discord_server_configs SET config_metadata = '{"note": "SECRET-B-CONFIG"}' WHERE server_id = 'server_b';
INSERT INTO public.discord_job_errors (job, server_id, brand_id, error_code, error_message, missed_from)
VALUES ('auto_drip', 'server_b', 'brand_b', '22P02', 'SECRET-B job error', now());
ANALYZE;
"""
SECRET = re.compile(r"SECRET-B|secret_b_user|zebra|(?<![0-9])4242(?![0-9])|root:x?:?0")  # and no /etc/passwd
# A row is brand b's when it carries a secret or a seed marker (brand_b, server_b, user_b). Error
# messages may echo names the attacker wrote itself, but never a secret.
LEAK = re.compile(SECRET.pattern + r"|(brand|server|user)_b(?![a-z0-9])")
ENGINE_KEY_B = "hashtextextended('resonance.member:server_b:user_b', 0)"


@dataclass(frozen=True)
class Attack:
    label: str
    actor: str  # console (tenant brand_a), portal (brand_a over REST), anon
    sql: str
    expect: str | None  # the SQLSTATE of the refusing layer; None: it runs and leaks nothing
    setup: str = ""  # run as the superuser first, in the same (rolled back) transaction


def console(label: str, sql: str, expect: str | None) -> Attack:
    return Attack(label, "console", sql, expect)


def portal(label: str, sql: str, expect: str | None, setup: str = "") -> Attack:
    return Attack(label, "portal", sql, expect, setup)


def anon(label: str, sql: str, expect: str | None, setup: str = "") -> Attack:
    return Attack(label, "anon", sql, expect, setup)


ENABLE_A = """UPDATE public.discord_server_configs
SET config_metadata = '{"security": {"anon_role_config_writes": true}}' WHERE server_id IN ('server_a', 'server_a2')"""

NOT_ONE_QUERY = [  # class 1: exactly one read-only query; everything else is refused by syntax
    ("explain", "EXPLAIN SELECT 1 FROM messages WHERE content = 'SECRET-B zebra plan 1'"),
    ("explain analyze", "EXPLAIN ANALYZE SELECT * FROM messages"),
    ("explain json", "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE content > 'SECRET'"),
    ("explain after a comment", "/* estimate */ EXPLAIN SELECT 1 FROM messages"),
    ("explain after a line comment", "-- estimate\nEXPLAIN SELECT 1 FROM messages"),
    ("explain in unicode", 'U&"EXPLAIN" SELECT 1'),
    ("show", "SHOW search_path"),
    ("show all", "SHOW ALL"),
    ("set", "SET row_security = off"),
    ("set local", "SET LOCAL statement_timeout = 0"),
    ("set role", "SET ROLE postgres"),
    ("reset role", "RESET ROLE"),
    ("set session authorization", "SET SESSION AUTHORIZATION postgres"),
    ("reset all", "RESET ALL"),
    ("fetch", "FETCH ALL FROM c"),
    ("fetch next", "FETCH NEXT c"),
    ("move", "MOVE FORWARD 1 IN c"),
    ("close", "CLOSE ALL"),
    ("declare", "DECLARE c CURSOR FOR SELECT * FROM messages"),
    ("prepare", "PREPARE p AS SELECT * FROM messages"),
    ("execute", "EXECUTE p"),
    ("deallocate", "DEALLOCATE ALL"),
    ("listen", "LISTEN resonance"),
    ("notify", "NOTIFY resonance, 'x'"),
    ("unlisten", "UNLISTEN *"),
    ("copy out", "COPY messages TO STDOUT"),
    ("copy to program", "COPY (SELECT 1) TO PROGRAM 'id'"),
    ("copy from file", "COPY messages FROM '/etc/passwd'"),
    ("insert", "INSERT INTO messages (tenant_id, id, server_id, channel_id, author_id, created_at) VALUES ('brand_a', 1, 1, 100, 10, now())"),
    ("update", "UPDATE messages SET content = 'pwned'"),
    ("delete", "DELETE FROM messages"),
    ("merge", "MERGE INTO messages m USING users u ON FALSE WHEN NOT MATCHED THEN DO NOTHING"),
    ("truncate", "TRUNCATE messages"),
    ("create table", "CREATE TABLE evil (a int)"),
    ("create temp table", "CREATE TEMP TABLE evil AS SELECT * FROM messages"),
    ("create function", "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
    ("drop", "DROP TABLE messages"),
    ("alter", "ALTER TABLE messages DISABLE ROW LEVEL SECURITY"),
    ("grant", "GRANT ALL ON messages TO public"),
    ("do block", "DO $$ BEGIN PERFORM 1; END $$"),
    ("call", "CALL pg_catalog.pg_sleep(1)"),
    ("begin", "BEGIN"),
    ("commit", "COMMIT"),
    ("savepoint", "SAVEPOINT s"),
    ("lock table", "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"),
    ("vacuum", "VACUUM messages"),
    ("analyze", "ANALYZE messages"),
    ("checkpoint", "CHECKPOINT"),
    ("load", "LOAD 'plpgsql'"),
    ("discard", "DISCARD ALL"),
    ("select into", "SELECT * INTO evil FROM messages"),
    ("stacked delete", "SELECT 1; DELETE FROM messages"),
    ("stacked set role", "SELECT 1; SET ROLE postgres"),
    ("stacked after a comment", "SELECT 1 -- harmless\n; DELETE FROM messages"),
    ("unterminated comment swallows the wrapper", "SELECT 1 /*"),
    ("unterminated dollar quote", "SELECT $$"),
    ("close the wrapper early", "SELECT 1) AS q --"),
]
BREAKOUTS = [  # a break-out that adds a statement: one statement per cursor
    ("break out and delete", "SELECT 1) AS q; DELETE FROM messages; SELECT (1"),
    ("break out and set role", "SELECT 1) AS q; SET ROLE postgres; SELECT (1"),
    ("break out and lock", f"SELECT 1) AS q; SELECT pg_advisory_lock({ENGINE_KEY_B}); SELECT (1"),
    ("break out and explain", "SELECT 1) AS q; EXPLAIN SELECT * FROM messages; SELECT (1"),
]
MODIFYING_CTES = [
    ("delete in a CTE", "WITH d AS (DELETE FROM messages RETURNING id) SELECT count(*) FROM d"),
    ("update in a CTE", "WITH u AS (UPDATE messages SET content = 'x' RETURNING id) SELECT * FROM u"),
    ("insert in a CTE", "WITH i AS (INSERT INTO emojis (tenant_id, name) VALUES ('brand_a', 'x') RETURNING id) SELECT * FROM i"),
]
ROW_LOCKS = [
    ("for update", "SELECT id FROM messages FOR UPDATE"),
    ("for share", "SELECT id FROM messages FOR SHARE"),
    ("for no key update", "SELECT id FROM messages FOR NO KEY UPDATE"),
    ("for key share", "SELECT id FROM messages FOR KEY SHARE"),
    ("for update skip locked", "SELECT id FROM messages FOR UPDATE SKIP LOCKED"),
]
NOT_ALLOWED_FUNCTIONS = [  # classes 2 and 3: the allowlist, on the parse tree
    ("advisory lock on the engine's key", f"SELECT pg_advisory_lock({ENGINE_KEY_B})"),
    ("shared advisory lock", f"SELECT pg_advisory_lock_shared({ENGINE_KEY_B})"),
    ("try advisory lock", f"SELECT pg_try_advisory_lock({ENGINE_KEY_B})"),
    ("transaction advisory lock", f"SELECT pg_advisory_xact_lock({ENGINE_KEY_B})"),
    ("try transaction advisory lock", f"SELECT pg_try_advisory_xact_lock({ENGINE_KEY_B})"),
    ("two-key advisory lock", "SELECT pg_advisory_lock(1, 2)"),
    ("advisory lock in a WHERE", f"SELECT 1 FROM messages WHERE pg_try_advisory_lock({ENGINE_KEY_B})"),
    ("advisory lock in a lateral", f"SELECT * FROM messages, LATERAL (SELECT pg_advisory_lock({ENGINE_KEY_B})) AS l"),
    ("advisory lock in a CTE", f"WITH l AS (SELECT pg_advisory_lock({ENGINE_KEY_B})) SELECT * FROM l"),
    ("advisory lock in ORDER BY", f"SELECT id FROM messages ORDER BY pg_try_advisory_lock({ENGINE_KEY_B})"),
    ("advisory unlock all", "SELECT pg_advisory_unlock_all()"),
    ("WAL message", "SELECT pg_logical_emit_message(false, 'x', repeat('x', 20000000))"),
    ("WAL message, bytea", "SELECT pg_logical_emit_message(true, 'x', '\\x00'::bytea)"),
    ("large object create", "SELECT lo_create(0)"),
    ("large object from bytea", "SELECT lo_from_bytea(0, 'x')"),
    ("large object creat", "SELECT lo_creat(-1)"),
    ("large object put", "SELECT lo_put(1, 0, 'x')"),
    ("large object unlink", "SELECT lo_unlink(1)"),
    ("set_config role", "SELECT set_config('role', 'postgres', true)"),
    ("set_config none", "SELECT set_config('role', 'none', true)"),
    ("set_config session authorization", "SELECT set_config('session_authorization', 'postgres', false)"),
    ("set_config read-write", "SELECT set_config('transaction_read_only', 'off', true)"),
    ("set_config row security", "SELECT set_config('row_security', 'off', true), count(*) FROM messages"),
    ("set_config the tenant", "SELECT set_config('request.jwt.claims', '{\"app_metadata\":{\"brand_id\":\"brand_b\"}}', true)"),
    ("set_config search path", "SELECT set_config('search_path', 'pg_temp, analytics', false)"),
    ("set_config timeout", "SELECT set_config('statement_timeout', '0', false)"),
    ("read a setting", "SELECT current_setting('request.jwt.claims', true)"),
    ("notify with data", "SELECT pg_notify('x', (SELECT string_agg(content, ',') FROM messages))"),
    ("sleep", "SELECT pg_sleep(1)"),
    ("sleep for", "SELECT pg_sleep_for('1 second')"),
    ("query_to_xml", "SELECT query_to_xml('SELECT * FROM analytics.messages', true, false, '')"),
    ("table_to_xml", "SELECT table_to_xml('analytics.messages', true, false, '')"),
    ("cursor_to_xml", "SELECT cursor_to_xml('c', 10, false, false, '')"),
    ("database_to_xml", "SELECT database_to_xml(true, false, '')"),
    ("transaction id", "SELECT txid_current()"),
    ("xact id", "SELECT pg_current_xact_id()"),
    ("nextval", "SELECT nextval('analytics.emojis_id_seq')"),
    ("setval", "SELECT setval('analytics.emojis_id_seq', 1)"),
    ("terminate others", "SELECT pg_terminate_backend(1)"),
    ("cancel others", "SELECT pg_cancel_backend(1)"),
    ("live tuple count", "SELECT pg_stat_get_live_tuples('analytics.messages'::regclass)"),
    ("relation size", "SELECT pg_relation_size('analytics.messages')"),
    ("table size", "SELECT pg_total_relation_size('analytics.messages')"),
    ("database size", "SELECT pg_database_size(current_database())"),
    ("activity function", "SELECT * FROM pg_stat_get_activity(NULL)"),
    ("blocking pids", "SELECT pg_blocking_pids(1)"),
    ("backend pid", "SELECT pg_backend_pid()"),
    ("server address", "SELECT inet_server_addr()"),
    ("version", "SELECT version()"),
    ("view source", "SELECT pg_get_viewdef('analytics.tenant_daily_stats'::regclass)"),
    ("function source", "SELECT pg_get_functiondef('analytics.console_tenant'::regproc)"),
    ("privilege probe", "SELECT has_table_privilege('analytics.messages', 'SELECT')"),
    ("set the random seed", "SELECT setseed(0.5)"),
    ("tablesample", "SELECT * FROM messages TABLESAMPLE bernoulli(50)"),
    ("clear the stats snapshot", "SELECT pg_stat_clear_snapshot()"),
    ("the runner directly", "SELECT analytics.console_run('SELECT * FROM messages', 100)"),
    ("the parser directly", "SELECT analytics.console_parse('SELECT 1')"),
    ("prepared statements", "SELECT * FROM pg_prepared_statement()"),
    ("cursors", "SELECT * FROM pg_cursor()"),
    ("lock status", "SELECT * FROM pg_lock_status()"),
    ("settings function", "SELECT * FROM pg_show_all_settings()"),
]
NOT_ALLOWED_RELATIONS = [  # class 1: statistics and catalogs stay out of the console
    ("pg_stats", "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'messages'"),
    ("pg_stats_ext", "SELECT * FROM pg_stats_ext"),
    ("pg_stat_activity", "SELECT query FROM pg_stat_activity"),
    ("pg_stat_user_tables", "SELECT n_live_tup FROM pg_stat_user_tables"),
    ("pg_statio_user_tables", "SELECT * FROM pg_statio_user_tables"),
    ("pg_stat_database", "SELECT * FROM pg_stat_database"),
    ("pg_class reltuples", "SELECT reltuples FROM pg_class WHERE relname = 'messages'"),
    ("pg_proc sources", "SELECT prosrc FROM pg_proc"),
    ("pg_cursors", "SELECT statement FROM pg_cursors"),
    ("pg_locks", "SELECT * FROM pg_locks"),
    ("pg_settings", "SELECT * FROM pg_settings"),
    ("pg_roles", "SELECT * FROM pg_roles"),
    ("pg_prepared_statements", "SELECT * FROM pg_prepared_statements"),
    ("pg_indexes", "SELECT * FROM pg_indexes"),
    ("information_schema tables", "SELECT * FROM information_schema.tables"),
    ("information_schema columns", "SELECT * FROM information_schema.columns"),
    ("a catalog in a subquery", "SELECT (SELECT count(*) FROM pg_class) AS n"),
    ("a catalog behind a CTE", "WITH s AS (SELECT * FROM pg_stats) SELECT count(*) FROM s"),
]
NO_PRIVILEGE = [  # privileges: the console role reads the analytics tables and tenant views, nothing else
    ("pg_statistic", "SELECT * FROM pg_catalog.pg_statistic"),
    ("pg_authid", "SELECT rolpassword FROM pg_catalog.pg_authid"),
    ("pg_shadow", "SELECT passwd FROM pg_catalog.pg_shadow"),
    ("read a server file", "SELECT pg_read_file('/etc/passwd')"),
    ("read a binary file", "SELECT pg_read_binary_file('/etc/passwd')"),
    ("list a directory", "SELECT pg_ls_dir('.')"),
    ("stat a file", "SELECT pg_stat_file('postgresql.conf')"),
    ("large object import", "SELECT lo_import('/etc/passwd')"),
    ("large object export", "SELECT lo_export(1, '/tmp/x')"),
    ("public tables", "SELECT * FROM public.discord_user_stats"),
    ("server configs", "SELECT config_metadata FROM public.discord_server_configs"),
    ("job errors", "SELECT * FROM public.discord_job_errors"),
    ("the ledger", "SELECT * FROM tipping.balances"),
    ("the engine", "SELECT * FROM resonance.reward_ledger"),
    ("the grants", "SELECT * FROM resonance.analytics_console_grants"),
    ("the raw materialized view", "SELECT * FROM analytics.user_interactions"),
    ("the raw daily stats", "SELECT * FROM analytics.daily_stats"),
    ("a sequence", "SELECT * FROM analytics.emojis_id_seq"),
    ("auth users", "SELECT * FROM auth.users"),
    ("the console for brand b", "SELECT analytics.console_query('brand_b', 'SELECT content FROM messages')"),
    ("a service function", "SELECT * FROM analytics.top_reaction_givers('brand_b', 1, 10)"),
    ("an engine function", "SELECT resonance.record_message('server_b', 'user_b', 'c', 'm', 'x')"),
]
RUNS_WITHOUT_LEAK = [  # RLS and the security-barrier views: these run and show brand a's rows only
    ("everything", "SELECT * FROM messages"),
    ("ask for brand b", "SELECT * FROM messages WHERE tenant_id = 'brand_b'"),
    ("or true", "SELECT * FROM messages WHERE tenant_id = 'brand_b' OR TRUE"),
    ("a comment hides the filter", "SELECT content FROM messages -- WHERE tenant_id = 'brand_a'"),
    ("block comments", "SELECT /* tenant_id = 'brand_a' */ content FROM messages WHERE /**/ tenant_id /**/ <> 'brand_a'"),
    ("unicode escapes", "SELECT * FROM U&\"\\006Dessages\" WHERE content <> U&'\\0041'"),
    ("every table", "SELECT (SELECT json_agg(u) FROM users u) AS u, (SELECT json_agg(s) FROM servers s) AS s, "
                    "(SELECT json_agg(r) FROM reactions r) AS r, (SELECT json_agg(e) FROM emojis e) AS e, "
                    "(SELECT json_agg(m) FROM message_mentions m) AS mm, (SELECT json_agg(x) FROM server_members x) AS sm, "
                    "(SELECT json_agg(c) FROM channels c) AS c, (SELECT json_agg(y) FROM sync_state y) AS y"),
    ("the tenant views", "SELECT (SELECT json_agg(t) FROM tenant_user_interactions t) AS i, "
                         "(SELECT json_agg(d) FROM tenant_daily_stats d) AS d"),
    ("who am i", "SELECT current_user, session_user, analytics.console_tenant() AS tenant"),
    ("probe by value", "SELECT CASE WHEN EXISTS (SELECT FROM messages WHERE content LIKE 'SECRET%') THEN 'SECRET-B' END AS p"),
    ("probe by a leaky predicate", "SELECT count(*) FROM messages WHERE CASE WHEN content LIKE 'SECRET%' THEN content::int ELSE 0 END = 1"),
    ("probe by division", "SELECT count(*) FROM messages WHERE 1 / (CASE WHEN content LIKE 'SECRET%' THEN 0 ELSE 1 END) = 1"),
    ("probe by a join on b's author", "SELECT m.* FROM messages m JOIN users u ON u.id = 4242"),
    ("union with users", "SELECT content FROM messages UNION ALL SELECT username FROM users"),
    ("recursive walk", "WITH RECURSIVE r(id) AS (SELECT min(id) FROM messages UNION ALL "
                       "SELECT (SELECT min(id) FROM messages WHERE id > r.id) FROM r WHERE r.id IS NOT NULL) SELECT * FROM r"),
    ("values", "VALUES (1), (2)"),
    ("table", "TABLE messages"),
    ("trailing semicolon", "SELECT count(*) FROM messages;"),
    ("XML external entity", "SELECT xmlparse(document '<!DOCTYPE f [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><f>&x;</f>')::text"),
    ("XML external entity in xpath", "SELECT (xpath('/f/text()', '<!DOCTYPE f [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><f>&x;</f>'::xml))[1]::text"),
    ("allowed functions", "SELECT now(), clock_timestamp(), date_trunc('day', now()), to_char(now(), 'YYYY'), "
                          "format('%s', 1), jsonb_build_object('a', 1), 'x' || 1, random() < 2, gen_random_uuid() IS NOT NULL"),
]
MISSING = [  # names that do not resolve for the console role (not installed, or a schema it cannot use)
    ("dblink", "SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)"),
    ("dblink_exec", "SELECT dblink_exec('dbname=postgres', 'DROP TABLE x')"),
]
RESOURCES = [
    ("recursive bomb", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", "57014"),
    ("a billion rows counted", "SELECT count(*) FROM generate_series(1, 1000000000)", "57014"),
    ("a cross join counted", "SELECT count(*) FROM messages a, messages b, messages c, generate_series(1, 100000)", "57014"),
    ("a 2 GB string", "SELECT length(repeat('x', 2000000000))", "54000"),
    ("an error echoing values", "SELECT content::int FROM messages", "22P02"),
]

ATTACKS: list[Attack] = (
    [console(f"console: {label}", sql, "42601") for label, sql in NOT_ONE_QUERY]
    + [console(f"console: {label}", sql, "42P11") for label, sql in BREAKOUTS]
    + [console(f"console: {label}", sql, "0A000") for label, sql in MODIFYING_CTES]
    + [console(f"console: {label}", sql, "42501") for label, sql in ROW_LOCKS]
    + [console(f"console: {label}", sql, "RA004") for label, sql in NOT_ALLOWED_FUNCTIONS]
    + [console(f"console: {label}", sql, "RA005") for label, sql in NOT_ALLOWED_RELATIONS]
    + [console(f"console: {label}", sql, "42501") for label, sql in NO_PRIVILEGE]
    + [console(f"console: {label}", sql, "42883") for label, sql in MISSING]
    + [console(f"console: {label}", sql, None) for label, sql in RUNS_WITHOUT_LEAK]
    + [console(f"console: {label}", sql, code) for label, sql, code in RESOURCES]
    + [
        # The portal (authenticated, brand a), as PostgREST runs it.
        portal("portal: read brand b's servers", "SELECT * FROM public.discord_server_configs WHERE server_id = 'server_b'", None),
        portal("portal: read brand b's job errors", "SELECT * FROM public.discord_job_errors", None),
        portal("portal: read brand b's messages", "SELECT * FROM analytics.messages WHERE tenant_id = 'brand_b'", None),
        portal("portal: read brand b's role configs", "SELECT * FROM public.discord_role_configs", "42501"),
        portal("portal: change brand b's config", "UPDATE public.discord_server_configs SET config_metadata = '{}' WHERE server_id = 'server_b' RETURNING *", None),
        portal("portal: move its server to brand b", "UPDATE public.discord_server_configs SET brand_id = 'brand_b' WHERE server_id = 'server_a'", "42501"),
        portal("portal: goals.refresh_seconds = \"x\"", "UPDATE public.discord_server_configs SET config_metadata = '{\"goals\": {\"refresh_seconds\": \"x\"}}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: anti_farming.similarity = \"high\"", "UPDATE public.discord_server_configs SET config_metadata = '{\"anti_farming\": {\"similarity\": \"high\"}}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: anti_farming.min_words = 2.5", "UPDATE public.discord_server_configs SET config_metadata = '{\"anti_farming\": {\"min_words\": 2.5}}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: anti_farming.enabled = \"no\"", "UPDATE public.discord_server_configs SET config_metadata = '{\"anti_farming\": {\"enabled\": \"no\"}}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: config_metadata is an array", "UPDATE public.discord_server_configs SET config_metadata = '[1]' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: goals is a string", "UPDATE public.discord_server_configs SET config_metadata = '{\"goals\": \"fast\"}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: anon writes = \"yes\"", "UPDATE public.discord_server_configs SET config_metadata = '{\"security\": {\"anon_role_config_writes\": \"yes\"}}' WHERE server_id = 'server_a'", "RS601"),
        portal("portal: write a job error", "INSERT INTO public.discord_job_errors (job, server_id, brand_id, error_code, error_message, missed_from) VALUES ('x', 'server_a', 'brand_a', 'x', 'x', now())", "42501"),
        portal("portal: resolve a job error", "UPDATE public.discord_job_errors SET resolved_at = now()", "42501"),
        portal("portal: delete job errors", "DELETE FROM public.discord_job_errors", "42501"),
        portal("portal: the console", "SELECT analytics.console_query('brand_b', 'SELECT 1')", "42501"),
        portal("portal: run a job", "SELECT resonance.run_auto_drip(now())", "42501"),
        # (Every portal attack's claims also name brand b in user_metadata, which users may edit: ignored.)
        portal("portal: user_metadata names brand b", "SELECT * FROM analytics.messages", None),
        # anon (the public key), safe by default.
        anon("anon: a 1,000x multiplier", "INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_b', 'brand_b', 'role_x', 'multiplier', '{\"value\": 1000}')", "RS603"),
        anon("anon: update every role config", "UPDATE public.discord_role_configs SET effect_config = '{\"value\": 1000}'", "RS603"),
        anon("anon: delete every role config", "DELETE FROM public.discord_role_configs", "RS603"),
        anon("anon: delete an inactive row", "DELETE FROM public.discord_role_configs WHERE discord_role_id = 'role_b_inactive' RETURNING *", None),
        anon("anon: update an inactive row", "UPDATE public.discord_role_configs SET priority = 1 WHERE discord_role_id = 'role_b_inactive' RETURNING *", None),
        anon("anon: insert an inactive row", "INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, is_active) VALUES ('server_b', 'brand_b', 'role_y', 'multiplier', FALSE)", "RS603"),
        anon("anon, a enabled: write brand b's server", "UPDATE public.discord_role_configs SET priority = 9 WHERE server_id = 'server_b'", "RS603", ENABLE_A),
        anon("anon, a enabled: update with no WHERE", "UPDATE public.discord_role_configs SET priority = 9", "RS603", ENABLE_A),
        anon("anon, a enabled: move a row to brand b's server", "UPDATE public.discord_role_configs SET server_id = 'server_b', brand_id = 'brand_b' WHERE discord_role_id = 'role_a_active'", "RS603", ENABLE_A),
        anon("anon, a enabled: move a row to another server", "UPDATE public.discord_role_configs SET server_id = 'server_a2' WHERE discord_role_id = 'role_a_active'", "RS604", ENABLE_A),
        anon("anon, a enabled: relabel a row as brand b's", "UPDATE public.discord_role_configs SET brand_id = 'brand_b' WHERE discord_role_id = 'role_a_active'", "RS604", ENABLE_A),
        anon("anon, a enabled: insert in brand b's name", "INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type) VALUES ('server_a', 'brand_b', 'role_z', 'bonus_flat')", "RS604", ENABLE_A),
        anon("anon, a enabled: deactivate a row", "UPDATE public.discord_role_configs SET is_active = FALSE WHERE discord_role_id = 'role_a_active'", "42501", ENABLE_A),
        anon("anon, a enabled: an amount of \"lots\"", "INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_a', 'brand_a', 'role_d', 'auto_drip', '{\"amount\": \"lots\"}')", "RS602", ENABLE_A),
        anon("anon, a enabled: a weekly-ish period", "INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config) VALUES ('server_a', 'brand_a', 'role_d', 'auto_drip', '{\"amount\": 5, \"period\": \"fortnight\"}')", "RS602", ENABLE_A),
        anon("anon: read server configs", "SELECT * FROM public.discord_server_configs", "42501"),
        anon("anon: read job errors", "SELECT * FROM public.discord_job_errors", "42501"),
        anon("anon: read messages", "SELECT * FROM analytics.messages", "42501"),
        anon("anon: the console", "SELECT analytics.console_query('brand_b', 'SELECT 1')", "42501"),
        anon("anon: an engine function", "SELECT resonance.record_message('server_b', 'user_b', 'c', 'm', 'x')", "42501"),
    ]
)


@pytest.fixture(scope="module")
async def attack_url(admin_url: str, template: str) -> AsyncIterator[str]:
    """One database for the module: two brands, brand b's secrets, statistics gathered."""
    name = await testing.create_test_database(admin_url, template)
    url = testing.with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SEED)
        await conn.execute(SECRETS)
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await testing.drop_database(admin_url, name)


@pytest.fixture(scope="module")
async def attacker(attack_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(attack_url)
    try:
        yield conn
    finally:
        await conn.close()


async def run_attack(conn: asyncpg.Connection, attack: Attack) -> tuple[str | None, list[asyncpg.Record], str]:
    """Runs one attack in a transaction that is always rolled back: (SQLSTATE or None, rows, message)."""
    tx = conn.transaction()
    await tx.start()
    try:
        if attack.setup:
            await conn.execute(attack.setup)
        if attack.actor == "console":
            await conn.execute("SELECT set_config('statement_timeout', '2s', true)")
            rows = await conn.fetch("SELECT analytics.console_query('brand_a', $1) AS r", attack.sql)
        else:
            claims = {"role": "anon"} if attack.actor == "anon" else {
                "role": "authenticated", "sub": "00000000-0000-4000-8000-00000000000a",
                "app_metadata": {"brand_id": "brand_a"}, "user_metadata": {"brand_id": "brand_b"},
            }
            await conn.execute(
                "SELECT set_config('request.jwt.claims', $1, true), set_config('role', $2, true)",
                json.dumps(claims), claims["role"],
            )
            rows = await conn.fetch(attack.sql)
        return None, rows, ""
    except asyncpg.PostgresError as exc:
        return exc.sqlstate, [], f"{exc} {getattr(exc, 'detail', '') or ''}"
    finally:
        await tx.rollback()


def test_the_suite_is_large_enough() -> None:
    assert len(ATTACKS) >= 150
    assert len({a.label for a in ATTACKS}) == len(ATTACKS), "attack labels are unique"


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.label for a in ATTACKS])
async def test_attack(attacker: asyncpg.Connection, attack: Attack) -> None:
    code, rows, message = await run_attack(attacker, attack)
    assert code == attack.expect, f"{attack.label}: expected {attack.expect}, got {code} {message[:300]}"
    text = json.dumps([dict(r) for r in rows], default=str)
    assert not LEAK.search(text), f"{attack.label} shows brand b's data: {text[:300]}"
    assert not SECRET.search(message), f"{attack.label}: the error echoes brand b's data: {message[:300]}"
    if attack.actor == "console" and code is None:
        result = json.loads(rows[0]["r"])
        assert result["tenant_id"] == "brand_a"
    # Nothing of the attack stays with the session: no lock, no role, no setting, no grant.
    assert await attacker.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()") == 0
    assert await attacker.fetchval("SELECT current_user") == "postgres"
    assert await attacker.fetchval("SELECT count(*) FROM resonance.analytics_console_grants") == 0


async def test_the_console_sees_its_own_rows_and_only_those(attacker: asyncpg.Connection) -> None:
    for tenant, own in (("brand_a", 21), ("brand_b", 201)):
        async with attacker.transaction():
            await attacker.execute("SELECT set_config('statement_timeout', '2s', true)")
            raw = await attacker.fetchval("SELECT analytics.console_query($1, 'SELECT count(*) AS n FROM messages')", tenant)
        assert json.loads(raw)["rows"] == [{"n": own}]
    async with attacker.transaction():
        await attacker.execute("SELECT set_config('statement_timeout', '5s', true)")
        raw = await attacker.fetchval(
            "SELECT analytics.console_query('brand_a', 'SELECT a.id FROM messages a, messages b, messages c, messages d', 50000)")
    big = json.loads(raw)
    assert (big["row_count"], big["truncated"]) == (10_000, True)  # more than 10,000 rows: stopped at the cap


async def test_a_cursor_left_open_by_the_caller_stops_the_console(attacker: asyncpg.Connection) -> None:
    """Class 6: the calling session holds a cursor over brand b's rows; the console will not run beside it."""
    async with attacker.transaction():
        await attacker.execute("DECLARE c CURSOR FOR SELECT content FROM analytics.messages WHERE tenant_id = 'brand_b'")
        await attacker.execute("SELECT set_config('statement_timeout', '2s', true)")
        for sql in ("SELECT cursor_to_xml('c', 10, false, false, '')", "SELECT 1", "FETCH ALL FROM c"):
            with pytest.raises(asyncpg.PostgresError) as refused:
                async with attacker.transaction():
                    await attacker.fetchval("SELECT analytics.console_query('brand_a', $1)", sql)
            assert refused.value.sqlstate == "RA006"


async def test_every_exit_path_releases_advisory_locks(attacker: asyncpg.Connection, attack_url: str) -> None:
    """Class 2: whatever the console's caller held or the SQL tried, no session advisory lock outlives the call."""
    other = await asyncpg.connect(attack_url)
    try:
        for sql, code in (("SELECT 1", None), ("SELECT 1 FROM nowhere", "42P01"),
                          ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", "57014")):
            await attacker.execute("SELECT pg_advisory_lock(777)")
            try:
                async with attacker.transaction():
                    await attacker.execute("SELECT set_config('statement_timeout', '300ms', true)")
                    await attacker.fetchval("SELECT analytics.console_query('brand_a', $1)", sql)
            except asyncpg.PostgresError as exc:
                assert exc.sqlstate == code
            else:
                assert code is None
            assert await other.fetchval("SELECT pg_try_advisory_lock(777)") is True, sql
            await other.execute("SELECT pg_advisory_unlock(777)")
    finally:
        await other.close()


async def test_the_engines_member_key_cannot_stall_record_message(attack_url: str) -> None:
    """Class 2, against the public API: a console tenant tries every way to take brand b's member key
    and hold it; brand b's record_message must still go through without waiting."""
    tenant = await asyncpg.connect(attack_url)
    bot = await asyncpg.connect(attack_url)
    try:
        await bot.execute("UPDATE public.discord_server_configs SET is_active = TRUE WHERE server_id = 'server_b'")
        tx = tenant.transaction()
        await tx.start()  # the tenant's call stays open (as it would until its 30 s run out)
        await tenant.execute("SELECT set_config('statement_timeout', '2s', true)")
        for sql in (f"SELECT pg_advisory_lock({ENGINE_KEY_B})", f"SELECT pg_advisory_xact_lock({ENGINE_KEY_B})",
                    f"SELECT pg_advisory_lock_shared({ENGINE_KEY_B})"):
            with pytest.raises(asyncpg.PostgresError) as refused:
                async with tenant.transaction():
                    await tenant.fetchval("SELECT analytics.console_query('brand_a', $1)", sql)
            assert refused.value.sqlstate == "RA004"
        async with bot.transaction():
            await bot.execute("SET LOCAL lock_timeout = '1s'")
            outcome = await bot.fetchval(
                "SELECT resonance.record_message('server_b', 'user_b', 'channel_b', 'm-lock-1', 'hello there friends')")
        assert json.loads(outcome)["status"] in {"rewarded", "no_rule", "farmed", "cooldown", "cap_reached"}
        await tx.rollback()
    finally:
        await tenant.close()
        await bot.close()


async def test_row_estimates_do_not_answer_guesses(attack_url: str) -> None:
    """Class 1, REST side: a portal user's EXPLAIN (PostgREST's count=planned) on another tenant's
    message text estimates the same for a right and a wrong guess: content carries no statistics."""
    conn = await asyncpg.connect(attack_url)
    try:
        assert await conn.fetchval(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'analytics' AND tablename = 'messages' AND attname = 'content'") == 0
        estimates = {}
        for guess in ("SECRET-B zebra plan 1", "no such message at all", "a says hello 1"):
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)",
                    json.dumps({"role": "authenticated", "app_metadata": {"brand_id": "brand_a"}}))
                plan = await conn.fetchval(
                    "EXPLAIN (FORMAT JSON) SELECT 1 FROM analytics.messages WHERE content = $1", guess)
            estimates[guess] = json.loads(plan)[0]["Plan"]["Plan Rows"]
        assert len(set(estimates.values())) == 1, estimates
    finally:
        await conn.close()


async def test_every_function_the_console_role_can_execute_is_allowlisted_or_refused(attacker: asyncpg.Connection) -> None:
    """Class 3: on Supabase EXECUTE on pg_catalog cannot be revoked from PUBLIC, so the console role
    can execute thousands of functions. Every one of them must be on the allowlist, or a call to it is
    refused by the console's check (RA004). A call to each is built with typed NULLs and checked.
    Left out: functions taking or returning `internal`, which SQL cannot call at all (Postgres refuses
    to build such a call, proven below on a sample)."""
    await attacker.execute(
        """
        CREATE TYPE pg_temp.probe_enum AS ENUM ('x');
        CREATE FUNCTION pg_temp.console_probe(p_call text) RETURNS text
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM analytics.console_check('SELECT * FROM (' || E'\\n' || p_call || E'\\n' || ') AS q');
            RETURN 'passed';
        EXCEPTION WHEN OTHERS THEN
            RETURN SQLSTATE;
        END;
        $$;
        """
    )
    rows = await attacker.fetch(
        """
        WITH fns AS (
            SELECT p.oid::regprocedure::text AS sig, analytics.console_function_allowed(p.oid) AS allowed,
                'internal'::regtype = ANY (p.proargtypes::oid[]) OR p.prorettype = 'internal'::regtype AS internal,
                format('SELECT %s.%I(%s)', quote_ident(n.nspname), p.proname, (
                    SELECT coalesce(string_agg(format('%sNULL::%s',
                        CASE WHEN p.provariadic <> 0 AND a.i = p.pronargs AND t.typname <> 'any' THEN 'VARIADIC ' ELSE '' END,
                        CASE t.typname
                        WHEN 'any' THEN 'integer' WHEN 'anyelement' THEN 'integer' WHEN 'anynonarray' THEN 'integer'
                        WHEN 'anycompatible' THEN 'integer' WHEN 'anycompatiblenonarray' THEN 'integer'
                        WHEN 'anyarray' THEN 'integer[]' WHEN 'anycompatiblearray' THEN 'integer[]'
                        WHEN 'anyrange' THEN 'int4range' WHEN 'anycompatiblerange' THEN 'int4range'
                        WHEN 'anymultirange' THEN 'int4multirange' WHEN 'anycompatiblemultirange' THEN 'int4multirange'
                        WHEN 'anyenum' THEN 'pg_temp.probe_enum' ELSE format_type(a.t, NULL) END), ', ' ORDER BY a.i), '')
                    FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a (t, i) JOIN pg_type AS t ON t.oid = a.t
                )) AS call
            FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
            WHERE has_function_privilege('analytics_console', p.oid, 'EXECUTE')
                AND has_schema_privilege('analytics_console', n.oid, 'USAGE')
                AND p.prokind IN ('f', 'a', 'w')
        )
        SELECT f.sig, f.allowed, f.internal, pg_temp.console_probe(f.call) AS outcome FROM fns AS f
        """
    )
    callable_ = [r for r in rows if not r["internal"]]
    escaped = [(r["sig"], r["outcome"]) for r in callable_ if not r["allowed"] and r["outcome"] != "RA004"]
    assert escaped == [], f"executable by the console role, not on the allowlist, and not refused: {escaped[:20]}"
    wrongly_refused = [r["sig"] for r in callable_ if r["allowed"] and r["outcome"] == "RA004"]
    assert wrongly_refused == []
    assert sum(not r["allowed"] for r in callable_) > 600 and sum(r["allowed"] for r in callable_) > 1500
    internal = [r for r in rows if r["internal"]]
    assert len(internal) > 400 and {r["outcome"] for r in internal} <= {"42846", "0A000", "42883"}
    # Every non-immutable function on the allowlist is one we reviewed (docs/security.md).
    reviewed = set(await attacker.fetchval(
        """SELECT array_agg(DISTINCT p.proname::text) FROM pg_proc AS p
           WHERE analytics.console_function_allowed(p.oid) AND p.provolatile <> 'i'"""))
    assert not reviewed & {
        "pg_advisory_lock", "pg_logical_emit_message", "lo_create", "lo_from_bytea", "set_config", "current_setting",
        "query_to_xml", "cursor_to_xml", "table_to_xml", "pg_notify", "pg_sleep", "txid_current", "nextval",
        "pg_stat_get_live_tuples", "pg_relation_size", "pg_cursor", "pg_lock_status", "pg_read_file", "version",
    }
    assert {"now", "to_char", "jsonb_build_object", "random"} <= reviewed


async def test_one_brands_broken_config_does_not_stop_the_jobs(attack_url: str) -> None:
    """Class 4: brand a's goals.refresh_seconds = "x" and an auto_drip role with {"amount": "lots"}
    (rows written before validation existed: the triggers are bypassed to plant them). Every shared job
    still does brand b's work, logs brand a's failure for brand a to read, and catches up once fixed."""
    conn = await asyncpg.connect(attack_url)
    day1 = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    try:
        await conn.execute(
            """
            INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
            VALUES ('server_a', 'brand_a', 'drip_a', 'auto_drip', '{"amount": 10}'),
                   ('server_b', 'brand_b', 'drip_b', 'auto_drip', '{"amount": 10}');
            INSERT INTO public.discord_role_assignments (server_id, brand_id, discord_user_id, discord_role_id, assigned_by, assigned_at)
            VALUES ('server_a', 'brand_a', 'user_a', 'drip_a', 'manual', $1 - interval '3 days'),
                   ('server_b', 'brand_b', 'user_b', 'drip_b', 'manual', $1 - interval '3 days');
            INSERT INTO public.discord_kpi_configs (server_id, metric, target_value, period, alert_threshold)
            VALUES ('server_a', 'daily_active_users', 10, 'day', 5), ('server_b', 'daily_active_users', 10, 'day', 5)
            ON CONFLICT ON CONSTRAINT unique_kpi_config DO UPDATE SET alert_threshold = 5, period = 'day';
            ALTER TABLE public.discord_server_configs DISABLE TRIGGER validate_server_config;
            ALTER TABLE public.discord_role_configs DISABLE TRIGGER validate_role_config;
            UPDATE public.discord_server_configs SET config_metadata = '{"goals": {"refresh_seconds": "x"}}' WHERE server_id = 'server_a';
            UPDATE public.discord_role_configs SET effect_config = '{"amount": "lots"}' WHERE discord_role_id = 'drip_a';
            ALTER TABLE public.discord_server_configs ENABLE TRIGGER validate_server_config;
            ALTER TABLE public.discord_role_configs ENABLE TRIGGER validate_role_config;
            """.replace("$1", f"TIMESTAMPTZ '{day1.isoformat()}'")
        )
        # Drips: b is paid on day 1 and day 2, a fails and is logged both days.
        assert await conn.fetchval("SELECT resonance.run_auto_drip($1)", day1) == 1
        assert await conn.fetchval("SELECT resonance.run_auto_drip($1)", day1 + timedelta(days=1)) == 1
        error = await conn.fetchrow(
            "SELECT error_code, failures, brand_id FROM public.discord_job_errors WHERE job = 'auto_drip' AND server_id = 'server_a' AND resolved_at IS NULL")
        assert tuple(error) == ("22P02", 2, "brand_a")
        # The other jobs go on for b too.
        assert await conn.fetchval("SELECT resonance.snapshot_kpis($1)", day1.date()) >= 2
        await conn.fetchval("SELECT resonance.refresh_all_goals($1)", day1)
        await conn.fetchval("SELECT resonance.check_kpi_alerts($1)", day1.date())
        await conn.fetchval("SELECT resonance.queue_due_reports($1)", day1)
        await conn.fetchval("SELECT resonance.close_expired_drops($1)", day1)
        # Brand a reads its own failure, brand b sees none of a's.
        for brand, expected in (("brand_a", {"auto_drip"}), ("brand_b", set())):
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)",
                    json.dumps({"role": "authenticated", "app_metadata": {"brand_id": brand}}))
                jobs = {r["job"] for r in await conn.fetch(
                    "SELECT job FROM public.discord_job_errors WHERE resolved_at IS NULL AND server_id LIKE 'server_a%'")}
            assert jobs == expected, brand
        # Validation on write names the key; the fix goes through; day 3 pays a's missed days 1 and 2.
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.execute("UPDATE public.discord_role_configs SET effect_config = '{\"amount\": \"more\"}' WHERE discord_role_id = 'drip_a'")
        assert refused.value.sqlstate == "RS602" and "effect_config.amount" in str(refused.value)
        await conn.execute("UPDATE public.discord_role_configs SET effect_config = '{\"amount\": 10}' WHERE discord_role_id = 'drip_a'")
        await conn.execute("UPDATE public.discord_server_configs SET config_metadata = '{\"goals\": {\"refresh_seconds\": 5}}' WHERE server_id = 'server_a'")
        assert await conn.fetchval("SELECT resonance.run_auto_drip($1)", day1 + timedelta(days=2)) == 4  # a: 3 days, b: 1
        paid = await conn.fetch(
            "SELECT source_id FROM resonance.reward_ledger WHERE event_type = 'auto_drip' AND server_id = 'server_a' ORDER BY source_id")
        assert [r["source_id"] for r in paid] == [f"drip_a:user_a:2026-03-0{d}" for d in (2, 3, 4)]
        assert await conn.fetchval(
            "SELECT count(*) FROM public.discord_job_errors WHERE job = 'auto_drip' AND resolved_at IS NULL") == 0
        assert await conn.fetchval("SELECT resonance.run_auto_drip($1)", day1 + timedelta(days=2)) == 0  # exactly once
    finally:
        await conn.close()


async def test_concurrent_console_calls_keep_tenants_apart(attack_url: str) -> None:
    """Two tenants' console calls at once on pooled connections: each sees its own rows only."""
    async with asyncpg.create_pool(attack_url, min_size=4, max_size=4) as pool:
        async def ask(tenant: str) -> int:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT set_config('statement_timeout', '5s', true)")
                raw = await conn.fetchval(
                    "SELECT analytics.console_query($1, 'SELECT count(*) AS n FROM messages WHERE content LIKE ''SECRET%''')", tenant)
            return json.loads(raw)["rows"][0]["n"]
        results = await asyncio.gather(*(ask(t) for t in ("brand_a", "brand_b") * 8))
    assert results == [0, 200] * 8


BREAKABLE = [  # (function, arguments, result type): a failure injected per server, as a tenant's bad data would
    ("resonance.compute_kpis", "p_server_id text, p_day date", "jsonb", "p_server_id, p_day"),
    ("resonance.build_report", "p_server_id text, p_period text, p_as_of date", "jsonb", "p_server_id, p_period, p_as_of"),
    ("resonance.refresh_goals", "p_server_id text, p_at timestamptz, p_skip_locked boolean", "integer", "p_server_id, p_at, p_skip_locked"),
    ("resonance.close_expired_drops_of", "p_server_id text, p_at timestamptz", "integer", "p_server_id, p_at"),
]


async def test_every_shared_job_isolates_a_failing_server_and_catches_up(db: asyncpg.Connection) -> None:
    """Class 4 for goals, reports, KPI snapshots, alerts and expiry: while server_a fails, server_b's
    work is done and server_a's failure is logged; once it is fixed, the missed days are caught up."""
    await db.execute(SEED)
    await db.execute("CREATE TABLE resonance.test_broken (server_id text PRIMARY KEY)")
    for name, args, result, call in BREAKABLE:
        await db.execute(f"ALTER FUNCTION {name}({args}) RENAME TO {name.split('.')[1]}_real")
        await db.execute(
            f"""CREATE FUNCTION {name}({args}) RETURNS {result} LANGUAGE plpgsql SET search_path = '' AS $$
            BEGIN
                IF EXISTS (SELECT FROM resonance.test_broken AS b WHERE b.server_id = p_server_id) THEN
                    RAISE EXCEPTION 'injected failure' USING ERRCODE = '22023';
                END IF;
                RETURN {name}_real({call});
            END $$""")
    day = datetime(2026, 3, 4, tzinfo=timezone.utc)  # a Wednesday
    await db.execute(
        """
        INSERT INTO resonance.test_broken VALUES ('server_a');
        INSERT INTO public.discord_drops (server_id, event_id, drop_type, max_claims, channel_id, expires_at)
        VALUES ('server_a', 'expiring_a', 'button', 5, 'channel_a', $1), ('server_b', 'expiring_b', 'button', 5, 'channel_b', $1);
        UPDATE public.discord_kpi_configs SET alert_threshold = 100, period = 'day';
        """.replace("$1", f"TIMESTAMPTZ '{(day - timedelta(hours=1)).isoformat()}'"))

    async def open_errors() -> dict[str, tuple[str, str]]:
        rows = await db.fetch("SELECT job, server_id, error_code FROM public.discord_job_errors WHERE resolved_at IS NULL")
        return {r["job"]: (r["server_id"], r["error_code"]) for r in rows}

    # Day 1 and day 2: server_a fails in every job, server_b is served.
    for offset in (0, 1):
        at = day + timedelta(days=offset, hours=12)
        assert await db.fetchval("SELECT resonance.snapshot_kpis($1)", at.date()) == 3  # a2, b, b2
        await db.fetchval("SELECT resonance.refresh_all_goals($1)", at)
        await db.fetchval("SELECT resonance.queue_due_reports($1)", at)
        await db.fetchval("SELECT resonance.close_expired_drops($1)", at)
    # Alerts fail on server_a's own bad snapshot (a value that is not a number), not on an injection.
    await db.execute(
        "INSERT INTO public.discord_kpi_snapshots (server_id, snapshot_date, snapshot_type, metrics) "
        "VALUES ('server_a', $1, 'daily', '{\"daily_active_users\": \"oops\"}')", day.date())
    assert await db.fetchval("SELECT resonance.check_kpi_alerts($1)", day.date()) == 1  # server_b's alert
    assert await open_errors() == {
        "kpi_snapshot": ("server_a", "22023"), "refresh_goals": ("server_a", "22023"),
        "due_reports": ("server_a", "22023"), "close_expired_drops": ("server_a", "22023"),
        "kpi_alerts": ("server_a", "22P02"),
    }
    assert await db.fetchval(
        "SELECT count(*) FROM public.discord_kpi_snapshots WHERE server_id = 'server_b' AND snapshot_date >= $1", day.date()) == 2
    assert await db.fetchval("SELECT refreshed_at IS NOT NULL FROM public.discord_community_goals WHERE server_id = 'server_b'")
    assert await db.fetchval("SELECT refreshed_at IS NULL FROM public.discord_community_goals WHERE server_id = 'server_a'")
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE kind = 'send_report' AND server_id = 'server_b'") >= 1
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE server_id = 'server_a'") == 0
    assert await db.fetchval("SELECT closed_at IS NULL FROM public.discord_drops WHERE event_id = 'expiring_a'")
    assert await db.fetchval("SELECT closed_at IS NOT NULL FROM public.discord_drops WHERE event_id = 'expiring_b'")
    assert await db.fetchval(
        "SELECT failures FROM public.discord_job_errors WHERE job = 'kpi_snapshot' AND resolved_at IS NULL") == 2

    # Fixed on day 3: everything missed is done, every error resolved.
    await db.execute("DELETE FROM resonance.test_broken")
    await db.execute("DELETE FROM public.discord_kpi_snapshots WHERE server_id = 'server_a'")
    at = day + timedelta(days=2, hours=12)
    assert await db.fetchval("SELECT resonance.snapshot_kpis($1)", at.date()) == 4
    snapped = await db.fetch(
        "SELECT snapshot_date FROM public.discord_kpi_snapshots WHERE server_id = 'server_a' AND snapshot_type = 'daily' ORDER BY 1")
    assert [r["snapshot_date"] for r in snapped] == [(day + timedelta(days=d)).date() for d in (0, 1, 2)]
    await db.fetchval("SELECT resonance.refresh_all_goals($1)", at)
    await db.fetchval("SELECT resonance.queue_due_reports($1)", at)
    await db.fetchval("SELECT resonance.close_expired_drops($1)", at)
    assert await db.fetchval("SELECT resonance.check_kpi_alerts($1)", (at - timedelta(days=1)).date()) >= 2  # a: day 1 and 2
    assert await db.fetchval(
        "SELECT count(*) FROM resonance.outbox WHERE server_id = 'server_a' AND payload ->> 'type' = 'kpi_alert' "
        "AND payload ->> 'period_start' = $1", day.date().isoformat()) == 1
    assert await db.fetchval("SELECT count(*) FROM resonance.outbox WHERE kind = 'send_report' AND server_id = 'server_a'") == 1
    assert await db.fetchval("SELECT closed_at IS NOT NULL FROM public.discord_drops WHERE event_id = 'expiring_a'")
    assert await db.fetchval("SELECT refreshed_at IS NOT NULL FROM public.discord_community_goals WHERE server_id = 'server_a'")
    assert await open_errors() == {}
