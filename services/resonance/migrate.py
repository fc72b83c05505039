"""`resonance migrate`: versioned migrations once, in order; repeatable files whenever they change.

Discipline (after graphile/worker's migrate): one session advisory lock serialises runners, so ten
runners on an empty database queue, the first does the work and the others find nothing pending.
Each file runs in its own transaction whose first statement writes its ledger row; a failure rolls
the whole file back and names the file, the statement number and its line. Files are split into
statements by Postgres's own parser (pglast, libpg_query), and function bodies are checked as they are
created (check_function_bodies stays on).

Shared projects (Supabase, with the Partner Portal beside us): before anything changes, the runner
stops when a table a pending migration creates already exists; and the privileges of objects in
`public` that no file of ours creates are restored after every migration, so a blanket GRANT or
REVOKE of ours never reaches them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from pglast import ast, parse_sql
from pglast.parser import ParseError

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
    if not (root / "migrations").is_dir():
        raise MigrationError(
            f"{root / 'migrations'} does not exist: this is not a Resonance checkout. "
            "Run from the repository (or set RESONANCE_ROOT to it)."
        )
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


class SqlSyntaxError(MigrationError):
    """A file Postgres's parser rejects; carries the 1-based line of the error."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@functools.lru_cache(maxsize=512)
def _parse(sql: str) -> tuple:
    try:
        return tuple(parse_sql(sql))
    except ParseError as exc:
        message, index = (exc.args + (0,))[:2]
        line = sql.count("\n", 0, int(index)) + 1
        raise SqlSyntaxError(f"line {line}: {message}", line) from exc


def split_statements(sql: str) -> list[tuple[int, str]]:
    """Split a script into (first line, statement) pairs with Postgres's own parser (libpg_query via
    pglast): quotes, dollar quotes, nested comments and BEGIN ATOMIC bodies are what Postgres says."""
    out: list[tuple[int, str]] = []
    for raw in _parse(sql):
        begin = raw.stmt_location or 0
        text = sql[begin : begin + raw.stmt_len] if raw.stmt_len else sql[begin:]
        lead = len(text) - len(text.lstrip())
        out.append((sql.count("\n", 0, begin + lead) + 1, text.strip()))
    return out


def _relation_name(rv: ast.RangeVar) -> tuple[str, str]:
    return (rv.schemaname or "public", rv.relname)


def created_objects(sql: str) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """What a script creates: relations as (schema, name, if_not_exists) and functions as (schema, name).
    Unqualified names count as public (our files qualify every name)."""
    relations: list[tuple[str, str, bool]] = []
    functions: list[tuple[str, str]] = []
    for raw in _parse(sql):
        stmt = raw.stmt
        if isinstance(stmt, ast.CreateStmt):
            relations.append((*_relation_name(stmt.relation), bool(stmt.if_not_exists)))
        elif isinstance(stmt, ast.CreateTableAsStmt):
            relations.append((*_relation_name(stmt.into.rel), bool(stmt.if_not_exists)))
        elif isinstance(stmt, ast.ViewStmt):
            relations.append((*_relation_name(stmt.view), bool(stmt.replace)))
        elif isinstance(stmt, ast.CreateSeqStmt):
            relations.append((*_relation_name(stmt.sequence), bool(stmt.if_not_exists)))
        elif isinstance(stmt, ast.CreateFunctionStmt):
            names = [n.sval for n in stmt.funcname]
            functions.append((names[0] if len(names) > 1 else "public", names[-1]))
    return relations, functions


def file_objects(f: SqlFile) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    try:
        return created_objects(f.text)
    except SqlSyntaxError as exc:
        raise MigrationError(f"{f.relpath}:{exc.line}: Postgres's parser rejects the file: {exc}") from exc


def public_names(files: list[SqlFile]) -> tuple[list[str], list[str]]:
    """Names of the relations and functions in schema public that our files create: everything
    else in public belongs to someone else (the Partner Portal) and is never touched."""
    rels: set[str] = set()
    funcs: set[str] = set()
    for f in files:
        relations, functions = file_objects(f)
        rels.update(name for schema, name, _ in relations if schema == "public")
        funcs.update(name for schema, name in functions if schema == "public")
    return sorted(rels), sorted(funcs)


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


SUPABASE_PROBE = """
SELECT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'supabase_admin' AND r.rolsuper)
    AND EXISTS (
        SELECT FROM pg_catalog.pg_namespace AS n
        INNER JOIN pg_catalog.pg_roles AS r ON r.oid = n.nspowner
        WHERE n.nspname = 'auth' AND r.rolname IN ('supabase_admin', 'supabase_auth_admin')
    )
"""


