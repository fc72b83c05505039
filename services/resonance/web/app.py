"""The FastAPI application and `resonance web [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from resonance.web import api, db, pages
from resonance.web.auth import Verifier
from resonance.web.jobs import Worker
from resonance.web.security import SecurityHeaders
from resonance.web.settings import WebSettings

HERE = Path(__file__).parent


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    if not settings.session_secret:
        settings.session_secret = secrets.token_urlsafe(32)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        app.state.pool = await db.create_pool(settings.database_url)
        worker = Worker(app.state.pool, settings)
        app.state.worker = worker
        app.state.wake_worker = worker.wake.set
        if settings.run_worker:
            worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await app.state.pool.close()

    app = FastAPI(title="Resonance dashboard API", version="1.0",
                  description="The community dashboard's JSON API. Send `Authorization: Bearer <JWT>`; "
                              "the brand is the token's `app_metadata.brand_id`, and row security decides what it sees.",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.verifier = Verifier(settings)
    app.state.wake_worker = lambda: None
    app.add_middleware(SecurityHeaders, production=settings.production)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.exception_handler(pages.SignInRequired)
    async def _signin(request: Request, exc: pages.SignInRequired) -> RedirectResponse:
        return RedirectResponse("/signin", status_code=303)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return pages.templates.TemplateResponse(request, "docs.html", {})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="resonance web", description="the community dashboard and the SaaS API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else the local cluster")
    args = parser.parse_args(argv)
    import uvicorn

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    elif not os.environ.get("DATABASE_URL"):
        from resonance.localdb import up

        os.environ["DATABASE_URL"] = up(quiet=True).url()
    settings = WebSettings()
    if not (settings.jwks_url or settings.jwt_secret):
        print("resonance web: set RESONANCE_WEB_JWKS_URL (RS256) or RESONANCE_WEB_JWT_SECRET (HS256) to accept sign-ins",
              file=sys.stderr)
    if not settings.public_url or settings.public_url == "http://127.0.0.1:8000":
        settings.public_url = f"http://{args.host}:{args.port}"
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0
