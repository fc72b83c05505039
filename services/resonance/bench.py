"""`resonance bench`: our hot paths measured against the physical ceiling and a naive peer.

One run, one database it builds itself (`resonance_bench`, dropped, recreated and migrated).
Load comes from pgbench (bench/*.sql, prepared statements, 2 client threads); the driver seeds
data, runs each phase, reads pgbench's per-transaction logs for latency percentiles, and prints
every figure as a ratio of its ceiling:

- ceilings: pgbench's built-in simple-update (-N) and a single hot-row UPDATE, at 8, 16, 32 clients
  (and the hot row at 200 clients for latency);
- resonance.claim_drop stampeding one drop at 32 clients, and the naive read-check-write peer on
  the same tables; over-claims counted on a limited drop for both;
- p99 claim latency with 200 concurrent clickers;
- resonance.record_message at 8 clients, tipping.tip at 16 clients over 1,000 members;
- resonance.compute_kpis / snapshot_kpis over a generated day of a 100k-member server (1M messages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from urllib.parse import urlsplit

import asyncpg

from resonance.db._call import exists
from resonance.paths import project_root

PGBENCH_CANDIDATES = ("/usr/lib/postgresql/15/bin/pgbench", "pgbench")
BENCH_DB = "resonance_bench"
SERVER = "bench"
BRAND = "bench-brand"
KPI_SERVER = "kpi-100k"
TARGETS = {
    "claim_drop_vs_hot_row": 0.8,
    "claim_p99_vs_hot_row_200": 1.5,
    "record_message_vs_simple_update": 0.5,
    "tip_vs_simple_update": 0.9,
    "kpi_snapshot_s": 0.5,
    "analytics_ingest_vs_copy": 0.5,
}


@dataclass
class Run:
    name: str
    clients: int
    tps: float | None = None
    transactions: int = 0
    failed: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    seconds: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def pgbench_path() -> str:
    for candidate in PGBENCH_CANDIDATES:
        found = shutil.which(candidate) if "/" not in candidate else (candidate if Path(candidate).exists() else None)
        if found:
            return found
    raise SystemExit("bench: pgbench not found (install postgresql-15 or run `make db`)")


def _conninfo(url: str) -> list[str]:
    parts = urlsplit(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    return [*args, parts.path.lstrip("/")]


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


def pgbench(
    url: str,
    name: str,
    *,
    clients: int,
    script: str | None = None,
    builtin: str | None = None,
    seconds: int | None = None,
    transactions: int | None = None,
    defines: dict[str, str] | None = None,
) -> Run:
    """Run pgbench once; parse tps and per-transaction latencies from its log."""
    run = Run(name=name, clients=clients)
    with tempfile.TemporaryDirectory(prefix="rsnbench") as tmp:
        cmd = [pgbench_path(), "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(2, clients))]
        cmd += ["-l", "--log-prefix", str(Path(tmp) / "tx")]
        if seconds:
            cmd += ["-T", str(seconds)]
        if transactions:
            cmd += ["-t", str(transactions)]
        for key, value in (defines or {}).items():
            cmd += ["-D", f"{key}={value}"]
        if builtin:
            cmd += ["-b", builtin]
        if script:
            cmd += ["-f", str(project_root() / "bench" / script)]
        cmd += _conninfo(url)
        env = {**os.environ, "PGAPPNAME": f"bench:{name}"}
        password = urlsplit(url).password
        if password:
            env["PGPASSWORD"] = password
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        run.seconds = round(time.perf_counter() - started, 2)
        out = proc.stdout + proc.stderr
        match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
        run.tps = float(match.group(1)) if match else None
        match = re.search(r"number of transactions actually processed: (\d+)", out)
        run.transactions = int(match.group(1)) if match else 0
        match = re.search(r"number of failed transactions: (\d+)", out)
        run.failed = int(match.group(1)) if match else 0
        if proc.returncode != 0:
            errors = [line for line in out.splitlines() if "ERROR" in line or "error" in line.lower()]
            run.error = (errors[0] if errors else out.strip().splitlines()[-1] if out.strip() else "pgbench failed")[:300]
        latencies: list[float] = []
        for log in Path(tmp).glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000.0)
        latencies.sort()
        run.p50_ms = _percentile(latencies, 0.50)
        run.p95_ms = _percentile(latencies, 0.95)
        run.p99_ms = _percentile(latencies, 0.99)
        run.max_ms = latencies[-1] if latencies else None
    return run


async def pgbench_sampled(url: str, name: str, **kwargs: Any) -> Run:
    """pgbench, while sampling what its sessions wait on (pg_stat_activity, every 0.25 s)."""
    job = asyncio.ensure_future(asyncio.to_thread(pgbench, url, name, **kwargs))
    waits: dict[str, int] = {}
    conn = await asyncpg.connect(url)
    try:
        while not job.done():
            for row in await conn.fetch(
                """
                SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS w, count(*) AS n
                FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND state = 'active'
                GROUP BY 1
                """,
                f"bench:{name}",
            ):
                waits[row["w"]] = waits.get(row["w"], 0) + row["n"]
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    run = await job
    total = sum(waits.values()) or 1
    run.extra["waits"] = {k: round(v / total, 3) for k, v in sorted(waits.items(), key=lambda kv: -kv[1])[:6]}
    return run


# --------------------------------------------------------------------------------------------- setup


async def seed(url: str, log) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA extensions")
        database = await conn.fetchval("SELECT current_database()")
        # nested statements too, in whichever database is being seeded
        await conn.execute(f"ALTER DATABASE \"{database}\" SET pg_stat_statements.track = 'all'")
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS bench;
            CREATE TABLE IF NOT EXISTS bench.hot_row (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
            INSERT INTO bench.hot_row (id) VALUES (1) ON CONFLICT DO NOTHING;
            """
        )
        await conn.execute(
            "INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ($1, $2, 'Bench'), ($3, $2, 'KPI 100k')",
            SERVER,
            BRAND,
            KPI_SERVER,
        )
        from resonance.simulate.community import seed_rules

        await seed_rules(conn, SERVER, BRAND, cooldown_hours=0)
        log("seeded: server, rules, hot row")
    finally:
        await conn.close()