async def is_supabase(conn: asyncpg.Connection) -> bool:
    """Supabase builds every project with a superuser supabase_admin, and schema auth belongs to it
    (its init scripts create auth AUTHORIZATION supabase_admin; some builds hand it to the auth
    service's supabase_auth_admin). A role of that name alone proves nothing: on a plain cluster
    db/local's schema auth belongs to whoever ran it."""
    return bool(await conn.fetchval(SUPABASE_PROBE))


async def _applied(conn: asyncpg.Connection) -> tuple[dict[str, asyncpg.Record], dict[str, str]]:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{META_SCHEMA}.schema_migrations")
    if not exists:
        return {}, {}
    versions = {r["version"]: r for r in await conn.fetch(f"SELECT * FROM {META_SCHEMA}.schema_migrations")}
    repeatables = {r["path"]: r["checksum"] for r in await conn.fetch(f"SELECT path, checksum FROM {META_SCHEMA}.repeatable_files")}
    return versions, repeatables


async def build_plan(conn: asyncpg.Connection, root: Path | None = None, warn=None) -> Plan:
    warn = warn or (lambda m: print(m, file=sys.stderr))
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
    newest = max((int(v) for v in versions), default=None)
    for m in plan.versioned:
        if newest is not None and int(m.version) < newest:
            warn(
                f"migrate: warning: {m.relpath} is older than version {newest:04d}, which is applied already; "
                "it runs now, after the newer ones (a merged branch?). Check that it does not assume their absence."
            )
    if not supabase:
        plan.local = [f for f in local_files(root) if repeatables.get(f.relpath) != f.checksum]
    changed = [f for f in repeatable_files(root) if repeatables.get(f.relpath) != f.checksum]
    # A versioned migration may drop objects a repeatable file had created: re-apply them all then.
    plan.repeatable = repeatable_files(root) if plan.versioned else changed
    return plan


async def preflight(conn: asyncpg.Connection, plan: Plan, root: Path | None = None) -> None:
    """Stop before changing anything when a table a pending migration creates exists already (on a
    shared Supabase project, another application's): name it, its owner and what to do."""
    clashes: list[str] = []
    # A relation an applied migration of ours created is ours, even when a pending one replaces it
    # (a materialized view that becomes a rollup table): only the others can be someone else's.
    versions, _repeatables = await _applied(conn)
    ours = {
        (schema, name)
        for m in versioned_files(root)
        if m.version in versions
        for schema, name, _if_not_exists in file_objects(m)[0]
    }
    for m in plan.versioned:
        relations, _functions = file_objects(m)
        for schema, name, if_not_exists in relations:
            if if_not_exists or (schema, name) in ours:
                continue
            owner = await conn.fetchval(
                """SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class AS c
                   WHERE c.relnamespace = pg_catalog.to_regnamespace($1) AND c.relname = $2""",
                schema,
                name,
            )
            if owner is not None:
                clashes.append(f"  {schema}.{name} (owner {owner}) exists already; {m.relpath} creates it")
    if clashes:
        raise MigrationError(
            "nothing was changed: tables that Resonance creates exist already, made by another application:\n"
            + "\n".join(clashes)
            + "\nResonance owns these (documented) tables and will not adopt or alter someone else's. Move them "
            "aside first, e.g. ALTER TABLE public.<name> SET SCHEMA portal_legacy (or drop them if they are "
            "leftovers), run `resonance migrate` again, then copy any rows you need into the new tables. "
            "See docs/supabase.md, 'Sharing a project'."
        )


# ---------------------------------------------------------------- objects we do not own

ACL_SNAPSHOT = """
SELECT format('%s public.%I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname) AS target,
       c.oid::int8 AS oid,
       coalesce(c.relacl, pg_catalog.acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))::text[] AS acl
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = 'public'::pg_catalog.regnamespace
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    AND NOT c.relname = ANY($1::text[])
    AND NOT EXISTS (  -- a sequence that belongs to one of our tables is ours
        SELECT FROM pg_catalog.pg_depend AS d
        INNER JOIN pg_catalog.pg_class AS t ON t.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
            AND d.deptype IN ('a', 'i') AND t.relname = ANY($1::text[])
    )
UNION ALL
SELECT format('%s public.%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
       p.oid::int8,
       coalesce(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner))::text[]
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'public'::pg_catalog.regnamespace
    AND p.prokind IN ('f', 'p')
    AND NOT p.proname = ANY($2::text[])
"""

_PRIVILEGES = {
    "r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
    "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY", "m": "MAINTAIN",
}  # fmt: skip


def _acl_items(acl: list[str]) -> set[tuple[str, str, bool]]:
    """aclitem texts ('grantee=privs/grantor') as (grantee, privilege, grantable); '' is PUBLIC."""
    items: set[tuple[str, str, bool]] = set()
    for item in acl:
        grantee, _, rest = item.rpartition("=")
        privs = rest.split("/")[0]
        for i, letter in enumerate(privs):
            if letter == "*":
                continue
            grantable = i + 1 < len(privs) and privs[i + 1] == "*"
            items.add((grantee or "PUBLIC", _PRIVILEGES[letter], grantable))
    return items


