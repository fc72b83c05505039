"""KPIs: resonance.compute_kpis and resonance.snapshot_kpis."""

from __future__ import annotations

from datetime import date

from resonance.db import Executor
from resonance.db._call import scalar
from resonance.db.models import Kpis


async def compute_kpis(ex: Executor, server_id: str, day: date) -> Kpis:
    value = await scalar(ex, "resonance.compute_kpis", ("text", "date"), server_id, day)
    return Kpis.model_validate(value or {})


async def snapshot_kpis(ex: Executor, day: date | None = None) -> int:
    """Servers snapshotted for `day` (default: yesterday, UTC)."""
    if day is None:
        return int(await scalar(ex, "resonance.snapshot_kpis", ()))
    return int(await scalar(ex, "resonance.snapshot_kpis", ("date",), day))
