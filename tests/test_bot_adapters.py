"""The discord.py edge: cogs turn (fake) gateway objects into the plain models the handlers take,
and the outbox's Discord target drives (fake) members and channels."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from resonance.bot.cogs import ClientTarget, Listeners
from resonance.bot.models import time_snowflake
from resonance.bot.outbox import PermanentFailure
from resonance.bot.responder import Embed

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def role(role_id: int, default: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id=role_id, name=f"r{role_id}", is_default=lambda: default)


def member(user_id: int, *roles: int, bot: bool = False, guild_id: int = 1) -> SimpleNamespace:
    return SimpleNamespace(id=user_id, bot=bot, roles=[role(guild_id, default=True), *(role(r) for r in roles)],
                           guild=SimpleNamespace(id=guild_id))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any) -> None:
            self.events.append((name, args if len(args) > 1 else args[0]))
        return record


def cog(**bot_attrs: Any) -> tuple[Listeners, Recorder]:
    rec = Recorder()
    bot = SimpleNamespace(handlers=rec, cached_messages=[], guilds=[], **bot_attrs)
    return Listeners(bot), rec  # type: ignore[arg-type]


async def test_message_becomes_a_message_event() -> None:
    listeners, rec = cog()
    message_id = time_snowflake(T0, 3)
    replied = SimpleNamespace(author=SimpleNamespace(id=22))
    msg = SimpleNamespace(guild=SimpleNamespace(id=1), author=member(11, 5, 6), webhook_id=None, id=message_id,
                          channel=SimpleNamespace(id=4), content="hi there",
                          reference=SimpleNamespace(resolved=None, cached_message=replied))
    await listeners.on_message(msg)
    await listeners.on_message(SimpleNamespace(**{**msg.__dict__, "author": member(12, bot=True)}))
    await listeners.on_message(SimpleNamespace(**{**msg.__dict__, "guild": None}))
    ((name, event),) = rec.events
    assert name == "on_message"
    assert (event.server_id, event.channel_id, event.user_id, event.content) == ("1", "4", "11", "hi there")
    assert event.role_ids == ["5", "6"] and event.reply_to_user_id == "22" and event.occurred_at == T0


async def test_raw_reaction_takes_the_author_from_the_event() -> None:
    listeners, rec = cog()
    payload = SimpleNamespace(guild_id=1, channel_id=4, message_id=77, user_id=11, message_author_id=22,
                              member=member(11, 5), emoji="🔥")
    await listeners.on_raw_reaction_add(payload)
    await listeners.on_raw_reaction_add(SimpleNamespace(**{**payload.__dict__, "guild_id": None}))
    await listeners.on_raw_reaction_add(SimpleNamespace(**{**payload.__dict__, "member": member(11, bot=True)}))
    ((_, event),) = rec.events
    assert (event.reactor_id, event.author_id, event.message_id, event.emoji, event.role_ids) == \
        ("11", "22", "77", "🔥", ["5"])


async def test_raw_reaction_author_from_the_message_cache() -> None:
    cached = SimpleNamespace(id=77, author=SimpleNamespace(id=33))
    listeners, rec = cog()
    listeners.bot.cached_messages = [cached]
    payload = SimpleNamespace(guild_id=1, channel_id=4, message_id=77, user_id=11, message_author_id=None,
                              member=member(11), emoji="👍")
    await listeners.on_raw_reaction_add(payload)
    assert rec.events[0][1].author_id == "33"


async def test_voice_member_join_and_role_changes() -> None:
    listeners, rec = cog()
    m = member(11, 5)
    await listeners.on_voice_state_update(m, SimpleNamespace(channel=None), SimpleNamespace(channel=SimpleNamespace(id=9)))
    joined = SimpleNamespace(**{**member(12).__dict__, "joined_at": T0})
    await listeners.on_member_join(joined)
    await listeners.on_member_update(member(11, 5), member(11, 5, 7, 8))
    await listeners.on_member_update(member(11, 5), member(11, 5))
    (v, j, roles) = (e for _, e in rec.events)
    assert (v.before_channel_id, v.after_channel_id, v.user_id, v.role_ids) == (None, "9", "11", ["5"])
    assert (j.user_id, j.joined_at) == ("12", T0)
    assert roles.added_role_ids == ["7", "8"] and roles.role_ids == ["5", "7", "8"]


async def test_ready_recovers_voice_per_guild() -> None:
    listeners, rec = cog()
    guild = SimpleNamespace(id=1, voice_channels=[SimpleNamespace(id=9, members=[member(11, 5), member(99, bot=True)])],
                            stage_channels=[])
    listeners.bot.guilds = [guild]

    async def recover_voice(server_id: str, in_voice: dict, now: datetime, roles: dict) -> dict:
        rec.events.append(("recover", (server_id, in_voice, roles)))
        return {"credited": 0, "closed": 0, "opened": 1}

    rec.recover_voice = recover_voice  # type: ignore[attr-defined]
    await listeners.on_ready()
    assert rec.events == [("recover", ("1", {"11": "9"}, {"11": ["5"]}))]


class FakeDiscordMember:
    def __init__(self) -> None:
        self.added: list[Any] = []
        self.removed: list[Any] = []

    async def add_roles(self, r: Any, reason: str | None = None) -> None:
        self.added.append((r.id, reason))

    async def remove_roles(self, r: Any, reason: str | None = None) -> None:
        self.removed.append((r.id, reason))


async def test_client_target_applies_roles_and_posts() -> None:
    m = FakeDiscordMember()
    sent: list[dict] = []

    class Channel:
        async def send(self, content: str | None = None, embed: Any = None) -> Any:
            sent.append({"content": content, "embed": embed})
            return SimpleNamespace(id=555)

    guild = SimpleNamespace(get_role=lambda rid: role(rid) if rid == 7 else None, get_member=lambda uid: m)
    client = SimpleNamespace(get_guild=lambda gid: guild if gid == 1 else None, get_channel=lambda cid: Channel())
    target = ClientTarget(client)  # type: ignore[arg-type]
    await target.add_role("1", "11", "7", "milestone")
    await target.remove_role("1", "11", "7", None)
    assert m.added == [(7, "milestone")] and m.removed == [(7, None)]
    with pytest.raises(PermanentFailure):
        await target.add_role("1", "11", "8", None)
    with pytest.raises(PermanentFailure):
        await target.add_role("2", "11", "7", None)
    assert await target.send_message("4", None, Embed(title="Weekly report")) == "555"
    assert sent[0]["embed"].title == "Weekly report"
