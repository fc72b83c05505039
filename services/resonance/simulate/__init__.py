"""`resonance simulate`: a seeded community driven through the typed layer, then a report and a chart.

    resonance simulate [--members 300] [--days 14] [--seed 42] [--database-url URL] [--chart out/demo/community.png]

Without --database-url (and without DATABASE_URL) it uses a dedicated database `resonance_demo` on the
local cluster, dropped, recreated and migrated on every run, so repeated demos start clean.
With a URL, it simulates into that (already migrated) database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from resonance.db._call import MissingFunctionError

DEMO_DB = "resonance_demo"


async def run(args: argparse.Namespace) -> int:
    from resonance.dbsetup import fresh_database
    from resonance.simulate.report import as_jsonable, build_report, print_dashboard_hint, print_report
    from resonance.simulate.runner import simulate

    url = args.database_url or os.environ.get("DATABASE_URL")
    if not url:
        url = await fresh_database(args.admin_url, DEMO_DB, log=lambda m: print(f"simulate: {m}"))
    community, stats = await simulate(
        url, members=args.members, days=args.days, seed=args.seed, concurrency=args.concurrency, progress=not args.quiet
    )
    report = await build_report(url, community, stats, Path(args.chart) if args.chart else None)
    print_report(report, community, stats)
    print_dashboard_hint(url, community.brand_id)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(as_jsonable(report), indent=2, default=str))
    return 0 if report.ledger_ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="resonance simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", help="a migrated database (default: $DATABASE_URL, else a fresh resonance_demo)")
    parser.add_argument("--concurrency", type=int, default=12, help="pool size: connections working at once")
    parser.add_argument("--chart", default="out/demo/community.png", help="PNG chart path ('' to skip)")
    parser.add_argument("--json", default=None, help="also write the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    args.admin_url = None
    if not (args.database_url or os.environ.get("DATABASE_URL")):
        from resonance.localdb import cluster, up

        up(quiet=True)  # starts the local cluster if needed (outside the event loop: it runs its own)
        args.admin_url = cluster().url()
    try:
        return asyncio.run(run(args))
    except MissingFunctionError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 3
