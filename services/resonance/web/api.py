"""The JSON API (the seed's endpoints): bot connection, extraction jobs, the SQL console, billing."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import stripe
from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from resonance.web import db
from resonance.web.auth import COOKIE, Identity, identify
from resonance.web.security import CSRF_HEADER, check_csrf
from resonance.web.settings import WebSettings

router = APIRouter(prefix="/api")


def user(request: Request) -> Identity:
    """The verified caller; a state-changing call made with the session cookie must carry the CSRF header."""
    who = identify(request)
    cookie_auth = not request.headers.get("authorization") and request.cookies.get(COOKIE)
    if cookie_auth and request.method not in ("GET", "HEAD", "OPTIONS"):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return who


User = Annotated[Identity, Depends(user)]


def settings_of(request: Request) -> WebSettings:
    return request.app.state.settings


def pool_of(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


def _jsonable(row: asyncpg.Record | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out: dict[str, Any] = {}
    for k, v in dict(row).items():
        if isinstance(v, datetime):
            v = v.isoformat()
        elif k == "guild_id" and v is not None:
            v = str(v)  # snowflakes exceed JavaScript's integers
        elif not isinstance(v, str | int | float | bool | dict | list | type(None)):
            v = str(v)
        out[k] = v
    return out


async def _call(request: Request, who: Identity, sql: str, *args: Any) -> Any:
    try:
        async with db.as_user(pool_of(request), who) as conn:
            return await conn.fetchval(sql, *args)
    except asyncpg.PostgresError as exc:
        raise db.http_error(exc) from exc


# ------------------------------------------------------------------------------------------ bot


class BotConnect(BaseModel):
    guild_id: str = Field(pattern=r"^[0-9]{1,20}$", description="the Discord guild (server) id to read")
    token: str = Field(min_length=1, max_length=200, description="the bot token; stored encrypted, never returned")


def fernet(settings: WebSettings) -> Fernet:
    if not settings.token_key:
        raise HTTPException(500, "DISCORD_TOKEN_ENCRYPTION_KEY is not set: bot tokens cannot be stored")
    try:
        return Fernet(settings.token_key.encode())
    except ValueError as exc:
        raise HTTPException(500, "DISCORD_TOKEN_ENCRYPTION_KEY is not a Fernet key") from exc


@router.post("/bot/connect", tags=["bot"])
async def bot_connect(body: BotConnect, request: Request, who: User) -> dict[str, Any]:
    """Connect the brand's Discord bot: the token is encrypted with Fernet before it reaches the database."""
    cipher = fernet(settings_of(request)).encrypt(body.token.encode()).decode()
    return await _call(request, who, "SELECT saas.connect_bot($1::bigint, $2)", int(body.guild_id), cipher)