def pgbench_init(url: str) -> None:
    cmd = [pgbench_path(), "-i", "-q", "-s", "1", *_conninfo(url)]
    password = urlsplit(url).password
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **({"PGPASSWORD": password} if password else {})})
    if proc.returncode != 0:
        raise SystemExit(f"bench: pgbench -i failed:\n{proc.stderr}")


# A drop that does not sell out during a timed run (10 s at a few thousand claims a second): the
# schema's upper bound for max_claims (discord_drops_max_claims_bounded, migration 1400).
ROOMY_DROP = 100_000


async def make_drop(conn: asyncpg.Connection, max_claims: int) -> str:
    """A drop on the bench server, through resonance.create_drop (the public path)."""
    from resonance.db import drops

    drop_id = await drops.create_drop(conn, SERVER, **_drop_args(max_claims))
    return str(drop_id)


def _drop_args(max_claims: int) -> dict[str, Any]:
    from resonance.simulate.community import drop_args

    return drop_args(max_claims=max_claims, amount=5, channel_id="drops", minutes=600)


async def mint_members(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            SELECT tipping.mint('tipper' || g, 1000000, 'RSNC', 'bench seed', 'bench-seed-' || g)
            FROM generate_series(1, $1) AS g
            """,
            n,
        )
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------- KPI data


KPI_SQL = [
    # 100k members, joined over the last 120 days (some today).
    """
    INSERT INTO public.discord_user_stats (server_id, discord_user_id, messages_count, voice_minutes, reactions_count,
                                           rsnc_earned, first_seen_at, last_active_at)
    SELECT $1, 'k' || g, (random() * 500)::int, (random() * 300)::int, (random() * 200)::int, (random() * 5000)::bigint,
           $2::date - ((random() * 120)::int) + time '12:00', $2::date + time '12:00'
    FROM generate_series(1, 100000) AS g
    """,
    # The day itself: 40k active members, about 1M messages (mean 25, skewed), voice for 5%, check-ins for 20%.
    """
    INSERT INTO resonance.daily_activity (server_id, activity_date, discord_user_id, messages_count, voice_minutes,
        reactions_given, reactions_received, checkins, drops_claimed, rewards_count, rsnc_earned, actions, first_event_at, last_event_at)
    SELECT $1, $2::date, 'k' || g, m, v, (m / 3), (m / 4), c, 0, m + c, (m + c * 10 + v / 10), m + (m / 3) + c + (v > 0)::int,
           $2::date + time '08:00', $2::date + time '22:00'
    FROM (
        SELECT g, greatest(1, (random() ^ 2 * 75)::int) AS m,
               CASE WHEN random() < 0.05 THEN (random() * 120)::int ELSE 0 END AS v,
               CASE WHEN random() < 0.2 THEN 1 ELSE 0 END AS c
        FROM generate_series(1, 40000) AS g
    ) AS s
    """,
    # The 13 days before: 25k active members a day out of the first 60k (retention and churn have history).
    """
    INSERT INTO resonance.daily_activity (server_id, activity_date, discord_user_id, messages_count, voice_minutes,
        reactions_given, reactions_received, checkins, drops_claimed, rewards_count, rsnc_earned, actions, first_event_at, last_event_at)
    SELECT $1, $2::date - d, 'k' || g, greatest(1, (random() ^ 2 * 75)::int), 0, 1, 1,
           CASE WHEN g % 5 = 0 THEN 1 ELSE 0 END, 0, 1, 20, 2, $2::date - d + time '12:00', $2::date - d + time '20:00'
    FROM generate_series(1, 13) AS d, generate_series(1, 60000) AS g
    WHERE random() < 25000.0 / 60000
    """,
    """
    INSERT INTO public.discord_user_streaks (server_id, discord_user_id, current_streak, longest_streak, last_checkin)
    SELECT $1, 'k' || g, s, s + (g % 3), $2::date + time '09:00' - ((g % 2) || ' days')::interval
    FROM (SELECT g, (random() * 20)::int AS s FROM generate_series(1, 30000) AS g) AS x
    """,
]


async def kpi_phase(url: str, day: date, log) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    result: dict[str, Any] = {"members": 100_000, "day": day.isoformat()}
    try:
        started = time.perf_counter()
        for sql in KPI_SQL:
            await conn.execute(sql, KPI_SERVER, day)
        await conn.execute("ANALYZE")
        result["messages"] = await conn.fetchval(
            "SELECT sum(messages_count) FROM resonance.daily_activity WHERE server_id = $1 AND activity_date = $2", KPI_SERVER, day
        )
        result["generate_s"] = round(time.perf_counter() - started, 2)
        log(f"KPI data: 100k members, {result['messages']} messages on {day} ({result['generate_s']} s)")
        missing = [f for f in ("resonance.compute_kpis", "resonance.snapshot_kpis") if not await exists(conn, f)]
        if missing:
            result["error"] = "missing: " + ", ".join(missing)
            return result
        await reset_statements(url)
        started = time.perf_counter()
        kpis = await conn.fetchval("SELECT resonance.compute_kpis($1, $2)", KPI_SERVER, day)
        result["compute_s"] = round(time.perf_counter() - started, 3)
        result["kpis"] = json.loads(kpis) if isinstance(kpis, str) else kpis
        started = time.perf_counter()
        servers = await conn.fetchval("SELECT resonance.snapshot_kpis($1)", day)
        result["snapshot_s"] = round(time.perf_counter() - started, 3)
        result["servers_snapshotted"] = servers
        result["statements"] = await top_statements(url)
    except asyncpg.PostgresError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close()
    return result


# --------------------------------------------------------------------------------------------- phases


async def counts(url: str, drop_id: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """
            SELECT d.max_claims, d.claims_count, (SELECT count(*) FROM public.discord_drop_claims AS c WHERE c.drop_id = d.drop_id) AS claims
            FROM public.discord_drops AS d WHERE d.drop_id = $1
            """,
            drop_id,
        )
        return {"max_claims": row["max_claims"], "claims_count": row["claims_count"], "claim_rows": row["claims"],
                "over_claims": max(0, row["claims"] - row["max_claims"])}
    finally:
        await conn.close()


async def top_statements(url: str, limit: int = 8) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query, calls,
                   round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms
            FROM extensions.pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY total_exec_time DESC LIMIT $1
            """,
            limit,
        )
        return [{k: (float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int) else v) for k, v in r.items()} for r in rows]
    except asyncpg.PostgresError:
        return []
    finally:
        await conn.close()


