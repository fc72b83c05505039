"""`resonance bench --citus`: record_message and claim_drop on the local Citus cluster, and where they ran.

A fresh `resonance_bench` database on the cluster (migrated and distributed by the plan), one server with
the simulator's rules, then pgbench (the same bench/*.sql scripts as the single-node bench) while Citus's
own counters (citus_stat_counters) and pg_stat_statements are read on every node before and after each
run: a delegated call is one single-shard execution on the coordinator and one top-level call on the
worker that holds the server. The EXPLAIN of a call names that worker. On a two-core machine this proves
the path, not the speed-up (docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg

from resonance import citus
from resonance.paths import project_root

BENCH_DB = "resonance_bench"
SERVER = "bench"
BRAND = "bench-brand"
COUNTERS = """
SELECT coalesce(sum(query_execution_single_shard), 0)::bigint AS single_shard,
       coalesce(sum(query_execution_multi_shard), 0)::bigint AS multi_shard,
       coalesce(sum(connection_establishment_succeeded), 0)::bigint AS connections
FROM pg_catalog.citus_stat_counters WHERE name = current_database()
"""
CALLS = """
SELECT coalesce(sum(calls), 0)::bigint FROM extensions.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND toplevel AND query ILIKE $1
"""


async def _node_readings(pattern: str) -> dict[str, dict[str, int]]:
    readings: dict[str, dict[str, int]] = {}
    for node in citus.nodes():
        conn = await asyncpg.connect(node.url(database=BENCH_DB))
        try:
            row = dict(await conn.fetchrow(COUNTERS))
            row["calls"] = await conn.fetchval(CALLS, pattern)
            readings[node.name] = row
        finally:
            await conn.close()
    return readings


def _delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    # pg_stat_statements may evict and re-create an entry during a run: a count never goes below 0.
    return {n: {k: max(0, after[n][k] - before[n].get(k, 0)) for k in after[n]} for n in after}


async def prepare(log) -> str:
    from resonance.migrate import migrate
    from resonance.simulate.community import seed_rules

    os.environ.setdefault("RESONANCE_CITUS_SHARD_COUNT", "8")
    citus.up(quiet=True)
    citus.drop_database(BENCH_DB)
    url = citus.create_database(BENCH_DB)
    started = time.perf_counter()
    await migrate(url, log=lambda _m: None)
    log(f"citus: {BENCH_DB} migrated and distributed ({os.environ['RESONANCE_CITUS_SHARD_COUNT']} shards per table) in {time.perf_counter() - started:.1f} s")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA extensions")
        await conn.execute("INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ($1, $2, 'Bench')", SERVER, BRAND)
        await seed_rules(conn, SERVER, BRAND, cooldown_hours=0)
    finally:
        await conn.close()
    return url


async def where_it_runs(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        plan = [r[0] for r in await conn.fetch(
            f"EXPLAIN (VERBOSE OFF) SELECT resonance.record_message('{SERVER}', 'explain', 'general', 'explain-1', 'a message to explain here')"
        )]
        holder = await conn.fetchval(
            """SELECT n.nodeport FROM pg_dist_placement AS p JOIN pg_dist_node AS n USING (groupid)
               WHERE p.shardid = get_shard_id_for_distribution_column('public.discord_user_stats', $1::text)""",
            SERVER,
        )
    finally:
        await conn.close()
    return {"explain": plan, "worker_port": holder, "worker": next((n.name for n in citus.nodes() if n.port == holder), "?")}


async def run_citus(seconds: int, log) -> dict[str, Any]:
    from resonance.bench import make_drop, pgbench
    from resonance.db import init_connection

    t0 = time.perf_counter()
    url = await prepare(log)
    placed = await where_it_runs(url)
    log(f"record_message('{SERVER}', ...) is planned as: " + " | ".join(line.strip() for line in placed["explain"]))
    log(f"the server's shards are on {placed['worker']} (port {placed['worker_port']})")
    runs: dict[str, Any] = {}

    before = await _node_readings("%resonance.record_message%")
    run = pgbench(url, "record_message x8 (Citus)", clients=8, script="record_message.sql", seconds=seconds)
    runs["record_message_8"] = {"run": asdict(run), "per_node": _delta(before, await _node_readings("%resonance.record_message%"))}
    log(_line(run, runs["record_message_8"]["per_node"]))

    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        drop_id = await make_drop(conn, 100_000)  # the largest drop the schema allows
    finally:
        await conn.close()
    before = await _node_readings("%resonance.claim_drop%")
    run = pgbench(url, "claim_drop x8 (Citus)", clients=8, script="claim_drop.sql", seconds=seconds, defines={"drop": drop_id})
    runs["claim_drop_8"] = {"run": asdict(run), "per_node": _delta(before, await _node_readings("%resonance.claim_drop%"))}
    log(_line(run, runs["claim_drop_8"]["per_node"]))

    conn = await asyncpg.connect(url)
    try:
        claims = await conn.fetchrow(
            "SELECT d.claims_count, (SELECT count(*) FROM public.discord_drop_claims AS c WHERE c.server_id = d.server_id AND c.drop_id = d.drop_id) AS n "
            "FROM public.discord_drops AS d WHERE d.server_id = $1 AND d.drop_id = $2::uuid",
            SERVER,
            drop_id,
        )
        runs["claim_drop_8"]["claims_count"], runs["claim_drop_8"]["claim_rows"] = claims["claims_count"], claims["n"]
    finally:
        await conn.close()
    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nodes": {n.name: n.port for n in citus.nodes()},
        "shard_count": int(os.environ["RESONANCE_CITUS_SHARD_COUNT"]),
        "cpus": os.cpu_count(),
        "seconds_per_run": seconds,
        "placement": placed,
        "runs": runs,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }


def _line(run, per_node: dict[str, dict[str, int]]) -> str:
    tps = f"{run.tps:8.0f} tps" if run.tps else "   -    "
    p99 = f"p99 {run.p99_ms:7.2f} ms" if run.p99_ms is not None else ""
    nodes = "; ".join(
        f"{name}: {c['calls']} calls, {c['single_shard']} single-shard / {c['multi_shard']} multi-shard executions"
        for name, c in per_node.items()
    )
    err = f" [{run.error}]" if run.error else ""
    return f"  {run.name:28} {tps}  {p99}{err}\n    {nodes}"


def main(seconds: int, out: str | None) -> int:
    result = asyncio.run(run_citus(seconds, lambda m: print(m, flush=True)))
    path = Path(out) if out else project_root() / "bench" / "results" / f"bench-citus-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"bench --citus: wrote {path} ({result['elapsed_s']} s)")
    return 0
