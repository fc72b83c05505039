"""`resonance migrate`: versioned migrations once, in order; repeatable files whenever they change.

Discipline (after graphile/worker's migrate): one session advisory lock serialises runners, so ten
runners on an empty database queue, the first does the work and the others find nothing pending.
Each file runs in its own transaction whose first statement writes its ledger row; a failure rolls
the whole file back and names the file, the statement number and its line.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from resonance.paths import db_dir

META_SCHEMA = "resonance_meta"
LOCK_KEY = 7_201_511_077  # any constant: "resonance migrate"
VERSIONED_NAME = re.compile(r"^(?P<version>\d+)_(?P<slug>[a-z0-9_]+)\.sql$")
REPEATABLE_DIRS = ("functions", "policies", "jobs")


class MigrationError(RuntimeError):
    """A refused or failed migration; the message names the file."""


@dataclass(frozen=True)
class SqlFile:
    path: Path
    relpath: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class Versioned(SqlFile):
    version: str = ""
    name: str = ""


@dataclass
class Plan:
    supabase: bool
    local: list[SqlFile] = field(default_factory=list)
    versioned: list[Versioned] = field(default_factory=list)
    repeatable: list[SqlFile] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.local or self.versioned or self.repeatable)


# ---------------------------------------------------------------- reading the db/ tree


def _read(path: Path, root: Path) -> SqlFile:
    return SqlFile(path=path, relpath=str(path.relative_to(root.parent)), text=path.read_text())


def versioned_files(root: Path | None = None) -> list[Versioned]:
    root = root or db_dir()
    found: list[Versioned] = []
    seen: dict[str, Path] = {}
    for path in sorted((root / "migrations").glob("*.sql")):
        match = VERSIONED_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration names must look like <digits>_<slug>.sql (lowercase slug)")
        version = match["version"]
        if version in seen:
            raise MigrationError(f"{path}: version {version} is also used by {seen[version]}")
        seen[version] = path
        base = _read(path, root)
        found.append(Versioned(path=base.path, relpath=base.relpath, text=base.text, version=version, name=match["slug"]))
    return sorted(found, key=lambda m: (int(m.version), m.version))


def repeatable_files(root: Path | None = None) -> list[SqlFile]:
    root = root or db_dir()
    files: list[SqlFile] = []
    for sub in REPEATABLE_DIRS:
        files.extend(_read(p, root) for p in sorted((root / sub).rglob("*.sql")))
    return files


def local_files(root: Path | None = None) -> list[SqlFile]:
    root = root or db_dir()
    return [_read(p, root) for p in sorted((root / "local").glob("*.sql"))]


# ---------------------------------------------------------------- splitting SQL into statements

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(sql: str) -> list[tuple[int, str]]:
    """Split a script into (first line, statement) pairs, honouring quotes, dollar quotes and comments."""
    out: list[tuple[int, str]] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif ch == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif ch in ("'", '"'):
            i += 1
            while i < n:
                if sql[i] == ch:
                    if i + 1 < n and sql[i + 1] == ch:
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif ch == "$" and (m := _DOLLAR_TAG.match(sql, i)) and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            tag = m.group(0)
            end = sql.find(tag, m.end())
            i = n if end < 0 else end + len(tag)
        elif ch == ";":
            _emit(sql, start, i, out)
            i += 1
            start = i
        else:
            i += 1
    _emit(sql, start, n, out)
    return out


def _emit(sql: str, start: int, end: int, out: list[tuple[int, str]]) -> None:
    chunk = sql[start:end]
    if not _has_code(chunk):
        return
    lead = _LEADING_NOISE.match(chunk)
    offset = lead.end() if lead else 0
    line = sql.count("\n", 0, start + offset) + 1
    out.append((line, chunk[offset:].strip()))


_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/)*", re.S)


def _has_code(chunk: str) -> bool:
    stripped = re.sub(r"--[^\n]*", "", chunk)
    stripped = re.sub(r"/\*.*?\*/", "", stripped, flags=re.S)
    return bool(stripped.strip())


# ---------------------------------------------------------------- the runner

BOOTSTRAP = f"""
CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
REVOKE ALL ON SCHEMA {META_SCHEMA} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.repeatable_files (
    path       text PRIMARY KEY,
    kind       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON SCHEMA {META_SCHEMA} IS 'Bookkeeping of `resonance migrate`; never exposed through the API.';
COMMENT ON TABLE {META_SCHEMA}.schema_migrations IS 'One row per versioned migration applied, written first in the migration''s own transaction.';
COMMENT ON TABLE {META_SCHEMA}.repeatable_files IS 'Checksums of db/local, db/functions, db/policies and db/jobs files as last applied.';
"""


async def is_supabase(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_admin')"))


async def _applied(conn: asyncpg.Connection) -> tuple[dict[str, asyncpg.Record], dict[str, str]]:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{META_SCHEMA}.schema_migrations")
    if not exists:
        return {}, {}
    versions = {r["version"]: r for r in await conn.fetch(f"SELECT * FROM {META_SCHEMA}.schema_migrations")}
    repeatables = {r["path"]: r["checksum"] for r in await conn.fetch(f"SELECT path, checksum FROM {META_SCHEMA}.repeatable_files")}
    return versions, repeatables


async def build_plan(conn: asyncpg.Connection, root: Path | None = None) -> Plan:
    supabase = await is_supabase(conn)
    versions, repeatables = await _applied(conn)
    plan = Plan(supabase=supabase)
    for m in versioned_files(root):
        done = versions.get(m.version)
        if done is None:
            plan.versioned.append(m)
        elif done["checksum"] != m.checksum:
            raise MigrationError(
                f"{m.relpath} was changed after it was applied (checksum differs). "
                "Applied migrations are immutable: revert the edit and add a new migration."
            )
    if not supabase:
        plan.local = [f for f in local_files(root) if repeatables.get(f.relpath) != f.checksum]
    changed = [f for f in repeatable_files(root) if repeatables.get(f.relpath) != f.checksum]
    # A versioned migration may drop objects a repeatable file had created: re-apply them all then.
    plan.repeatable = repeatable_files(root) if plan.versioned else changed
    return plan


async def _run_file(conn: asyncpg.Connection, sql_file: SqlFile, ledger_sql: str, ledger_args: tuple) -> None:
    statements = split_statements(sql_file.text)
    async with conn.transaction():
        await conn.execute("SET LOCAL check_function_bodies = off")
        await conn.execute("SET LOCAL lock_timeout = '30s'")
        await conn.execute("SET LOCAL statement_timeout = '10min'")
        await conn.execute(ledger_sql, *ledger_args)
        for number, (line, statement) in enumerate(statements, start=1):
            try:
                await conn.execute(statement)
            except asyncpg.PostgresError as exc:
                first = statement.splitlines()[0][:120]
                raise MigrationError(
                    f"{sql_file.relpath}: statement {number} (line {line}) failed and the file was rolled back:\n"
                    f"  {first}\n  {exc.sqlstate}: {exc}"
                ) from exc


async def apply_plan(conn: asyncpg.Connection, plan: Plan, log=print) -> None:
    for f in plan.local:
        await _run_file(
            conn,
            f,
            f"""INSERT INTO {META_SCHEMA}.repeatable_files (path, kind, checksum) VALUES ($1, 'local', $2)
                ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now()""",
            (f.relpath, f.checksum),
        )
        log(f"  applied {f.relpath}")
    for m in plan.versioned:
        await _run_file(
            conn,
            m,
            f"INSERT INTO {META_SCHEMA}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            (m.version, m.name, m.checksum),
        )
        log(f"  applied {m.relpath}")
    for f in plan.repeatable:
        kind = Path(f.relpath).parts[1]
        await _run_file(
            conn,
            f,
            f"""INSERT INTO {META_SCHEMA}.repeatable_files (path, kind, checksum) VALUES ($1, $2, $3)
                ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, applied_at = now()""",
            (f.relpath, kind, f.checksum),
        )
        log(f"  applied {f.relpath}")


async def migrate(url: str, *, dry_run: bool = False, root: Path | None = None, log=print) -> Plan:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            if not dry_run:
                await conn.execute(BOOTSTRAP)
            plan = await build_plan(conn, root)
            if dry_run:
                return plan
            from resonance import citus_migrate  # a Citus coordinator only: docs/scaling.md

            citus = await citus_migrate.prepare(conn, plan)
            await apply_plan(conn, plan, log=log)
            if citus:
                await citus_migrate.distribute(conn, log=log)
            return plan
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def apply_local(url: str) -> None:
    """Apply only db/local (roles and auth helpers) unless the target is Supabase."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(BOOTSTRAP)
            supabase = await is_supabase(conn)
            _versions, repeatables = await _applied(conn)
            pending = [] if supabase else [f for f in local_files() if repeatables.get(f.relpath) != f.checksum]
            await apply_plan(conn, Plan(supabase=supabase, local=pending), log=lambda _m: None)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


def apply_local_sync(url: str) -> None:
    asyncio.run(apply_local(url))


async def status(url: str, root: Path | None = None) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        versions, repeatables = await _applied(conn)
        rows: list[tuple[str, str]] = []
        for m in versioned_files(root):
            done = versions.get(m.version)
            if done is None:
                state = "pending"
            elif done["checksum"] != m.checksum:
                state = "CHANGED after apply (refused)"
            else:
                state = f"applied {done['applied_at']:%Y-%m-%d %H:%M:%S}"
            rows.append((m.relpath, state))
        supabase = await is_supabase(conn)
        for f in ([] if supabase else local_files(root)) + repeatable_files(root):
            known = repeatables.get(f.relpath)
            rows.append((f.relpath, "current" if known == f.checksum else ("changed, will re-apply" if known else "pending")))
        return rows
    finally:
        await conn.close()


def _print_plan(plan: Plan) -> None:
    target = "Supabase (db/local skipped)" if plan.supabase else "plain Postgres"
    print(f"target: {target}")
    if plan.empty:
        print("nothing to apply: the database is up to date")
    for f in [*plan.local, *plan.versioned, *plan.repeatable]:
        print(f"  would apply {f.relpath}")


def main(argv: list[str]) -> int:
    import argparse

    from resonance.localdb import default_url

    parser = argparse.ArgumentParser(prog="resonance migrate", description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["up", "status"], default="up")
    parser.add_argument("--database-url", help="target database (default: $DATABASE_URL, else the local cluster)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args(argv)
    url = args.database_url or default_url()
    try:
        if args.action == "status":
            for path, state in asyncio.run(status(url)):
                print(f"{state:32} {path}")
            return 0
        if args.dry_run:
            _print_plan(asyncio.run(migrate(url, dry_run=True)))
            return 0
        plan = asyncio.run(migrate(url))
        print("migrate: up to date" if plan.empty else f"migrate: applied {len(plan.local) + len(plan.versioned) + len(plan.repeatable)} file(s)")
        return 0
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"migrate: cannot reach {url.split('@')[-1]}: {exc}", file=sys.stderr)
        return 1
