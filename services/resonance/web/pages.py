"""Server-rendered pages for a community manager, and the Partner Portal's forms.

Reads run as `authenticated` (row security decides what a brand sees). A portal change first finds
the server under row security (so it is the signed-in brand's), then, in the same transaction,
calls the bot's validated admin function as service_role with the user as the audited actor."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from resonance.db.models import KPI_METRICS
from resonance.web import charts, db
from resonance.web.auth import COOKIE, Identity, identify
from resonance.web.security import check_csrf, csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)

LOWER_IS_BETTER = {"churn_rate", "top_10_concentration"}


class SignInRequired(Exception):
    pass


def _who(request: Request) -> Identity:
    try:
        return identify(request)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise SignInRequired from exc
        raise


def render(request: Request, name: str, who: Identity | None, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "csrf": csrf_token(request), **ctx})


async def _servers(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(
        "SELECT server_id, server_name, is_active FROM public.discord_server_configs ORDER BY server_name, server_id")]


def _pick(servers: list[dict[str, Any]], wanted: str | None) -> str | None:
    ids = [s["server_id"] for s in servers]
    if wanted in ids:
        return wanted
    return ids[0] if ids else None


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, error: str | None = None) -> HTMLResponse:
    return render(request, "signin.html", None, error=error)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    token = str(form.get("token") or "").strip()
    try:
        request.app.state.verifier.verify(token)
    except Exception as exc:  # noqa: BLE001 - any failure is a refused sign-in
        return RedirectResponse("/signin?" + urlencode({"error": f"invalid token: {exc}"}), status_code=303)
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.settings.production)
    return resp


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    resp = RedirectResponse("/signin", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, server: str | None = None) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        sid = _pick(servers, server)
        snaps = await conn.fetch(
            "SELECT snapshot_date, metrics FROM public.discord_kpi_snapshots WHERE server_id = $1 AND snapshot_type = 'daily' "
            "ORDER BY snapshot_date DESC LIMIT 60", sid)
        targets = await conn.fetch(
            "SELECT metric, target_value, period FROM public.discord_kpi_configs WHERE server_id = $1 AND is_active "
            "ORDER BY metric, (period = 'day') DESC", sid)
        totals = await conn.fetchrow(
            "SELECT count(*) AS members, coalesce(sum(rsnc_earned), 0) AS rsnc, coalesce(sum(messages_count), 0) AS messages "
            "FROM public.discord_user_stats WHERE server_id = $1", sid)
    snaps = list(reversed(snaps))
    target_of: dict[str, float] = {}
    for t in targets:
        target_of.setdefault(t["metric"], float(t["target_value"]))
    kpis = []
    for metric in KPI_METRICS:
        points = [(s["snapshot_date"], (None if s["metrics"].get(metric) is None else float(s["metrics"][metric]))) for s in snaps]
        kpis.append({"metric": metric, "svg": charts.kpi_line(metric.replace("_", " "), points, target_of.get(metric)),
                     "lower_better": metric in LOWER_IS_BETTER})
    return render(request, "overview.html", who, servers=servers, server=sid, kpis=kpis, totals=totals, page="overview")


@router.get("/leaderboard", response_class=HTMLResponse)
async def leaderboard(request: Request, server: str | None = None) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        sid = _pick(servers, server)
        rows = await conn.fetch(
            "SELECT discord_user_id, rsnc_earned, messages_count, reactions_count, voice_minutes, last_active_at "
            "FROM public.discord_user_stats WHERE server_id = $1 ORDER BY rsnc_earned DESC, discord_user_id LIMIT 50", sid)
    return render(request, "leaderboard.html", who, servers=servers, server=sid, rows=rows, page="leaderboard")


@router.get("/members/{server_id}/{user_id}", response_class=HTMLResponse)
async def member(request: Request, server_id: str, user_id: str) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        stats = await conn.fetchrow(
            "SELECT * FROM public.discord_user_stats WHERE server_id = $1 AND discord_user_id = $2", server_id, user_id)
        if stats is None:
            raise HTTPException(404, "no such member in your servers")
        streak = await conn.fetchrow(
            "SELECT * FROM public.discord_user_streaks WHERE server_id = $1 AND discord_user_id = $2", server_id, user_id)
        achievements = await conn.fetch(
            "SELECT a.name, ua.* FROM public.discord_user_achievements AS ua JOIN public.discord_achievements AS a "
            "ON a.achievement_id = ua.achievement_id WHERE ua.server_id = $1 AND ua.discord_user_id = $2", server_id, user_id)
    return render(request, "member.html", who, servers=servers, server=server_id, stats=dict(stats),
                  streak=dict(streak) if streak else None, achievements=[dict(a) for a in achievements], user_id=user_id,
                  page="leaderboard")


@router.get("/drops", response_class=HTMLResponse)
async def drops(request: Request, server: str | None = None) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        sid = _pick(servers, server)
        rows = await conn.fetch(
            "SELECT d.drop_id, d.drop_type, d.created_at, d.expires_at, d.closed_at, d.max_claims, d.claims_count, d.reward_amount, "
            "(SELECT count(*) FROM public.discord_drop_claims AS c WHERE c.drop_id = d.drop_id) AS winners "
            "FROM public.discord_drops AS d WHERE d.server_id = $1 ORDER BY d.created_at DESC LIMIT 24", sid)
    svg = charts.bars("drops: capacity vs winners", [(r["created_at"].strftime("%m-%d"), float(r["max_claims"] or 0), float(r["winners"]))
                                                     for r in reversed(rows)], ("capacity", "winners"))
    return render(request, "drops.html", who, servers=servers, server=sid, rows=rows, svg=svg, page="drops")


@router.get("/graph", response_class=HTMLResponse)
async def graph(request: Request) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        rows = await conn.fetch(
            "SELECT from_username, to_username, replies, reactions, mentions, total FROM analytics.tenant_user_interactions "
            "ORDER BY total DESC, from_username, to_username LIMIT 400")
    svg = charts.graph(charts.pick_edges([(r["from_username"] or "?", r["to_username"] or "?", float(r["total"])) for r in rows]))
    return render(request, "graph.html", who, servers=servers, rows=rows, svg=svg, page="graph")


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        usage = await conn.fetchval("SELECT saas.usage()")
        tables = [r["relname"] for r in await conn.fetch(
            "SELECT c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'v') AND has_table_privilege('analytics_console', c.oid, 'SELECT') "
            "ORDER BY 1")]
    return render(request, "console.html", who, servers=servers, usage=usage, tables=tables, page="console")


@router.get("/jobs", response_class=HTMLResponse)
async def jobs(request: Request) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        bot = await conn.fetchrow("SELECT guild_id, connected_by, connected_at FROM saas.bot_connections")
        rows = await conn.fetch(
            "SELECT id, guild_id, sync_days, status, progress, error, created_at, finished_at FROM saas.extraction_jobs "
            "ORDER BY created_at DESC LIMIT 20")
    return render(request, "jobs.html", who, servers=servers, bot=bot, rows=rows, page="jobs")


@router.get("/billing", response_class=HTMLResponse)
async def billing(request: Request) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        usage = await conn.fetchval("SELECT saas.usage()")
        plans = await conn.fetch("SELECT * FROM saas.plans ORDER BY sort_order")
    return render(request, "billing.html", who, servers=servers, usage=usage, plans=plans, page="billing")


# ------------------------------------------------------------------------------ Partner Portal


def _num(form: Any, key: str, kind: type = Decimal) -> Any:
    raw = str(form.get(key) or "").strip()
    if raw == "":
        return None
    try:
        return kind(raw)
    except (ValueError, ArithmeticError) as exc:
        raise ValueError(f"{key} must be a number, got {raw!r}") from exc


def _json(form: Any, key: str) -> Any:
    raw = str(form.get(key) or "").strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{key} must be JSON: {exc}") from exc


def _text(form: Any, key: str) -> str | None:
    return str(form.get(key) or "").strip() or None


# kind -> (SQL calling the bot's validated admin function, argument builder)
PORTAL: dict[str, tuple[str, Any]] = {
    "rule": ("SELECT resonance.set_event_rule($1, $2, $3, $4::numeric, $5::integer, $6::integer, $7::jsonb, NULL, NULL, $8::boolean)",
             lambda f, s, a: (s, a, _text(f, "event_type"), _num(f, "reward_amount"), _num(f, "cooldown_hours", int),
                              _num(f, "max_claims_per_user", int), _json(f, "detection_config"), f.get("is_enabled") is not None)),
    "role": ("SELECT resonance.set_role_effect($1, $2, $3, $4, coalesce($5::jsonb, '{}'::jsonb), $6)",
             lambda f, s, a: (s, a, _text(f, "role_id"), _text(f, "effect_type"), _json(f, "effect_config"), _text(f, "role_name"))),
    "milestone": ("SELECT resonance.create_milestone($1, $2, $3, $4::jsonb, coalesce($5::integer, 0))",
                  lambda f, s, a: (s, _text(f, "role_id"), _text(f, "name"), _json(f, "criteria"), _num(f, "bonus_amount", int))),
    "kpi": ("SELECT resonance.set_kpi_target($1, $2, $3::numeric, coalesce($4, 'week'), $5::numeric)",
            lambda f, s, a: (s, _text(f, "metric"), _num(f, "target_value"), _text(f, "period"), _num(f, "alert_threshold"))),
    "report": ("SELECT resonance.set_report_schedule($1, $2, $3, $4::integer)",
               lambda f, s, a: (s, _text(f, "frequency"), _text(f, "channel_id"), _num(f, "day_of_week", int))),
    "drop": ("SELECT resonance.create_drop($1, coalesce($2, 'button'), $3, NULL, $4, now() + make_interval(mins => coalesce($5::integer, 60)), "
             "$6::integer, $7::numeric, NULL, NULL, $8)",
             lambda f, s, a: (s, _text(f, "drop_type"), _text(f, "channel_id"), _text(f, "emoji"), _num(f, "minutes", int),
                              _num(f, "max_claims", int), _num(f, "reward_amount"), a)),
}


async def portal_change(pool: asyncpg.Pool, who: Identity, kind: str, server_id: str, form: Any) -> Any:
    """One validated admin change as the signed-in user; raises HTTPException for bad input or another brand's server."""
    if kind not in PORTAL:
        raise HTTPException(404, f"unknown portal item {kind!r}")
    sql, build = PORTAL[kind]
    try:
        args = build(form, server_id, who.sub)
    except ValueError as exc:
        raise HTTPException(422, {"message": str(exc)}) from exc
    try:
        async with db.as_user(pool, who) as conn:
            mine = await conn.fetchval("SELECT server_id FROM public.discord_server_configs WHERE server_id = $1", server_id)
            if mine is None:  # row security hid it: not this brand's server
                raise HTTPException(404, "no such server in your brand")
            await db.become_service(conn)
            await conn.execute("SELECT resonance.set_actor('admin', $1)", who.sub or "portal")
            return await conn.fetchval(sql, *args)
    except asyncpg.PostgresError as exc:
        raise db.http_error(exc) from exc


