"""`resonance migrate` on a Citus coordinator: the normal migrations, then the distribution plan.

Detected: when the target database has the `citus` extension, `resonance migrate` (migrate.py) calls
`prepare` before applying files and `distribute` after. Plain Postgres and Supabase never reach this
module. What it adapts, and only on Citus:

- policies: Citus refuses subqueries in policies of distributed tables, so the policy files are applied
  with `(SELECT expr)` unwrapped to `(expr)` and `any(array(SELECT private.brand_server_ids()))` as
  `any(private.brand_server_id_array())` (same rows; evaluated per row instead of once per statement);
- triggers: allowed explicitly (citus.enable_unsafe_triggers, for this database);
- keys: a primary key or unique constraint of a distributed table that lacks the distribution column
  gets it prepended (same name); a foreign key Citus cannot enforce across placements is dropped
  (docs/scaling.md lists them and what enforces the rule instead);
- roles: the API roles get LOGIN, because Citus opens its connections to the workers as the current
  role, and nested execution in their sessions (a policy's brand lookup reads a reference table from
  inside a shard query);
- the audit trigger of a reference table fires only on the node holding the row's audit shard;
- the tables, by citus_plan.PLAN; every function of ours on every node; the hot functions delegated
  by their server argument (DELEGATED).

Every step is idempotent: running migrate again distributes only what is not yet distributed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from resonance.citus_plan import API_ROLES, DELEGATED, ONCE_TRIGGERS, PLAN, SCHEMAS, SET_TO_ARRAY, Placement
from resonance.migrate import META_SCHEMA, MigrationError, SqlFile, _read
from resonance.paths import db_dir

DEFAULT_SHARD_COUNT = 32


class CitusPlanError(MigrationError):
    """The schema and the distribution plan disagree (e.g. a table the plan does not place)."""


async def is_citus(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')"))


# ---------------------------------------------------------------- policies without subqueries

_SUBQUERY = re.compile(r"(\barray\s*)?\(\s*select\s+", re.I)
_ALIAS = re.compile(r"\s+as\s+\w+\s*$", re.I)


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one opened just before `start` (quotes honoured)."""
    depth, i, quote = 1, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def unwrap_subqueries(sql: str) -> str:
    """Rewrite scalar subqueries without FROM, `(SELECT e)` -> `(e)`, and `array(SELECT f())` for the
    set-returning helpers in SET_TO_ARRAY -> `g()`. Works on policy source files and on pg_policies text."""
    out, pos = [], 0
    for match in _SUBQUERY.finditer(sql):
        if match.start() < pos:
            continue
        end = _closing(sql, match.end())
        if end < 0:
            break
        inner = _ALIAS.sub("", sql[match.end() : end].strip())
        if re.search(r"\bfrom\b", inner, re.I):
            continue
        if match.group(1):
            call = re.fullmatch(r"([a-z_]+\.[a-z_]+)\(\)", inner, re.I)
            target = SET_TO_ARRAY.get(call.group(1).lower()) if call else None
            if target is None:
                continue
            replacement = f"{target}()"
        else:
            replacement = f"({unwrap_subqueries(inner)})"
        out.append(sql[pos : match.start()])
        out.append(replacement)
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


@dataclass(frozen=True)
class AdaptedFile(SqlFile):
    """A file applied in its Citus form; the ledger records the checksum of the file as written."""

    original: str = ""

    @property
    def checksum(self) -> str:
        return self.original


def adapt_repeatable(files: list[SqlFile]) -> list[SqlFile]:
    """Policy files as Citus accepts them."""
    adapted: list[SqlFile] = []
    for f in files:
        if Path(f.relpath).parts[1] == "policies":
            text = unwrap_subqueries(f.text)
            if text != f.text:
                f = AdaptedFile(path=f.path, relpath=f.relpath, text=text, original=f.checksum)
        adapted.append(f)
    return adapted


# ---------------------------------------------------------------- the plan against the schema


