"""The Citus suite: a coordinator and two workers on 127.0.0.1 (`resonance citus up`, building Citus from
../shared/vendor once when it is not installed), one database migrated and distributed by the plan.

Every test gets that database emptied (TRUNCATE of every placed table), so the single-node tests that
assume a fresh database run here unchanged through the same fixture names: database_url, db, pool.
Without Citus and without the vendored source, every test here is skipped for one stated reason.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from resonance import citus
from resonance.citus_plan import PLAN
from resonance.migrate import migrate

# The reused single-node tests import their helpers (drops_support, ...) as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATABASE = "resonance_citus_test"
SEEDED = {"tipping.currencies"}
SKIP_REASON = "citus: skipped (Citus is not installed and ../shared/vendor/citus-13.2.2.tar.gz is absent)"


@pytest.fixture(scope="session")
async def citus_url() -> str:
    if not citus.available():
        pytest.skip(SKIP_REASON)
    os.environ.setdefault("RESONANCE_CITUS_SHARD_COUNT", "4")
    started = time.perf_counter()
    citus.up(quiet=True)
    citus.drop_database(DATABASE)
    url = citus.create_database(DATABASE)
    await migrate(url, log=lambda _m: None)
    print(f"\ncitus: cluster up, {DATABASE} migrated and distributed in {time.perf_counter() - started:.1f} s")
    return url


@pytest.fixture
async def database_url(citus_url: str) -> AsyncIterator[str]:
    """The distributed database, emptied: what a fresh single-node test database holds, on Citus."""
    conn = await asyncpg.connect(citus_url)
    try:
        # The currencies are seeded by the migrations: they stay.
        await conn.execute("TRUNCATE " + ", ".join(t for t in PLAN if t not in SEEDED) + " RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    yield citus_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=2, max_size=50) as p:
        yield p
