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


# Message types members write (https://discord.com/developers/docs/resources/message#message-object-message-types):
# DEFAULT and REPLY. Everything else (7 "X joined", 8 boosts, 6 pins, 18 thread created, ...) is Discord's.
MEMBER_MESSAGE_TYPES = frozenset({0, 19})


class MessageEvent(BaseModel):
    """A MESSAGE_CREATE. Only a member's own text counts: bots, webhooks and system messages never
    earn or count, and a message without text (attachments or stickers only) is not recorded either,
    because anti-farming compares text and cannot tell two text-less messages apart."""

    server_id: str
    channel_id: str
    message_id: str
    user_id: str
    content: str = ""
    role_ids: list[str] = Field(default_factory=list)
    reply_to_user_id: str | None = None
    author_is_bot: bool = False
    author_is_system: bool = False
    webhook_id: str | None = None
    type: int = 0
    channel_name: str | None = None

    @property
    def counts(self) -> bool:
        return (
            not self.author_is_bot
            and not self.author_is_system
            and self.webhook_id is None
            and self.type in MEMBER_MESSAGE_TYPES
            and bool(self.content.strip())
        )

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
    author_is_bot: bool = False  # a bot's message (our own drop messages included): nobody is paid for it
    occurred_at: datetime | None = None


class VoiceMember(BaseModel):
    """One member's voice state."""

    user_id: str
    channel_id: str
    self_deaf: bool = False
    deaf: bool = False
    is_bot: bool = False
    role_ids: list[str] = Field(default_factory=list)


class VoiceSnapshot(BaseModel):
    """Everyone in voice in a guild right now (after a VOICE_STATE_UPDATE, or at startup)."""

    server_id: str
    afk_channel_id: str | None = None
    members: list[VoiceMember] = Field(default_factory=list)
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


class RolesChanged(BaseModel):
    """A member's Discord roles changed (added or removed, by anyone: an admin, another bot, our outbox)."""

    server_id: str
    user_id: str
    role_ids: list[str] = Field(default_factory=list)  # every role the member holds now
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
