"""Tenant isolation through the REST roles: a brand-A Partner Portal user reading every table of
public, tipping and analytics sees no row of brand B, alone and with many concurrent sessions.

The roles are switched exactly as PostgREST does it: transaction-local `role` and
`request.jwt.claims` (and the analytics tenant setting), so nothing survives the transaction.
Tables are read from the catalog, so tables added later are covered without editing this file.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from resonance.paths import db_dir

SEED = (db_dir() / "tests" / "helpers" / "security_seed.sql").read_text()
SCHEMAS = ("public", "tipping", "analytics")
# Tables where a brand's portal user must see its own seeded rows (so the test is not vacuous).
OWN_ROWS_VISIBLE = {
    "public.discord_server_configs", "public.monitoring_rules", "public.discord_achievements",
    "public.discord_community_goals", "public.discord_kpi_configs", "public.discord_report_schedules",
    "public.discord_role_assignments", "public.discord_user_stats", "public.discord_user_streaks",
    "public.discord_drops", "public.discord_drop_claims", "public.discord_user_achievements",
    "public.discord_kpi_snapshots", "public.discord_audit_log",
}


def marker(brand: str) -> re.Pattern[str]:
    """Every seeded row of a brand carries brand_x, server_x or user_x (x = a or b)."""
    return re.compile(rf"(brand|server|user)_{brand}(?![a-z])")


async def seed(conn: asyncpg.Connection) -> list[str]:
    await conn.execute(SEED)
    rows = await conn.fetch(
        """SELECT format('%I.%I', n.nspname, c.relname) AS name
           FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
           ORDER BY 1""",
        list(SCHEMAS),
    )
    return [r["name"] for r in rows]


async def read_all_as(conn: asyncpg.Connection, tables: list[str], role: str, brand: str | None) -> dict[str, list[str]]:
    """Every row of every table as one PostgREST request would see it; no privilege = no rows."""
    claims: dict[str, object] = {"role": role}
    if brand:
        claims |= {"sub": "00000000-0000-4000-8000-000000000001", "app_metadata": {"brand_id": f"brand_{brand}"}}
    seen: dict[str, list[str]] = {}
    async with conn.transaction():
        await conn.execute(
            "SELECT set_config('request.jwt.claims', $1, true), set_config('app.current_tenant', $2, true), set_config('role', $3, true)",
            json.dumps(claims), f"brand_{brand}" if brand else "", role,
        )
        for table in tables:
            try:
                async with conn.transaction():
                    seen[table] = [r[0] for r in await conn.fetch(f"SELECT row_to_json(t)::text FROM {table} AS t")]
            except asyncpg.InsufficientPrivilegeError:
                seen[table] = []
    return seen


def leaks(seen: dict[str, list[str]], other: str) -> dict[str, list[str]]:
    pattern = marker(other)
    return {t: [r for r in rows if pattern.search(r)] for t, rows in seen.items() if any(pattern.search(r) for r in rows)}


async def test_brand_a_sees_no_row_of_brand_b_in_any_table(db: asyncpg.Connection) -> None:
    tables = await seed(db)
    assert {"public.discord_user_stats", "tipping.transactions", "analytics.messages"} <= set(tables)

    for brand, other in (("a", "b"), ("b", "a")):
        seen = await read_all_as(db, tables, "authenticated", brand)
        assert leaks(seen, other) == {}, f"brand {brand} sees brand {other}'s rows"
        own = {t for t, rows in seen.items() if any(marker(brand).search(r) for r in rows)}
        assert OWN_ROWS_VISIBLE <= own, f"brand {brand} misses its own rows in {sorted(OWN_ROWS_VISIBLE - own)}"

    # A signed-in user without a brand claim sees nothing at all.
    nobody = await read_all_as(db, tables, "authenticated", None)
    assert {t: rows for t, rows in nobody.items() if rows} == {}


async def test_the_leak_detector_catches_a_leak(db: asyncpg.Connection) -> None:
    """Canary: with one careless policy (USING TRUE) the same reading reports brand b's rows."""
    tables = await seed(db)
    await db.execute(
        'CREATE POLICY "careless" ON public.discord_user_stats FOR SELECT TO authenticated USING (TRUE)'
    )
    seen = await read_all_as(db, tables, "authenticated", "a")
    assert list(leaks(seen, "b")) == ["public.discord_user_stats"]


async def test_anon_sees_only_active_role_configs(db: asyncpg.Connection) -> None:
    tables = await seed(db)
    seen = await read_all_as(db, tables, "anon", None)
    assert {t: rows for t, rows in seen.items() if rows and t != "public.discord_role_configs"} == {}
    role_configs = [json.loads(r) for r in seen["public.discord_role_configs"]]
    assert sorted(r["discord_role_id"] for r in role_configs) == ["role_a_active", "role_b_active"]
    assert all(r["is_active"] for r in role_configs)


@pytest.mark.parametrize("sessions", [16])
async def test_concurrent_brand_sessions_never_see_each_other(pool: asyncpg.Pool, sessions: int) -> None:
    async with pool.acquire() as conn:
        tables = await seed(conn)

    async def portal_user(i: int) -> list[str]:
        brand, other = ("a", "b") if i % 2 == 0 else ("b", "a")
        problems = []
        for _ in range(3):
            async with pool.acquire() as conn:
                seen = await read_all_as(conn, tables, "authenticated", brand)
                if found := leaks(seen, other):
                    problems.append(f"session {i} (brand {brand}) saw {found}")
                if not any(marker(brand).search(r) for r in seen["public.discord_user_stats"]):
                    problems.append(f"session {i} (brand {brand}) saw none of its own stats")
                # Nothing of the request survives its transaction on a pooled connection.
                state = await conn.fetchrow(
                    "SELECT current_user AS usr, coalesce(current_setting('request.jwt.claims', true), '') AS claims"
                )
                if state["usr"] == "authenticated" or state["claims"]:
                    problems.append(f"session {i}: request state leaked onto the pooled connection: {dict(state)}")
        return problems

    results = await asyncio.gather(*(portal_user(i) for i in range(sessions)))
    assert [p for problems in results for p in problems] == []


async def test_the_documented_bot_login_role_acts_as_service_role(database_url: str, db: asyncpg.Connection) -> None:
    """docs/security.md: a NOINHERIT login role, member of service_role, with `SET role` pinned."""
    await seed(db)
    name = f"resonance_bot_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'not-used-locally' NOINHERIT CONNECTION LIMIT 5")
    try:
        await db.execute(f"GRANT service_role TO {name}")
        await db.execute(f"ALTER ROLE {name} SET role = 'service_role'")
        parts = urlsplit(database_url)
        bot_url = urlunsplit((parts.scheme, f"{name}@{parts.hostname}:{parts.port}", parts.path, parts.query, ""))
        bot = await asyncpg.connect(bot_url)
        try:
            assert await bot.fetchval("SELECT current_user") == "service_role"
            # BYPASSRLS: the inactive role configs anon cannot see, and the whole ledger.
            assert await bot.fetchval("SELECT count(*) FROM public.discord_role_configs") == 4
            assert await bot.fetchval("SELECT tipping.balance('user_a', 'RSNC')") == 100
        finally:
            await bot.close()
    finally:
        await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name
        )
        await db.execute(f"DROP ROLE {name}")
