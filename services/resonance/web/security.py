"""Security headers for every response, and CSRF protection (double submit) for cookie sessions."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware

CSRF_COOKIE = "resonance_csrf"
CSRF_HEADER = "x-csrf-token"

# Pages load only our own files. The OpenAPI page (/docs) runs the vendored Swagger UI, which sets
# style attributes: it alone allows inline styles.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
CSP_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app, production: bool) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.production = production

    async def dispatch(self, request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        docs = request.url.path == "/docs"
        response.headers["Content-Security-Policy"] = CSP_DOCS if docs else CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if self.production:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if CSRF_COOKIE not in request.cookies and not request.url.path.startswith("/api/"):
            response.set_cookie(CSRF_COOKIE, getattr(request.state, "csrf", None) or new_csrf_token(),
                                httponly=True, samesite="strict", secure=self.production)
        return response


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The token a page embeds in its forms (and its meta tag for our script)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = getattr(request.state, "csrf", None) or new_csrf_token()
        request.state.csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "CSRF check failed: reload the page and submit again")
