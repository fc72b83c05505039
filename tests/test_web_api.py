"""The dashboard's JSON API against a real `resonance web` process and a real migrated database:
every endpoint's success and refusal paths (bad JWT, another tenant's ids, over quota, bad webhook
signature), and isolation decided by row security."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from resonance.web.app import create_app
from resonance.web.jobs import mock_guild_id
from resonance.web.settings import WebSettings
from web_support import HS_SECRET, WebStack, start_stack, stripe_signature, wait_job

GUILD_A = str(mock_guild_id(42))

ENDPOINTS = [
    ("POST", "/api/bot/connect"), ("GET", "/api/bot/status"), ("DELETE", "/api/bot/disconnect"),
    ("POST", "/api/extraction/start"), ("GET", "/api/extraction/status/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/extraction/history"), ("POST", "/api/extraction/cancel/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/query/execute"), ("GET", "/api/query/schema"), ("GET", "/api/query/tables"),
    ("GET", "/api/billing/subscription"), ("POST", "/api/billing/checkout/pro"), ("POST", "/api/billing/portal"),
    ("GET", "/api/billing/usage"),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[WebStack]:
    s = start_stack()
    try:
        yield s
    finally:
        s.stop()


# ------------------------------------------------------------------------------------ sign-in


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_without_a_token(stack: WebStack, method: str, path: str) -> None:
    with stack.client(None) as c:
        r = c.request(method, path, json={})
    assert r.status_code == 401


def test_bad_tokens_are_refused(stack: WebStack) -> None:
    k = stack.keys
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "wrong HS256 secret": k.hs256("brand-a", secret="not-the-secret-of-this-server-0123456789"),
        "expired": k.hs256("brand-a", ttl=-3600),
        "RS256 by a key not in the JWKS": k.rs256("brand-a", key=other_key),
        "RS256 with an unknown kid": k.rs256("brand-a", key=other_key, kid="nope"),
        "alg none": jwt.encode(k.claims("brand-a"), None, algorithm="none"),
        "garbage": "not.a.jwt",
        "no sub": jwt.encode({"exp": 9999999999, "app_metadata": {"brand_id": "brand-a"}}, HS_SECRET, algorithm="HS256"),
    }
    for name, token in bad.items():
        r = stack.client(None).get("/api/billing/usage", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name


def test_both_signing_paths_sign_in(stack: WebStack) -> None:
    for rs in (False, True):
        r = stack.client("brand-a", rs=rs).get("/api/billing/usage")
        assert r.status_code == 200
        assert r.json()["brand_id"] == "brand-a"


def test_a_token_without_a_brand_sees_nothing(stack: WebStack) -> None:
    c = stack.client(None)
    token = stack.keys.hs256(None)
    r = c.get("/api/billing/usage", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["detail"]["sqlstate"] == "RW002"
    r = c.get("/api/extraction/history", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"jobs": []}


# ------------------------------------------------------------------------------------ headers


def test_security_headers(stack: WebStack) -> None:
    for path in ("/signin", "/api/billing/usage"):
        r = stack.client().get(path)
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "strict-transport-security" not in r.headers  # development
    prod = TestClient(create_app(WebSettings(RESONANCE_WEB_ENV="production", RESONANCE_WEB_JWT_SECRET=HS_SECRET)))
    r = prod.get("/signin")
    assert r.status_code == 200
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_openapi_docs(stack: WebStack) -> None:
    spec = stack.client().get("/openapi.json").json()
    templated = {"/api/extraction/status/{job_id}", "/api/extraction/cancel/{job_id}", "/api/billing/checkout/{plan}"}
    plain = {p for _m, p in ENDPOINTS if "0000" not in p and "checkout" not in p}
    assert plain | templated <= set(spec["paths"])
    assert "/api/billing/webhook" in spec["paths"]
    r = stack.client().get("/docs")
    assert r.status_code == 200 and "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in r.text
    assert "http" not in r.headers["content-security-policy"]  # no CDN: the Swagger UI is vendored
    assert stack.client().get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js").status_code == 200


def test_cookie_session_writes_need_the_csrf_token(stack: WebStack) -> None:
    token = stack.token("brand-a")
    c = stack.client(None)
    c.cookies.set("resonance_session", token)
    r = c.post("/api/extraction/start", json={"sync_days": 1})
    assert r.status_code == 403
    c.cookies.set("resonance_csrf", "tok-123")
    r = c.post("/api/query/execute", json={"sql": "SELECT 1 AS one"}, headers={"X-CSRF-Token": "tok-123"})
    assert r.status_code == 200
    # A portal form without the token is refused too.
    r = c.post("/portal/rule", data={"server_id": "srv-a", "event_type": "message", "reward_amount": "3"})
    assert r.status_code == 403


# ---------------------------------------------------------------------------------------- bot


def test_bot_connect_status_disconnect(stack: WebStack) -> None:
    a, b = stack.client("brand-a"), stack.client("brand-b")
    assert a.get("/api/bot/status").json() == {"connected": False}
    assert a.post("/api/bot/connect", json={"guild_id": "x1", "token": "t"}).status_code == 422
    r = a.post("/api/bot/connect", json={"guild_id": GUILD_A, "token": "super-secret-bot-token"})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "connected", "guild_id": GUILD_A}
    status = a.get("/api/bot/status").json()
    assert status["connected"] and status["guild_id"] == GUILD_A
    assert "super-secret" not in json.dumps(status) and "token" not in json.dumps(status)
    # Stored encrypted: the ciphertext decrypts with the server's key, and is not the token.
    [row] = stack.sql("SELECT token_ciphertext FROM saas.bot_connections WHERE brand_id = 'brand-a'")
    assert "super-secret" not in row["token_ciphertext"]
    assert Fernet(stack.fernet_key.encode()).decrypt(row["token_ciphertext"].encode()) == b"super-secret-bot-token"
    # Brand b sees no connection, cannot remove a's.
    assert b.get("/api/bot/status").json() == {"connected": False}
    assert b.delete("/api/bot/disconnect").status_code == 404
    assert a.post("/api/bot/connect", json={"guild_id": GUILD_A, "token": "rotated"}).json()["status"] == "reconnected"
    assert a.delete("/api/bot/disconnect").json()["status"] == "disconnected"
    assert a.delete("/api/bot/disconnect").status_code == 404
    assert a.post("/api/bot/connect", json={"guild_id": GUILD_A, "token": "again"}).status_code == 200


def test_bot_connect_fails_closed_without_the_key(stack: WebStack) -> None:
    app = TestClient(create_app(WebSettings(RESONANCE_WEB_JWT_SECRET=HS_SECRET)))
    r = app.post("/api/bot/connect", json={"guild_id": "1", "token": "t"},
                 headers={"Authorization": f"Bearer {stack.token('brand-a')}"})
    assert r.status_code == 500
    assert "DISCORD_TOKEN_ENCRYPTION_KEY" in r.json()["detail"]


# ------------------------------------------------------------------------------------ extraction


def test_extraction_lifecycle_and_isolation(stack: WebStack) -> None:
    a, b = stack.client("brand-a"), stack.client("brand-b")
    # b has no bot connected.
    r = b.post("/api/extraction/start", json={"sync_days": 7})
    assert r.status_code == 409 and r.json()["detail"]["sqlstate"] == "RW006"
    a.post("/api/bot/connect", json={"guild_id": GUILD_A, "token": "tok"})
    # The free plan keeps 30 days of history.
    r = a.post("/api/extraction/start", json={"sync_days": 90})
    assert r.status_code == 403 and r.json()["detail"]["sqlstate"] == "RW005"
    assert r.json()["detail"]["usage"]["history_days"] == 30
    r = a.post("/api/extraction/start", json={"sync_days": 7})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    # Another tenant's job id is unknown to b, for reading and for cancelling.
    assert b.get(f"/api/extraction/status/{job_id}").status_code == 404
    r = b.post(f"/api/extraction/cancel/{job_id}")
    assert r.status_code == 404 and r.json()["detail"]["sqlstate"] == "RW007"
    job = wait_job(a, job_id)
    assert job["status"] == "succeeded", job
    assert job["progress"]["messages_synced"] == job["progress"]["messages_expected"] > 0
    assert a.post(f"/api/extraction/cancel/{job_id}").json()["status"] == "already_finished"
    assert a.post("/api/extraction/cancel/not-a-uuid").status_code == 404
    history = a.get("/api/extraction/history").json()["jobs"]
    assert [j["id"] for j in history] == [job_id]
    assert b.get("/api/extraction/history").json() == {"jobs": []}
    # The synced rows are brand a's tenant.
    [row] = stack.sql("SELECT count(*) AS n FROM analytics.messages WHERE tenant_id = 'brand-a'")
    assert row["n"] == job["progress"]["messages_synced"]


# ----------------------------------------------------------------------------------------- query


def test_console_queries_are_sealed_and_counted_once(stack: WebStack) -> None:
    a = stack.client("brand-b")
    before = a.get("/api/billing/usage").json()["queries_used"]
    r = a.post("/api/query/execute", json={"sql": "SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["tenant_id"] for row in body["rows"]] == ["brand-b"]
    assert body["queries_used"] == before + 1 and body["queries_left"] == 1000 - before - 1
    # A refused statement is not counted (the console takes one query expression: a DELETE is a syntax error there).
    r = a.post("/api/query/execute", json={"sql": "DELETE FROM messages"})
    assert r.status_code == 400 and r.json()["detail"]["sqlstate"] == "42601"
    r = a.post("/api/query/execute", json={"sql": "SELECT count(*) AS n FROM messages WHERE tenant_id = 'brand-a'"})
    assert r.json()["rows"] == [{"n": 0}]
    assert a.get("/api/billing/usage").json()["queries_used"] == before + 2
    r = a.post("/api/query/execute", json={"sql": "SELECT 1 AS one, 'x,y' AS two", "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == ["one,two", '1,"x,y"']


def test_console_over_quota_is_refused_with_the_usage(stack: WebStack) -> None:
    c = stack.client("brand-b")
    stack.sql(
        "INSERT INTO saas.query_usage (brand_id, period_start, queries) VALUES ('brand-b', date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1000) "
        "ON CONFLICT (brand_id, period_start) DO UPDATE SET queries = 1000"
    )
    r = c.post("/api/query/execute", json={"sql": "SELECT 1"})
    assert r.status_code == 429
    detail = r.json()["detail"]
    assert detail["sqlstate"] == "RW001"
    assert detail["usage"]["queries_used"] == 1000 and detail["usage"]["queries_left"] == 0
    assert c.get("/api/billing/usage").json()["queries_used"] == 1000  # the refusal counts nothing
    stack.sql("DELETE FROM saas.query_usage WHERE brand_id = 'brand-b'")


def test_concurrent_queries_at_the_limit_count_exactly_once(stack: WebStack) -> None:
    month = "date_trunc('month', now() AT TIME ZONE 'UTC')::date"
    stack.sql(f"INSERT INTO saas.query_usage (brand_id, period_start, queries) VALUES ('brand-b', {month}, 995) "
              "ON CONFLICT (brand_id, period_start) DO UPDATE SET queries = 995")
    token = stack.token("brand-b")

    def one(_i: int) -> int:
        with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            return c.post("/api/query/execute", json={"sql": "SELECT count(*) AS n FROM generate_series(1, 400000)"}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = sorted(pool.map(one, range(12)))
    assert codes == [200] * 5 + [429] * 7
    assert stack.client("brand-b").get("/api/billing/usage").json()["queries_used"] == 1000
    stack.sql("DELETE FROM saas.query_usage WHERE brand_id = 'brand-b'")


def test_console_schema_and_tables(stack: WebStack) -> None:
    c = stack.client("brand-a")
    tables = {t["table_name"] for t in c.get("/api/query/tables").json()["tables"]}
    assert {"messages", "users", "reactions", "tenant_user_interactions"} <= tables
    assert "user_interactions" not in tables  # the raw materialized view is not the console's
    schema = c.get("/api/query/schema").json()["tables"]
    assert {"column": "tenant_id", "type": "text", "nullable": False} in schema["messages"]


# --------------------------------------------------------------------------------------- billing


def test_billing_checkout_portal_and_webhook(stack: WebStack) -> None:
    a = stack.client("brand-a")
    assert a.get("/api/billing/subscription").json()["plan"] == "free"
    assert a.post("/api/billing/checkout/platinum").status_code == 404
    r = a.post("/api/billing/portal")
    assert r.status_code == 409
    r = a.post("/api/billing/checkout/pro")
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith("https://checkout.stripe.test/")
    path, form = stack.stripe.calls[-1]
    assert path == "/v1/checkout/sessions" and "price_pro_test" in form and "brand-a" in form

    event = {"id": "evt_1", "type": "checkout.session.completed",
             "data": {"object": {"client_reference_id": "brand-a", "customer": "cus_a", "subscription": "sub_a",
                                 "metadata": {"brand_id": "brand-a", "plan": "pro"}}}}
    payload = json.dumps(event).encode()
    hook = stack.client(None)
    assert hook.post("/api/billing/webhook", content=payload).status_code == 400  # unsigned
    bad = stripe_signature(payload, secret="whsec_wrong")
    assert hook.post("/api/billing/webhook", content=payload, headers={"Stripe-Signature": bad}).status_code == 400
    tampered = stripe_signature(payload)
    r = hook.post("/api/billing/webhook", content=payload.replace(b"pro", b"team"), headers={"Stripe-Signature": tampered})
    assert r.status_code == 400
    assert a.get("/api/billing/subscription").json()["plan"] == "free"
    r = hook.post("/api/billing/webhook", content=payload, headers={"Stripe-Signature": stripe_signature(payload)})
    assert r.status_code == 200 and r.json()["status"] == "applied"
    r = hook.post("/api/billing/webhook", content=payload, headers={"Stripe-Signature": stripe_signature(payload)})
    assert r.json()["status"] == "duplicate"
    sub = a.get("/api/billing/subscription").json()
    assert sub["plan"] == "pro" and sub["has_billing_account"]
    usage = a.get("/api/billing/usage").json()
    assert usage["queries_limit"] is None and usage["history_days"] == 365
    assert stack.client("brand-b").get("/api/billing/usage").json()["plan"] == "free"
    r = a.post("/api/billing/portal")
    assert r.status_code == 200 and r.json()["url"].startswith("https://billing.stripe.test/")
    # Cancelled: back to free.
    gone = {"id": "evt_2", "type": "customer.subscription.deleted",
            "data": {"object": {"id": "sub_a", "customer": "cus_a", "status": "canceled", "metadata": {"brand_id": "brand-a", "plan": "pro"}}}}
    raw = json.dumps(gone).encode()
    assert hook.post("/api/billing/webhook", content=raw, headers={"Stripe-Signature": stripe_signature(raw)}).json()["status"] == "applied"
    assert a.get("/api/billing/usage").json()["plan"] == "free"


def test_webhook_without_a_secret_fails_closed(stack: WebStack) -> None:
    app = TestClient(create_app(WebSettings(RESONANCE_WEB_JWT_SECRET=HS_SECRET)))
    payload = b"{}"
    r = app.post("/api/billing/webhook", content=payload, headers={"Stripe-Signature": stripe_signature(payload)})
    assert r.status_code == 500


def test_billing_unconfigured_is_503(stack: WebStack) -> None:
    app = TestClient(create_app(WebSettings(RESONANCE_WEB_JWT_SECRET=HS_SECRET)))
    r = app.post("/api/billing/checkout/pro", headers={"Authorization": f"Bearer {stack.token('brand-a')}"})
    assert r.status_code == 503


# ------------------------------------------------------------------------------- Partner Portal


def test_portal_change_is_validated_audited_and_brand_bound(stack: WebStack) -> None:
    token = stack.token("brand-a", sub="manager-alice")
    c = stack.client(None)
    c.cookies.set("resonance_session", token)
    c.cookies.set("resonance_csrf", "csrf-1")
    form = {"csrf_token": "csrf-1", "server_id": "srv-a", "event_type": "message", "reward_amount": "7", "is_enabled": "on"}
    r = c.post("/portal/rule", data=form, follow_redirects=False)
    assert r.status_code == 303 and "ok=" in r.headers["location"]
    [rule] = stack.sql("SELECT reward_amount FROM public.monitoring_rules WHERE server_id = 'srv-a' AND event_type = 'message'")
    assert rule["reward_amount"] == 7
    audit = stack.sql("SELECT actor_type, actor_id FROM public.discord_audit_log WHERE server_id = 'srv-a' ORDER BY id DESC LIMIT 1")
    assert (audit[0]["actor_type"], audit[0]["actor_id"]) == ("admin", "manager-alice")
    # The same validation as the bot: a negative reward is refused with its SQLSTATE, nothing changes.
    r = c.post("/portal/rule", data={**form, "reward_amount": "-1"}, follow_redirects=False)
    assert "RS305" in r.headers["location"]
    # Brand a cannot touch brand b's server.
    r = c.post("/portal/rule", data={**form, "server_id": "srv-b"}, follow_redirects=False)
    assert r.status_code == 404
    [rule_b] = stack.sql("SELECT reward_amount FROM public.monitoring_rules WHERE server_id = 'srv-b' AND event_type = 'message'")
    assert rule_b["reward_amount"] == 5
    # Each portal item goes through its function.
    for kind, data in {
        "kpi": {"metric": "churn_rate", "period": "week", "target_value": "0.2", "alert_threshold": "0.4"},
        "report": {"frequency": "weekly", "channel_id": "chan-1", "day_of_week": "1"},
        "role": {"role_id": "role-1", "role_name": "VIP", "effect_type": "multiplier", "effect_config": '{"value": 1.5}'},
        "milestone": {"role_id": "role-2", "name": "Chatter", "criteria": '[{"type": "messages_count", "threshold": 100}]', "bonus_amount": "50"},
        "drop": {"drop_type": "button", "channel_id": "chan-1", "max_claims": "3", "reward_amount": "10", "minutes": "30"},
    }.items():
        r = c.post(f"/portal/{kind}", data={"csrf_token": "csrf-1", "server_id": "srv-a", **data}, follow_redirects=False)
        assert "ok=" in r.headers["location"], (kind, r.headers["location"])
    assert stack.sql("SELECT count(*) AS n FROM public.discord_drops WHERE server_id = 'srv-a'")[0]["n"] == 1
    page = c.get("/portal?server=srv-a").text
    assert "manager-alice" in page and "VIP" in page and "Chatter" in page


# ---------------------------------------------------------------------------------------- pages


def test_pages_show_only_the_brands_own_data(stack: WebStack) -> None:
    c = stack.client(None)
    c.cookies.set("resonance_session", stack.token("brand-a"))
    for path in ("/", "/leaderboard", "/drops", "/graph", "/console", "/jobs", "/billing", "/portal", "/members/srv-a/brand-a-member-1"):
        r = c.get(path)
        assert r.status_code == 200, path
        assert "brand-b" not in r.text and "srv-b" not in r.text, path
    assert c.get("/?server=srv-b").text.count("srv-a") >= 1  # another brand's server id falls back to one's own
    assert c.get("/members/srv-b/brand-b-member-1").status_code == 404
    assert "9009" not in c.get("/").text  # b's KPI marker values
    r = stack.client(None).get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
