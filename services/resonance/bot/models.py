"""Plain models the handlers take: what an adapter extracts from a discord.py object."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int | str) -> datetime:
    """The creation time a Discord snowflake encodes (ms since the Discord epoch, in its top 42 bits)."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def time_snowflake(at: datetime, low: int = 0) -> int:
    """The smallest snowflake created at `at` (plus `low` in the low 22 bits): fakes for tests."""
    return ((int(at.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + low


class MessageEvent(BaseModel):
    server_id: str
    channel_id: str
    message_id: str
    user_id: str
    content: str = ""
    role_ids: list[str] = Field(default_factory=list)
    reply_to_user_id: str | None = None
    author_is_bot: bool = False

    @property
    def occurred_at(self) -> datetime:
        return snowflake_time(self.message_id)


class ReactionEvent(BaseModel):
    server_id: str
    channel_id: str
    message_id: str
    reactor_id: str
    author_id: str | None
    emoji: str
    role_ids: list[str] = Field(default_factory=list)
    reactor_is_bot: bool = False
    occurred_at: datetime | None = None


class VoiceChange(BaseModel):
    """A member's voice state moved: before/after channel ids (None = not in voice)."""

    server_id: str
    user_id: str
    before_channel_id: str | None
    after_channel_id: str | None
    role_ids: list[str] = Field(default_factory=list)
    is_bot: bool = False
    at: datetime


class VoiceSession(BaseModel):
    """A finished voice session, ready to credit."""

    session_id: str
    server_id: str
    user_id: str
    channel_id: str
    started_at: datetime
    ended_at: datetime
    role_ids: list[str] = Field(default_factory=list)

    @property
    def minutes(self) -> int:
        """Whole minutes, at most a day (record_voice accepts 0..1440)."""
        return min(1440, max(0, int((self.ended_at - self.started_at).total_seconds() // 60)))


class MemberJoin(BaseModel):
    server_id: str
    user_id: str
    joined_at: datetime
    is_bot: bool = False


class RolesAdded(BaseModel):
    """A member gained Discord roles (from anyone: an admin, another bot, our own outbox)."""

    server_id: str
    user_id: str
    added_role_ids: list[str]
    role_ids: list[str] = Field(default_factory=list)
    is_bot: bool = False
    at: datetime | None = None


class CommandContext(BaseModel):
    """Who ran a command, where: everything a handler needs from an interaction."""

    server_id: str | None
    channel_id: str | None
    user_id: str
    user_name: str = ""
    role_ids: list[str] = Field(default_factory=list)
    is_admin: bool = False
    interaction_id: str = ""
    at: datetime | None = None


class Member(BaseModel):
    """A member named in a command option."""

    user_id: str
    display_name: str = ""
    is_bot: bool = False
    role_ids: list[str] = Field(default_factory=list)
