"""Process settings, read from the environment (pydantic-settings).

DISCORD_TOKEN and DATABASE_URL are the two that matter; the rest have working defaults.
"""

from __future__ import annotations

import os
import socket

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # Comma-separated guild ids: slash commands are synced to these at once (global sync takes up to an hour).
    guild_ids_raw: str = Field(default="", validation_alias="RESONANCE_GUILD_IDS")
    # Members holding this role (by name or id) may run admin commands, besides Manage Server holders.
    admin_role_name: str | None = Field(default="Resonance Admin", validation_alias="RESONANCE_ADMIN_ROLE")
    admin_role_id: int | None = Field(default=None, validation_alias="RESONANCE_ADMIN_ROLE_ID")
    # Workers: several replicas may run; the SQL hands each outbox row and due report to one of them.
    worker_id: str = Field(default_factory=_default_worker_id, validation_alias="RESONANCE_WORKER_ID")
    outbox_batch: int = Field(default=20, ge=1, le=500, validation_alias="RESONANCE_OUTBOX_BATCH")
    outbox_interval_seconds: float = Field(default=2.0, gt=0, validation_alias="RESONANCE_OUTBOX_INTERVAL")
    # Minimum pause between two Discord writes of the outbox worker (on top of discord.py's own 429 handling).
    outbox_pace_seconds: float = Field(default=0.25, ge=0, validation_alias="RESONANCE_OUTBOX_PACE")
    reports_interval_seconds: float = Field(default=60.0, gt=0, validation_alias="RESONANCE_REPORTS_INTERVAL")
    db_pool_size: int = Field(default=10, ge=1, validation_alias="RESONANCE_DB_POOL_SIZE")
    # Every statement of the bot's pool is cancelled past these (a held lock never leaves a command "thinking").
    db_statement_timeout_ms: int = Field(default=5000, ge=1, validation_alias="RESONANCE_DB_STATEMENT_TIMEOUT_MS")
    db_lock_timeout_ms: int = Field(default=2000, ge=1, validation_alias="RESONANCE_DB_LOCK_TIMEOUT_MS")
    db_connect_timeout_seconds: float = Field(default=10.0, gt=0, validation_alias="RESONANCE_DB_CONNECT_TIMEOUT")
    # Gateway events that met a database outage wait here (oldest dropped when full, too old dropped), logged.
    outage_queue_limit: int = Field(default=10_000, ge=1, validation_alias="RESONANCE_OUTAGE_QUEUE_LIMIT")
    outage_max_age_seconds: float = Field(default=900.0, gt=0, validation_alias="RESONANCE_OUTAGE_MAX_AGE")
    # How often the bot re-reads which guilds are linked (a /setup takes effect within this).
    servers_refresh_seconds: float = Field(default=60.0, gt=0, validation_alias="RESONANCE_SERVERS_REFRESH")
    voice_checkpoint_seconds: float = Field(default=60.0, gt=0, validation_alias="RESONANCE_VOICE_CHECKPOINT")
    # How long discord.py waits for GUILD_CREATEs after READY before it is ready.
    guild_ready_timeout: float = Field(default=2.0, gt=0, validation_alias="RESONANCE_GUILD_READY_TIMEOUT")
    log_format: str = Field(default="json", pattern="^(json|kv)$", validation_alias="RESONANCE_LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="RESONANCE_LOG_LEVEL")
    # Testing only: the REST base of a fake Discord (e.g. http://127.0.0.1:PORT/api/v10). The bot then
    # sends every REST call there and connects to the gateway URL its GET /gateway/bot returns.
    discord_api_base: str | None = Field(default=None, validation_alias="RESONANCE_DISCORD_API_BASE")

    @property
    def guild_ids(self) -> list[int]:
        return [int(part) for part in self.guild_ids_raw.replace(" ", "").split(",") if part]


def load() -> Settings:
    return Settings()
