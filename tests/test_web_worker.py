"""The extraction worker's paths, in process against a real migrated database: a job runs and
reports progress, a cancel stops a running sync, a failing sync fails its job with the error, a
token that does not decrypt fails the job, and two workers never run the same job."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from cryptography.fernet import Fernet
from resonance.web import db
from resonance.web.jobs import Job, Worker
from resonance.web.settings import WebSettings

KEY = Fernet.generate_key().decode()


def settings() -> WebSettings:
    return WebSettings(DISCORD_TOKEN_ENCRYPTION_KEY=KEY, RESONANCE_WEB_DISCORD="mock")


async def queue_job(conn: asyncpg.Connection, brand: str, token: str = "bot-token") -> str:
    cipher = Fernet(KEY.encode()).encrypt(token.encode()).decode()
    async with conn.transaction():
        await conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
            json.dumps({"sub": "u", "app_metadata": {"brand_id": brand}}),
        )
        await conn.fetchval("SELECT saas.connect_bot(100000042000000001, $1)", cipher)
        out = await conn.fetchval("SELECT saas.start_extraction(7)")
    return out["job_id"]


async def job_row(conn: asyncpg.Connection, job_id: str) -> asyncpg.Record:
    return await conn.fetchrow("SELECT status, progress, result, error, cancel_requested FROM saas.extraction_jobs WHERE id = $1::uuid", job_id)


async def test_worker_runs_cancels_and_fails(database_url: str) -> None:
    seen: list[Job] = []
    release = asyncio.Event()

    async def slow_sync(pool: asyncpg.Pool, job: Job, _s: WebSettings) -> tuple[dict[str, Any], int]:
        seen.append(job)
        if job.brand_id == "w-slow":
            await asyncio.sleep(3600)  # only a cancel ends it
        if job.brand_id == "w-bad":
            raise RuntimeError("the guild vanished")
        await release.wait()
        return {"channels": 3}, 42

    pool = await db.create_pool(database_url)  # the web's pool: json codecs as the worker expects
    try:
        conn = await pool.acquire()
        try:
            worker = Worker(pool, settings(), sync=slow_sync)
            # A job that succeeds, with the token decrypted for the sync.
            ok_id = await queue_job(conn, "w-ok", token="the-real-token")
            run = asyncio.create_task(worker.run_one())
            for _ in range(100):  # the first progress report comes after half a second
                await asyncio.sleep(0.1)
                if (await job_row(conn, ok_id))["progress"].get("phase") == "syncing":
                    break
            row = await job_row(conn, ok_id)
            assert row["status"] == "running" and row["progress"]["phase"] == "syncing"
            release.set()
            assert await run is True
            row = await job_row(conn, ok_id)
            assert row["status"] == "succeeded" and row["result"]["channels"] == 3
            assert seen[0].token == "the-real-token" and seen[0].brand_id == "w-ok"

            # A cancel asked while it runs stops the sync.
            slow_id = await queue_job(conn, "w-slow")
            run = asyncio.create_task(worker.run_one())
            await asyncio.sleep(0.6)
            await conn.execute("UPDATE saas.extraction_jobs SET cancel_requested = TRUE WHERE id = $1::uuid", slow_id)
            await asyncio.wait_for(run, timeout=10)
            assert (await job_row(conn, slow_id))["status"] == "cancelled"

            # A sync that raises fails its job with the error.
            bad_id = await queue_job(conn, "w-bad")
            assert await worker.run_one() is True
            row = await job_row(conn, bad_id)
            assert row["status"] == "failed" and "the guild vanished" in row["error"]

            # A token encrypted with another key fails the job before any sync.
            other = Fernet(Fernet.generate_key())
            stale_id = await queue_job(conn, "w-key")
            await conn.execute("UPDATE saas.bot_connections SET token_ciphertext = $1 WHERE brand_id = 'w-key'",
                               other.encrypt(b"x").decode())
            before = len(seen)
            assert await worker.run_one() is True
            row = await job_row(conn, stale_id)
            assert row["status"] == "failed" and "DISCORD_TOKEN_ENCRYPTION_KEY" in row["error"]
            assert len(seen) == before
            assert await worker.run_one() is False  # the queue is empty
        finally:
            await pool.release(conn)
    finally:
        await pool.close()


async def test_two_workers_never_run_the_same_job(database_url: str) -> None:
    ran: list[str] = []

    async def sync(pool: asyncpg.Pool, job: Job, _s: WebSettings) -> tuple[dict[str, Any], int]:
        ran.append(job.brand_id)
        await asyncio.sleep(0.2)
        return {}, 0

    pool = await db.create_pool(database_url)
    try:
        async with pool.acquire() as conn:
            for i in range(6):
                await queue_job(conn, f"brand-{i}")
        workers = [Worker(pool, settings(), sync=sync) for _ in range(3)]

        async def drain(w: Worker) -> None:
            while await w.run_one():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        assert sorted(ran) == [f"brand-{i}" for i in range(6)]
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM saas.extraction_jobs WHERE status = 'succeeded'") == 6
    finally:
        await pool.close()
