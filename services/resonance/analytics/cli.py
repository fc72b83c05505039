"""`resonance analytics simulate|query`.

simulate  builds a seeded mock guild (documented patterns) and runs the whole extraction against it,
          then prints the four example questions' answers.
query     runs SQL in the sealed console for one tenant (read-only, RLS, 30 s, 10,000 rows).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
from rich.console import Console
from rich.table import Table

from resonance.analytics import questions
from resonance.analytics.extractor import run_extraction
from resonance.analytics.mock import create_mock_client


def _table(title: str, rows: list[dict], columns: list[str] | None = None) -> Table:
    columns = columns or (list(rows[0].keys()) if rows else [])
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


async def simulate(url: str, args: argparse.Namespace, console: Console) -> int:
    client = create_mock_client(args.users, args.channels, args.messages, args.days, seed=args.seed)
    guild = client.guilds[0]
    conn = await asyncpg.connect(url)
    try:
        stats = await run_extraction(
            client, conn, guild.id, args.tenant, sync_days=args.days + 1, fetch_reactions=not args.no_reactions,
            batch_size=args.batch_size, progress=not args.quiet,
        )
        console.print(
            f"synced guild {guild.id} for tenant {args.tenant!r}: {stats.channels} channels, {stats.messages_seen} "
            f"messages seen ({stats.messages_inserted} new, {stats.messages_updated} updated), "
            f"{stats.reactions_added} reactions, {stats.mentions_added} mentions, {stats.batches} batches "
            f"in {stats.seconds:.2f} s"
        )
        pairs = await questions.top_reply_pairs(conn, args.tenant, guild.id, 10)
        console.print(_table("Who replies to whom the most", [p.model_dump() for p in pairs]))
        levels = await questions.activity_levels(conn, args.tenant, guild.id, args.days + 1)
        counts: dict[str, int] = {}
        for level in levels:
            counts[level.activity_level] = counts.get(level.activity_level, 0) + 1
        console.print(_table("Power users vs lurkers (top 10)", [lv.model_dump() for lv in levels[:10]]))
        console.print("members per level: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        trends = await questions.daily_trends(conn, args.tenant, guild.id, args.days + 1)
        console.print(_table("Daily activity trends", [t.model_dump() for t in trends]))
        givers = await questions.top_reaction_givers(conn, args.tenant, guild.id, 10)
        console.print(_table("Top reaction givers", [g.model_dump() for g in givers]))
        return 0
    finally:
        await conn.close()


async def query(url: str, args: argparse.Namespace, console: Console) -> int:
    conn = await asyncpg.connect(url)
    try:
        result = await questions.console_query(conn, args.tenant, args.sql, row_cap=args.row_cap)
    except asyncpg.PostgresError as exc:
        console.print(f"[red]query refused[/red] ({exc.sqlstate}): {exc}")
        return 1
    finally:
        await conn.close()
    console.print(_table(f"tenant {result.tenant_id}", result.rows, result.columns or None))
    console.print(f"{result.row_count} row(s){' (truncated at the row cap)' if result.truncated else ''}")
    return 0


def main(argv: list[str]) -> int:
    from resonance.localdb import default_url

    parser = argparse.ArgumentParser(prog="resonance analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="target database (default: $DATABASE_URL, else the local cluster)")
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="extract a seeded mock guild and answer the example questions")
    sim.add_argument("--users", type=int, default=50)
    sim.add_argument("--channels", type=int, default=5)
    sim.add_argument("--messages", type=int, default=200, help="messages per channel")
    sim.add_argument("--days", type=int, default=7)
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--tenant", default="simulation")
    sim.add_argument("--batch-size", type=int, default=500)
    sim.add_argument("--no-reactions", action="store_true", help="FETCH_REACTIONS off")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    q = sub.add_parser("query", help="run SQL in the sealed console for one tenant")
    q.add_argument("sql")
    q.add_argument("--tenant", default="simulation")
    q.add_argument("--row-cap", type=int, default=questions.ROW_CAP)
    args = parser.parse_args(argv)
    url = args.database_url or default_url()
    console = Console()
    try:
        if args.command == "simulate":
            return asyncio.run(simulate(url, args, console))
        return asyncio.run(query(url, args, console))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"analytics: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
