"""KPIs: resonance.compute_kpis and resonance.snapshot_kpis."""

from __future__ import annotations

from datetime import date

from resonance.db import Executor
from resonance.db._call import call
from resonance.db.models import Kpis


async def compute_kpis(ex: Executor, server_id: str, day: date) -> Kpis:
    return await call(ex, "resonance.compute_kpis", server_id, day, casts=("text", "date"), model=Kpis)


async def snapshot_kpis(ex: Executor, day: date | None = None) -> int:
    """Servers snapshotted for `day` (default: yesterday, UTC)."""
    if day is None:
        return int(await call(ex, "resonance.snapshot_kpis"))
    return int(await call(ex, "resonance.snapshot_kpis", day, casts=("date",)))
