"""The extraction worker: claims queued jobs from `saas.extraction_jobs` (FOR UPDATE SKIP LOCKED),
runs one guild sync per job, reports progress every half second and honours cancellation.

`sync_guild` is the one seam to the analytics package: it calls `resonance.analytics.run_extraction`
with a client for the guild (the seeded mock guild in mock mode; Discord itself once the analytics
sync of issue 19 provides its logged-in client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from resonance.web import db
from resonance.web.settings import WebSettings

log = logging.getLogger("resonance.web.jobs")

MOCK_BASE = 10**17


def mock_seed(guild_id: int) -> int | None:
    """The seed of the mock guild with this id (create_mock_client's guild is 10**17 + seed * 10**9 + 1)."""
    rest = guild_id - MOCK_BASE - 1
    if rest >= 0 and rest % 10**9 == 0:
        return rest // 10**9
    return None


def mock_guild_id(seed: int) -> int:
    return MOCK_BASE + seed * 10**9 + 1


@dataclass
class Job:
    job_id: Any
    brand_id: str
    guild_id: int
    sync_days: int
    token: str | None


async def sync_guild(pool: asyncpg.Pool, job: Job, settings: WebSettings) -> tuple[dict[str, Any], int]:
    """Sync the job's guild into its brand's tenant; returns (stats, messages expected)."""
    from resonance.analytics import create_mock_client, run_extraction

    if settings.discord_mode != "mock":
        raise RuntimeError("syncing a real Discord guild needs `resonance analytics sync` (issue 19); set RESONANCE_WEB_DISCORD=mock for the mock guild")
    seed = mock_seed(job.guild_id)
    if seed is None:
        raise RuntimeError(f"guild {job.guild_id} is not a mock guild (mock guild ids are 10**17 + seed * 10**9 + 1)")
    size = int(os.environ.get("RESONANCE_WEB_MOCK_MESSAGES", "300"))
    client = create_mock_client(user_count=40, channel_count=4, messages_per_channel=size, days=min(job.sync_days, 14), seed=seed)
    cutoff = datetime.now(UTC) - timedelta(days=job.sync_days)
    expected = sum(1 for ch in client.guilds[0].text_channels for m in ch.messages if m.created_at >= cutoff)
    stats = await run_extraction(client, pool, job.guild_id, tenant_id=job.brand_id, sync_days=job.sync_days, batch_size=100)
    return asdict(stats) if hasattr(stats, "__dataclass_fields__") else dict(vars(stats)), expected


class Worker:
    """One in-process worker (started by `resonance web` unless RESONANCE_WEB_WORKER=0)."""

    def __init__(self, pool: asyncpg.Pool, settings: WebSettings,
                 sync: Callable[[asyncpg.Pool, Job, WebSettings], Awaitable[tuple[dict[str, Any], int]]] = sync_guild) -> None:
        self.pool = pool
        self.settings = settings
        self.sync = sync
        self.name = f"web:{socket.gethostname()}:{os.getpid()}"
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="extraction-worker")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_one():
                    pass
            except Exception:  # a broken job must not stop the worker
                log.exception("extraction worker")
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=2.0)

    async def run_one(self) -> bool:
        async with db.as_service(self.pool) as conn:
            row = await conn.fetchrow("SELECT * FROM saas.claim_extraction_job($1)", self.name)
        if row is None:
            return False
        token = None
        if row["token_ciphertext"]:
            from resonance.web.api import decrypt_token

            try:
                token = decrypt_token(self.settings, row["token_ciphertext"])
            except Exception as exc:  # noqa: BLE001 - reported on the job
                await self._finish(row["job_id"], "failed", None, str(exc))
                return True
        job = Job(row["job_id"], row["brand_id"], row["guild_id"], row["sync_days"], token)
        await self._run(job)
        return True

    async def _synced(self, job: Job) -> int:
        async with db.as_service(self.pool) as conn:
            return int(await conn.fetchval(
                "SELECT coalesce(sum(messages_synced), 0) FROM analytics.sync_state WHERE tenant_id = $1 AND server_id = $2",
                job.brand_id, job.guild_id,
            ))

    async def _run(self, job: Job) -> None:
        base = await self._synced(job)
        expected: dict[str, int] = {}
        task = asyncio.create_task(self.sync(self.pool, job, self.settings))
        cancelled = False
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            progress = {"phase": "syncing", "messages_synced": await self._synced(job) - base, **expected}
            async with db.as_service(self.pool) as conn:
                cancel = await conn.fetchval("SELECT saas.report_extraction_progress($1, $2)", job.job_id, progress)
            if cancel and not task.done():
                task.cancel()
                cancelled = True
        try:
            stats, total = await task
        except asyncio.CancelledError:
            if not cancelled:
                raise
            await self._finish(job.job_id, "cancelled", {"messages_synced": await self._synced(job) - base}, None)
            return
        except Exception as exc:  # noqa: BLE001 - reported on the job
            log.warning("extraction job %s failed: %s", job.job_id, exc)
            await self._finish(job.job_id, "failed", None, str(exc))
            return
        synced = await self._synced(job) - base
        async with db.as_service(self.pool) as conn:
            await conn.fetchval("SELECT saas.report_extraction_progress($1, $2)", job.job_id,
                                {"phase": "done", "messages_synced": synced, "messages_expected": total})
        await self._finish(job.job_id, "succeeded", {**{k: v for k, v in stats.items() if isinstance(v, int | float | str)},
                                                     "messages_synced": synced}, None)

    async def _finish(self, job_id: Any, status: str, result: dict[str, Any] | None, error: str | None) -> None:
        async with db.as_service(self.pool) as conn:
            await conn.fetchval("SELECT saas.finish_extraction_job($1, $2, $3, $4)", job_id, status, result, error)
