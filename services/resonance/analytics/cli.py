"""`resonance analytics sync|simulate|query`.

sync      reads a real guild over Discord's REST API (DISCORD_BOT_TOKEN; SYNC_DAYS, FETCH_REACTIONS)
          into the warehouse: resumable, a progress bar per channel, rate limits respected.
simulate  builds a seeded mock guild (documented patterns) and runs the whole extraction against it,
          then prints the four example questions' answers.
query     runs SQL in the sealed console for one tenant (read-only, RLS, 30 s, 10,000 rows).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


class SyncRefused(Exception):
    """One actionable line for the user; the command exits non-zero."""


async def _tenant_for(conn: asyncpg.Connection, guild_id: int, tenant: str | None) -> str:
    if tenant:
        return tenant
    brand = await conn.fetchval("SELECT brand_id FROM public.discord_server_configs WHERE server_id = $1", str(guild_id))
    if brand is None:
        raise SyncRefused(
            f"guild {guild_id} is not linked to a brand: link it first (resonance.link_server, or /setup in Discord) "
            "or name the tenant with --tenant"
        )
    return str(brand)


async def sync(url: str, args: argparse.Namespace, console: Console) -> int:
    import discord
    from rich.progress import Progress

    from resonance.analytics.extractor import progress_columns
    from resonance.analytics.rest import GuildUnavailable, RateLimitNotices, RestClient, invite_url

    token = (os.environ.get("DISCORD_BOT_TOKEN") or "").strip()
    if not token:
        raise SyncRefused(
            "DISCORD_BOT_TOKEN is not set: copy the bot's token from https://discord.com/developers/applications "
            "(your app > Bot > Reset Token) and export DISCORD_BOT_TOKEN=..."
        )
    try:
        days = args.days if args.days is not None else int(os.environ.get("SYNC_DAYS") or 7)
    except ValueError as exc:
        raise SyncRefused(f"SYNC_DAYS must be a whole number of days, got {os.environ.get('SYNC_DAYS')!r}") from exc
    if days <= 0:
        raise SyncRefused(f"--days/SYNC_DAYS must be at least 1, got {days}")
    reactions = _env_flag("FETCH_REACTIONS", True) and not args.no_reactions
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SyncRefused(f"cannot reach the database ({exc}): set DATABASE_URL or start the local one with `resonance db up`") from exc
    try:
        tenant = await _tenant_for(conn, args.guild, args.tenant)
        try:
            client = await RestClient.login(token, api_base=os.environ.get("RESONANCE_DISCORD_API_BASE"))
        except discord.LoginFailure as exc:
            raise SyncRefused(
                "Discord refused DISCORD_BOT_TOKEN (401 Unauthorized): reset the token in the Developer Portal "
                "(your app > Bot > Reset Token) and export the new one"
            ) from exc
        except (discord.HTTPException, OSError) as exc:
            raise SyncRefused(f"cannot log in to Discord: {exc}") from exc
        try:
            try:
                guild = await client.fetch_guild(args.guild)
            except GuildUnavailable as exc:
                raise SyncRefused(
                    f"the bot is not in guild {args.guild} (Discord answered {exc}): invite it with "
                    f"{invite_url(client.application_id)} and run the sync again"
                ) from exc
            console.print(
                f"syncing [bold]{guild.name}[/bold] ({guild.id}) for tenant [bold]{tenant}[/bold]: last {days} day(s), "
                f"{len(guild.text_channels)} text channel(s), reactions {'on' if reactions else 'off'}",
                soft_wrap=True,
            )
            with Progress(*progress_columns(), console=console, disable=args.quiet, transient=False) as bar:
                status = bar.add_task("rate limits", total=None, visible=False)

                def notice(text: str) -> None:
                    bar.update(status, description=f"rate limited: {text}"[:60], visible=True)

                with RateLimitNotices(notice) as waits:
                    stats = await run_extraction(
                        client.serving(guild), conn, guild.id, tenant, sync_days=days, fetch_reactions=reactions,
                        batch_size=args.batch_size, full=args.full, progress=bar,
                    )
        except discord.HTTPException as exc:
            raise SyncRefused(f"Discord answered {exc.status} during the sync: {exc.text}; run it again to resume") from exc
        finally:
            await client.close()
    finally:
        await conn.close()
    console.print(
        f"synced guild {guild.id} for tenant {tenant!r}: {stats.channels} channel(s), {stats.messages_seen} messages "
        f"read ({stats.messages_inserted} new, {stats.messages_updated} updated), {stats.reactions_added} reactions, "
        f"{stats.mentions_added} mentions, {stats.batches} batches in {stats.seconds:.1f} s; "
        f"{waits.waits} rate-limit wait(s); {len(stats.skipped)} skipped",
        soft_wrap=True,
    )
    return 0


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
    sy = sub.add_parser("sync", help="read a real guild over Discord's REST API into the warehouse (DISCORD_BOT_TOKEN)")
    sy.add_argument("--guild", type=int, required=True, help="the guild (server) id")
    sy.add_argument("--days", type=int, help="days of history (default: $SYNC_DAYS, else 7)")
    sy.add_argument("--no-reactions", action="store_true", help="skip reaction users (FETCH_REACTIONS=false does the same)")
    sy.add_argument("--tenant", help="the warehouse tenant (default: the brand the guild is linked to)")
    sy.add_argument("--full", action="store_true", help="ignore the resume points: re-read the whole window (picks up old edits)")
    sy.add_argument("--batch-size", type=int, default=500)
    sy.add_argument("--quiet", action="store_true", help="no progress bar")
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
        if args.command == "sync":
            return asyncio.run(sync(url, args, console))
        if args.command == "simulate":
            return asyncio.run(simulate(url, args, console))
        return asyncio.run(query(url, args, console))
    except SyncRefused as exc:
        print(f"analytics sync: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("analytics: interrupted; committed batches are kept, run the sync again to resume", file=sys.stderr)
        return 130
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"analytics: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
