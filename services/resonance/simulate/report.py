"""The simulation report: what happened, read back from the database, and a PNG chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from resonance.db import connect, engine, ledger
from resonance.db.models import KPI_METRICS
from resonance.simulate.community import Community
from resonance.simulate.runner import SimStats

KPI_SHORT = {
    "daily_active_users": "DAU",
    "weekly_active_users": "WAU",
    "streak_retention": "streak ret.",
    "new_user_conversion": "new conv.",
    "voice_participation": "voice part.",
    "reward_efficiency": "reward eff.",
    "churn_rate": "churn",
    "top_10_concentration": "top-10 conc.",
}


@dataclass
class Report:
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    daily: list[dict[str, Any]] = field(default_factory=list)
    drops: list[dict[str, Any]] = field(default_factory=list)
    tips: dict[str, Any] = field(default_factory=dict)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    achievements: list[dict[str, Any]] = field(default_factory=list)
    farming: dict[str, Any] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, Any] = field(default_factory=dict)
    chart: str | None = None

    @property
    def ledger_ok(self) -> bool:
        return bool(self.ledger.get("reconcile_empty") and self.ledger.get("sum_matches"))


async def build_report(url: str, community: Community, stats: SimStats, chart_path: Path | None) -> Report:
    names = {m.user_id: m.name for m in community.members}
    kinds = {m.user_id: m.archetype for m in community.members}
    s = community.server_id
    report = Report()
    conn = await connect(url)
    try:
        for entry in await engine.leaderboard(conn, s, "all", 10):
            row = entry.model_dump()
            row["name"] = names.get(entry.discord_user_id, entry.discord_user_id)
            row["archetype"] = kinds.get(entry.discord_user_id, "?")
            report.leaderboard.append(row)

        for r in await conn.fetch(
            "SELECT snapshot_date, metrics FROM public.discord_kpi_snapshots WHERE server_id = $1 AND snapshot_type = 'daily' ORDER BY snapshot_date",
            s,
        ):
            report.kpis.append({"day": r["snapshot_date"], **(r["metrics"] or {})})

        for r in await conn.fetch(
            """
            SELECT activity_date AS day, count(*) FILTER (WHERE messages_count + voice_minutes + reactions_given + checkins
                                                               + drops_claimed > 0) AS active,
                   sum(messages_count) AS messages, sum(rsnc_earned) AS rsnc
            FROM resonance.daily_activity WHERE server_id = $1 AND activity_date = ANY($2::date[])
            GROUP BY activity_date ORDER BY activity_date
            """,
            s, stats.days,
        ):
            report.daily.append(dict(r))

        for d in stats.drops:
            db_row = await conn.fetchrow(
                "SELECT claims_count, (SELECT count(*) FROM public.discord_drop_claims AS c WHERE c.drop_id = d.drop_id) AS claim_rows"
                " FROM public.discord_drops AS d WHERE d.drop_id = $1::uuid",
                d.drop_id,
            )
            report.drops.append({
                "at": d.at, "max_claims": d.max_claims, "clicks": d.clicks, "winners": d.winners,
                "statuses": dict(d.statuses), "claims_count": db_row["claims_count"], "claim_rows": db_row["claim_rows"],
            })

        tip_row = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(sum(amount), 0) AS total, count(DISTINCT sender) AS senders FROM tipping.tips WHERE server_id = $1",
            s,
        )
        top = await conn.fetchrow(
            "SELECT sender, sum(amount) AS total FROM tipping.tips WHERE server_id = $1 GROUP BY sender ORDER BY 2 DESC, 1 LIMIT 1", s
        )
        report.tips = {
            "sent": tip_row["n"], "total": tip_row["total"], "senders": tip_row["senders"],
            "skipped_no_funds": stats.tips_skipped_no_funds, "declined": dict(stats.tips_declined),
            "top_tipper": names.get(top["sender"], top["sender"]) if top else None, "top_total": top["total"] if top else 0,
        }

        for r in await conn.fetch(
            """
            SELECT c.discord_role_name AS milestone, c.assignment_config #> '{criteria,0,threshold}' AS threshold,
                   count(a.id) FILTER (WHERE a.removed_at IS NULL) AS members
            FROM public.discord_role_configs AS c
            LEFT JOIN public.discord_role_assignments AS a
                   ON a.server_id = c.server_id AND a.discord_role_id = c.discord_role_id
            WHERE c.server_id = $1 AND c.assignment_type = 'milestone'
            GROUP BY c.discord_role_name, c.assignment_config ORDER BY (c.assignment_config #>> '{criteria,0,threshold}')::numeric
            """,
            s,
        ):
            report.milestones.append(dict(r))
        report.activity = {
            "calls": dict(stats.calls),
            "statuses": {f"{k[0]}:{k[1]}": v for k, v in sorted(stats.statuses.items())},
            "one_time_bonus": dict(stats.bonus),
            "retries": stats.retries,
            "role_outbox": await conn.fetchval("SELECT count(*) FROM resonance.outbox WHERE server_id = $1 AND kind = 'add_role'", s),
        }
        farmer_total = sum(stats.farmer_messages.values())
        farmer_paid = stats.farmer_messages.get("rewarded", 0)
        report.farming = {
            "farmers": sum(1 for m in community.members if m.archetype == "farmer"),
            "messages": farmer_total,
            "statuses": dict(stats.farmer_messages),
            "not_rewarded": farmer_total - farmer_paid,
            "farmer_rsnc": await conn.fetchval(
                "SELECT coalesce(sum(rsnc_earned), 0) FROM public.discord_user_stats WHERE server_id = $1 AND discord_user_id = ANY($2::text[])",
                s, [m.user_id for m in community.members if m.archetype == "farmer"],
            ),
            "farmer_message_rsnc": await conn.fetchval(
                """
                SELECT coalesce(sum(amount), 0) FROM resonance.reward_ledger
                WHERE server_id = $1 AND discord_user_id = ANY($2::text[])
                  AND event_type IN ('channel_message', 'message', 'message_quality', 'keyword')
                """,
                s, [m.user_id for m in community.members if m.archetype == "farmer"],
            ),
        }
        report.achievements = [
            dict(r)
            for r in await conn.fetch(
                """
                SELECT a.name, a.threshold, count(u.completed_at) AS members
                FROM public.discord_achievements AS a
                LEFT JOIN public.discord_user_achievements AS u ON u.achievement_id = a.achievement_id AND u.completed_at IS NOT NULL
                WHERE a.server_id = $1 GROUP BY a.name, a.threshold ORDER BY a.name
                """,
                s,
            )
        ]

        problems = await ledger.reconcile(conn)
        sums = await conn.fetchrow(
            """
            SELECT (SELECT coalesce(sum(amount), 0) FROM tipping.balances WHERE currency = 'RSNC') AS balances,
                   coalesce(sum(amount) FILTER (WHERE sender_id IS NULL), 0) AS minted,
                   coalesce(sum(amount) FILTER (WHERE recipient_id IS NULL), 0) AS burned
            FROM tipping.transactions WHERE currency = 'RSNC' AND status = 'completed'
            """
        )
        report.ledger = {
            "reconcile_rows": len(problems),
            "reconcile_empty": not problems,
            "reconcile_sample": problems[:3],
            "balances": sums["balances"],
            "minted": sums["minted"],
            "burned": sums["burned"],
            "sum_matches": sums["balances"] == sums["minted"] - sums["burned"],
            "earned_in_stats": await conn.fetchval(
                "SELECT coalesce(sum(rsnc_earned), 0) FROM public.discord_user_stats WHERE server_id = $1", s
            ),
        }
    finally:
        await conn.close()
    if chart_path is not None and report.daily:
        report.chart = str(write_chart(report.daily, chart_path))
    return report


def write_chart(daily: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [r["day"] for r in daily]
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    series = (
        ("daily active members", [r["active"] for r in daily], "#4c72b0"),
        ("messages", [int(r["messages"] or 0) for r in daily], "#55a868"),
        ("RSNC earned", [float(r["rsnc"] or 0) for r in daily], "#c44e52"),
    )
    for ax, (label, values, color) in zip(axes, series):
        ax.bar(days, values, color=color)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("Simulated community, per UTC day")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int,)):
        return f"{value:,}"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{f:,.{digits}f}" if f != int(f) else f"{int(f):,}"


def print_report(report: Report, community: Community, stats: SimStats, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:
        console = Console(width=140)  # piped or captured: room for the full tables
    arche = {k: sum(1 for m in community.members if m.archetype == k) for k in ("lurker", "regular", "power", "farmer")}
    calls = sum(stats.calls.values())
    console.rule("[bold]Resonance demo report")
    console.print(
        f"{len(community.members)} members ({arche['lurker']} lurkers, {arche['regular']} regulars, {arche['power']} power users, "
        f"{arche['farmer']} farmers), {len(stats.days)} days, seed {community.seed}: {calls:,} calls in {stats.seconds} s"
        + (f", {stats.retries} retried after a deadlock" if stats.retries else "")
    )

    t = Table(title="Leaderboard (RSNC earned)")
    for col in ("#", "member", "kind", "RSNC"):
        t.add_column(col, justify="right" if col in ("#", "RSNC") else "left")
    for i, row in enumerate(report.leaderboard, start=1):
        t.add_row(str(row.get("rank") or i), row["name"], row["archetype"], _num(row.get("rsnc_earned")))
    console.print(t)

    t = Table(title="Activity and KPIs per day (snapshot_kpis)")
    t.add_column("day")
    for col in ("active", "messages", "RSNC"):
        t.add_column(col, justify="right")
    for metric in KPI_METRICS:
        t.add_column(KPI_SHORT[metric], justify="right")
    kpi_by_day = {k["day"]: k for k in report.kpis}
    for d in report.daily:
        k = kpi_by_day.get(d["day"], {})
        t.add_row(
            d["day"].isoformat(), _num(d["active"]), _num(d["messages"]), _num(d["rsnc"], 0),
            *(_num(k.get(m), 3) for m in KPI_METRICS),
        )
    console.print(t)

    t = Table(title="Drops (a crowd clicks at once)")
    for col in ("when (UTC)", "max", "clicks", "winners", "claims in DB", "other outcomes"):
        t.add_column(col, justify="left" if col in ("when (UTC)", "other outcomes") else "right")
    for d in report.drops:
        others = ", ".join(f"{k} {v}" for k, v in sorted(d["statuses"].items()) if k != "claimed")
        t.add_row(f"{d['at']:%Y-%m-%d %H:%M}", str(d["max_claims"]), str(d["clicks"]), str(d["winners"]), str(d["claim_rows"]), others)
    console.print(t)
    over = sum(max(0, d["claim_rows"] - d["max_claims"]) for d in report.drops)
    console.print(f"drops: {len(report.drops)}, clicks {sum(d['clicks'] for d in report.drops)}, "
                  f"winners {sum(d['winners'] for d in report.drops)}, over-claims {over}")

    tp = report.tips
    console.print(
        f"[bold]Tips[/]: {tp['sent']} tips, {_num(tp['total'])} RSNC from {tp['senders']} members; top tipper {tp['top_tipper']} "
        f"({_num(tp['top_total'])} RSNC); skipped for lack of funds {tp['skipped_no_funds']}"
        + (f"; declined {tp['declined']}" if tp["declined"] else "")
    )
    ms = ", ".join(f"{m['milestone']} ({_num(m['threshold'])} RSNC): {m['members']}" for m in report.milestones)
    console.print(f"[bold]Milestones reached[/]: {ms or 'none configured'}; role grants queued in the outbox: {report.activity['role_outbox']}")
    if report.achievements:
        console.print("[bold]Achievements completed[/]: " + ", ".join(f"{a['name']}: {a['members']}" for a in report.achievements))
    if report.activity["one_time_bonus"]:
        console.print(f"[bold]One-time bonuses[/]: {report.activity['one_time_bonus']}")
    fm = report.farming
    console.print(
        f"[bold]Farming blocked[/]: {fm['farmers']} farmers sent {fm['messages']} near-identical messages: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(fm['statuses'].items()))} "
        f"(messages paid them {_num(fm['farmer_message_rsnc'])} of their {_num(fm['farmer_rsnc'])} RSNC)"
    )
    lg = report.ledger
    verdict = "[green]OK[/]" if report.ledger_ok else "[red]FAILED[/]"
    console.print(
        f"[bold]Ledger check[/] {verdict}: tipping.reconcile() returned {lg['reconcile_rows']} rows; "
        f"sum of balances {_num(lg['balances'])} = minted {_num(lg['minted'])} - burned {_num(lg['burned'])}: {lg['sum_matches']}"
    )
    if report.chart:
        console.print(f"chart: {report.chart}")


def as_jsonable(report: Report) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return v

    return conv(report.__dict__)


__all__ = ["Report", "build_report", "print_report", "write_chart", "as_jsonable", "asyncpg"]


def print_dashboard_hint(url: str, brand_id: str, days: int = 7) -> None:
    """How to open the dashboard (`resonance web`) on this database, with a token minted for the demo's brand."""
    import secrets
    import time

    import jwt
    from rich.console import Console

    secret = secrets.token_urlsafe(32)
    now = int(time.time())
    claims = {"sub": "demo-manager", "role": "authenticated", "iat": now, "exp": now + days * 86400,
              "app_metadata": {"brand_id": brand_id}}
    token = jwt.encode(claims, secret, algorithm="HS256")
    Console(width=200).print(
        "\n[bold]Dashboard[/]: serve this database and sign in as the demo's brand "
        f"([bold]{brand_id}[/], token valid {days} days):\n"
        f"  RESONANCE_WEB_JWT_SECRET='{secret}' RESONANCE_WEB_DISCORD=mock \\\n"
        f"    .venv/bin/resonance web --port 8000 --database-url '{url}'\n"
        "  then open http://127.0.0.1:8000/signin and paste this token:\n"
        f"  {token}",
        soft_wrap=True, highlight=False,
    )
