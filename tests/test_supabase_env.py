"""The Supabase-like cluster: built from Supabase's init scripts, migrated as the non-superuser postgres."""

from __future__ import annotations

import asyncpg
import pytest

from resonance import supabase_env
from resonance.migrate import MigrationError, is_supabase, migrate
from test_migrate import PORTAL, assert_portal_untouched


@pytest.fixture
def supabase_url() -> str:
    """A brand-new Supabase-like project; the URL of its deploy role, postgres."""
    supabase_env.reset(quiet=True)
    return supabase_env.url()


async def test_the_deploy_role_is_demoted_as_supabase_demotes_it(supabase_url: str) -> None:
    conn = await asyncpg.connect(supabase_url)
    try:
        me = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert dict(me) == {"rolsuper": False, "rolcreaterole": True, "rolbypassrls": True}
        assert await is_supabase(conn)
        assert await conn.fetchval("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_cron'") == "pg_catalog"
        assert await conn.fetchval("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'auth'") == "supabase_admin"
        assert await conn.fetchval("SELECT to_regprocedure('auth.jwt()') IS NOT NULL")
    finally:
        await conn.close()


async def test_migrate_as_postgres_then_rerun_is_a_no_op(supabase_url: str) -> None:
    plan = await migrate(supabase_url, log=lambda _m: None)
    assert plan.supabase and not plan.local and plan.versioned and plan.repeatable
    again = await migrate(supabase_url, log=lambda _m: None)
    assert again.empty
    conn = await asyncpg.connect(supabase_url)
    try:
        # The sealed console runs as analytics_console, never as a BYPASSRLS role.
        owner = await conn.fetchrow(
            """SELECT r.rolname, r.rolbypassrls, r.rolsuper FROM pg_proc AS p JOIN pg_roles AS r ON r.oid = p.proowner
               WHERE p.oid = 'analytics.console_run(text, integer)'::regprocedure"""
        )
        assert dict(owner) == {"rolname": "analytics_console", "rolbypassrls": False, "rolsuper": False}
        assert await conn.fetchval("SELECT count(*) FROM cron.job") > 0, "the jobs are scheduled with Supabase's pg_cron"
        assert not await conn.fetchval("SELECT has_schema_privilege('service_role', 'analytics', 'CREATE')")
        assert not await conn.fetchval("SELECT has_schema_privilege('analytics_console', 'analytics', 'CREATE')")
    finally:
        await conn.close()


async def test_partner_portal_objects_are_untouched_on_supabase(supabase_url: str) -> None:
    conn = await asyncpg.connect(supabase_url)
    try:
        await conn.execute(PORTAL)
    finally:
        await conn.close()
    await assert_portal_untouched(supabase_url)


async def test_portal_monitoring_rules_stops_the_run_on_supabase(supabase_url: str) -> None:
    conn = await asyncpg.connect(supabase_url)
    try:
        await conn.execute("CREATE TABLE public.monitoring_rules (id bigint PRIMARY KEY)")
        with pytest.raises(MigrationError, match="monitoring_rules"):
            await migrate(supabase_url, log=lambda _m: None)
        assert await conn.fetchval("SELECT to_regnamespace('resonance') IS NULL")
    finally:
        await conn.close()