async def unplaced_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT n.nspname || '.' || c.relname AS name
        FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1
        """,
        list(SCHEMAS),
    )
    return [r["name"] for r in rows if r["name"] not in PLAN]


async def missing_tables(conn: asyncpg.Connection) -> list[str]:
    present = {
        r["name"]
        for r in await conn.fetch(
            """SELECT n.nspname || '.' || c.relname AS name FROM pg_catalog.pg_class AS c
               JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"""
        )
    }
    return sorted(t for t in PLAN if t not in present)


@dataclass(frozen=True)
class Constraint:
    name: str
    table: str
    kind: str  # p, u, f
    columns: list[str]
    definition: str
    target: str | None


async def _constraints(conn: asyncpg.Connection, table: str) -> list[Constraint]:
    rows = await conn.fetch(
        """
        SELECT x.conname, x.contype::text AS kind, pg_catalog.pg_get_constraintdef(x.oid) AS def,
               (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(x.conkey) WITH ORDINALITY AS k(attnum, ord)
                JOIN pg_catalog.pg_attribute AS a ON a.attrelid = x.conrelid AND a.attnum = k.attnum) AS cols,
               CASE WHEN x.confrelid <> 0 THEN (SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class AS c
                    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = x.confrelid) END AS target
        FROM pg_catalog.pg_constraint AS x
        WHERE x.conrelid = $1::regclass AND x.contype IN ('p', 'u', 'f')
        ORDER BY x.contype DESC
        """,
        table,
    )
    return [Constraint(r["conname"], table, r["kind"], list(r["cols"] or []), r["def"], r["target"]) for r in rows]


def _fk_allowed(table: str, placement: Placement, fk: Constraint) -> bool:
    """Can Citus enforce this foreign key with the plan's placements?"""
    target = PLAN.get(fk.target or "")
    if target is None:
        return False
    if placement.kind == "reference":
        return target.kind == "reference"
    if placement.kind == "coordinator":
        return target.kind in ("reference", "coordinator")
    if placement.kind == "postgres" or target.kind == "postgres":
        return placement.kind == target.kind  # plain tables reference only each other
    if target.kind == "reference":
        return True
    return target.kind == "distributed" and target.group == placement.group and placement.column in fk.columns


async def adapt_keys(conn: asyncpg.Connection, log) -> tuple[list[str], list[Constraint]]:
    """Make every key Citus-valid; returns what changed, as sentences, and the foreign keys to a
    reference table, taken off until both ends are placed (else Citus would turn the referencing
    table into a Citus local table on its own when the target becomes a reference table)."""
    changes: list[str] = []
    deferred: list[Constraint] = []
    for table, placement in PLAN.items():
        if await _placed(conn, table):
            continue
        for con in await _constraints(conn, table):
            if con.kind != "f":
                continue
            if not _fk_allowed(table, placement, con):
                await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_ident(con.name)}")
                changes.append(f"{table}: dropped foreign key {con.name} ({con.definition})")
            elif PLAN[con.target or ""].kind == "reference":
                await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_ident(con.name)}")
                deferred.append(con)
    for table, placement in PLAN.items():
        if placement.kind != "distributed" or await _placed(conn, table):
            continue
        for con in await _constraints(conn, table):
            if con.kind in ("p", "u") and placement.column not in con.columns:
                columns = ", ".join(_ident(c) for c in [placement.column, *con.columns])
                kind = "PRIMARY KEY" if con.kind == "p" else "UNIQUE"
                referencing = await conn.fetch(
                    "SELECT conrelid::regclass::text AS t, conname FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conindid = "
                    "(SELECT conindid FROM pg_catalog.pg_constraint WHERE conrelid = $1::regclass AND conname = $2)",
                    table,
                    con.name,
                )
                if referencing:
                    raise CitusPlanError(
                        f"{table}.{con.name} lacks {placement.column} but {', '.join(r['t'] + '.' + r['conname'] for r in referencing)} reference it"
                    )
                await conn.execute(
                    f"ALTER TABLE {table} DROP CONSTRAINT {_ident(con.name)}, ADD CONSTRAINT {_ident(con.name)} {kind} ({columns})"
                )
                changes.append(f"{table}: {con.name} {kind} ({', '.join(con.columns)}) -> ({placement.column}, {', '.join(con.columns)})")
    for line in changes:
        log(f"  citus: {line}")
    return changes, deferred


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _placed(conn: asyncpg.Connection, table: str) -> bool:
    """Is the table already where the plan puts it? (Citus turns a local table that references a
    reference table into a Citus local table on its own: that is not yet its place.)"""
    kind = await conn.fetchval(
        """
        SELECT CASE WHEN p.partmethod = 'h' THEN 'distributed' WHEN p.repmodel = 't' THEN 'reference'
                    WHEN NOT p.autoconverted THEN 'coordinator' END
        FROM pg_dist_partition AS p WHERE p.logicalrelid = $1::regclass
        """,
        table,
    )
    if PLAN[table].kind == "postgres":
        # Left as a plain table: Citus has no metadata for it at all.
        return not await conn.fetchval("SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = $1::regclass)", table)
    return kind == PLAN[table].kind


