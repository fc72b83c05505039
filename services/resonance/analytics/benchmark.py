"""Ingest throughput for `make bench`: N generated messages through the warehouse's write path
(COPY into the staging tables + analytics.apply_batch per batch, rollups maintained by their
triggers, exactly as a sync does), and the same rows for a raw COPY into a bare table.

    rows = generate(100_000)                              # deterministic for a seed
    run = await ingest(pool_or_conn, rows)                # IngestRun(rows=..., seconds=..., rows_per_second=...)
    run = await ingest_generated(pool_or_conn, 100_000)   # both at once

`rows.messages` are tuples in `MESSAGE_COLUMNS` order (without the batch id) for the raw COPY side.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Union

import asyncpg

from resonance.analytics.extractor import MESSAGE_COLUMNS, REACTION_COLUMNS, USER_COLUMNS
from resonance.analytics.protocols import snowflake_at

Executor = Union[asyncpg.Pool, asyncpg.Connection]

# The staged columns without batch_id, for a bare table of the same shape.
RAW_MESSAGE_COLUMNS = MESSAGE_COLUMNS[1:]


@dataclass
class GeneratedRows:
    tenant_id: str
    server_id: int
    channel_ids: list[int]
    users: list[tuple]  # USER_COLUMNS without batch_id
    messages: list[tuple]  # MESSAGE_COLUMNS without batch_id
    reactions: list[tuple]  # REACTION_COLUMNS without batch_id


@dataclass
class IngestRun:
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def generate(n: int, *, tenant_id: str = "bench-ingest", seed: int = 0, members: int = 200, channels: int = 4,
             days: int = 7, now: datetime | None = None) -> GeneratedRows:
    """n messages over `days` days: a third are replies to an earlier message, a tenth mention a
    member, a tenth carry one or two reactions."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    server_id = 770_000_000_000_000_000 + seed
    user_ids = [server_id + 1_000 + i for i in range(members)]
    channel_ids = [server_id + 100 + c for c in range(channels)]
    users = [(tenant_id, server_id, u, f"member{i:04d}", None, None, False, True, None, now - timedelta(days=90))
             for i, u in enumerate(user_ids)]
    start = now - timedelta(days=days)
    step = timedelta(days=days) / max(n, 1)
    messages, reactions, authors = [], [], []
    for i in range(n):
        created = start + step * i
        mid = snowflake_at(created, i)
        author = rng.choice(user_ids)
        reply_to = reply_author = None
        if authors and rng.random() < 0.33:
            back = rng.randrange(max(0, len(authors) - 50), len(authors))
            reply_to, reply_author = messages[back][3], authors[back]
        mentions = [rng.choice(user_ids)] if rng.random() < 0.10 else []
        words = " ".join(rng.choice(("gg", "nice", "ship", "lol", "drop", "vote", "build", "tip")) for _ in range(rng.randint(1, 15)))
        messages.append((tenant_id, server_id, channel_ids[i % channels], mid, author, words, created, None,
                         19 if reply_to else 0, reply_to, reply_author, mentions, 0, 0, True))
        authors.append(author)
        if rng.random() < 0.10:
            for reactor in rng.sample(user_ids, k=rng.randint(1, 2)):
                reactions.append((tenant_id, mid, None, "\N{FIRE}", False, reactor))
    return GeneratedRows(tenant_id, server_id, channel_ids, users, messages, reactions)


async def ingest(db: Executor, rows: GeneratedRows, *, batch_size: int = 500) -> IngestRun:
    """Write `rows` the way a sync does: per batch, COPY into staging and analytics.apply_batch,
    one transaction each. Returns the time for the messages (users are written first, untimed)."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await ingest(conn, rows, batch_size=batch_size)
    await _apply(db, uuid.uuid4(), rows.users, [], [])
    by_message: dict[int, list[tuple]] = {}
    for reaction in rows.reactions:
        by_message.setdefault(reaction[1], []).append(reaction)
    began = time.perf_counter()
    for offset in range(0, len(rows.messages), batch_size):
        chunk = rows.messages[offset:offset + batch_size]
        await _apply(db, uuid.uuid4(), [], chunk, [r for m in chunk for r in by_message.get(m[3], ())])
    return IngestRun(len(rows.messages), time.perf_counter() - began)


async def _apply(conn: asyncpg.Connection, batch: uuid.UUID, users: list[tuple], messages: list[tuple],
                 reactions: list[tuple]) -> None:
    async with conn.transaction():
        if users:
            await conn.copy_records_to_table("analytics_stage_users", schema_name="resonance", columns=USER_COLUMNS,
                                             records=[(batch, *u) for u in users])
        if messages:
            await conn.copy_records_to_table("analytics_stage_messages", schema_name="resonance", columns=MESSAGE_COLUMNS,
                                             records=[(batch, *m) for m in messages])
        if reactions:
            await conn.copy_records_to_table("analytics_stage_reactions", schema_name="resonance",
                                             columns=REACTION_COLUMNS, records=[(batch, *r) for r in reactions])
        await conn.execute("SELECT analytics.apply_batch($1)", batch)


async def ingest_generated(db: Executor, n: int, *, tenant_id: str = "bench-ingest", batch_size: int = 500,
                           seed: int = 0) -> IngestRun:
    """Generate n messages and ingest them (the bench's one call)."""
    return await ingest(db, generate(n, tenant_id=tenant_id, seed=seed), batch_size=batch_size)
