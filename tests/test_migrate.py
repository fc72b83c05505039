"""The migration runner: once, in order, atomic, refusing edits, safe with concurrent runners."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from resonance.migrate import MigrationError, migrate, split_statements, versioned_files
from resonance.paths import db_dir


def copy_tree(tmp_path: Path) -> Path:
    target = tmp_path / "db"
    shutil.copytree(db_dir(), target, ignore=shutil.ignore_patterns("tests"))
    return target


def test_split_statements_honours_quotes_dollar_bodies_and_comments() -> None:
    sql = """
-- a comment; with a semicolon
CREATE TABLE a (x text DEFAULT ';');
/* block; comment */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;
SELECT $$;$$, 'it''s; fine', "we;ird";
"""
    statements = split_statements(sql)
    assert [line for line, _ in statements] == [3, 5, 6]
    assert statements[1][1].endswith("$body$")
    assert statements[2][1] == """SELECT $$;$$, 'it''s; fine', "we;ird\""""


def test_versioned_files_are_numbered_and_ordered() -> None:
    files = versioned_files()
    versions = [int(f.version) for f in files]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)


async def test_rerun_is_a_no_op(empty_database_url: str) -> None:
    first = await migrate(empty_database_url, log=lambda _m: None)
    assert first.versioned, "the first run applies every migration"
    conn = await asyncpg.connect(empty_database_url)
    try:
        before = await conn.fetch("SELECT version, applied_at FROM resonance_meta.schema_migrations ORDER BY version")
        second = await migrate(empty_database_url, log=lambda _m: None)
        after = await conn.fetch("SELECT version, applied_at FROM resonance_meta.schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert second.empty
    assert before == after


async def test_changed_checksum_is_refused_naming_the_file(empty_database_url: str, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    await migrate(empty_database_url, root=root, log=lambda _m: None)
    edited = root / "migrations" / "0002_server_configs_and_rules.sql"
    edited.write_text(edited.read_text() + "\n-- a sneaky edit\n")
    with pytest.raises(MigrationError, match="0002_server_configs_and_rules.sql"):
        await migrate(empty_database_url, root=root, log=lambda _m: None)


async def test_failed_migration_leaves_nothing_half_applied(empty_database_url: str, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE public.half_done (id int);\n\nINSERT INTO public.half_done VALUES (1);\n\nSELECT 1 / 0;\n"
    )
    with pytest.raises(MigrationError) as failure:
        await migrate(empty_database_url, root=root, log=lambda _m: None)
    message = str(failure.value)
    assert "9999_broken.sql" in message and "statement 3" in message and "line 5" in message and "22012" in message
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.half_done')") is None
        assert not await conn.fetchval("SELECT count(*) FROM resonance_meta.schema_migrations WHERE version = '9999'")
        # everything before the broken file did land, each in its own transaction
        assert await conn.fetchval("SELECT to_regclass('public.discord_server_configs')") is not None
    finally:
        await conn.close()


async def test_ten_concurrent_runners_leave_one_clean_schema(empty_database_url: str) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "resonance.cli", "migrate", "--database-url", empty_database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(10)
    ]
    results = await asyncio.to_thread(lambda: [(p.wait(timeout=240), p.stderr.read().decode()) for p in procs])
    assert [code for code, _ in results] == [0] * 10, results
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await conn.fetchval("SELECT count(*) FROM resonance_meta.schema_migrations")
        assert applied == len(versioned_files())
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE tablename = 'discord_server_configs'") == 1
    finally:
        await conn.close()


async def test_dry_run_changes_nothing(empty_database_url: str) -> None:
    plan = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
    assert plan.versioned
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('resonance_meta.schema_migrations')") is None
    finally:
        await conn.close()


async def test_local_layer_is_skipped_on_supabase_detected_by_more_than_a_role_name(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute("DO $$ BEGIN CREATE ROLE supabase_admin NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        try:
            # A plain cluster may well have a role of that name: not Supabase.
            named_only = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
            assert not named_only.supabase and named_only.local
            # Supabase: the superuser supabase_admin owns schema auth (its init scripts create it so).
            await conn.execute("ALTER ROLE supabase_admin SUPERUSER")
            await conn.execute("CREATE SCHEMA auth AUTHORIZATION supabase_admin")
            plan = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
            assert plan.supabase and not plan.local
        finally:
            await conn.execute("DROP SCHEMA IF EXISTS auth")
            await conn.execute("DROP ROLE IF EXISTS supabase_admin")
        plain = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
        assert not plain.supabase and plain.local
    finally:
        await conn.close()


def test_parser_splits_begin_atomic_bodies_and_nested_comments() -> None:
    sql = """/* outer /* nested; */ still a comment; */
CREATE FUNCTION public.two() RETURNS integer LANGUAGE sql
BEGIN ATOMIC
    SELECT 1;
    SELECT 2;
END;
-- done; really
SELECT public.two();
"""
    statements = split_statements(sql)
    assert [line for line, _ in statements] == [2, 8]
    assert statements[0][1].endswith("END")
    assert statements[1][1] == "SELECT public.two()"


async def test_syntax_error_names_file_and_line(empty_database_url: str, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "migrations" / "9999_typo.sql").write_text("SELECT 1;\n\nSELEC 2;\n")
    with pytest.raises(MigrationError, match=r"9999_typo.sql:3: Postgres's parser rejects"):
        await migrate(empty_database_url, root=root, log=lambda _m: None)


async def test_broken_function_body_fails_its_file(empty_database_url: str, tmp_path: Path) -> None:
    """check_function_bodies stays on: a body that cannot compile fails the migration, naming the line."""
    root = copy_tree(tmp_path)
    (root / "functions" / "zz_broken.sql").write_text(
        "-- a comment line\nCREATE OR REPLACE FUNCTION resonance.broken() RETURNS integer LANGUAGE plpgsql SET search_path = ''\n"
        "AS $$\nBEGIN\n    RETURN 1\n    RETURN 2;\nEND;\n$$;\n"
    )
    with pytest.raises(MigrationError, match=r"(?s)zz_broken.sql:6: statement 1 \(line 2\).*42601"):
        await migrate(empty_database_url, root=root, log=lambda _m: None)
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regprocedure('resonance.broken()')") is None
    finally:
        await conn.close()


def test_root_without_migrations_is_refused(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with pytest.raises(MigrationError, match="not a Resonance checkout"):
        versioned_files(tmp_path / "db")
    env = {**os.environ, "RESONANCE_ROOT": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run([sys.executable, "-m", "resonance.cli", "migrate"], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "not a Resonance checkout" in done.stderr
    assert "up to date" not in done.stdout


async def test_older_pending_version_is_applied_with_a_warning(empty_database_url: str, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    await migrate(empty_database_url, root=root, log=lambda _m: None)
    (root / "migrations" / "0050_late_branch.sql").write_text("CREATE TABLE resonance.late_branch (id integer);\n")
    warnings: list[str] = []
    from resonance import migrate as runner

    conn = await asyncpg.connect(empty_database_url)
    try:
        plan = await runner.build_plan(conn, root, warn=warnings.append)
        assert [m.version for m in plan.versioned] == ["0050"]
        assert len(warnings) == 1 and "0050_late_branch.sql is older than version" in warnings[0]
        await runner.apply_plan(conn, plan, log=lambda _m: None, root=root)
        assert await conn.fetchval("SELECT to_regclass('resonance.late_branch')") is not None
    finally:
        await conn.close()


PORTAL = """
CREATE TABLE public.portal_profiles (id integer PRIMARY KEY, name text, updated_at timestamptz);
GRANT SELECT, INSERT ON public.portal_profiles TO anon, authenticated;
CREATE FUNCTION public.portal_hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hi' $$;
GRANT EXECUTE ON FUNCTION public.portal_hello() TO anon, authenticated;
"""
ACLS = """
SELECT (SELECT array_agg(a ORDER BY a) FROM unnest(c.relacl::text[]) AS a) AS rel,
       (SELECT array_agg(a ORDER BY a) FROM unnest(p.proacl::text[]) AS a) AS fn
FROM pg_class AS c, pg_proc AS p
WHERE c.oid = 'public.portal_profiles'::regclass AND p.oid = 'public.portal_hello()'::regprocedure
"""


async def assert_portal_untouched(url: str) -> None:
    """Run on a database where PORTAL was applied: migrate, and the portal's objects are as they were."""
    conn = await asyncpg.connect(url)
    try:
        before = await conn.fetchrow(ACLS)
        await migrate(url, log=lambda _m: None)
        after = await conn.fetchrow(ACLS)
        assert dict(before) == dict(after), "our migrations changed the privileges of objects we do not own"
        assert not await conn.fetch(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.portal_profiles'::regclass AND NOT tgisinternal"
        ), "our updated_at trigger landed on a foreign table"
        # What the deploy role creates in public later still gets Supabase's default grants.
        await conn.execute("CREATE TABLE public.portal_later (id integer)")
        assert await conn.fetchval("SELECT has_table_privilege('anon', 'public.portal_later', 'SELECT')")
        # Our own tables keep their explicit, narrower grants.
        assert not await conn.fetchval("SELECT has_table_privilege('anon', 'public.monitoring_rules', 'INSERT')")
    finally:
        await conn.close()


async def test_foreign_table_and_function_in_public_are_untouched(empty_database_url: str) -> None:
    # The API roles exist first (db/local), then the portal, then our migrations.
    from resonance.migrate import apply_local

    await apply_local(empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute(PORTAL)
    finally:
        await conn.close()
    await assert_portal_untouched(empty_database_url)


async def test_documented_table_from_elsewhere_stops_before_any_change(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute("CREATE TABLE public.monitoring_rules (id integer PRIMARY KEY, note text)")
        with pytest.raises(MigrationError, match=r"public\.monitoring_rules \(owner \w+\) exists already") as failure:
            await migrate(empty_database_url, log=lambda _m: None)
        assert "SET SCHEMA" in str(failure.value) and "nothing was changed" in str(failure.value)
        assert await conn.fetchval("SELECT to_regnamespace('resonance_meta')") is None
        assert await conn.fetchval("SELECT to_regnamespace('resonance')") is None
        await conn.execute("CREATE SCHEMA portal_legacy; ALTER TABLE public.monitoring_rules SET SCHEMA portal_legacy")
        await migrate(empty_database_url, log=lambda _m: None)
        assert await conn.fetchval("SELECT to_regclass('public.monitoring_rules')") is not None
    finally:
        await conn.close()


def test_acl_restore_statements_undo_revokes_and_grants() -> None:
    from resonance.migrate import acl_restore_statements

    before = ["postgres=arwdDxt/postgres", "anon=r/postgres", "authenticated=r*/postgres"]
    after = ["postgres=arwdDxt/postgres", "authenticated=r/postgres", "service_role=a/postgres"]
    assert acl_restore_statements("TABLE public.t", before, after) == [
        "REVOKE INSERT ON TABLE public.t FROM service_role",
        "GRANT SELECT ON TABLE public.t TO anon",
        "GRANT SELECT ON TABLE public.t TO authenticated WITH GRANT OPTION",
    ]


async def test_upgrade_that_replaces_our_own_relation_is_not_a_clash(empty_database_url: str, tmp_path: Path) -> None:
    # An existing deployment upgrades: a pending migration replaces a relation an applied one of ours
    # created (as 1600 turns 0600's materialized views into rollup tables). That is ours, not a portal's.
    root = copy_tree(tmp_path)
    (root / "migrations" / "9998_probe.sql").write_text("CREATE TABLE public.zz_probe (id integer);\n")
    await migrate(empty_database_url, root=root, log=lambda _m: None)
    (root / "migrations" / "9999_probe_replaced.sql").write_text(
        "DROP TABLE public.zz_probe;\nCREATE TABLE public.zz_probe (id bigint PRIMARY KEY);\n"
    )
    await migrate(empty_database_url, root=root, log=lambda _m: None)
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM resonance_meta.schema_migrations WHERE version = '9999'") == 1
    finally:
        await conn.close()
