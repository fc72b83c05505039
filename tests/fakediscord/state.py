"""The world the fake Discord serves: users, guilds (roles, channels, members, voice states), messages,
interactions and the application commands the bot registered. Plain dataclasses; `payload()` gives the
JSON Discord would send for each."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents (https://discord.com/developers/docs/topics/gateway#gateway-intents).
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Channel types.
TEXT, VOICE, CATEGORY, STAGE = 0, 2, 4, 13

_low = itertools.count(1)


def snowflake(at: datetime | None = None) -> int:
    """A real snowflake: creation time in the top 42 bits (so the bot's snowflake clocks work)."""
    ms = int((at.timestamp() if at else time.time()) * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) + (next(_low) % (1 << 22))


def iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    system: bool = False

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.username,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            out["bot"] = True
        if self.system:
            out["system"] = True
        return out


@dataclass
class Role:
    id: int
    name: str
    position: int = 1
    permissions: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Channel:
    id: int
    name: str
    type: int = TEXT
    guild_id: int | None = None
    position: int = 0
    # Overwrites the bot's user gets: False denies it View/Send (a channel the bot cannot post in).
    bot_can_send: bool = True
    recipient_id: int | None = None  # DM channels (type 1)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "permission_overwrites": [],
            "flags": 0,
            "parent_id": None,
            "nsfw": False,
        }
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        if self.type in (VOICE, STAGE):
            out |= {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
        else:
            out |= {"topic": None, "last_message_id": None, "rate_limit_per_user": 0}
        return out


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user.payload(),
            "roles": [str(r) for r in self.roles],
            "nick": None,
            "avatar": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }


@dataclass
class VoiceState:
    user_id: int
    channel_id: int | None
    session_id: str
    self_deaf: bool = False
    deaf: bool = False
    self_mute: bool = False
    mute: bool = False

    def payload(self, guild_id: int, member: Member | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "guild_id": str(guild_id),
            "user_id": str(self.user_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "session_id": self.session_id,
            "deaf": self.deaf,
            "mute": self.mute,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if member is not None:
            out["member"] = member.payload()
        return out


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    afk_channel_id: int | None = None
    system_channel_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """GUILD_CREATE: the full guild, its members (member_count matches: no chunking needed)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": str(self.afk_channel_id) if self.afk_channel_id else None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": [m.payload() for m in self.members.values()],
            "channels": [c.payload() for c in self.channels.values()],
            "voice_states": [v.payload(self.id) for v in self.voice_states.values() if v.channel_id],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    content: str = ""
    guild_id: int | None = None
    type: int = 0
    webhook_id: int | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sticker_items: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, set[int]] = field(default_factory=dict)
    referenced: Message | None = None
    edits: int = 0
    flags: int = 0
    member: Member | None = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(datetime.fromtimestamp(((self.id >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "pinned": False,
            "type": self.type,
            "components": self.components,
            "flags": self.flags,
            "sticker_items": self.sticker_items,
            "reactions": [
                {
                    "emoji": {"id": None, "name": e},
                    "count": len(users),
                    "me": False,
                    "count_details": {"burst": 0, "normal": len(users)},
                    "burst_colors": [],
                    "me_burst": False,
                    "burst_me": False,
                    "burst_count": 0,
                }
                for e, users in self.reactions.items()
                if users
            ],
        }
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            out["webhook_id"] = str(self.webhook_id)
        if self.member is not None:
            member = self.member.payload()
            member.pop("user")
            out["member"] = member
        if self.referenced is not None:
            out["message_reference"] = {
                "type": 0,
                "message_id": str(self.referenced.id),
                "channel_id": str(self.referenced.channel_id),
            }
            out["referenced_message"] = self.referenced.payload()
        return out


@dataclass
class InteractionRecord:
    """An interaction the fake sent, and everything the bot answered to it, in order."""

    id: int
    token: str
    payload: dict[str, Any]
    sent_at: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # POST .../callback bodies
    callback_at: list[float] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)  # POST /webhooks/{app}/{token}
    original_edits: list[dict[str, Any]] = field(default_factory=list)  # PATCH .../messages/@original
    original_deleted: bool = False

    @property
    def deferred(self) -> bool:
        return any(c.get("type") in (5, 6) for c in self.callbacks)

    @property
    def ephemeral_defer(self) -> bool:
        return any(c.get("type") == 5 and (c.get("data") or {}).get("flags", 0) & 64 for c in self.callbacks)

    def answers(self) -> list[dict[str, Any]]:
        """Message bodies the user saw: callback messages (type 4/7), follow-ups and edits of the original."""
        out = [c.get("data") or {} for c in self.callbacks if c.get("type") in (4, 7)]
        return out + self.followups + self.original_edits

    def texts(self) -> list[str]:
        """Every answer as plain text: content, embed titles, descriptions and fields."""
        texts = []
        for body in self.answers():
            parts = [body.get("content") or ""]
            for embed in body.get("embeds") or []:
                parts += [embed.get("title") or "", embed.get("description") or ""]
                parts += [f"{f.get('name')}: {f.get('value')}" for f in embed.get("fields") or []]
            texts.append("\n".join(p for p in parts if p))
        return texts


@dataclass
class State:
    """Everything the fake knows. Tests arrange it before (or while) the bot runs."""

    token: str
    bot: User
    application_id: int
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    interactions: dict[int, InteractionRecord] = field(default_factory=dict)
    # Registered application commands: key None = global, else guild id.
    commands: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)
    # Privileged intents the "developer portal" enabled for this bot; IDENTIFY asking for more gets 4014.
    allowed_intents: int = PRIVILEGED_INTENTS
    # Users who refuse DMs (POST /channels/{dm}/messages answers 403 50007).
    closed_dms: set[int] = field(default_factory=set)

    def add_user(self, username: str, *, bot: bool = False, system: bool = False) -> User:
        user = User(id=snowflake(), username=username, bot=bot, system=system)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User) -> Guild:
        guild = Guild(id=snowflake(), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(id=guild.id, name="@everyone", position=0, permissions=1071698660929)
        self.guilds[guild.id] = guild
        return guild

    def add_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        role = Role(id=snowflake(), name=name, position=len(guild.roles), permissions=permissions)
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: Guild | None, name: str, type: int = TEXT) -> Channel:
        channel = Channel(
            id=snowflake(),
            name=name,
            type=type,
            guild_id=guild.id if guild else None,
            position=len(guild.channels) if guild else 0,
        )
        if guild is not None:
            guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(self, guild: Guild, user: User, roles: list[Role] | None = None) -> Member:
        member = Member(user=user, roles=[r.id for r in roles or []])
        guild.members[user.id] = member
        return member

    def guild_of_channel(self, channel_id: int) -> Guild | None:
        channel = self.channels.get(channel_id)
        return self.guilds.get(channel.guild_id) if channel and channel.guild_id else None