def _fk_order(tables: list[str], deps: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    pending = list(tables)
    while pending:
        ready = [t for t in pending if not (deps.get(t, set()) & set(pending) - {t})]
        if not ready:
            ready = pending[:1]
        for t in ready:
            ordered.append(t)
            pending.remove(t)
    return ordered


async def _fk_deps(conn: asyncpg.Connection) -> dict[str, set[str]]:
    deps: dict[str, set[str]] = {}
    for table in PLAN:
        for con in await _constraints(conn, table):
            if con.kind == "f" and con.target:
                deps.setdefault(table, set()).add(con.target)
    return deps


# ---------------------------------------------------------------- policies in the catalog


async def rewrite_policies(conn: asyncpg.Connection, log) -> int:
    rows = await conn.fetch(
        """
        SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies
        WHERE schemaname = ANY($1::text[])
        """,
        list(SCHEMAS),
    )
    changed = 0
    for r in rows:
        qual = unwrap_subqueries(r["qual"]) if r["qual"] else None
        check = unwrap_subqueries(r["with_check"]) if r["with_check"] else None
        if qual == r["qual"] and check == r["with_check"]:
            continue
        clauses = (f" USING ({qual})" if qual else "") + (f" WITH CHECK ({check})" if check else "")
        await conn.execute(f"ALTER POLICY {_ident(r['policyname'])} ON {_ident(r['schemaname'])}.{_ident(r['tablename'])}{clauses}")
        changed += 1
    if changed:
        log(f"  citus: {changed} policies without subqueries")
    return changed


# ---------------------------------------------------------------- the steps


async def prepare(conn: asyncpg.Connection, plan) -> bool:
    """Before the files run: on Citus, policy files as Citus accepts them. Returns whether this is Citus."""
    if not await is_citus(conn):
        return False
    await conn.execute("SET citus.enable_unsafe_triggers = on")
    plan.repeatable = adapt_repeatable(plan.repeatable)
    # db/citus/ runs as a repeatable file, before the policies that call its helpers.
    extra = [_read(p, db_dir()) for p in sorted((db_dir() / "citus").glob("*.sql"))]
    known = {
        r["path"]: r["checksum"]
        for r in await conn.fetch(f"SELECT path, checksum FROM {META_SCHEMA}.repeatable_files WHERE kind = 'citus'")
    }
    policies = [i for i, f in enumerate(plan.repeatable) if Path(f.relpath).parts[1] == "policies"]
    due = [f for f in extra if policies or known.get(f.relpath) != f.checksum]
    at = policies[0] if policies else len(plan.repeatable)
    plan.repeatable[at:at] = due
    return True


def shard_count() -> int:
    return int(os.environ.get("RESONANCE_CITUS_SHARD_COUNT", DEFAULT_SHARD_COUNT))


async def distribute(conn: asyncpg.Connection, log=print) -> dict[str, int]:
    """After the files ran: the tables by the plan, then the delegated functions."""
    try:
        return await _distribute(conn, log)
    except asyncpg.PostgresError as exc:
        raise CitusPlanError(f"distributing by the Citus plan failed: {exc.sqlstate}: {exc}") from exc


async def _distribute(conn: asyncpg.Connection, log) -> dict[str, int]:
    database = await conn.fetchval("SELECT current_database()")
    await conn.execute("SET citus.enable_unsafe_triggers = on")
    await conn.execute(f'ALTER DATABASE "{database}" SET citus.enable_unsafe_triggers = on')
    # SET LOCAL request.jwt.claims reaches the workers (where RLS is evaluated on the shards).
    await conn.execute(f"ALTER DATABASE \"{database}\" SET citus.propagate_set_commands = 'local'")
    # A transaction that writes a table with a foreign key to a reference or coordinator table after
    # touching several shards (a tip: two members, then the journal) needs one connection per node.
    await conn.execute(f"ALTER DATABASE \"{database}\" SET citus.multi_shard_modify_mode = 'sequential'")
    for role in API_ROLES:
        await conn.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}' AND NOT rolcanlogin) "
            f"THEN ALTER ROLE {role} LOGIN; END IF; END $$"
        )
    # RLS runs on the shards: the brand lookup of a policy (private.brand_server_ids) reads the local
    # copy of a reference table from inside a shard query, which Citus allows only with nested
    # execution on. Only for the API roles' sessions (their worker connections carry the role's settings).
    for role in API_ROLES:
        await conn.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"ALTER ROLE {role} IN DATABASE \"{database}\" SET citus.allow_nested_distributed_execution = on; END IF; END $$"
        )
    unplaced = await unplaced_tables(conn)
    if unplaced:
        raise CitusPlanError(
            "tables the Citus plan does not place (add them to services/resonance/citus_plan.py and docs/scaling.md): "
            + ", ".join(unplaced)
        )
    missing = await missing_tables(conn)
    if missing:
        raise CitusPlanError("the Citus plan places tables that do not exist: " + ", ".join(missing))
    deps = await _fk_deps(conn)
    changes, deferred = await adapt_keys(conn, log)
    stats = {"policies": await rewrite_policies(conn, log), "keys": len(changes)}
    placed = 0
    for table in _fk_order([t for t, p in PLAN.items() if p.kind == "reference"], deps):
        if not await _placed(conn, table):
            await conn.execute("SELECT create_reference_table($1)", table)
            placed += 1
    for table in _fk_order([t for t, p in PLAN.items() if p.kind == "coordinator"], deps):
        if not await _placed(conn, table):
            await conn.execute("SELECT citus_add_local_table_to_metadata($1, cascade_via_foreign_keys => true)", table)
            placed += 1
    anchors: dict[str, str] = {}
    for table in _fk_order([t for t, p in PLAN.items() if p.kind == "distributed"], deps):
        placement = PLAN[table]
        anchor = anchors.setdefault(placement.group or "", table)
        if await _placed(conn, table):
            continue
        if anchor == table:
            await conn.execute(
                "SELECT create_distributed_table($1, $2, colocate_with => 'none', shard_count => $3)",
                table,
                placement.column,
                shard_count(),
            )
        else:
            await conn.execute("SELECT create_distributed_table($1, $2, colocate_with => $3)", table, placement.column, anchor)
        placed += 1
    for con in deferred:
        await conn.execute(f"ALTER TABLE {con.table} ADD CONSTRAINT {_ident(con.name)} {con.definition}")
    stats["tables"] = placed
    stats["propagated"] = await propagate_functions(conn)
    stats["triggers"] = await audit_where_the_log_is(conn)
    stats["functions"] = await delegate_functions(conn)
    log(
        f"  citus: {placed} tables placed ({sum(p.kind == 'distributed' for p in PLAN.values())} distributed, "
        f"{sum(p.kind == 'reference' for p in PLAN.values())} reference, {sum(p.kind == 'coordinator' for p in PLAN.values())} on the coordinator, "
        f"{sum(p.kind == 'postgres' for p in PLAN.values())} plain), "
        f"{stats['functions']} functions delegated"
    )
    return stats


