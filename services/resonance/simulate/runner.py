"""Drive the typed layer with a simulated community, with real concurrency (one asyncpg pool)."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg

from resonance.db import create_pool, drops, engine, kpis, ledger
from resonance.db._call import MissingFunctionError, exists
from resonance.simulate.community import ADMIN_ID, Community, DayPlan, DropPlan, Event, drop_args, generate_community, plan_day, setup_server

REQUIRED = (
    "resonance.record_message",
    "resonance.record_reaction",
    "resonance.record_voice",
    "resonance.daily_checkin",
    "resonance.create_drop",
    "resonance.claim_drop",
    "resonance.claim_one_time_bonus",
    "resonance.create_milestone",
    "resonance.link_server",
    "resonance.set_anti_farming",
    "resonance.set_event_rule",
    "resonance.set_role_effect",
    "resonance.set_role_assignment",
    "resonance.set_achievement",
    "resonance.leaderboard",
    "resonance.snapshot_kpis",
    "tipping.tip",
    "tipping.balance",
    "tipping.reconcile",
)

RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


@dataclass
class DropOutcome:
    drop_id: str
    at: datetime
    max_claims: int
    clicks: int
    statuses: Counter = field(default_factory=Counter)

    @property
    def winners(self) -> int:
        return self.statuses.get("claimed", 0)


@dataclass
class SimStats:
    days: list[date] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # kind -> calls
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> n
    farmer_messages: Counter = field(default_factory=Counter)  # status -> n
    drops: list[DropOutcome] = field(default_factory=list)
    tips_sent: int = 0
    tips_amount: Decimal = Decimal(0)
    tips_skipped_no_funds: int = 0
    tips_declined: Counter = field(default_factory=Counter)  # sqlstate -> n
    bonus: Counter = field(default_factory=Counter)
    retries: int = 0
    snapshots: int = 0
    seconds: float = 0.0


async def missing_functions(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [f for f in REQUIRED if not await exists(conn, f)]


class Simulator:
    def __init__(self, pool: asyncpg.Pool, community: Community, progress: Any = None, task: Any = None) -> None:
        self.pool = pool
        self.community = community
        self.members = community.by_id()
        self.stats = SimStats()
        self.progress = progress
        self.task = task

    def _advance(self, n: int = 1) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, n)

    async def _retry(self, fn, *args, **kwargs):
        for attempt in range(5):
            try:
                return await fn(self.pool, *args, **kwargs)
            except RETRYABLE:
                self.stats.retries += 1
                await asyncio.sleep(0.01 * (attempt + 1))
        return await fn(self.pool, *args, **kwargs)

    async def run_event(self, ev: Event) -> None:
        s = self.community.server_id
        member = self.members[ev.user_id]
        roles = member.role_ids
        self.stats.calls[ev.kind] += 1
        if ev.kind == "message":
            result = await self._retry(
                engine.record_message, s, ev.user_id, ev.data["channel"], ev.data["message_id"], ev.data["content"],
                roles, ev.data.get("reply_to"), ev.at,
            )
            self.stats.statuses[("message", result.status)] += 1
            if member.archetype == "farmer":
                self.stats.farmer_messages[result.status] += 1
        elif ev.kind == "reaction":
            result = await self._retry(
                engine.record_reaction, s, ev.user_id, ev.data["author"], ev.data["channel"], ev.data["message_id"],
                ev.data["emoji"], roles, ev.at,
            )
            self.stats.statuses[("reaction", result.status)] += 1
        elif ev.kind == "voice":
            session = f"voice-{ev.user_id}-{ev.at:%Y%m%d%H%M}"
            result = await self._retry(engine.record_voice, s, ev.user_id, ev.data["channel"], session, ev.data["minutes"], roles, ev.at)
            self.stats.statuses[("voice", result.status)] += 1
        elif ev.kind == "checkin":
            result = await self._retry(engine.daily_checkin, s, ev.user_id, roles, ev.at)
            self.stats.statuses[("checkin", result.status)] += 1
        elif ev.kind == "bonus":
            result = await self._retry(drops.claim_one_time_bonus, s, ev.user_id, ev.data["role"], roles)
            self.stats.bonus[result.status] += 1
        elif ev.kind == "tip":
            await self.tip(ev)
        self._advance()

    async def tip(self, ev: Event) -> None:
        amount = Decimal(ev.data["amount"])
        have = await ledger.balance(self.pool, ev.user_id)
        if have < amount:
            self.stats.tips_skipped_no_funds += 1
            return
        try:
            await self._retry(ledger.tip, ev.user_id, ev.data["to"], amount, "RSNC", self.community.server_id, f"sim-tip-{self.community.server_id}-{ev.user_id}-{ev.at.timestamp():.0f}")
        except asyncpg.PostgresError as exc:
            if not str(getattr(exc, "sqlstate", "")).startswith("RT"):
                raise
            self.stats.tips_declined[exc.sqlstate] += 1
            return
        self.stats.tips_sent += 1
        self.stats.tips_amount += amount

    async def run_member_events(self, events: list[Event]) -> None:
        for ev in events:
            await self.run_event(ev)

    async def run_bucket(self, events: list[Event]) -> None:
        """Members act concurrently; one member's own events stay in order."""
        per_member: dict[str, list[Event]] = defaultdict(list)
        for ev in events:
            per_member[ev.user_id].append(ev)
        await asyncio.gather(*(self.run_member_events(evs) for evs in per_member.values()))

    async def stampede(self, plan: DropPlan) -> None:
        """Create a drop, then let the whole crowd click at once."""
        async with self.pool.acquire() as conn:
            # As /drop create does: the community manager creates it (and is its audited actor).
            drop_id = await drops.create_drop(
                conn, self.community.server_id,
                **drop_args(max_claims=plan.max_claims, amount=plan.amount, channel_id=plan.channel_id, minutes=15, at=plan.at),
                created_by=ADMIN_ID,
            )
        outcome = DropOutcome(drop_id=str(drop_id), at=plan.at, max_claims=plan.max_claims, clicks=len(plan.clickers))

        async def click(user_id: str, k: int) -> None:
            at = plan.at + timedelta(milliseconds=200 + 37 * k)
            result = await self._retry(drops.claim_drop, drop_id, user_id, self.members[user_id].role_ids, at)
            outcome.statuses[result.status] += 1
            self._advance()

        await asyncio.gather(*(click(u, k) for k, u in enumerate(plan.clickers)))
        self.stats.calls["claim"] += len(plan.clickers)
        self.stats.drops.append(outcome)

    async def run_day(self, plan: DayPlan) -> None:
        buckets: dict[int, list[Event]] = defaultdict(list)
        for ev in plan.events:
            buckets[ev.at.hour].append(ev)
        drop_hours: dict[int, list[DropPlan]] = defaultdict(list)
        for d in plan.drops:
            drop_hours[d.at.hour].append(d)
        for hour in range(24):
            if buckets.get(hour):
                await self.run_bucket(buckets[hour])
            for d in drop_hours.get(hour, []):
                await self.stampede(d)
        self.stats.days.append(plan.day)


