"""The web tier's settings, from the environment (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # Sign-in: a JWKS URL (RS256, as Clerk issues tokens) and/or an HS256 secret (as Supabase Auth does).
    jwks_url: str | None = Field(default=None, alias="RESONANCE_WEB_JWKS_URL")
    jwt_secret: str | None = Field(default=None, alias="RESONANCE_WEB_JWT_SECRET")
    jwt_issuer: str | None = Field(default=None, alias="RESONANCE_WEB_JWT_ISSUER")
    jwt_audience: str | None = Field(default=None, alias="RESONANCE_WEB_JWT_AUDIENCE")
    # Signs the CSRF tokens of the pages' forms (random per process when unset).
    session_secret: str | None = Field(default=None, alias="RESONANCE_WEB_SESSION_SECRET")
    environment: str = Field(default="development", alias="RESONANCE_WEB_ENV")
    # Fernet key for bot tokens at rest (never stored or returned in the clear).
    token_key: str | None = Field(default=None, alias="DISCORD_TOKEN_ENCRYPTION_KEY")
    # "mock": extraction jobs read the seeded mock guild instead of Discord (demo, tests).
    discord_mode: str = Field(default="discord", alias="RESONANCE_WEB_DISCORD")
    stripe_secret_key: str | None = Field(default=None, alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: str | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET")
    stripe_price_pro: str | None = Field(default=None, alias="STRIPE_PRICE_PRO")
    stripe_price_team: str | None = Field(default=None, alias="STRIPE_PRICE_TEAM")
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="RESONANCE_WEB_PUBLIC_URL")
    run_worker: bool = Field(default=True, alias="RESONANCE_WEB_WORKER")

    @property
    def production(self) -> bool:
        return self.environment.lower() in ("production", "prod")


@lru_cache
def get_settings() -> WebSettings:
    return WebSettings()
