"""Stand-ins for Discord in handler-level tests: a Responder that records answers, and a guild (the
outbox's Discord target) that records role changes and messages. The wire itself is tested against
the fake Discord under tests/fakediscord."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from resonance.bot.outbox import PermanentFailure
from resonance.bot.responder import Button, Embed

_ids = itertools.count(1)


@dataclass
class Reply:
    content: str | None
    embed: Embed | None
    ephemeral: bool

    @property
    def text(self) -> str:
        parts = [self.content or ""]
        if self.embed is not None:
            parts += [self.embed.title, self.embed.description]
            parts += [f"{f.name}: {f.value}" for f in self.embed.fields]
        return "\n".join(p for p in parts if p)


@dataclass
class FakeResponder:
    deferred: bool = False
    deferred_ephemeral: bool | None = None
    replies: list[Reply] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)

    async def defer(self, *, ephemeral: bool = True) -> None:
        assert not self.replies, "defer after a reply"
        self.deferred = True
        self.deferred_ephemeral = ephemeral

    async def reply(self, content: str | None = None, *, embed: Embed | None = None, ephemeral: bool = True) -> None:
        self.replies.append(Reply(content, embed, ephemeral))

    async def post(
        self,
        channel_id: str,
        content: str | None = None,
        *,
        embed: Embed | None = None,
        button: Button | None = None,
        reaction: str | None = None,
    ) -> str:
        message_id = str(10**17 + next(_ids))
        self.posts.append(
            {
                "channel_id": channel_id,
                "content": content,
                "embed": embed,
                "button": button,
                "reaction": reaction,
                "message_id": message_id,
            }
        )
        return message_id

    async def delete_post(self, channel_id: str, message_id: str) -> None:
        self.posts = [p for p in self.posts if p["message_id"] != message_id]

    @property
    def last(self) -> Reply:
        assert self.replies, "no reply"
        return self.replies[-1]


@dataclass
class FakeGuild:
    """The outbox's Discord target: records what it was asked to do; can fail on demand."""

    members: dict[str, set[str]] = field(default_factory=dict)
    known_roles: set[str] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    fail_next: list[BaseException] = field(default_factory=list)

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    async def add_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None:
        self.calls.append(("add_role", server_id, user_id, role_id))
        self._maybe_fail()
        if self.known_roles is not None and role_id not in self.known_roles:
            raise PermanentFailure(f"unknown role {role_id}")
        self.members.setdefault(user_id, set()).add(role_id)

    async def remove_role(self, server_id: str, user_id: str, role_id: str, reason: str | None) -> None:
        self.calls.append(("remove_role", server_id, user_id, role_id))
        self._maybe_fail()
        self.members.setdefault(user_id, set()).discard(role_id)

    async def send_message(self, channel_id: str, content: str | None, embed: Embed | None) -> str:
        self.calls.append(("send_message", channel_id))
        self._maybe_fail()
        message_id = str(10**17 + next(_ids))
        self.messages.append({"channel_id": channel_id, "content": content, "embed": embed, "id": message_id})
        return message_id

    async def edit_message(
        self, channel_id: str, message_id: str, content: str | None, embed: Embed | None, button: Button | None
    ) -> None:
        self.calls.append(("edit_message", channel_id, message_id))
        self._maybe_fail()
        self.messages.append(
            {"channel_id": channel_id, "edited": message_id, "content": content, "embed": embed, "button": button}
        )

    async def send_dm(self, user_id: str, content: str | None, embed: Embed | None) -> str:
        self.calls.append(("send_dm", user_id))
        self._maybe_fail()
        message_id = str(10**17 + next(_ids))
        self.messages.append({"user_id": user_id, "content": content, "embed": embed, "id": message_id})
        return message_id
