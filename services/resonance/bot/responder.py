"""How handlers answer: a small protocol the discord.py adapter and the test fakes both implement."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

GREEN = 0x2ECC71
BLUE = 0x3498DB
ORANGE = 0xE67E22
RED = 0xE74C3C
GOLD = 0xF1C40F
GREY = 0x95A5A6


class EmbedField(BaseModel):
    name: str
    value: str
    inline: bool = True


class Embed(BaseModel):
    """A Discord embed, described without discord.py (the adapter converts it)."""

    title: str
    description: str = ""
    color: int = BLUE
    fields: list[EmbedField] = Field(default_factory=list)
    footer: str | None = None

    def add(self, name: str, value: object, inline: bool = True) -> Embed:
        self.fields.append(EmbedField(name=name, value=str(value), inline=inline))
        return self


class Button(BaseModel):
    """A persistent button: its custom_id carries everything a click needs after a restart."""

    custom_id: str
    label: str
    emoji: str | None = None
    disabled: bool = False


class Responder(Protocol):
    async def defer(self, *, ephemeral: bool = True) -> None:
        """Acknowledge now (Discord's 3-second deadline), answer later."""

    async def reply(self, content: str | None = None, *, embed: Embed | None = None, ephemeral: bool = True) -> None:
        """Answer the interaction (a follow-up when already deferred)."""

    async def post(
        self,
        channel_id: str,
        content: str | None = None,
        *,
        embed: Embed | None = None,
        button: Button | None = None,
        reaction: str | None = None,
    ) -> str:
        """Post a public message in a channel (a drop, a report) and return its id. All or nothing: when
        the reaction cannot be added (an unknown emoji) the message is deleted again and the error raised."""

    async def delete_post(self, channel_id: str, message_id: str) -> None:
        """Delete a message this responder posted (compensation when the rest of a command failed)."""
