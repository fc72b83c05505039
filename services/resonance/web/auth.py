"""JWT verification: RS256 against a JWKS (Clerk) or HS256 with a shared secret (Supabase Auth).

The verified claims go to Postgres unchanged as `request.jwt.claims`; the brand is read there
(`app_metadata.brand_id`), by the policies, not by this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import HTTPException, Request

from resonance.web.settings import WebSettings

COOKIE = "resonance_session"


@dataclass(frozen=True)
class Identity:
    claims: dict[str, Any]
    token: str

    @property
    def sub(self) -> str:
        return str(self.claims.get("sub") or "")

    @property
    def brand_id(self) -> str | None:
        meta = self.claims.get("app_metadata")
        return meta.get("brand_id") if isinstance(meta, dict) else None


class Verifier:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300) if settings.jwks_url else None

    @property
    def configured(self) -> bool:
        return bool(self._jwks or self.settings.jwt_secret)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; raises jwt.InvalidTokenError otherwise."""
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        options = {"require": ["exp", "sub"], "verify_aud": bool(self.settings.jwt_audience)}
        common: dict[str, Any] = {"options": options, "leeway": 30}
        if self.settings.jwt_audience:
            common["audience"] = self.settings.jwt_audience
        if self.settings.jwt_issuer:
            common["issuer"] = self.settings.jwt_issuer
        if alg == "RS256" and self._jwks is not None:
            key = self._jwks.get_signing_key_from_jwt(token).key
            return jwt.decode(token, key, algorithms=["RS256"], **common)
        if alg == "HS256" and self.settings.jwt_secret:
            return jwt.decode(token, self.settings.jwt_secret, algorithms=["HS256"], **common)
        raise jwt.InvalidAlgorithmError(f"algorithm {alg!r} is not accepted")


def token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


def identify(request: Request) -> Identity:
    """The request's verified identity, or 401."""
    token = token_from(request)
    if not token:
        raise HTTPException(401, "sign in: send Authorization: Bearer <JWT>")
    verifier: Verifier = request.app.state.verifier
    if not verifier.configured:
        raise HTTPException(500, "no JWKS URL or JWT secret configured")
    try:
        claims = verifier.verify(token)
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise HTTPException(401, f"invalid token: {exc}") from exc
    return Identity(claims=claims, token=token)
