"""The benchmark scripts still run against the current SQL (a few transactions each, no timing)."""

from __future__ import annotations

import asyncpg
import pytest

from resonance import bench


@pytest.fixture
async def bench_url(database_url: str) -> str:
    await bench.seed(database_url, log=lambda _m: None)
    return database_url


async def test_every_bench_script_runs_and_claims_stay_exact(bench_url: str) -> None:
    conn = await asyncpg.connect(bench_url)
    try:
        from resonance.db import init_connection

        await init_connection(conn)
        drop = await bench.make_drop(conn, 5)
        naive_drop = await bench.make_drop(conn, 5)
    finally:
        await conn.close()
    await bench.mint_members(bench_url, 20)
    runs = {
        "hot": bench.pgbench(bench_url, "hot", clients=2, script="hot_row.sql", transactions=5),
        "claim": await bench.pgbench_sampled(bench_url, "claim", clients=4, script="claim_drop.sql", transactions=5, defines={"drop": drop}),
        "naive": bench.pgbench(bench_url, "naive", clients=4, script="naive_claim.sql", transactions=5, defines={"drop": naive_drop}),
        "message": bench.pgbench(bench_url, "message", clients=2, script="record_message.sql", transactions=5),
    }
    for name, run in runs.items():
        assert run.error is None and run.transactions > 0 and run.p99_ms is not None, (name, run)
    claims = await bench.counts(bench_url, drop)
    assert claims["claim_rows"] == claims["claims_count"] == 5 and claims["over_claims"] == 0
    # tip.sql picks among 1,000 members; only 20 were minted here, so check the statement, not throughput.
    conn = await asyncpg.connect(bench_url)
    try:
        await conn.execute("SELECT tipping.tip('tipper1', 'tipper2', 0.01, 'RSNC', 'bench')")
    finally:
        await conn.close()
