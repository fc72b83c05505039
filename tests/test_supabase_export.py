"""`resonance export supabase DIR`: a Supabase CLI project that `supabase db push` applies, twice."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from resonance import export_supabase, supabase_env
from resonance.migrate import migrate, repeatable_files, versioned_files
from resonance.paths import db_dir

STAMPED = re.compile(r"^\d{14}_[a-z0-9_]+\.sql$")


def copy_db(tmp_path: Path) -> Path:
    target = tmp_path / "db"
    shutil.copytree(db_dir(), target)
    return target


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "supabase" / "migrations").glob("*.sql"))


def test_layout_then_reexport_writes_only_what_changed(tmp_path: Path) -> None:
    root = copy_db(tmp_path)
    out = tmp_path / "project"
    written = export_supabase.export(out, root=root)
    assert (out / "supabase" / "config.toml").read_text().count("major_version = 15") == 1
    files = names(out)
    assert files == sorted(written) and all(STAMPED.match(n) for n in files)
    assert len(files) == 1 + len(versioned_files(root)) + len(repeatable_files(root))
    assert len({n[:14] for n in files}) == len(files), "every migration has its own timestamp"
    # versioned first (in version order), then the repeatables
    versions = [n.split("_")[1] for n in files[1 : 1 + len(versioned_files(root))]]
    assert versions == [m.version for m in versioned_files(root)]
    tests = out / "supabase" / "tests" / "database"
    assert sorted(p.name for p in tests.glob("*.sql")) == sorted(p.name for p in (root / "tests").glob("*.sql"))
    assert not list((tests / "helpers").glob("*.sql")), "helpers must not look like tests to `supabase test db`"
    assert "security_seed.psql" in (tests / "helpers" / "security.psql").read_text()

    assert export_supabase.export(out, root=root) == [], "nothing changed, nothing written"

    common = root / "functions" / "common.sql"
    common.write_text(common.read_text() + "\n-- a change\n")
    again = export_supabase.export(out, root=root)
    assert len(again) == 1 and again[0].endswith("_r_functions_common.sql")
    assert again[0] > files[-1], "a re-export sorts after everything already exported"

    (root / "migrations" / "1099_later.sql").write_text("CREATE TABLE resonance.later (id integer);\n")
    later = export_supabase.export(out, root=root)
    assert later[0].endswith("_1099_later.sql")
    assert len(later) == 1 + len(repeatable_files(root)), "a new versioned migration re-emits every repeatable, as migrate re-applies them"


@pytest.fixture(scope="module")
def supabase_cli() -> Path:
    try:
        return export_supabase.ensure_supabase_cli()
    except export_supabase.CliUnavailable as exc:
        pytest.skip(f"Supabase CLI not installable here, `supabase db push` not exercised: {exc}")


def push(cli: Path, project: Path, url: str) -> str:
    done = subprocess.run(
        [str(cli), "db", "push", "--workdir", str(project), "--db-url", f"{url}?sslmode=disable", "--yes"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


async def test_supabase_cli_pushes_the_bundle_then_only_the_change(tmp_path: Path, supabase_cli: Path) -> None:
    supabase_env.reset(quiet=True)
    url = supabase_env.url()
    root = copy_db(tmp_path)
    project = tmp_path / "project"
    export_supabase.export(project, root=root)
    first = push(supabase_cli, project, url)
    assert first.count("Applying migration") == len(names(project))
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM supabase_migrations.schema_migrations") == len(names(project))
        # Both ledgers agree: our runner finds nothing to do after the CLI.
        assert (await migrate(url, root=root, log=lambda _m: None)).empty
        assert await conn.fetchval("SELECT count(*) FROM cron.job") > 0
        owner = await conn.fetchval("SELECT proowner::regrole::text FROM pg_proc WHERE oid = 'analytics.console_run(text, integer)'::regprocedure")
        assert owner == "analytics_console"

        common = root / "functions" / "common.sql"
        common.write_text(common.read_text() + "\n-- a change\n")
        assert len(export_supabase.export(project, root=root)) == 1
        second = push(supabase_cli, project, url)
        assert second.count("Applying migration") == 1 and "_r_functions_common.sql" in second
        assert (await migrate(url, root=root, log=lambda _m: None)).empty
    finally:
        await conn.close()