def acl_restore_statements(target: str, before: list[str], after: list[str]) -> list[str]:
    """GRANT/REVOKE statements that take an object's ACL from `after` back to `before`."""
    old, new = _acl_items(before), _acl_items(after)
    statements = [
        f"REVOKE {priv} ON {target} FROM {grantee}" for grantee, priv, grantable in sorted(new - old) if (grantee, priv, not grantable) not in old
    ]
    statements += [
        f"REVOKE GRANT OPTION FOR {priv} ON {target} FROM {grantee}"
        for grantee, priv, grantable in sorted(new - old)
        if grantable and (grantee, priv, False) in old
    ]
    statements += [
        f"GRANT {priv} ON {target} TO {grantee}" + (" WITH GRANT OPTION" if grantable else "")
        for grantee, priv, grantable in sorted(old - new)
    ]
    return statements


# ---------------------------------------------------------------- running files


def _error_line(statement_line: int, statement: str, exc: asyncpg.PostgresError) -> int:
    position = getattr(exc, "position", None)
    try:
        offset = int(position) - 1 if position else -1
    except (TypeError, ValueError):
        offset = -1
    return statement_line + statement.count("\n", 0, offset) if offset >= 0 else statement_line


async def _run_file(
    conn: asyncpg.Connection,
    sql_file: SqlFile,
    ledger_sql: str,
    ledger_args: tuple,
    foreign: tuple[list[str], list[str]] | None = None,
    log=print,
) -> None:
    try:
        statements = split_statements(sql_file.text)
    except SqlSyntaxError as exc:
        raise MigrationError(f"{sql_file.relpath}:{exc.line}: Postgres's parser rejects the file: {exc}") from exc
    async with conn.transaction():
        # check_function_bodies stays on: a function whose body does not compile fails its file.
        await conn.execute("SET LOCAL check_function_bodies = on")
        await conn.execute("SET LOCAL lock_timeout = '30s'")
        await conn.execute("SET LOCAL statement_timeout = '10min'")
        await conn.execute(ledger_sql, *ledger_args)
        before = await conn.fetch(ACL_SNAPSHOT, *foreign) if foreign else []
        for number, (line, statement) in enumerate(statements, start=1):
            try:
                await conn.execute(statement)
            except asyncpg.PostgresError as exc:
                first = statement.splitlines()[0][:120]
                at = _error_line(line, statement, exc)
                raise MigrationError(
                    f"{sql_file.relpath}:{at}: statement {number} (line {line}) failed and the file was rolled back:\n"
                    f"  {first}\n  {exc.sqlstate}: {exc}"
                ) from exc
        if foreign:
            after = {r["oid"]: r for r in await conn.fetch(ACL_SNAPSHOT, *foreign)}
            for row in before:
                now = after.get(row["oid"])
                if now is None or list(now["acl"]) == list(row["acl"]):
                    continue
                for statement in acl_restore_statements(now["target"], list(row["acl"]), list(now["acl"])):
                    await conn.execute(statement)
                log(f"  kept the privileges on {now['target']} (not ours) as they were before {sql_file.relpath}")


async def apply_plan(conn: asyncpg.Connection, plan: Plan, log=print, root: Path | None = None) -> None:
    foreign = public_names([*versioned_files(root), *repeatable_files(root)]) if plan.versioned else None
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
            foreign=foreign,
            log=log,
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
            plan = await build_plan(conn, root)
            await preflight(conn, plan, root)
            if dry_run:
                return plan
            await conn.execute(BOOTSTRAP)
            await apply_plan(conn, plan, log=log, root=root)
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
    parser.add_argument(
        "--require-no-op", action="store_true", help="fail (exit 1) when anything was pending: proves a rerun changes nothing"
    )
    args = parser.parse_args(argv)
    url = args.database_url or default_url()
    try:
        versioned_files()  # refuses a root without db/migrations before touching any database
        if args.action == "status":
            for path, state in asyncio.run(status(url)):
                print(f"{state:32} {path}")
            return 0
        if args.dry_run:
            _print_plan(asyncio.run(migrate(url, dry_run=True)))
            return 0
        plan = asyncio.run(migrate(url))
        print("migrate: up to date" if plan.empty else f"migrate: applied {len(plan.local) + len(plan.versioned) + len(plan.repeatable)} file(s)")
        if args.require_no_op and not plan.empty:
            print("migrate: --require-no-op: this run was expected to change nothing", file=sys.stderr)
            return 1
        return 0
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"migrate: cannot reach {url.split('@')[-1]}: {exc}", file=sys.stderr)
        return 1
