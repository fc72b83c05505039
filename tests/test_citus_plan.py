"""The Citus distribution plan against the schema, on plain Postgres (no Citus needed): every table of
our schemas is placed, every placed table exists, every policy can be rewritten without a subquery,
and every key of a distributed table can hold its distribution column. A migration that adds a table
fails here until services/resonance/citus_plan.py and docs/scaling.md place it."""

from __future__ import annotations

import asyncpg

from resonance.citus_migrate import _constraints, _fk_allowed, missing_tables, unplaced_tables, unwrap_subqueries
from resonance.citus_plan import DELEGATED, DROPPED_FOREIGN_KEYS, PLAN, SCHEMAS
from resonance.paths import project_root


async def test_every_table_of_our_schemas_is_placed(db: asyncpg.Connection) -> None:
    assert await unplaced_tables(db) == [], "add the table to services/resonance/citus_plan.py and docs/scaling.md"
    assert await missing_tables(db) == []


def test_docs_say_where_every_table_is() -> None:
    scaling = (project_root() / "docs" / "scaling.md").read_text()
    assert [t for t in PLAN if f"`{t}`" not in scaling] == []


async def test_distributed_tables_have_their_column(db: asyncpg.Connection) -> None:
    for table, placement in PLAN.items():
        if placement.kind == "distributed":
            assert await db.fetchval(
                "SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped",
                table,
                placement.column,
            ), f"{table} has no {placement.column}"


async def test_only_the_documented_foreign_keys_are_dropped(db: asyncpg.Connection) -> None:
    """The Citus path drops a foreign key it cannot enforce across placements: exactly these, no new one unnoticed."""
    dropped = set()
    for table, placement in PLAN.items():
        for con in await _constraints(db, table):
            if con.kind == "f" and not _fk_allowed(table, placement, con):
                dropped.add(f"{table}.{con.name}")
    assert dropped == set(DROPPED_FOREIGN_KEYS)


async def test_no_policy_keeps_a_subquery_once_rewritten(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        "SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies WHERE schemaname = ANY($1::text[])",
        list(SCHEMAS),
    )
    assert rows
    left = [
        (r["tablename"], r["policyname"])
        for r in rows
        for text in (r["qual"], r["with_check"])
        if text and "select" in unwrap_subqueries(text).lower()
    ]
    assert left == []


def test_the_rewrite_keeps_the_meaning() -> None:
    assert unwrap_subqueries("(brand_id = ( SELECT ((auth.jwt() -> 'app_metadata'::text) ->> 'brand_id'::text)))") == (
        "(brand_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'brand_id'::text)))"
    )
    assert unwrap_subqueries("(server_id = ANY (ARRAY( SELECT private.brand_server_ids() AS brand_server_ids)))") == (
        "(server_id = ANY (private.brand_server_id_array()))"
    )
    assert unwrap_subqueries("USING (server_id = any(array(SELECT private.brand_server_ids())))") == (
        "USING (server_id = any(private.brand_server_id_array()))"
    )
    # A real subquery (with FROM) is left alone: Citus will refuse it, loudly.
    assert unwrap_subqueries("x IN (SELECT y FROM t)") == "x IN (SELECT y FROM t)"


async def test_delegated_functions_exist_with_their_server_argument(db: asyncpg.Connection) -> None:
    for name, argument, colocate_with in DELEGATED:
        assert await db.fetchval(
            """SELECT count(*) FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
               WHERE n.nspname || '.' || p.proname = $1 AND $2 = ANY (p.proargnames)""",
            name,
            argument,
        ), f"{name}({argument}) is gone: update DELEGATED in citus_plan.py"
        assert PLAN[colocate_with].kind == "distributed"