async def propagate_functions(conn: asyncpg.Connection) -> int:
    """Every function of our schemas on every node: a delegated function runs its callees on the
    worker (Citus propagates a new function on its own only when its dependencies were distributed
    when it was created, so one taking a table's row type before that table was placed stays local)."""
    rows = await conn.fetch(
        """
        SELECT p.oid::regprocedure::text AS signature
        FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f', 'p')
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
            AND NOT EXISTS (SELECT FROM pg_dist_object AS o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
        ORDER BY 1
        """,
        [*SCHEMAS, "private", "auth"],
    )
    done = 0
    for row in rows:
        try:
            await conn.execute("SELECT create_distributed_function($1)", row["signature"])
            done += 1
        except asyncpg.FeatureNotSupportedError:
            # Takes or returns the row type of a coordinator table: it runs on the coordinator only.
            continue
    return done


async def audit_where_the_log_is(conn: asyncpg.Connection) -> int:
    """A trigger on a reference table fires on every node's copy. The audit trigger (ONCE_TRIGGERS) is
    split into one trigger per operation whose WHEN clause holds only on the node that holds the audit
    log's shard for the row's server: one audit row per change, written by local execution in the
    same transaction. (engine_audit.sql re-creates the original trigger whenever it is re-applied;
    this runs after every migrate and splits it again.)"""
    rows = await conn.fetch(
        """
        SELECT t.tgname, t.tgrelid::regclass::text AS tbl, pg_catalog.pg_get_triggerdef(t.oid) AS def,
               EXISTS (SELECT FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = t.tgrelid AND a.attname = 'brand_id'
                       AND NOT a.attisdropped) AS has_brand
        FROM pg_catalog.pg_trigger AS t JOIN pg_dist_partition AS p ON p.logicalrelid = t.tgrelid
        WHERE NOT t.tgisinternal AND p.repmodel = 't' AND t.tgfoid = ANY($1::regproc[])
            AND t.tgname NOT LIKE '%\\_on\\_insert' AND t.tgname NOT LIKE '%\\_on\\_update' AND t.tgname NOT LIKE '%\\_on\\_delete'
        """,
        list(ONCE_TRIGGERS),
    )
    for r in rows:
        if " WHEN (" in r["def"]:
            raise CitusPlanError(f"{r['tbl']}.{r['tgname']} has a WHEN clause; the Citus audit split does not handle it")
        execute = r["def"][r["def"].index(" EXECUTE FUNCTION ") :]
        for op, row in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
            key = f"coalesce({row}.server_id, 'brand:' || coalesce({row}.brand_id, '?'))" if r["has_brand"] else f"{row}.server_id"
            await conn.execute(
                f"CREATE OR REPLACE TRIGGER {_ident(r['tgname'] + '_on_' + op)} AFTER {op.upper()} ON {r['tbl']} FOR EACH ROW "
                f"WHEN (private.citus_shard_is_local('public.discord_audit_log'::regclass, {key})){execute}"
            )
        await conn.execute(f"DROP TRIGGER {_ident(r['tgname'])} ON {r['tbl']}")
    return len(rows)


async def delegate_functions(conn: asyncpg.Connection) -> int:
    done = 0
    for name, argument, colocate_with in DELEGATED:
        rows = await conn.fetch(
            """
            SELECT p.oid::regprocedure::text AS signature,
                   EXISTS (SELECT FROM pg_dist_object AS o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid
                           AND o.distribution_argument_index IS NOT NULL) AS delegated
            FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
            WHERE n.nspname || '.' || p.proname = $1 AND $2 = ANY (p.proargnames)
            """,
            name,
            argument,
        )
        if not rows:
            raise CitusPlanError(f"the Citus plan delegates {name}({argument} ...), which does not exist")
        for row in rows:
            if not row["delegated"]:
                await conn.execute(
                    "SELECT create_distributed_function($1, distribution_arg_name => $2, colocate_with => $3)",
                    row["signature"],
                    argument,
                    colocate_with,
                )
            done += 1
    return done
