"""The invariants on a Citus cluster (a coordinator and two workers), distributed by the plan.

The single-node concurrency tests run here unchanged (imported, so they use this directory's fixtures:
the distributed database instead of a fresh single-node one); the tests written here cover what differs
on Citus: where the rows are, which worker a call runs on, and RLS evaluated on the workers.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg
from resonance.citus_plan import PLAN

# Exactly once under a stampede; one claim per member.
from test_drops_claims import (  # noqa: F401
    test_one_member_clicking_30_times_at_once_wins_once,
    test_stampede_of_1000_members_on_a_drop_of_100,
)

# Replayed gateway events reward once.
from test_engine_replay import test_concurrent_copies_of_each_event_count_once  # noqa: F401

# Money conserved to 1e-8 under a storm of tips between members on both workers; replays move money once.
from test_ledger_storm import test_concurrent_replays_move_money_once, test_tip_storm_conserves_money  # noqa: F401
from test_security_isolation import OWN_ROWS_VISIBLE, SCHEMAS, SEED, leaks, marker

from resonance.migrate import split_statements

SERVER, BRAND, ROLE = "citus-s1", "citus-b1", "og"


async def test_the_plan_is_in_place(db: asyncpg.Connection) -> None:
    kinds = dict(
        await db.fetch(
            """
            SELECT CASE WHEN partmethod = 'h' THEN 'distributed' WHEN repmodel = 't' THEN 'reference' ELSE 'coordinator' END,
                   count(*)
            FROM pg_dist_partition AS p JOIN pg_namespace AS n ON n.oid = (SELECT relnamespace FROM pg_class WHERE oid = p.logicalrelid)
            WHERE n.nspname IN ('public', 'resonance', 'tipping', 'analytics')
            GROUP BY 1
            """
        )
    )
    # Exactly as the plan says, for these four schemas.
    planned: dict[str, int] = {}
    for table, placement in PLAN.items():
        if table.split(".")[0] in ("public", "resonance", "tipping", "analytics") and placement.kind != "postgres":
            planned[placement.kind] = planned.get(placement.kind, 0) + 1
    assert kinds == planned
    # The server group is one colocation group, and its shards are spread over both workers.
    groups = await db.fetchval(
        """SELECT count(DISTINCT colocationid) FROM pg_dist_partition
           WHERE logicalrelid IN ('public.discord_user_stats'::regclass, 'public.discord_drops'::regclass,
                                  'resonance.reward_ledger'::regclass, 'resonance.processed_events'::regclass)"""
    )
    assert groups == 1
    workers = await db.fetchval(
        """SELECT count(DISTINCT p.groupid) FROM pg_dist_shard AS s JOIN pg_dist_placement AS p USING (shardid)
           WHERE s.logicalrelid = 'public.discord_user_stats'::regclass"""
    )
    assert workers == 2


async def test_an_event_runs_on_the_one_worker_that_holds_its_server(db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", SERVER, BRAND)
    await db.execute(
        "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, cooldown_hours) VALUES ($1, $2, 'channel_message', 2, 0)",
        BRAND,
        SERVER,
    )
    plan = "\n".join(
        r[0] for r in await db.fetch(f"EXPLAIN SELECT resonance.record_message('{SERVER}', 'u1', 'c1', 'm1', 'hello there friends')")
    )
    holder = await db.fetchval(
        """SELECT n.nodeport FROM pg_dist_shard AS s JOIN pg_dist_placement AS p USING (shardid)
           JOIN pg_dist_node AS n USING (groupid)
           WHERE s.logicalrelid = 'public.discord_user_stats'::regclass
             AND s.shardid = get_shard_id_for_distribution_column('public.discord_user_stats', $1::text)""",
        SERVER,
    )
    assert "Task Count: 1" in plan and f"port={holder}" in plan, plan
    result = json.loads(await db.fetchval("SELECT resonance.record_message($1, 'u1', 'c1', 'm1', 'hello there friends')", SERVER))
    assert result["status"] == "rewarded" and Decimal(str(result["amount"])) == 2
    assert await db.fetchval("SELECT tipping.balance('u1', 'RSNC')") == 2


async def test_a_one_time_bonus_clicked_20_times_at_once_pays_once(db: asyncpg.Connection, pool: asyncpg.Pool) -> None:
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", SERVER, BRAND)
    await db.execute(
        """INSERT INTO public.discord_role_configs (server_id, brand_id, discord_role_id, effect_type, effect_config)
           VALUES ($1, $2, $3, 'one_time_bonus', '{"amount": 100}')""",
        SERVER,
        BRAND,
        ROLE,
    )
    statuses = await asyncio.gather(
        *(
            pool.fetchval("SELECT resonance.claim_one_time_bonus($1, 'og-member', $2, ARRAY[$2]) ->> 'status'", SERVER, ROLE)
            for _ in range(20)
        )
    )
    assert statuses.count("paid") == 1 and statuses.count("already_claimed") == 19, statuses
    assert await db.fetchval("SELECT tipping.balance('og-member', 'RSNC')") == 100
    assert await db.fetchval("SELECT count(*) FROM resonance.reward_ledger WHERE event_type = 'one_time_bonus'") == 1


async def seed(conn: asyncpg.Connection) -> list[str]:
    """The security seed, one statement at a time (Citus 13.2 trips over some multi-statement strings
    that touch many shards: "another command is already in progress"); returns every table and view
    of ours (not Citus's own views in public, citus_tables and citus_schemas)."""
    for _line, statement in split_statements(SEED):
        await conn.execute(statement)
    rows = await conn.fetch(
        """SELECT format('%I.%I', n.nspname, c.relname) AS name
           FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
           ORDER BY 1""",
        list(SCHEMAS),
    )
    return [r["name"] for r in rows]


async def read_all_as(conn: asyncpg.Connection, tables: list[str], role: str, brand: str | None) -> dict[str, list[str]]:
    """As test_security_isolation's reader, with SET LOCAL: the form Citus carries to the workers."""
    claims: dict[str, object] = {"role": role}
    if brand:
        claims |= {"sub": "00000000-0000-4000-8000-000000000001", "app_metadata": {"brand_id": f"brand_{brand}"}}
    seen: dict[str, list[str]] = {}
    async with conn.transaction():
        literal = await conn.fetchval("SELECT quote_literal($1)", json.dumps(claims))
        tenant = await conn.fetchval("SELECT quote_literal($1)", f"brand_{brand}" if brand else "")
        await conn.execute(f"SET LOCAL request.jwt.claims = {literal}; SET LOCAL app.current_tenant = {tenant}; SET LOCAL role = {role}")
        for table in tables:
            try:
                async with conn.transaction():
                    seen[table] = [r[0] for r in await conn.fetch(f"SELECT row_to_json(t)::text FROM {table} AS t")]
            except asyncpg.InsufficientPrivilegeError:
                seen[table] = []
    return seen


async def test_brands_are_sealed_on_the_workers(db: asyncpg.Connection) -> None:
    tables = await seed(db)
    for brand, other in (("a", "b"), ("b", "a")):
        seen = await read_all_as(db, tables, "authenticated", brand)
        assert leaks(seen, other) == {}, f"brand {brand} sees brand {other}'s rows"
        own = {t for t, rows in seen.items() if any(marker(brand).search(r) for r in rows)}
        assert OWN_ROWS_VISIBLE <= own, f"brand {brand} misses its own rows in {sorted(OWN_ROWS_VISIBLE - own)}"
    nobody = await read_all_as(db, tables, "authenticated", None)
    assert {t: rows for t, rows in nobody.items() if rows} == {}
    anon = await read_all_as(db, tables, "anon", None)
    assert leaks(anon, "a") == {} or set(leaks(anon, "a")) <= {"public.discord_role_configs"}


async def test_set_config_claims_do_not_reach_the_workers_and_fail_closed(db: asyncpg.Connection) -> None:
    """PostgREST's set_config(..., true) is not a SET command: Citus does not carry it to the workers,
    so a brand reading through it sees nothing there (closed), never another brand's rows."""
    await seed(db)
    async with db.transaction():
        await db.execute(
            "SELECT set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)",
            json.dumps({"role": "authenticated", "app_metadata": {"brand_id": "brand_a"}}),
        )
        rows = await db.fetch("SELECT server_id FROM public.discord_user_stats")
    assert rows == []


async def test_the_kpi_snapshot_job_on_the_cluster(db: asyncpg.Connection) -> None:
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    servers = [f"kpi-{i}" for i in range(6)]
    for s in servers:
        await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, $2)", s, BRAND)
        await db.execute(
            """INSERT INTO resonance.daily_activity (server_id, activity_date, discord_user_id, messages_count, voice_minutes,
                   reactions_given, reactions_received, checkins, drops_claimed, rewards_count, rsnc_earned, first_event_at, last_event_at)
               SELECT $1, $2::date, 'm' || g, g, 0, 0, 0, 0, 0, 1, 1, $2::date + time '10:00', $2::date + time '11:00'
               FROM generate_series(1, 5) AS g""",
            s,
            day,
        )
    assert await db.fetchval("SELECT resonance.snapshot_kpis($1)", day) == len(servers)
    assert await db.fetchval("SELECT resonance.snapshot_kpis($1)", day) == len(servers)  # idempotent
    rows = await db.fetch(
        "SELECT server_id, metrics FROM public.discord_kpi_snapshots WHERE snapshot_date = $1 AND snapshot_type = 'daily' ORDER BY 1", day
    )
    assert [r["server_id"] for r in rows] == servers
    for r in rows:
        assert json.loads(r["metrics"]) == json.loads(await db.fetchval("SELECT resonance.compute_kpis($1, $2)", r["server_id"], day))
    # The job is scheduled on the coordinator (pg_cron) when pg_cron runs in this database.
    assert isinstance(day, date)
