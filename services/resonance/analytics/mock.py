"""A mock Discord client and a seeded generator with the documented usage patterns.

`create_mock_client(user_count, channel_count, messages_per_channel, days, seed)` builds one guild:
about 60% lurkers (never post; they may react), 3% power users (20x the weight of a regular
member), message times biased toward the (UTC) daytime, 35% of messages replies to a recent message
of the same channel, 15% with @mentions, 20% with reactions. The same seed gives the same guild,
and `client.truth` records what the warehouse must end up holding.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from resonance.analytics.protocols import snowflake_at

WORDS = (
    "the a to and of you it is that in for on with this have just what so like was but not are be "
    "we can do get all one know think good yeah lol really about how would out now time when they "
    "drop role points tip server event stream vote gg nice build ship bug fix patch meme raid"
).split()
CHANNEL_NAMES = ["general", "random", "help", "showcase", "off-topic", "memes", "dev", "events", "music", "art"]
UNICODE_EMOJIS = ["\N{THUMBS UP SIGN}", "\N{HEAVY BLACK HEART}", "\N{FACE WITH TEARS OF JOY}", "\N{PARTY POPPER}", "\N{FIRE}"]


@dataclass
class MockMember:
    id: int
    name: str
    discriminator: str | None = None
    avatar: str | None = None
    bot: bool = False
    nick: str | None = None
    joined_at: datetime | None = None
    kind: str = "regular"  # generator truth: lurker | regular | power


@dataclass(frozen=True)
class MockEmoji:
    id: int | None
    name: str
    animated: bool = False


@dataclass
class MockReaction:
    emoji: MockEmoji
    reactors: list[MockMember]

    async def users(self) -> AsyncIterator[MockMember]:
        for member in self.reactors:
            yield member


@dataclass(frozen=True)
class MockReference:
    message_id: int | None
    resolved_author_id: int | None


@dataclass
class MockMessage:
    id: int
    author: MockMember
    content: str
    created_at: datetime
    edited_at: datetime | None = None
    type: int = 0
    reference: MockReference | None = None
    mentions: list[MockMember] = field(default_factory=list)
    attachment_count: int = 0
    embed_count: int = 0
    reactions: list[MockReaction] = field(default_factory=list)
    reply_to_author_id: int | None = None  # generator truth, whether or not the reference resolved


@dataclass
class MockChannel:
    id: int
    name: str
    client: MockClient
    type: int = 0
    topic: str | None = None
    position: int | None = None
    nsfw: bool = False
    messages: list[MockMessage] = field(default_factory=list)

    def visible(self) -> list[MockMessage]:
        cutoff = self.client.visible_until
        return [m for m in self.messages if cutoff is None or m.created_at <= cutoff]

    async def history(self, *, after: int | None = None, oldest_first: bool = True) -> AsyncIterator[MockMessage]:
        rows = [m for m in self.visible() if after is None or m.id > after]
        rows.sort(key=lambda m: m.id, reverse=not oldest_first)
        for message in rows:
            yield message


@dataclass
class MockGuild:
    id: int
    name: str
    icon: str | None
    owner_id: int | None
    members: list[MockMember]
    text_channels: list[MockChannel]

    @property
    def member_count(self) -> int:
        return len(self.members)


@dataclass
class Truth:
    """What a correct extraction of the visible history must produce (self-interactions excluded from edges)."""

    messages: int
    messages_by_author: Counter
    reply_edges: Counter
    mention_edges: Counter
    reactions_given: Counter
    replies: int
    unresolved_replies: int
    messages_with_reactions: int
    messages_by_day: Counter
    lurkers: set[int]
    power_users: set[int]


class MockClient:
    def __init__(self, guilds: list[MockGuild], now: datetime) -> None:
        self.guilds = guilds
        self.now = now
        self.visible_until: datetime | None = None  # hide messages newer than this (for resume tests)

    def get_guild(self, guild_id: int, /) -> MockGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def messages(self, guild: MockGuild | None = None) -> list[MockMessage]:
        guild = guild or self.guilds[0]
        return [m for c in guild.text_channels for m in c.visible()]

    def edit_message(self, message_id: int, content: str, at: datetime | None = None) -> MockMessage:
        for message in (m for g in self.guilds for c in g.text_channels for m in c.messages):
            if message.id == message_id:
                message.content = content
                message.edited_at = at or (message.created_at + timedelta(minutes=5))
                return message
        raise KeyError(message_id)

    @property
    def truth(self) -> Truth:
        messages = self.messages()
        by_author: Counter = Counter(m.author.id for m in messages)
        replies = [m for m in messages if m.reference is not None]
        reactions_given: Counter = Counter()
        for m in messages:
            for r in m.reactions:
                reactions_given.update(u.id for u in r.reactors)
        members = self.guilds[0].members
        return Truth(
            messages=len(messages),
            messages_by_author=by_author,
            reply_edges=Counter(
                (m.author.id, m.reply_to_author_id) for m in replies if m.author.id != m.reply_to_author_id
            ),
            mention_edges=Counter((m.author.id, u.id) for m in messages for u in m.mentions if u.id != m.author.id),
            reactions_given=reactions_given,
            replies=len(replies),
            unresolved_replies=sum(1 for m in replies if m.reference and m.reference.resolved_author_id is None),
            messages_with_reactions=sum(1 for m in messages if m.reactions),
            messages_by_day=Counter(m.created_at.date() for m in messages),
            lurkers={u.id for u in members if u.kind == "lurker"},
            power_users={u.id for u in members if u.kind == "power"},
        )


def _hour_weights() -> list[float]:
    """Daytime bias: a bump centred on 15:00 UTC over a floor of night activity."""
    return [1.0 + 6.0 * math.exp(-(((h - 15) / 4.0) ** 2)) for h in range(24)]


def create_mock_client(
    user_count: int = 50,
    channel_count: int = 5,
    messages_per_channel: int = 200,
    days: int = 7,
    seed: int = 42,
    now: datetime | None = None,
    *,
    lurker_share: float = 0.60,
    power_share: float = 0.03,
    reply_share: float = 0.35,
    mention_share: float = 0.15,
    reaction_share: float = 0.20,
    unresolved_reply_share: float = 0.2,
) -> MockClient:
    """One seeded guild with the documented patterns (see the module docstring)."""
    rng = random.Random(seed)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - timedelta(days=days)
    base = 10**17 + seed * 10**9

    kinds = ["power"] * max(1, round(user_count * power_share))
    kinds += ["lurker"] * round(user_count * lurker_share)
    kinds += ["regular"] * max(0, user_count - len(kinds))
    kinds = kinds[:user_count]
    rng.shuffle(kinds)
    members = [
        MockMember(
            id=base + 1000 + i,
            name=f"user{i:03d}",
            avatar=f"avatar{i}",
            nick=f"nick{i}" if i % 4 == 0 else None,
            joined_at=start - timedelta(days=30 + i),
            kind=kind,
        )
        for i, kind in enumerate(kinds)
    ]
    posters = [m for m in members if m.kind != "lurker"] or members[:1]
    weights = [20.0 if m.kind == "power" else 1.0 for m in posters]
    custom = MockEmoji(id=base + 900, name="resonance", animated=False)
    emojis = [MockEmoji(None, e) for e in UNICODE_EMOJIS] + [custom]
    hours = _hour_weights()

    guild = MockGuild(
        id=base + 1, name=f"Mock Guild {seed}", icon="icon", owner_id=members[0].id, members=members, text_channels=[]
    )
    client = MockClient([guild], now)
    increment = 0
    for c in range(channel_count):
        channel = MockChannel(
            id=base + 100 + c, name=CHANNEL_NAMES[c % len(CHANNEL_NAMES)] + ("" if c < 10 else str(c)), client=client,
            topic=f"topic {c}", position=c,
        )
        moments = []
        midnight = start.replace(hour=0, minute=0, second=0)
        while len(moments) < messages_per_channel:
            # A UTC calendar day, then an hour drawn with the daytime bias; outside [start, now]: draw again.
            moment = midnight + timedelta(
                days=rng.randrange(days + 1), hours=rng.choices(range(24), weights=hours)[0], seconds=rng.randrange(3600)
            )
            if start <= moment <= now:
                moments.append(moment)
        moments.sort()
        for moment in moments:
            increment += 1
            author = rng.choices(posters, weights=weights)[0]
            words = [rng.choice(WORDS) for _ in range(rng.randint(1, 18))]
            message = MockMessage(
                id=snowflake_at(moment, increment), author=author, content="", created_at=moment,
                attachment_count=1 if rng.random() < 0.05 else 0,
            )
            if channel.messages and rng.random() < reply_share:
                target = rng.choice(channel.messages[-20:])
                resolved = None if rng.random() < unresolved_reply_share else target.author.id
                message.reference = MockReference(target.id, resolved)
                message.reply_to_author_id = target.author.id
                message.type = 19
            if rng.random() < mention_share:
                others = [m for m in members if m.id != author.id]
                message.mentions = rng.sample(others, k=min(len(others), rng.randint(1, 2)))
                words += [f"<@{m.id}>" for m in message.mentions]
            if rng.random() < reaction_share:
                for emoji in rng.sample(emojis, k=rng.randint(1, 2)):
                    message.reactions.append(MockReaction(emoji, rng.sample(members, k=min(len(members), rng.randint(1, 4)))))
            message.content = " ".join(words)
            channel.messages.append(message)
        guild.text_channels.append(channel)
    return client
