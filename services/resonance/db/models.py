"""Pydantic models for what the public SQL functions return (DESIGN.md, "Public SQL API").

One `Outcome` for every jsonb answer with a status; `Row` for one row of a listing (or a jsonb object
without a status); the specific results narrow `status` to what their function answers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Outcome(BaseModel):
    """A jsonb outcome: a `status` (rewarded, duplicate, cooldown, sold_out, ...), other keys kept as extras."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str | None = None
    amount: Decimal = Decimal(0)

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class Row(BaseModel):
    """One row of a listing (leaderboard entry, achievement, ticket, audit entry ...), whatever its columns."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


ActivityStatus = Literal["rewarded", "recorded", "duplicate", "farmed", "ignored", "inactive"]


class ActivityResult(Outcome):
    """record_message / record_reaction / record_voice: stats recorded, every matching rule evaluated.

    rewarded (something paid) or recorded (counted, nothing paid); duplicate (a replayed event);
    farmed (anti-farming: too short or too similar, not counted); ignored (a self-reaction);
    inactive (the server is switched off: nothing recorded).
    `rules` holds the per-rule outcomes.
    """

    status: ActivityStatus
    rules: list[dict[str, Any]] = []


EventStatus = Literal[
    "rewarded", "duplicate", "cooldown", "cap_reached", "no_access", "not_matched", "no_rule", "disabled", "inactive"
]


class EventResult(Outcome):
    status: EventStatus


CheckinStatus = Literal["checked_in", "already_checked_in", "inactive"]


class CheckinResult(Outcome):
    status: CheckinStatus
    current_streak: int | None = None
    longest_streak: int | None = None


ClaimStatus = Literal["claimed", "already_claimed", "sold_out", "expired", "not_eligible", "inactive"]


class ClaimResult(Outcome):
    status: ClaimStatus


BonusStatus = Literal["paid", "already_claimed", "not_eligible", "inactive"]


class BonusResult(Outcome):
    status: BonusStatus


class LeaderboardEntry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    discord_user_id: str
    rank: int | None = None
    rsnc_earned: Decimal = Decimal(0)


KPI_METRICS = (
    "daily_active_users",
    "weekly_active_users",
    "streak_retention",
    "new_user_conversion",
    "voice_participation",
    "reward_efficiency",
    "churn_rate",
    "top_10_concentration",
)


class Kpis(BaseModel):
    """The eight documented metrics (discord_kpi_configs.metric); extra keys kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    daily_active_users: float | None = None
    weekly_active_users: float | None = None
    streak_retention: float | None = None
    new_user_conversion: float | None = None
    voice_participation: float | None = None
    reward_efficiency: float | None = None
    churn_rate: float | None = None
    top_10_concentration: float | None = None


class Drop(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    drop_id: str


class OpenSession(BaseModel):
    """A voice session of the bot's own table (resonance.voice_sessions)."""

    session_id: UUID
    server_id: str
    user_id: str
    channel_id: str
    role_ids: list[str]
    started_at: datetime
    ended_at: datetime | None = None
    checkpoint_at: datetime | None = None


class BotServer(BaseModel):
    """A linked guild and its voice policy (resonance.bot_servers)."""

    server_id: str
    is_active: bool = True
    voice_count_alone: bool = False
    voice_count_deafened: bool = False
