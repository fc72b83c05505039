"""A seeded, realistic Discord community: who the members are and what they do each day.

Nothing here touches the database except `setup_server` and `seed_rules` (server configuration,
which a community manager enters with the bot's admin commands, through the same SQL functions). The day plans are pure data, so the
same seed always yields the same community and the same events.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import asyncpg

Archetype = Literal["lurker", "regular", "power", "farmer"]

CHANNELS = ("general", "memes", "help", "showcase", "gm")
BOOSTER_ROLE = "role-booster"
OG_ROLE = "role-og"
VIP_ROLE = "role-vip"  # for sale in /shop
MILESTONES = (("Spark", 150), ("Flame", 600), ("Blaze", 1500))
SYLLABLES = ("ka", "zu", "mi", "ro", "te", "an", "lo", "vi", "ne", "sa", "do", "ri", "el", "ya", "qu", "or", "bi", "fen")

TOPICS = (
    "the new patch", "tonight's stream", "my build", "the tournament", "that boss fight", "the art contest",
    "our next event", "the roadmap", "a bug I found", "the soundtrack", "the meetup", "a speedrun route",
)
OPENERS = ("honestly", "wait,", "ok so", "lol", "fwiw", "question:", "hot take:", "anyone else think", "btw", "ngl")
CLOSERS = ("thoughts?", "anyone?", "so good", "can't wait", "what do you all think", "needs a nerf", "gg", "10/10")
FARM_LINES = ("gm gm gm", "gm fam gm", "gm everyone gm", "good morning gm gm")
EMOJIS = ("🔥", "😂", "👍", "❤️", "🎉", "👀")


@dataclass
class Member:
    user_id: str
    name: str
    archetype: Archetype
    keeps_streak: bool
    friends: list[str] = field(default_factory=list)
    role_ids: list[str] = field(default_factory=list)


@dataclass
class Community:
    server_id: str
    brand_id: str
    members: list[Member]
    seed: int

    def by_id(self) -> dict[str, Member]:
        return {m.user_id: m for m in self.members}


@dataclass(order=True)
class Event:
    at: datetime
    kind: str = field(compare=False)  # message | reaction | voice | checkin | tip | bonus
    user_id: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class DropPlan:
    at: datetime
    max_claims: int
    amount: int
    clickers: list[str]
    channel_id: str = "drops"


@dataclass
class DayPlan:
    day: date
    events: list[Event]
    drops: list[DropPlan]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize() + str(rng.randint(1, 99))


def generate_community(members: int, seed: int, server_id: str = "sim-server", brand_id: str = "sim-brand") -> Community:
    """About 60% lurkers, 3% power users, a few farmers, the rest regulars; friends for tips."""
    rng = random.Random(seed)
    n_power = max(1, round(members * 0.03))
    n_farmers = max(2, round(members * 0.01))
    n_lurkers = round(members * 0.60)
    kinds: list[Archetype] = ["power"] * n_power + ["farmer"] * n_farmers + ["lurker"] * n_lurkers
    kinds += ["regular"] * max(0, members - len(kinds))
    kinds = kinds[:members]
    rng.shuffle(kinds)
    base = 900_000_000_000_000_000 + seed * 1_000_000
    out: list[Member] = []
    for i, kind in enumerate(kinds):
        keeps = rng.random() < {"power": 0.9, "regular": 0.35, "lurker": 0.05, "farmer": 0.8}[kind]
        member = Member(user_id=str(base + i * 7919), name=_name(rng), archetype=kind, keeps_streak=keeps)
        if kind == "power" and rng.random() < 0.6:
            member.role_ids.append(BOOSTER_ROLE)
        if kind in ("power", "regular") and rng.random() < 0.15:
            member.role_ids.append(OG_ROLE)
        out.append(member)
    social = [m for m in out if m.archetype in ("regular", "power")]
    for m in social:
        m.friends = [f.user_id for f in rng.sample(social, k=min(4, len(social))) if f.user_id != m.user_id][:3]
    return Community(server_id=server_id, brand_id=brand_id, members=out, seed=seed)


# Activity peaks in the evening (UTC), with a smaller lunchtime bump.
_HOUR_WEIGHTS = [0.3 + 3.5 * math.exp(-((h - 20) ** 2) / 8.0) + 1.0 * math.exp(-((h - 13) ** 2) / 4.0) for h in range(24)]


def _moment(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
    return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=timezone.utc)


def _content(rng: random.Random) -> str:
    words = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)} is {rng.choice(('wild', 'great', 'underrated', 'broken', 'fun'))}"
    if rng.random() < 0.5:
        words += f", {rng.choice(CLOSERS)}"
    if rng.random() < 0.3:
        words += f" — been thinking about {rng.choice(TOPICS)} since {rng.choice(('yesterday', 'last week', 'forever'))}"
    return words


def plan_day(community: Community, day: date, index: int) -> DayPlan:
    """Everything that happens on one day, time-stamped; deterministic per (seed, day index)."""
    rng = random.Random(community.seed * 10_007 + index)
    events: list[Event] = []
    active: list[Member] = []
    posted: list[tuple[datetime, str, str, str]] = []  # (at, author, channel, message id)
    weekend = day.weekday() >= 5
    for m in community.members:
        p_active = {"lurker": 0.15, "regular": 0.6, "power": 0.97, "farmer": 0.9}[m.archetype] * (1.1 if weekend else 1.0)
        if rng.random() >= p_active:
            continue
        active.append(m)
        if m.archetype == "lurker":
            n_messages = 1 if rng.random() < 0.3 else 0
        elif m.archetype == "regular":
            n_messages = min(25, int(rng.expovariate(1 / 6)))
        elif m.archetype == "power":
            n_messages = rng.randint(25, 50)
        else:
            n_messages = rng.randint(25, 45)
        if m.archetype == "farmer":
            start = _moment(rng, day)
            for k in range(n_messages):
                at = start + timedelta(seconds=20 * k + rng.randint(0, 10))
                if at.date() != day:
                    break
                text = f"{rng.choice(FARM_LINES)} {'!' * rng.randint(0, 2)}".strip()
                events.append(Event(at, "message", m.user_id, {"channel": "gm", "content": text}))
        else:
            for _ in range(n_messages):
                at = _moment(rng, day)
                events.append(Event(at, "message", m.user_id, {"channel": rng.choice(CHANNELS[:4]), "content": _content(rng)}))
        # Voice sessions, mostly in the evening.
        p_voice = {"lurker": 0.02, "regular": 0.15, "power": 0.6, "farmer": 0.0}[m.archetype]
        if rng.random() < p_voice:
            at = datetime.combine(day, time(rng.randint(18, 22), rng.randint(0, 59)), tzinfo=timezone.utc)
            events.append(Event(at, "voice", m.user_id, {"channel": "voice-lounge", "minutes": rng.randint(10, 150)}))
        # Check-ins: streak keepers almost daily, the rest now and then.
        p_checkin = 0.96 if m.keeps_streak else {"lurker": 0.25, "regular": 0.5, "power": 0.8, "farmer": 0.9}[m.archetype]
        if rng.random() < p_checkin:
            at = datetime.combine(day, time(rng.randint(7, 23), rng.randint(0, 59)), tzinfo=timezone.utc)
            events.append(Event(at, "checkin", m.user_id))
        # Tips between friends.
        if m.friends and rng.random() < (0.25 if m.archetype == "power" else 0.08):
            at = _moment(rng, day)
            events.append(Event(at, "tip", m.user_id, {"to": rng.choice(m.friends), "amount": rng.choice((1, 2, 5, 10, 20))}))
        if OG_ROLE in m.role_ids and index in (0, 1):
            events.append(Event(_moment(rng, day), "bonus", m.user_id, {"role": OG_ROLE}))

    # Replies (about 35% of non-farming messages) and reactions (about 20% of messages draw some).
    events.sort()
    counter = 0
    for ev in events:
        if ev.kind != "message":
            continue
        counter += 1
        ev.data["message_id"] = f"{day:%Y%m%d}{index:03d}{counter:06d}"
        if ev.data["channel"] != "gm" and posted and rng.random() < 0.35:
            candidates = [p for p in posted[-40:] if p[1] != ev.user_id]
            if candidates:
                ev.data["reply_to"] = rng.choice(candidates)[1]
        posted.append((ev.at, ev.user_id, ev.data["channel"], ev.data["message_id"]))
    reactions: list[Event] = []
    reactors_pool = [m.user_id for m in active] or [m.user_id for m in community.members]
    for at, author, channel, message_id in posted:
        if rng.random() < 0.20:
            for reactor in rng.sample(reactors_pool, k=min(len(reactors_pool), rng.randint(1, 5))):
                if reactor != author:
                    reactions.append(
                        Event(at + timedelta(seconds=rng.randint(5, 900)), "reaction", reactor,
                              {"author": author, "channel": channel, "message_id": message_id, "emoji": rng.choice(EMOJIS)})
                    )
    events.extend(r for r in reactions if r.at.date() == day)
    events.sort()

    # Drops: one every evening, two on weekends; a crowd of the day's active members stampedes them.
    drops: list[DropPlan] = []
    for k in range(2 if weekend else 1):
        at = datetime.combine(day, time(19 + 2 * k, 0), tzinfo=timezone.utc)
        crowd = [m.user_id for m in active if rng.random() < {"lurker": 0.3, "regular": 0.6, "power": 0.95, "farmer": 0.9}[m.archetype]]
        drops.append(DropPlan(at=at, max_claims=rng.randint(8, 20), amount=25, clickers=crowd))
    return DayPlan(day=day, events=events, drops=drops)


# --------------------------------------------------------------------------------------------- configuration


def drop_args(*, max_claims: int, amount: int, channel_id: str, minutes: int, at: datetime | None = None) -> dict[str, Any]:
    """Named arguments for resonance.create_drop (p_<name>)."""
    base = at or datetime.now(timezone.utc)
    return {
        "drop_type": "button",
        "channel_id": channel_id,
        "max_claims": max_claims,
        "reward_amount": amount,
        "expires_at": base + timedelta(minutes=minutes),
        "at": at,
    }


RULES: tuple[dict[str, Any], ...] = (
    {"event_type": "channel_message", "reward_amount": 2, "cooldown_minutes": 1, "detection_config": {}},
    {"event_type": "message_quality", "reward_amount": 5, "cooldown_minutes": 60,
     "detection_config": {"trigger": "min_length", "min_length": 60}},
    # A second message rule: its own event type (set_event_rule keeps one server rule per type).
    {"event_type": "keyword", "reward_amount": 3, "cooldown_minutes": 24 * 60,
     "detection_config": {"trigger": "keyword", "keywords": ["gm"], "channels": ["gm"]}},
    {"event_type": "reaction_given", "reward_amount": 1, "cooldown_minutes": 0, "detection_config": {}, "max_per_day": 20},
    {"event_type": "reaction_threshold", "reward_amount": 10, "cooldown_minutes": 0,
     "detection_config": {"trigger": "reaction_count", "min_reactions": 3}},
    {"event_type": "voice_session", "reward_amount": 15, "cooldown_minutes": 0, "detection_config": {"min_minutes": 10}},
    {"event_type": "daily_checkin", "reward_amount": 10, "cooldown_minutes": 0, "detection_config": {},
     "rule_metadata": {"streak_bonus": 2}},
)

# The community manager who sets the simulated server up (a Discord id): every change is audited as theirs.
ADMIN_ID = "100000000000000001"


async def seed_rules(
    conn: asyncpg.Connection, server_id: str, brand_id: str | None = None, *, cooldown_hours: int | None = None,
    actor_id: str = ADMIN_ID,
) -> None:
    """The server's monitoring rules, through resonance.set_event_rule (what /rule set calls), so each
    is validated and audited. The server must be linked; `brand_id` is kept for callers and unused
    (the function reads the server's brand). Works on any asyncpg connection (jsonb sent as text)."""
    for rule in RULES:
        cooldown = rule["cooldown_minutes"] // 60 if cooldown_hours is None else cooldown_hours
        metadata = dict(rule.get("rule_metadata", {}))
        if rule.get("max_per_day"):
            metadata["claims_period"] = "day"
        await conn.fetchval(
            """
            SELECT resonance.set_event_rule(
                p_server_id => $1, p_actor_id => $2, p_event_type => $3, p_reward_amount => $4,
                p_cooldown_hours => $5, p_max_claims_per_user => $6, p_detection_config => $7::text::jsonb,
                p_rule_metadata => $8::text::jsonb
            )
            """,
            server_id, actor_id, rule["event_type"], rule["reward_amount"], cooldown, rule.get("max_per_day"),
            _json(rule["detection_config"]), _json(metadata or None),
        )


def _json(value: Any) -> str | None:
    import json

    return None if value is None else json.dumps(value)


async def setup_server(conn: asyncpg.Connection, community: Community) -> None:
    """Set the server up as a community manager would from Discord, through the admin API (the same
    typed calls the bot's /setup, /rule, /role, /milestone and /achievement make): link it to its
    brand, anti-farming, rules, role effects, milestones and achievements; each change audited as
    ADMIN_ID."""
    from resonance.db import setup

    await setup.link_server(conn, community.server_id, community.brand_id, "Simulated Community", actor_id=ADMIN_ID)
    await setup.set_anti_farming(
        conn, community.server_id, actor_id=ADMIN_ID, similarity=0.8, min_words=3, window_minutes=60
    )
    await seed_rules(conn, community.server_id, community.brand_id)
    for role_id, name, effect, config in (
        (BOOSTER_ROLE, "Booster", "multiplier", '{"value": 1.5}'),
        (OG_ROLE, "OG", "one_time_bonus", '{"amount": 100}'),
    ):
        await conn.fetchval(
            "SELECT resonance.set_role_effect($1, $2, $3, $4, $5::text::jsonb, $6)",
            community.server_id, ADMIN_ID, role_id, effect, config, name,
        )
    await setup.set_role_price(conn, community.server_id, VIP_ROLE, 500, actor_id=ADMIN_ID, role_name="VIP")
    for name, threshold in MILESTONES:
        await setup.create_milestone(
            conn, community.server_id, f"role-{name.lower()}", name, [{"type": "rsnc_earned", "threshold": threshold}],
            actor_id=ADMIN_ID, bonus=threshold // 10, description=f"Earn {threshold} RSNC", role_name=name,
        )
    await setup.set_achievement(
        conn, community.server_id, "Chatterbox", "message_count", 100, 50, actor_id=ADMIN_ID, description="100 messages"
    )
    await setup.set_achievement(
        conn, community.server_id, "Regular", "streak_days", 7, 30, actor_id=ADMIN_ID, description="7-day check-in streak"
    )