@router.get("/bot/status", tags=["bot"])
async def bot_status(request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        row = await conn.fetchrow("SELECT guild_id, connected_by, connected_at FROM saas.bot_connections")
    return {"connected": row is not None, **(_jsonable(row) or {})}


@router.delete("/bot/disconnect", tags=["bot"])
async def bot_disconnect(request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        gone = await conn.fetchval("DELETE FROM saas.bot_connections RETURNING guild_id")
    if gone is None:
        raise HTTPException(404, "no bot connected")
    return {"status": "disconnected", "guild_id": str(gone)}


def decrypt_token(settings: WebSettings, ciphertext: str) -> str:
    try:
        return fernet(settings).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError("the stored bot token does not decrypt with DISCORD_TOKEN_ENCRYPTION_KEY") from exc


# ----------------------------------------------------------------------------------- extraction

JOB_COLUMNS = "id, guild_id, sync_days, status, requested_by, cancel_requested, progress, result, error, created_at, started_at, finished_at"


def _job_uuid(job_id: str) -> str:
    try:
        return str(uuid.UUID(job_id))
    except ValueError as exc:
        raise HTTPException(404, "unknown extraction job") from exc


class ExtractionStart(BaseModel):
    sync_days: int = Field(default=7, ge=1, le=36500)


@router.post("/extraction/start", tags=["extraction"], status_code=202)
async def extraction_start(body: ExtractionStart, request: Request, who: User) -> dict[str, Any]:
    out = await _call(request, who, "SELECT saas.start_extraction($1)", body.sync_days)
    request.app.state.wake_worker()
    return out


@router.get("/extraction/status/{job_id}", tags=["extraction"])
async def extraction_status(job_id: str, request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        row = await conn.fetchrow(f"SELECT {JOB_COLUMNS} FROM saas.extraction_jobs WHERE id = $1::uuid", _job_uuid(job_id))
    if row is None:
        raise HTTPException(404, "unknown extraction job")
    return _jsonable(row) or {}


@router.get("/extraction/history", tags=["extraction"])
async def extraction_history(request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        rows = await conn.fetch(f"SELECT {JOB_COLUMNS} FROM saas.extraction_jobs ORDER BY created_at DESC LIMIT 50")
    return {"jobs": [_jsonable(r) for r in rows]}


@router.post("/extraction/cancel/{job_id}", tags=["extraction"])
async def extraction_cancel(job_id: str, request: Request, who: User) -> dict[str, Any]:
    return await _call(request, who, "SELECT saas.cancel_extraction($1::uuid)", _job_uuid(job_id))


# ---------------------------------------------------------------------------------------- query


class QueryIn(BaseModel):
    sql: str = Field(min_length=1, max_length=100_000)
    row_cap: int = Field(default=10_000, ge=1, le=10_000)
    format: str = Field(default="json", pattern="^(json|csv)$")


async def run_console(request: Request, who: Identity, sql: str, row_cap: int) -> dict[str, Any]:
    try:
        async with db.as_user(pool_of(request), who) as conn:
            await conn.execute("SELECT set_config('statement_timeout', '30s', true)")
            return await conn.fetchval("SELECT saas.console_execute($1, $2)", sql, row_cap)
    except asyncpg.PostgresError as exc:
        raise db.http_error(exc) from exc


def to_csv(result: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    cols = result.get("columns") or []
    w.writerow(cols)
    for row in result.get("rows") or []:
        w.writerow([json.dumps(row.get(c)) if isinstance(row.get(c), dict | list) else row.get(c) for c in cols])
    return buf.getvalue()


@router.post("/query/execute", tags=["query"])
async def query_execute(body: QueryIn, request: Request, who: User) -> Any:
    """Run one read-only statement in the sealed console (your tenant's rows only, 30 s, at most 10,000
    rows). Counts once against the plan's monthly quota; over quota: 429 with the usage."""
    result = await run_console(request, who, body.sql, body.row_cap)
    if body.format == "csv":
        return Response(to_csv(result), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="query.csv"'})
    return result


CONSOLE_TABLES = """
SELECT c.relname AS table_name, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind,
       obj_description(c.oid, 'pg_class') AS description
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'v', 'p')
  AND has_table_privilege('analytics_console', c.oid, 'SELECT')
ORDER BY c.relname
"""


@router.get("/query/tables", tags=["query"])
async def query_tables(request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        rows = await conn.fetch(CONSOLE_TABLES)
    return {"tables": [dict(r) for r in rows]}


@router.get("/query/schema", tags=["query"])
async def query_schema(request: Request, who: User) -> dict[str, Any]:
    async with db.as_user(pool_of(request), who) as conn:
        tables = [r["table_name"] for r in await conn.fetch(CONSOLE_TABLES)]
        rows = await conn.fetch(
            """SELECT a.attrelid::regclass::text AS qualified, a.attname AS column_name,
                      format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable
               FROM pg_catalog.pg_attribute AS a
               WHERE a.attrelid = ANY (SELECT ('analytics.' || quote_ident(t))::regclass FROM unnest($1::text[]) AS t)
                 AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY a.attrelid::regclass::text, a.attnum""",
            tables,
        )
    schema: dict[str, list[dict[str, Any]]] = {t: [] for t in tables}
    for r in rows:
        name = r["qualified"].split(".", 1)[-1]
        schema.setdefault(name, []).append({"column": r["column_name"], "type": r["data_type"], "nullable": r["nullable"]})
    return {"schema": "analytics", "tables": schema}


# -------------------------------------------------------------------------------------- billing

PLANS = ("pro", "team")


def stripe_client(settings: WebSettings) -> stripe.StripeClient:
    if not settings.stripe_secret_key:
        raise HTTPException(503, "billing is not configured (STRIPE_SECRET_KEY)")
    kwargs: dict[str, Any] = {}
    if settings.stripe_api_base:
        kwargs["base_addresses"] = {"api": settings.stripe_api_base}
    return stripe.StripeClient(settings.stripe_secret_key, max_network_retries=0, **kwargs)


async def _subscription(request: Request, who: Identity) -> dict[str, Any]:
    try:
        async with db.as_user(pool_of(request), who) as conn:
            usage = await conn.fetchval("SELECT saas.usage()")
            row = await conn.fetchrow(
                "SELECT plan, status, stripe_customer_id, stripe_subscription_id, current_period_end FROM saas.subscriptions"
            )
    except asyncpg.PostgresError as exc:
        raise db.http_error(exc) from exc
    return {"usage": usage, "subscription": _jsonable(row)}


@router.get("/billing/subscription", tags=["billing"])
async def billing_subscription(request: Request, who: User) -> dict[str, Any]:
    s = await _subscription(request, who)
    u = s["usage"]
    sub = s["subscription"] or {}
    return {"brand_id": u["brand_id"], "plan": u["plan"], "status": u["status"],
            "current_period_end": sub.get("current_period_end"), "has_billing_account": bool(sub.get("stripe_customer_id"))}


@router.get("/billing/usage", tags=["billing"])
async def billing_usage(request: Request, who: User) -> dict[str, Any]:
    return await _call(request, who, "SELECT saas.usage()")


@router.post("/billing/checkout/{plan}", tags=["billing"])
async def billing_checkout(plan: str, request: Request, who: User) -> dict[str, Any]:
    settings = settings_of(request)
    if plan not in PLANS:
        raise HTTPException(404, f"unknown plan {plan!r}: pro or team")
    price = settings.stripe_price_pro if plan == "pro" else settings.stripe_price_team
    client = stripe_client(settings)
    if not price:
        raise HTTPException(503, f"billing is not configured (STRIPE_PRICE_{plan.upper()})")
    s = await _subscription(request, who)
    brand = s["usage"]["brand_id"]
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": f"{settings.public_url}/billing?checkout=success",
        "cancel_url": f"{settings.public_url}/billing?checkout=cancelled",
        "client_reference_id": brand,
        "metadata": {"brand_id": brand, "plan": plan},
        "subscription_data": {"metadata": {"brand_id": brand, "plan": plan}},
    }
    customer = (s["subscription"] or {}).get("stripe_customer_id")
    if customer:
        params["customer"] = customer
    try:
        session = client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        raise HTTPException(502, f"Stripe refused the checkout: {exc.user_message or exc}") from exc
    return {"id": session.id, "url": session.url}


@router.post("/billing/portal", tags=["billing"])
async def billing_portal(request: Request, who: User) -> dict[str, Any]:
    settings = settings_of(request)
    client = stripe_client(settings)
    s = await _subscription(request, who)
    customer = (s["subscription"] or {}).get("stripe_customer_id")
    if not customer:
        raise HTTPException(409, "no billing account yet: subscribe to a plan first")
    try:
        session = client.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": f"{settings.public_url}/billing"}
        )
    except stripe.StripeError as exc:
        raise HTTPException(502, f"Stripe refused the portal session: {exc.user_message or exc}") from exc
    return {"url": session.url}


def _plan_from(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    meta = obj.get("metadata") or {}
    return meta.get("brand_id") or obj.get("client_reference_id"), meta.get("plan")


@router.post("/billing/webhook", tags=["billing"])
async def billing_webhook(request: Request) -> dict[str, Any]:
    """Stripe's webhook: the signature is verified with STRIPE_WEBHOOK_SECRET (missing: 500, fail closed;
    unsigned or badly signed: 400); each event is applied once (service_role: saas.apply_stripe_subscription)."""
    settings = settings_of(request)
    if not settings.stripe_webhook_secret:
        raise HTTPException(500, "STRIPE_WEBHOOK_SECRET is not set: webhooks are refused")
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    if not signature:
        raise HTTPException(400, "missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, settings.stripe_webhook_secret, 300)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"bad Stripe signature: {exc}") from exc
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind == "checkout.session.completed":
        brand, plan = _plan_from(obj)
        status = "active"
        customer, sub, period_end = obj.get("customer"), obj.get("subscription"), None
    elif kind in ("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"):
        brand, plan = _plan_from(obj)
        status = "canceled" if kind.endswith("deleted") else obj.get("status", "active")
        if status not in ("active", "trialing", "past_due", "canceled", "incomplete", "unpaid"):
            status = "canceled"  # incomplete_expired, paused: no paid plan
        if kind.endswith("deleted"):
            plan = "free"
        customer, sub = obj.get("customer"), obj.get("id")
        end = obj.get("current_period_end")
        period_end = datetime.fromtimestamp(end, tz=UTC) if isinstance(end, int) else None
    else:
        return {"status": "ignored", "type": kind}
    if not brand or not plan:
        return {"status": "ignored", "type": kind, "reason": "no brand_id/plan metadata"}
    try:
        async with db.as_service(pool_of(request)) as conn:
            return await conn.fetchval(
                "SELECT saas.apply_stripe_subscription($1, $2, $3, $4, $5, $6, $7, $8)",
                event.get("id"), kind, brand, plan, status, customer, sub, period_end,
            )
    except asyncpg.PostgresError as exc:
        raise db.http_error(exc) from exc