@router.get("/portal", response_class=HTMLResponse)
async def portal(request: Request, server: str | None = None, ok: str | None = None, error: str | None = None) -> HTMLResponse:
    who = _who(request)
    async with db.as_user(request.app.state.pool, who) as conn:
        servers = await _servers(conn)
        sid = _pick(servers, server)
        rules = await conn.fetch(
            "SELECT id, event_type, reward_amount, cooldown_hours, max_claims_per_user, is_enabled, detection_config "
            "FROM public.monitoring_rules WHERE server_id = $1 ORDER BY event_type", sid)
        achievements = await conn.fetch(
            "SELECT name, achievement_type, threshold, reward_amount, is_active FROM public.discord_achievements WHERE server_id = $1 ORDER BY name", sid)
        goals = await conn.fetch(
            "SELECT name, goal_type, target_value, current_value, deadline, completed_at FROM public.discord_community_goals "
            "WHERE server_id = $1 ORDER BY name", sid)
        targets = await conn.fetch(
            "SELECT metric, period, target_value, alert_threshold, is_active FROM public.discord_kpi_configs WHERE server_id = $1 ORDER BY metric, period", sid)
        schedules = await conn.fetch(
            "SELECT frequency, channel_id, day_of_week, is_active, last_sent_at FROM public.discord_report_schedules WHERE server_id = $1", sid)
        drops_ = await conn.fetch(
            "SELECT drop_type, channel_id, max_claims, claims_count, reward_amount, expires_at FROM public.discord_drops "
            "WHERE server_id = $1 ORDER BY created_at DESC LIMIT 10", sid)
        audit = await conn.fetch(
            "SELECT created_at, actor_type, actor_id, action, details FROM public.discord_audit_log WHERE server_id = $1 "
            "ORDER BY id DESC LIMIT 15", sid)
        roles: list[asyncpg.Record] = []
        if sid is not None:
            # Role configs are not readable by authenticated (docs/security.md): read as service_role,
            # for the server row security just showed to be this brand's.
            await db.become_service(conn)
            roles = await conn.fetch(
                "SELECT discord_role_id, discord_role_name, effect_type, effect_config, assignment_type, assignment_config, is_active "
                "FROM public.discord_role_configs WHERE server_id = $1 ORDER BY discord_role_name, discord_role_id", sid)
    return render(request, "portal.html", who, servers=servers, server=sid, rules=rules, achievements=achievements, goals=goals,
                  targets=targets, schedules=schedules, drops=drops_, audit=audit, roles=roles, ok=ok, error=error,
                  metrics=KPI_METRICS, page="portal")


@router.post("/portal/{kind}")
async def portal_post(request: Request, kind: str) -> Response:
    who = _who(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    server_id = str(form.get("server_id") or "")
    try:
        result = await portal_change(request.app.state.pool, who, kind, server_id, form)
        query = {"server": server_id, "ok": f"{kind}: {json.dumps(result, default=str)}"}
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        detail = exc.detail if isinstance(exc.detail, dict) else {"message": exc.detail}
        query = {"server": server_id, "error": f"{kind}: {detail.get('sqlstate', '')} {detail.get('message')}".strip()}
    return RedirectResponse("/portal?" + urlencode(query), status_code=303)







