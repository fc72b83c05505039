"""A tiny simulation end to end: the community generator is deterministic, the run keeps the books."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg
import pytest

from resonance.db._call import exists
from resonance.simulate.community import generate_community, plan_day
from resonance.simulate.report import build_report, print_report
from resonance.simulate.runner import REQUIRED, simulate


def test_the_community_is_seeded_and_shaped() -> None:
    community = generate_community(300, seed=3)
    assert community.members == generate_community(300, seed=3).members
    kinds = [m.archetype for m in community.members]
    assert kinds.count("lurker") == 180 and kinds.count("power") == 9 and kinds.count("farmer") == 3
    plan = plan_day(community, date(2026, 3, 2), 0)
    messages = [e for e in plan.events if e.kind == "message" and e.data["channel"] != "gm"]
    replies = sum(1 for e in messages if "reply_to" in e.data)
    assert 0.25 < replies / len(messages) < 0.45
    evening = sum(1 for e in plan.events if 18 <= e.at.hour <= 22)
    assert evening / len(plan.events) > 0.4
    assert {e.kind for e in plan.events} >= {"message", "reaction", "voice", "checkin", "tip"}
    assert plan.drops and all(len(d.clickers) > d.max_claims for d in plan.drops)


async def test_a_tiny_simulation_keeps_the_books(database_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        missing = [f for f in REQUIRED if not await exists(conn, f)]
    finally:
        await conn.close()
    if missing:
        pytest.skip(f"not on this branch yet: {', '.join(missing)}")
    community, stats = await simulate(database_url, members=30, days=2, seed=7, concurrency=6, progress=False, end_day=date(2026, 3, 3))
    report = await build_report(database_url, community, stats, tmp_path / "chart.png")
    print_report(report, community, stats)
    assert report.ledger_ok, report.ledger
    assert report.leaderboard and report.leaderboard[0]["rsnc_earned"] > 0
    assert [k["day"] for k in report.kpis] == [date(2026, 3, 2), date(2026, 3, 3)]
    assert len(report.daily) == 2 and all(d["messages"] > 0 for d in report.daily)
    assert report.drops and all(d["claim_rows"] == d["winners"] <= d["max_claims"] for d in report.drops)
    assert report.farming["messages"] > 0 and report.farming["not_rewarded"] > 0
    assert Path(report.chart).stat().st_size > 1000
