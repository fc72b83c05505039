"""`resonance export supabase DIR`: our db/ tree as a Supabase CLI project.

DIR/supabase/config.toml, DIR/supabase/migrations/<14-digit timestamp>_<name>.sql and the pgTAP suite
under DIR/supabase/tests/database/. The CLI applies migration files once, in timestamp order, so:

- every versioned migration becomes one file (`<ts>_<version>_<slug>.sql`), the same text plus a
  line that records it in our own ledger (resonance_meta), so `resonance migrate` and
  `supabase db push` agree on what is applied and either can take over;
- every repeatable file (functions, policies, jobs) becomes a generated migration
  (`<ts>_r_<kind>_<name>.sql`) holding its current text and its ledger checksum;
- a re-export writes only what changed since the last export, with timestamps after every file
  already there: new versioned migrations, then the repeatables whose text changed (all of them when
  a new versioned migration arrives, exactly as `resonance migrate` re-applies them then).

What was exported is remembered in DIR/supabase/resonance-export.json; files already exported are
never rewritten (the CLI's ledger would no longer match them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

from resonance.migrate import BOOTSTRAP, META_SCHEMA, MigrationError, SqlFile, repeatable_files, versioned_files
from resonance.paths import db_dir, state_dir

MANIFEST = "resonance-export.json"
CONFIG_TOML = """# Written by `resonance export supabase`: a Supabase CLI project holding Resonance's migrations.
# Deploy: supabase db push --db-url "postgresql://postgres:<password>@<host>:5432/postgres"
# (or supabase link + supabase db push). See docs/supabase.md in the Resonance repository.
project_id = "resonance"

[db]
major_version = 15

[db.seed]
enabled = false
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _ledger_versioned(version: str, name: str, checksum: str) -> str:
    return (
        f"\n-- [resonance export] recorded in Resonance's own ledger too, so `resonance migrate` agrees.\n"
        f"INSERT INTO {META_SCHEMA}.schema_migrations (version, name, checksum) "
        f"VALUES ('{version}', '{name}', '{checksum}') ON CONFLICT (version) DO NOTHING;\n"
    )


def _ledger_repeatable(f: SqlFile) -> str:
    kind = Path(f.relpath).parts[1]
    return (
        f"\n-- [resonance export] recorded in Resonance's own ledger too, so `resonance migrate` agrees.\n"
        f"INSERT INTO {META_SCHEMA}.repeatable_files (path, kind, checksum) VALUES ('{f.relpath}', '{kind}', '{f.checksum}')\n"
        f"ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now();\n"
    )


def _export_tests(root: Path, target: Path) -> int:
    """db/tests/*.sql into supabase/tests/database/; helpers renamed *.psql so that `supabase test db`
    (which runs every *.sql there) never takes them for tests."""
    if target.exists():
        shutil.rmtree(target)
    (target / "helpers").mkdir(parents=True)
    renames = {p.name: p.with_suffix(".psql").name for p in (root / "tests" / "helpers").glob("*.sql")}

    def renamed(text: str) -> str:
        for old, new in renames.items():
            text = text.replace(old, new)
        return text

    for helper in sorted((root / "tests" / "helpers").iterdir()):
        if helper.is_file():
            (target / "helpers" / renames.get(helper.name, helper.name)).write_text(renamed(helper.read_text()))
    count = 0
    for test in sorted((root / "tests").glob("*.sql")):
        (target / test.name).write_text(renamed(test.read_text()))
        count += 1
    return count


def export(directory: Path, *, root: Path | None = None, now: dt.datetime | None = None) -> list[str]:
    """Write or update the Supabase CLI project in `directory`; return the migration files written."""
    root = root or db_dir()
    versioned = versioned_files(root)
    repeatable = repeatable_files(root)
    project = directory / "supabase"
    migrations = project / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    manifest_path = project / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"versions": {}, "repeatables": {}, "bootstrap": None}
    if not (project / "config.toml").exists():
        (project / "config.toml").write_text(CONFIG_TOML)

    existing = sorted(p.name[:14] for p in migrations.glob("*.sql") if p.name[:14].isdigit())
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0, tzinfo=None)
    if existing:
        moment = max(moment, dt.datetime.strptime(existing[-1], "%Y%m%d%H%M%S") + dt.timedelta(seconds=1))
    written: list[str] = []

    def emit(name: str, text: str) -> str:
        nonlocal moment
        filename = f"{_stamp(moment)}_{name}.sql"
        (migrations / filename).write_text(text)
        moment += dt.timedelta(seconds=1)
        written.append(filename)
        return filename

    if manifest.get("bootstrap") is None:
        manifest["bootstrap"] = emit(
            "resonance_ledger",
            "-- [resonance export] Resonance's own ledger (resonance_meta), written by every migration below.\n" + BOOTSTRAP.strip() + "\n",
        )
    for version, filename in manifest["versions"].items():
        if not (migrations / filename).exists():
            raise MigrationError(f"{migrations / filename} was exported before and is gone; restore it from version control")
    new_versions = [m for m in versioned if m.version not in manifest["versions"]]
    for m in new_versions:
        filename = emit(f"{m.version}_{m.name}", m.text.rstrip("\n") + "\n" + _ledger_versioned(m.version, m.name, m.checksum))
        manifest["versions"][m.version] = filename
    for f in repeatable:
        if new_versions or manifest["repeatables"].get(f.relpath) != f.checksum:
            stem = "_".join(Path(f.relpath).with_suffix("").parts[1:])
            header = f"-- [resonance export] generated from {f.relpath} (a repeatable file: re-emitted whenever it changes)\n"
            emit(f"r_{_slug(stem)}", header + f.text.rstrip("\n") + "\n" + _ledger_repeatable(f))
            manifest["repeatables"][f.relpath] = f.checksum
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    _export_tests(root, project / "tests" / "database")
    return written


SUPABASE_CLI_VERSION = "2.117.0"  # pinned: known to install from the npm registry here


class CliUnavailable(RuntimeError):
    """The Supabase CLI could not be installed; the message says why."""


def ensure_supabase_cli() -> Path:
    """The Supabase CLI (npm package `supabase`, pinned), installed once under .resonance/node/."""
    prefix = state_dir() / "node"
    binary = prefix / "node_modules" / ".bin" / "supabase"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise CliUnavailable("npm is not installed (apt-get install -y npm), so the Supabase CLI cannot be installed")
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--save-exact", "--no-audit", "--no-fund", f"supabase@{SUPABASE_CLI_VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "npm_config_yes": "true"},
        )
    except subprocess.TimeoutExpired as exc:
        raise CliUnavailable("npm install supabase took over 10 minutes") from exc
    if done.returncode != 0 or not binary.exists():
        raise CliUnavailable(f"npm install supabase@{SUPABASE_CLI_VERSION} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return binary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="resonance export", description="Export the database as a Supabase CLI project.")
    parser.add_argument("target", choices=["supabase"])
    parser.add_argument("directory", type=Path, help="the project directory (DIR/supabase/ is written)")
    args = parser.parse_args(argv)
    try:
        written = export(args.directory)
    except MigrationError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    if written:
        print(f"export: wrote {len(written)} migration(s) to {args.directory / 'supabase' / 'migrations'}")
        for name in written:
            print(f"  {name}")
    else:
        print("export: nothing changed since the last export")
    print(f'deploy: supabase db push --workdir {args.directory} --db-url "postgresql://postgres:<password>@<host>:5432/postgres"')
    return 0