async def reset_statements(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT extensions.pg_stat_statements_reset()")
    except asyncpg.PostgresError:
        pass
    finally:
        await conn.close()


async def has(url: str, *functions: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [f for f in functions if not await exists(conn, f)]
    finally:
        await conn.close()


def skipped(name: str, clients: int, missing: list[str]) -> Run:
    return Run(name=name, clients=clients, error="missing SQL function: " + ", ".join(missing))


async def statements_per_call(url: str, calls: list[tuple[str, tuple[Any, ...]]]) -> dict[str, Any]:
    """pg_stat_statements (track = all): every statement, nested ones included, run by these calls
    from one connection, per call. What one event costs in statements, whatever the load."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT extensions.pg_stat_statements_reset()")
        started = time.perf_counter()
        for sql, args in calls:
            await conn.execute(sql, *args)
        elapsed = time.perf_counter() - started
        rows = await conn.fetch(
            """
            SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query, calls, total_exec_time
            FROM extensions.pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND query NOT LIKE '%pg_stat_statements%'
            ORDER BY calls DESC, total_exec_time DESC
            """
        )
        n = len(calls) or 1
        return {
            "per_call": round(sum(r["calls"] for r in rows) / n, 1),
            "ms_per_call": round(elapsed * 1000 / n, 3),
            "top": [{"query": r["query"], "per_call": round(r["calls"] / n, 2)} for r in rows[:12]],
        }
    except asyncpg.PostgresError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        await conn.close()


async def statement_phase(url: str, log) -> dict[str, Any]:
    """Statements per event: a message paying two rules, a check-in, a drop decision and its payment."""
    out: dict[str, Any] = {}
    from resonance.db import init_connection

    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        await conn.execute("SELECT resonance.record_message('bench', 'stmt' || g, 'general', 'warm' || g, 'warm up ' || md5(g::text)) FROM generate_series(1, 50) AS g")
        drop_id = await make_drop(conn, ROOMY_DROP)
    finally:
        await conn.close()
    out["record_message"] = await statements_per_call(url, [
        ("SELECT resonance.record_message('bench', $1, 'general', $2, $3)", (f"stmt{i % 50 + 1}", f"stmt-msg{i}", f"stmt words {i} " + "x" * (i % 7) + f" {i * 7919}"))
        for i in range(200)
    ])
    out["record_messages_10"] = await statements_per_call(url, [
        ("SELECT resonance.record_messages($1::jsonb)", (json.dumps([
            {"server_id": SERVER, "user_id": f"stmt{(b * 10 + j) % 50 + 1}", "channel_id": "general",
             "message_id": f"stmt-batch{b}:{j}", "content": f"batch words {b} {j} {b * 7919 + j}"} for j in range(10)
        ]),)) for b in range(20)
    ])
    if "per_call" in out["record_messages_10"]:
        out["record_messages_10"]["per_event"] = round(out["record_messages_10"]["per_call"] / 10, 1)
    out["claim_drop_decision"] = await statements_per_call(url, [
        ("SELECT resonance.claim_drop($1::uuid, $2)", (drop_id, f"stmt-claimer{i}")) for i in range(100)
    ])
    out["pay_drop_claim"] = await statements_per_call(url, [
        ("SELECT resonance.pay_unpaid_drop_claims(1)", ()) for _ in range(100)
    ])
    for key, value in out.items():
        log(f"  statements per call: {key:22} {value.get('per_call')} ({value.get('ms_per_call')} ms at 1 client)")
    return out


ANALYTICS_ROWS = 50_000


async def analytics_phase(url: str, log) -> dict[str, Any]:
    """Analytics ingest (COPY into the stage tables + analytics.apply_batch's upserts) against a raw
    COPY of the same message rows into a bare table (no index, no key): rows per second each way."""
    import uuid

    result: dict[str, Any] = {"rows": ANALYTICS_ROWS}
    conn = await asyncpg.connect(url)
    try:
        if not await exists(conn, "analytics.apply_batch"):
            return {"error": "missing: analytics.apply_batch"}
        base = datetime(2026, 1, 1, tzinfo=timezone.utc)
        messages = [
            (None, "bench-tenant", 1, 100 + i % 10, 10_000_000 + i, 5000 + i % 2000, f"message {i} about {i * 7919 % 1000}",
             base + timedelta(seconds=i), None, 0, None, None, [], 0, 0, False)
            for i in range(ANALYTICS_ROWS)
        ]
        users = [(None, "bench-tenant", 1, 5000 + u, f"user{u}", None, None, False, False, None, None) for u in range(2000)]
        msg_cols = ["batch_id", "tenant_id", "server_id", "channel_id", "id", "author_id", "content", "created_at", "edited_at",
                    "message_type", "reply_to_message_id", "reply_to_author_id", "mention_ids", "attachment_count",
                    "embed_count", "reactions_complete"]
        user_cols = ["batch_id", "tenant_id", "server_id", "id", "username", "discriminator", "avatar", "is_bot", "is_member",
                     "nickname", "joined_at"]
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench.raw_messages (LIKE resonance.analytics_stage_messages INCLUDING DEFAULTS)"
        )
        batch = uuid.uuid4()
        started = time.perf_counter()
        await conn.copy_records_to_table("raw_messages", schema_name="bench", columns=msg_cols,
                                         records=[(batch, *m[1:]) for m in messages])
        raw_s = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("analytics_stage_users", schema_name="resonance", columns=user_cols,
                                             records=[(batch, *u[1:]) for u in users])
            await conn.copy_records_to_table("analytics_stage_messages", schema_name="resonance", columns=msg_cols,
                                             records=[(batch, *m[1:]) for m in messages])
            applied = await conn.fetchval("SELECT analytics.apply_batch($1)", batch)
        ingest_s = time.perf_counter() - started
        result.update({
            "raw_copy_s": round(raw_s, 3), "ingest_s": round(ingest_s, 3),
            "raw_rows_per_s": round(ANALYTICS_ROWS / raw_s), "ingest_rows_per_s": round(ANALYTICS_ROWS / ingest_s),
            "ratio": round(raw_s / ingest_s, 3), "applied": json.loads(applied) if isinstance(applied, str) else applied,
        })
        log(f"  analytics ingest: {ANALYTICS_ROWS} messages, COPY+upsert {ingest_s:.2f} s, raw COPY {raw_s:.2f} s, ratio {raw_s / ingest_s:.3f}")
    except asyncpg.PostgresError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close()
    return result


PHASES = ("ceilings", "drops", "naive", "messages", "tips", "kpi", "statements", "analytics")
RUN_KEYS = (
    "simple_update_8", "hot_row_8", "simple_update_16", "hot_row_16", "simple_update_32", "hot_row_32", "hot_row_200",
    "claim_drop_1", "claim_drop_32", "claim_spread_32", "claim_drop_oversell_32", "claim_drop_200", "naive_32", "naive_oversell_32",
    "claim_pay_32", "record_message_8", "record_messages_8", "tip_16",
)


async def run_all(admin_url: str, seconds: int, log, only: set[str] | None = None) -> dict[str, Any]:
    """Every phase, or those named in `only` (PHASES; "ceilings" with drops alone runs the hot row at 32 and 200)."""
    from resonance.dbsetup import fresh_database

    def want(phase: str) -> bool:
        return only is None or phase in only

    t0 = time.perf_counter()
    url = await fresh_database(admin_url, BENCH_DB, log=log)
    pgbench_init(url)
    await seed(url, log)
    runs: dict[str, Run] = {}

    # Ceilings. With --only and neither messages nor tips selected: the hot row at 32 and 200 only.
    if want("ceilings"):
        full = only is None or bool({"messages", "tips"} & only)
        for c in (8, 16, 32) if full else (32,):
            if full:
                runs[f"simple_update_{c}"] = pgbench(url, f"simple-update x{c}", clients=c, builtin="simple-update", seconds=seconds)
                log(_line(runs[f"simple_update_{c}"]))
            runs[f"hot_row_{c}"] = pgbench(url, f"hot-row UPDATE x{c}", clients=c, script="hot_row.sql", seconds=seconds)
            log(_line(runs[f"hot_row_{c}"]))
        runs["hot_row_200"] = pgbench(url, "hot-row UPDATE x200 (10 each)", clients=200, script="hot_row.sql", transactions=10)
        log(_line(runs["hot_row_200"]))

    # Drops: the stampede, the naive peer, over-claims, 200 clickers.
    missing = await has(url, "resonance.create_drop", "resonance.claim_drop")
    naive_big = naive_small = None
    conn = await asyncpg.connect(url)
    try:
        from resonance.db import init_connection

        await init_connection(conn)
        if not want("drops"):
            pass
        elif missing:
            runs["claim_drop_1"] = skipped("claim_drop x1 (work per claim)", 1, missing)
            runs["claim_drop_32"] = skipped("claim_drop x32", 32, missing)
            runs["claim_drop_oversell_32"] = skipped("claim_drop x32, max 500", 32, missing)
            runs["claim_drop_200"] = skipped("claim_drop x200 clickers", 200, missing)
        else:
            big = await make_drop(conn, ROOMY_DROP)
            small = await make_drop(conn, 500)
            clickers = await make_drop(conn, 1000)
            await reset_statements(url)
            runs["claim_drop_1"] = pgbench(url, "claim_drop x1 (work per claim)", clients=1, script="claim_drop.sql", seconds=max(3, seconds // 2), defines={"drop": big})
            log(_line(runs["claim_drop_1"]))
            runs["claim_drop_32"] = await pgbench_sampled(url, "claim_drop x32", clients=32, script="claim_drop.sql", seconds=seconds, defines={"drop": big})
            runs["claim_drop_32"].extra["statements"] = await top_statements(url)
            runs["claim_drop_32"].extra.update(await counts(url, big))
            log(_line(runs["claim_drop_32"]))
            # What the bot does: the decision, then the payment in its own transaction.
            payer = await make_drop(conn, ROOMY_DROP)
            runs["claim_pay_32"] = await pgbench_sampled(url, "claim_drop + pay_drop_claim x32", clients=32, script="claim_pay.sql", seconds=seconds, defines={"drop": payer})
            runs["claim_pay_32"].extra.update(await counts(url, payer))
            log(_line(runs["claim_pay_32"]))
            # The same work spread over 64 drops: no hot row, so what the claim costs on CPU alone.
            for n in range(1, 65):
                spread_id = await make_drop(conn, ROOMY_DROP)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS bench.spread_drops (n integer PRIMARY KEY, drop_id uuid NOT NULL);"
                    f"INSERT INTO bench.spread_drops VALUES ({n}, '{spread_id}')"
                )
            runs["claim_spread_32"] = await pgbench_sampled(url, "claim_drop x32 over 64 drops (no hot row)", clients=32, script="claim_spread.sql", seconds=seconds)
            log(_line(runs["claim_spread_32"]))
            runs["claim_drop_oversell_32"] = pgbench(
                url, "claim_drop x32, max 500", clients=32, script="claim_drop.sql", transactions=50, defines={"drop": small}
            )
            runs["claim_drop_oversell_32"].extra.update(await counts(url, small))
            log(_line(runs["claim_drop_oversell_32"]))
            runs["claim_drop_200"] = pgbench(
                url, "claim_drop x200 clickers", clients=200, script="claim_drop.sql", transactions=10, defines={"drop": clickers}
            )
            runs["claim_drop_200"].extra.update(await counts(url, clickers))
            log(_line(runs["claim_drop_200"]))
        if want("naive") and not missing:
            naive_big = await make_drop(conn, ROOMY_DROP)
            naive_small = await make_drop(conn, 500)
        elif want("naive"):
            naive_big = str(await conn.fetchval(
                "INSERT INTO public.discord_drops (server_id, event_id, drop_type, max_claims) VALUES ($1, 'naive', 'button', 100000000) RETURNING drop_id",
                SERVER,
            ))
            naive_small = str(await conn.fetchval(
                "INSERT INTO public.discord_drops (server_id, event_id, drop_type, max_claims) VALUES ($1, 'naive', 'button', 500) RETURNING drop_id",
                SERVER,
            ))
    finally:
        await conn.close()
    if want("naive"):
        runs["naive_32"] = pgbench(url, "naive read-check-write x32", clients=32, script="naive_claim.sql", seconds=seconds, defines={"drop": naive_big})
        runs["naive_32"].extra.update(await counts(url, naive_big))
        log(_line(runs["naive_32"]))
        runs["naive_oversell_32"] = pgbench(
            url, "naive x32, max 500", clients=32, script="naive_claim.sql", transactions=50, defines={"drop": naive_small}
        )
        runs["naive_oversell_32"].extra.update(await counts(url, naive_small))
        log(_line(runs["naive_oversell_32"]))

    # Engine and ledger.
    missing = await has(url, "resonance.record_message")
    if not want("messages"):
        pass
    elif missing:
        runs["record_message_8"] = skipped("record_message x8", 8, missing)
    else:
        await reset_statements(url)
        runs["record_message_8"] = await pgbench_sampled(url, "record_message x8", clients=8, script="record_message.sql", seconds=seconds)
        runs["record_message_8"].extra["statements"] = await top_statements(url)
        runs["record_messages_8"] = await pgbench_sampled(url, "record_messages x8 (10 per call)", clients=8, script="record_messages.sql", seconds=seconds)
    if want("messages"):
        log(_line(runs["record_message_8"]))
        log(_line(runs["record_messages_8"]) + f"  = {(runs['record_messages_8'].tps or 0) * 10:.0f} messages/s")
    missing = await has(url, "tipping.mint", "tipping.tip")
    if not want("tips"):
        pass
    elif missing:
        runs["tip_16"] = skipped("tipping.tip x16", 16, missing)
    else:
        await mint_members(url, 1000)
        await reset_statements(url)
        runs["tip_16"] = await pgbench_sampled(url, "tipping.tip x16 (1,000 members)", clients=16, script="tip.sql", seconds=seconds)
        runs["tip_16"].extra["statements"] = await top_statements(url)
    if want("tips"):
        log(_line(runs["tip_16"]))

    kpi: dict[str, Any] = {"error": "not run (--only)"}
    if want("kpi"):
        kpi_day = datetime.now(timezone.utc).date() - timedelta(days=1)
        kpi = await kpi_phase(url, kpi_day, log)
        log(f"KPI: {kpi}" if "error" in kpi else f"KPI: compute {kpi.get('compute_s')} s, snapshot {kpi.get('snapshot_s')} s")
    statements: dict[str, Any] = {"error": "not run (--only)"}
    if want("statements"):
        statements = await statement_phase(url, log)
    analytics: dict[str, Any] = {"error": "not run (--only)"}
    if want("analytics"):
        analytics = await analytics_phase(url, log)
    for key in RUN_KEYS:
        runs.setdefault(key, Run(name=key, clients=0, error="not run (--only)"))

    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(url),
        "seconds_per_run": seconds,
        "only": sorted(only) if only else None,
        "runs": {k: asdict(v) for k, v in runs.items()},
        "kpi": kpi,
        "statements": statements,
        "analytics": analytics,
        "ratios": ratios(runs, kpi, statements, analytics),
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }


def _line(run: Run) -> str:
    if run.error and run.tps is None:
        return f"  {run.name:36} {run.error}"
    tps = f"{run.tps:9.0f} tps" if run.tps is not None else "    -    "
    p99 = f"p99 {run.p99_ms:7.2f} ms" if run.p99_ms is not None else ""
    over = f" over-claims {run.extra['over_claims']}" if "over_claims" in run.extra else ""
    err = f"  [{run.error}]" if run.error else ""
    return f"  {run.name:36} {tps}  {p99}{over}{err}"


def machine(url: str) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([pgbench_path(), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "pgbench": version,
        "postgres": "15 (local cluster: shared_buffers 256MB, synchronous_commit off)",
    }


def ratios(
    runs: dict[str, Run], kpi: dict[str, Any], statements: dict[str, Any] | None = None, analytics: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    def tps(key: str) -> float | None:
        run = runs.get(key)
        return run.tps if run and run.tps and not (run.error and run.transactions == 0) else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    rows = []
    claim = runs["claim_drop_32"]
    over = runs.get("claim_drop_oversell_32")
    rows.append({
        "figure": "claim_drop x32 (tps)", "value": tps("claim_drop_32"), "ceiling": "hot-row x32",
        "ceiling_value": tps("hot_row_32"), "ratio": ratio(tps("claim_drop_32"), tps("hot_row_32")),
        "target": f">= {TARGETS['claim_drop_vs_hot_row']}x, 0 over-claims",
        "met": _met(ratio(tps("claim_drop_32"), tps("hot_row_32")), TARGETS["claim_drop_vs_hot_row"])
        and bool(over and over.extra.get("over_claims") == 0),
        "note": f"over-claims {over.extra.get('over_claims', '-') if over else '-'}; p99 {claim.p99_ms} ms",
    })
    rows.append({
        "figure": "claim_drop x32 vs no hot row (tps)", "value": tps("claim_drop_32"), "ceiling": "claims x32 over 64 drops",
        "ceiling_value": tps("claim_spread_32"), "ratio": ratio(tps("claim_drop_32"), tps("claim_spread_32")),
        "target": "(what the hot row costs)", "met": None,
        "note": "1.0 = the drop row costs nothing; the rest of the gap to the hot row is CPU per claim",
    })
    rows.append({
        "figure": "claim_drop + pay x32 (tps)", "value": tps("claim_pay_32"), "ceiling": "hot-row x32",
        "ceiling_value": tps("hot_row_32"), "ratio": ratio(tps("claim_pay_32"), tps("hot_row_32")),
        "target": "(decide, then pay: the whole click)", "met": None,
        "note": f"p99 {runs['claim_pay_32'].p99_ms} ms; over-claims {runs['claim_pay_32'].extra.get('over_claims', '-')}",
    })
    naive = runs["naive_32"]
    naive_over = runs["naive_oversell_32"]
    rows.append({
        "figure": "naive peer x32 (tps)", "value": tps("naive_32"), "ceiling": "hot-row x32",
        "ceiling_value": tps("hot_row_32"), "ratio": ratio(tps("naive_32"), tps("hot_row_32")),
        "target": "(reference)", "met": None,
        "note": f"over-claims {naive_over.extra.get('over_claims', '-')} of max {naive_over.extra.get('max_claims', '-')}",
    })
    c200 = runs["claim_drop_200"]
    h200 = runs["hot_row_200"]
    rows.append({
        "figure": "claim p99 x200 clickers (ms)", "value": c200.p99_ms, "ceiling": "hot-row p99 x200",
        "ceiling_value": h200.p99_ms, "ratio": ratio(c200.p99_ms, h200.p99_ms),
        "target": f"<= {TARGETS['claim_p99_vs_hot_row_200']}x",
        "met": (ratio(c200.p99_ms, h200.p99_ms) or 99) <= TARGETS["claim_p99_vs_hot_row_200"],
        "note": f"p50 {c200.p50_ms} ms; over-claims {c200.extra.get('over_claims', '-')}",
    })
    rows.append({
        "figure": "record_message x8 (tps)", "value": tps("record_message_8"), "ceiling": "simple-update x8",
        "ceiling_value": tps("simple_update_8"), "ratio": ratio(tps("record_message_8"), tps("simple_update_8")),
        "target": f">= {TARGETS['record_message_vs_simple_update']}x",
        "met": _met(ratio(tps("record_message_8"), tps("simple_update_8")), TARGETS["record_message_vs_simple_update"]),
        "note": runs["record_message_8"].error or f"p99 {runs['record_message_8'].p99_ms} ms",
    })
    batch_events = (tps("record_messages_8") or 0) * 10 or None
    rows.append({
        "figure": "record_messages x8, per message (msg/s)", "value": batch_events, "ceiling": "simple-update x8",
        "ceiling_value": tps("simple_update_8"), "ratio": ratio(batch_events, tps("simple_update_8")),
        "target": f">= {TARGETS['record_message_vs_simple_update']}x per event",
        "met": _met(ratio(batch_events, tps("simple_update_8")), TARGETS["record_message_vs_simple_update"]),
        "note": runs["record_messages_8"].error or "10 messages per call",
    })
    st = statements or {}
    one, batch = st.get("record_message", {}), st.get("record_messages_10", {})
    rows.append({
        "figure": "statements per message paying 2 rules", "value": one.get("per_call"), "ceiling": "52 before (issue 18)",
        "ceiling_value": 52, "ratio": ratio(one.get("per_call"), 52), "target": "<= 0.5x (halved)",
        "met": (ratio(one.get("per_call"), 52) or 99) <= 0.5,
        "note": f"batched: {batch.get('per_event', '-')} per message; decision {st.get('claim_drop_decision', {}).get('per_call', '-')}, payment {st.get('pay_drop_claim', {}).get('per_call', '-')}",
    })
    rows.append({
        "figure": "tipping.tip x16 (tps)", "value": tps("tip_16"), "ceiling": "simple-update x16",
        "ceiling_value": tps("simple_update_16"), "ratio": ratio(tps("tip_16"), tps("simple_update_16")),
        "target": f">= {TARGETS['tip_vs_simple_update']}x",
        "met": _met(ratio(tps("tip_16"), tps("simple_update_16")), TARGETS["tip_vs_simple_update"]),
        "note": runs["tip_16"].error or f"p99 {runs['tip_16'].p99_ms} ms",
    })
    snap = kpi.get("snapshot_s")
    rows.append({
        "figure": "KPI snapshot, 100k members / 1M msgs (s)", "value": snap, "ceiling": "0.5 s budget",
        "ceiling_value": TARGETS["kpi_snapshot_s"], "ratio": ratio(snap, TARGETS["kpi_snapshot_s"]),
        "target": f"<= {TARGETS['kpi_snapshot_s']} s",
        "met": snap is not None and snap <= TARGETS["kpi_snapshot_s"],
        "note": kpi.get("error") or f"compute_kpis {kpi.get('compute_s')} s",
    })
    an = analytics or {}
    rows.append({
        "figure": f"analytics ingest, {an.get('rows', '-')} msgs (rows/s)", "value": an.get("ingest_rows_per_s"),
        "ceiling": "raw COPY into a bare table", "ceiling_value": an.get("raw_rows_per_s"), "ratio": an.get("ratio"),
        "target": f">= {TARGETS['analytics_ingest_vs_copy']}x",
        "met": _met(an.get("ratio"), TARGETS["analytics_ingest_vs_copy"]),
        "note": an.get("error") or "COPY into the stage tables + analytics.apply_batch",
    })
    return rows


def _met(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # piped or captured: room for the full tables
    every = Table(title="Every run (pgbench -M prepared, 2 threads)")
    for col in ("run", "clients", "tps", "p50 ms", "p95 ms", "p99 ms", "over-claims", "sessions mostly waiting on"):
        every.add_column(col, justify="left" if col in ("run", "sessions mostly waiting on") else "right")
    for run in result["runs"].values():
        if run["error"] == "not run (--only)":
            continue
        waits = ", ".join(f"{k} {v:.0%}" for k, v in list(run["extra"].get("waits", {}).items())[:3])
        every.add_row(
            run["name"], str(run["clients"]), _fmt(run["tps"]), _fmt(run["p50_ms"], 2), _fmt(run["p95_ms"], 2),
            _fmt(run["p99_ms"], 2), _fmt(run["extra"].get("over_claims")), waits or (run["error"] or "")[:60],
        )
    console.print(every)
    table = Table(title=f"Resonance vs ceiling ({result['machine']['cpus']} cores, {result['seconds_per_run']} s per run)")
    for col in ("figure", "value", "ceiling", "ratio", "target", "met", "note"):
        table.add_column(col, justify="right" if col in ("value", "ratio") else "left")
    for row in result["ratios"]:
        met = "-" if row["met"] is None else ("[green]yes[/]" if row["met"] else "[red]no[/]")
        ceiling = f"{row['ceiling']} = {_fmt(row['ceiling_value'])}"
        table.add_row(row["figure"], _fmt(row["value"], 2), ceiling, _fmt(row["ratio"], 3), row["target"], met, str(row["note"]))
    console.print(table)


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def main(argv: list[str]) -> int:
    from resonance.localdb import cluster, up

    parser = argparse.ArgumentParser(prog="resonance bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")), help="duration of each timed run")
    parser.add_argument("--admin-url", help="superuser URL of the server to build resonance_bench on (default: the local cluster)")
    parser.add_argument("--out", default=None, help="JSON output (default: bench/results/bench-<timestamp>.json)")
    parser.add_argument(
        "--only", default=None,
        help=f"comma-separated phases to run ({', '.join(PHASES)}); default all. E.g. --only ceilings,drops",
    )
    parser.add_argument("--citus", action="store_true", help="record_message and claim_drop on the local Citus cluster (docs/scaling.md)")
    args = parser.parse_args(argv)
    if args.citus:
        from resonance.citus_bench import main as citus_main

        return citus_main(args.seconds, args.out)
    only = None
    if args.only:
        only = {p.strip() for p in args.only.split(",") if p.strip()}
        unknown = only - set(PHASES)
        if unknown:
            parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    if args.admin_url:
        admin = args.admin_url
    else:
        up(quiet=True)
        admin = cluster().url()
    result = asyncio.run(run_all(admin, args.seconds, lambda m: print(m, flush=True), only))
    print_table(result)
    out = Path(args.out) if args.out else project_root() / "bench" / "results" / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"bench: wrote {out.relative_to(project_root()) if out.is_relative_to(project_root()) else out} ({result['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
