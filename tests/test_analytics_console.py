"""The sealed console against an adversarial corpus.

Two tenants hold the same mock guild; tenant b also holds a message and a user only b has
(SECRET-B, secret_b_user). Every query runs as tenant a through analytics.console_query. The
claims: a query either fails, or returns only a's rows (nothing of b's appears in any answer);
afterwards the warehouse is unchanged, the caller's session carries none of the query's settings
and locks, and no other tenant's grant exists.
"""

from __future__ import annotations

import json
import re
import time

import asyncpg
import pytest

from resonance.analytics import questions
from resonance.analytics.extractor import run_extraction
from resonance.analytics.mock import create_mock_client

SECRET = "SECRET-B"

# (label, sql): must fail, changing nothing.
MUST_FAIL = [
    ("insert", "INSERT INTO messages (tenant_id, id, server_id, channel_id, author_id, created_at) "
               "SELECT 'a', 1, server_id, channel_id, author_id, now() FROM messages LIMIT 1 RETURNING id"),
    ("update", "UPDATE messages SET content = 'pwned' RETURNING id"),
    ("delete", "DELETE FROM messages RETURNING id"),
    ("delete in a CTE", "WITH d AS (DELETE FROM messages RETURNING id) SELECT count(*) FROM d"),
    ("select for update", "SELECT id FROM messages FOR UPDATE"),
    ("truncate", "TRUNCATE analytics.messages"),
    ("create table", "CREATE TABLE analytics.evil (a int)"),
    ("create temp table", "CREATE TEMP TABLE evil AS SELECT * FROM messages"),
    ("drop table", "DROP TABLE analytics.messages CASCADE"),
    ("disable rls", "ALTER TABLE analytics.messages DISABLE ROW LEVEL SECURITY"),
    ("grant", "GRANT ALL ON analytics.messages TO public"),
    ("replace the runner", "CREATE OR REPLACE FUNCTION analytics.console_tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'b' $$"),
    ("alter the runner", "ALTER FUNCTION analytics.console_run(text, integer) SECURITY INVOKER"),
    ("stacked delete", "SELECT 1; DELETE FROM messages"),
    ("stacked set role", "SELECT 1; SET ROLE postgres; SELECT * FROM messages"),
    ("stacked after a comment", "SELECT 1 -- harmless\n; DELETE FROM analytics.messages"),
    ("breaking out of a wrapper", "SELECT 1) AS q; DELETE FROM messages; SELECT (1"),
    ("set role", "SELECT set_config('role', 'postgres', true)"),
    ("reset role", "SELECT set_config('role', 'none', true)"),
    ("session authorization", "SELECT set_config('session_authorization', 'postgres', false)"),
    ("read-write again", "SELECT set_config('transaction_read_only', 'off', true)"),
    ("forge a grant", "INSERT INTO resonance.analytics_console_grants (xact_id, tenant_id) VALUES (pg_current_xact_id(), 'b') RETURNING 1"),
    ("read the grants", "SELECT * FROM resonance.analytics_console_grants"),
    ("call the console for b", "SELECT analytics.console_query('b', 'SELECT content FROM messages')"),
    ("the raw materialized view", "SELECT * FROM analytics.user_interactions"),
    ("the raw daily stats", "SELECT * FROM analytics.daily_stats"),
    ("pg_statistic", "SELECT * FROM pg_catalog.pg_statistic"),
    ("pg_authid", "SELECT rolname, rolpassword FROM pg_catalog.pg_authid"),
    ("pg_shadow", "SELECT usename, passwd FROM pg_catalog.pg_shadow"),
    ("read a server file", "SELECT pg_read_file('/etc/passwd')"),
    ("large object import", "SELECT lo_import('/etc/passwd')"),
    ("copy", "COPY analytics.messages TO STDOUT"),
    ("copy to program", "COPY (SELECT 1) TO PROGRAM 'id'"),
    ("other schemas", "SELECT * FROM public.discord_user_stats"),
    ("the ledger", "SELECT * FROM tipping.balances"),
    ("the engine", "SELECT * FROM resonance.reward_ledger"),
    ("a service function", "SELECT analytics.delete_message('a', id) FROM messages"),
    ("a service function for b", "SELECT * FROM analytics.top_reaction_givers('b', 1, 10)"),
    ("nextval", "SELECT nextval('analytics.emojis_id_seq')"),
    ("dblink", "SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)"),
    ("terminate others", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"),
]

# (label, sql): may run; the answer must hold nothing of b's.
MAY_RUN = [
    ("plain", "SELECT * FROM messages"),
    ("all tables", "SELECT (SELECT json_agg(u) FROM users u) AS u, (SELECT json_agg(s) FROM servers s) AS s, "
                   "(SELECT json_agg(r) FROM reactions r) AS r, (SELECT json_agg(e) FROM emojis e) AS e, "
                   "(SELECT json_agg(m) FROM message_mentions m) AS mm, (SELECT json_agg(x) FROM server_members x) AS sm"),
    ("filter for b", "SELECT * FROM messages WHERE tenant_id = 'b'"),
    ("or true", "SELECT * FROM messages WHERE tenant_id = 'b' OR TRUE"),
    ("comment hides the filter", "SELECT content FROM messages -- WHERE tenant_id = 'a'"),
    ("block comments", "SELECT /* tenant_id = 'a' */ content FROM messages WHERE /**/ tenant_id /**/ <> 'a'"),
    ("switch a setting", "SELECT set_config('app.current_tenant', 'b', true), set_config('analytics.tenant', 'b', true), "
                         "(SELECT string_agg(content, ' ') FROM messages WHERE tenant_id = 'b') AS c"),
    ("pretend to be the portal", "SELECT set_config('request.jwt.claims', '{\"role\":\"authenticated\","
                                 "\"app_metadata\":{\"brand_id\":\"b\"}}', true), (SELECT count(*) FROM messages "
                                 "WHERE tenant_id = 'b') AS n, (SELECT json_agg(t) FROM tenant_daily_stats t) AS d"),
    ("session-level settings", "SELECT set_config('analytics.tenant', 'b', false), set_config('statement_timeout', '0', false), "
                               "set_config('search_path', 'pg_temp, analytics', false)"),
    ("the runner directly", "SELECT analytics.console_run('SELECT * FROM messages WHERE tenant_id = ''b''', 100)"),
    ("the tenant views", "SELECT (SELECT json_agg(t) FROM tenant_user_interactions t) AS i, (SELECT json_agg(d) FROM tenant_daily_stats d) AS d"),
    ("statistics", "SELECT * FROM pg_stats WHERE schemaname = 'analytics'"),
    ("activity", "SELECT query FROM pg_stat_activity"),
    ("function sources", "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace"),
    ("who am i", "SELECT current_user, session_user, analytics.console_tenant() AS tenant"),
    ("probe by value", "SELECT CASE WHEN EXISTS (SELECT FROM messages WHERE content LIKE 'SECRET%') THEN 'SECRET-B' END AS probe"),
    ("probe by error", "SELECT CASE WHEN EXISTS (SELECT FROM messages WHERE content LIKE 'SECRET%') THEN 1 / (SELECT 0) END AS probe"),
    ("probe by a leaky function", "SELECT count(*) FROM messages WHERE CASE WHEN content LIKE 'SECRET%' THEN content::int ELSE 0 END = 1"),
    ("advisory lock", "SELECT pg_advisory_lock(4242)"),
    ("row_security off", "SELECT set_config('row_security', 'off', true), count(*) FROM messages"),
    ("notify", "SELECT pg_notify('x', (SELECT string_agg(content, ',') FROM messages))"),
    ("union", "SELECT content FROM messages UNION ALL SELECT username FROM users"),
]


@pytest.fixture
async def tenants(db):
    client = create_mock_client(user_count=12, channel_count=1, messages_per_channel=25, days=2, seed=5)
    guild, channel = client.guilds[0], client.guilds[0].text_channels[0]
    for tenant in ("a", "b"):
        await run_extraction(client, db, guild.id, tenant, sync_days=3, now=client.now)
    await db.execute(
        "SELECT analytics.ingest_message('b', $1, $2, 424242 << 22, 4242, 'secret_b_user', 'SECRET-B the plan', "
        "p_mention_ids => ARRAY[$3::bigint])", guild.id, channel.id, guild.members[0].id)
    await db.execute("SELECT analytics.ingest_reaction('b', 424242 << 22, $1, 'b-only-emoji')", guild.members[1].id)
    await db.execute("SELECT analytics.refresh_views()")
    return client


async def fingerprint(db) -> str:
    return await db.fetchval(
        "SELECT md5(string_agg(t, '|')) FROM (SELECT md5(array_agg(m ORDER BY tenant_id, id)::text) AS t FROM analytics.messages AS m "
        "UNION ALL SELECT md5(array_agg(r ORDER BY tenant_id, message_id, emoji_id, user_id)::text) FROM analytics.reactions AS r "
        "UNION ALL SELECT count(*)::text FROM pg_catalog.pg_class WHERE relnamespace = 'analytics'::regnamespace) AS x")


def leaks(payload: object) -> list[str]:
    """Tenant b's markers found in a result. Its author id 4242 counts only as a whole number, since
    tenant a's own snowflakes may contain those digits."""
    text = json.dumps(payload, default=str)
    found = [marker for marker in (SECRET, "secret_b_user", "b-only-emoji") if marker in text]
    if re.search(r"(?<!\d)4242(?!\d)", text):
        found.append("4242")
    return found


async def test_the_adversarial_corpus_finds_no_escape(db, database_url, tenants):
    before = await fingerprint(db)
    own = await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 'a'")
    escaped: list[str] = []
    codes: dict[str, str] = {}
    for label, sql in MUST_FAIL:
        try:
            result = await questions.console_query(db, "a", sql)
        except asyncpg.PostgresError as exc:
            codes[label] = exc.sqlstate
        else:
            escaped.append(f"{label}: ran and returned {result.rows[:2]}")
    for label, sql in MAY_RUN:
        try:
            result = await questions.console_query(db, "a", sql)
        except asyncpg.PostgresError as exc:
            codes[label] = exc.sqlstate
            continue
        if leaks(result.rows):
            escaped.append(f"{label}: {leaks(result.rows)} in {str(result.rows)[:200]}")
        if result.tenant_id != "a":
            escaped.append(f"{label}: ran as tenant {result.tenant_id}")
    assert escaped == []
    # Writes and DDL are refused by the database itself: only a query expression fits the console's
    # wrapper (42601), one statement per cursor (42P11), privileges (42501); set_config is off the
    # function allowlist (RA004), catalog views off the relation allowlist (RA005). docs/security.md.
    assert codes["update"] == codes["drop table"] == codes["stacked delete"] == "42601"
    assert codes["breaking out of a wrapper"] == "42P11"
    assert codes["set role"] == codes["session authorization"] == codes["advisory lock"] == "RA004"
    assert codes["statistics"] == codes["activity"] == "RA005"
    assert codes["the raw materialized view"] == codes["read the grants"] == "42501"
    assert not {"probe by error", "probe by a leaky function"} & codes.keys()  # b's rows never reach a predicate
    # The tenant's own rows are all there, whatever it tried.
    plain = await questions.console_query(db, "a", "SELECT count(*) AS n FROM messages WHERE tenant_id <> 'zzz'")
    assert plain.rows == [{"n": own}]
    # Nothing changed, nothing stuck to the caller's session.
    assert await fingerprint(db) == before
    assert await db.fetchval("SELECT current_setting('analytics.tenant', true)") in (None, "")
    assert await db.fetchval("SHOW statement_timeout") == "0"
    assert await db.fetchval("SHOW search_path") == '"$user", public'
    assert await db.fetchval("SELECT current_user") == "postgres"
    assert await db.fetchval("SELECT count(*) FROM resonance.analytics_console_grants") == 0
    other = await asyncpg.connect(database_url)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock(4242)") is True  # the query's lock was released
    finally:
        await other.close()


async def test_sleeping_past_the_timeout_is_cancelled(db, tenants):
    for sql in ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
                "SELECT count(*) FROM generate_series(1, 1000000000)",
                "SELECT count(*) FROM messages, generate_series(1, 1000000000)"):
        began = time.perf_counter()
        with pytest.raises(asyncpg.QueryCanceledError):
            await questions.console_query(db, "a", sql, timeout="300ms")
        assert time.perf_counter() - began < 2.0
    # Without a statement timeout (or with one over 30 s) the console refuses to start.
    for setting in ("0", "45s"):
        async with db.transaction():
            await db.execute("SELECT set_config('statement_timeout', $1, true)", setting)
            with pytest.raises(asyncpg.PostgresError) as refused:
                await db.fetchval("SELECT analytics.console_query('a', 'SELECT 1')")
        assert refused.value.sqlstate == "RA002"
    with pytest.raises(asyncpg.PostgresError) as missing:
        await questions.console_query(db, "", "SELECT 1")
    assert missing.value.sqlstate == "RA001"
    with pytest.raises(asyncpg.PostgresError) as direct:
        await db.fetchval("SELECT analytics.console_run('SELECT 1', 10)")
    assert direct.value.sqlstate == "RA003"


async def test_huge_results_stop_at_the_row_cap(db, tenants):
    began = time.perf_counter()
    # 25^4 = 390,625 rows, streamed: the cursor stops at the cap (requests above 10,000 are clamped).
    result = await questions.console_query(
        db, "a", "SELECT m1.id AS a, m2.id AS b, m3.id AS c FROM messages m1, messages m2, messages m3, messages m4",
        row_cap=50_000)
    assert (result.row_count, result.truncated, len(result.rows)) == (10_000, True, 10_000)
    assert time.perf_counter() - began < 10
    # A huge result the executor must materialise first is stopped by the statement timeout instead.
    with pytest.raises(asyncpg.QueryCanceledError):
        await questions.console_query(db, "a", "SELECT g FROM generate_series(1, 50000000) AS g", timeout="300ms")
    small = await questions.console_query(db, "a", "SELECT g FROM generate_series(1, 5) AS g", row_cap=3)
    assert (small.row_count, small.truncated, small.columns) == (3, True, ["g"])
    exact = await questions.console_query(db, "b", "SELECT count(*) AS n FROM messages WHERE content LIKE 'SECRET%'")
    assert exact.rows == [{"n": 1}]  # b sees its own secret; a never does