async def simulate(
    url: str,
    *,
    members: int = 300,
    days: int = 14,
    seed: int = 42,
    concurrency: int = 12,
    progress: bool = True,
    end_day: date | None = None,
) -> tuple[Community, SimStats]:
    """Simulate `days` UTC days ending yesterday (or `end_day`), then snapshot KPIs for each day."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    community = generate_community(members, seed)
    last = end_day or (datetime.now(timezone.utc).date() - timedelta(days=1))
    day_list = [last - timedelta(days=days - 1 - i) for i in range(days)]
    plans = [plan_day(community, d, i) for i, d in enumerate(day_list)]
    total = sum(len(p.events) + sum(len(d.clickers) for d in p.drops) for p in plans)
    pool = await create_pool(url, min_size=2, max_size=concurrency)
    try:
        missing = await missing_functions(pool)
        if missing:
            raise MissingFunctionError(", ".join(missing), "the simulator needs every one of them; merge main and migrate")
        async with pool.acquire() as conn:
            taken = await conn.fetchval(
                "SELECT count(*) FROM public.discord_server_configs WHERE server_id LIKE $1 || '%'", community.server_id
            )
            if taken:  # a database simulated into before: a server of our own beside the old ones
                community.server_id = f"{community.server_id}-{taken + 1}"
            await setup_server(conn, community)
        bar = Progress(
            TextColumn("[bold]simulating[/] {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            disable=not progress, transient=False,
        )
        with bar:
            task = bar.add_task(f"{members} members, {days} days", total=total)
            sim = Simulator(pool, community, bar, task)
            for plan in plans:
                bar.update(task, description=f"{members} members, day {plan.day}")
                await sim.run_day(plan)
        for d in day_list:
            sim.stats.snapshots += await kpis.snapshot_kpis(pool, d)
    finally:
        await pool.close()
    sim.stats.seconds = round(time.perf_counter() - started, 1)
    return community, sim.stats
