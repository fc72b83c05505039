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


async def test_local_layer_is_skipped_on_supabase(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute("DO $$ BEGIN CREATE ROLE supabase_admin NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        try:
            plan = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
        finally:
            await conn.execute("DROP ROLE IF EXISTS supabase_admin")
        assert plan.supabase and not plan.local
        plain = await migrate(empty_database_url, dry_run=True, log=lambda _m: None)
        assert not plain.supabase and plain.local
    finally:
        await conn.close()
