"""A real `resonance web` process for the web tests: its own migrated database with two brands, a
local JWKS (RS256 keys minted here), an HS256 secret, a Fernet key, and a fake Stripe API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from resonance import testing
from resonance.paths import project_root
from resonance.web.jobs import mock_guild_id

HS_SECRET = "test-hs256-secret-of-the-web-tests-0123456789"
WEBHOOK_SECRET = "whsec_test_web"
BRANDS = {"brand-a": "srv-a", "brand-b": "srv-b"}


def run(coro: Any) -> Any:
    """Run a coroutine to completion on a loop of its own (pytest-asyncio's loop may be running here)."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = coro() if callable(coro) else asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Keys:
    """An RSA key served as a JWKS (the Clerk path) and the HS256 secret (the Supabase path)."""

    private: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "test-key-1"

    def jwks(self) -> dict[str, Any]:
        pub = self.private.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": _b64(pub.n), "e": _b64(pub.e)}]}

    def claims(self, brand: str | None, sub: str = "user-1", ttl: int = 3600) -> dict[str, Any]:
        c: dict[str, Any] = {"sub": sub, "role": "authenticated", "exp": int(time.time()) + ttl, "iat": int(time.time())}
        if brand is not None:
            c["app_metadata"] = {"brand_id": brand}
        return c

    def hs256(self, brand: str | None, sub: str = "user-1", ttl: int = 3600, secret: str = HS_SECRET) -> str:
        return jwt.encode(self.claims(brand, sub, ttl), secret, algorithm="HS256")

    def rs256(self, brand: str | None, sub: str = "user-1", ttl: int = 3600, key: Any = None, kid: str | None = None) -> str:
        return jwt.encode(self.claims(brand, sub, ttl), key or self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def jwks_server(keys: Keys) -> _Server:
    body = json.dumps(keys.jwks()).encode()

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_a: Any) -> None:
            pass

    return _Server(H)


class FakeStripe:
    """Answers the two Stripe calls we make (checkout and billing portal sessions) and records them."""

    def __init__(self) -> None:
        calls = self.calls = []  # type: list[tuple[str, str]]

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                form = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                calls.append((self.path, form))
                if self.path == "/v1/checkout/sessions":
                    out = {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.test/c/cs_test_1"}
                elif self.path == "/v1/billing_portal/sessions":
                    out = {"id": "bps_test_1", "object": "billing_portal.session", "url": "https://billing.stripe.test/p/bps_test_1"}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                raw = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = _Server(H)
        self.url = self.server.url


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    t = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


# -------------------------------------------------------------------------------- the database


async def _seed(url: str) -> None:
    from resonance.analytics import create_mock_client, run_extraction

    conn = await asyncpg.connect(url)
    try:
        today = date.today()
        for i, (brand, server) in enumerate(BRANDS.items()):
            await conn.execute(
                "INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) VALUES ($1, $2, $3)",
                server, brand, f"{brand} guild",
            )
            marker = 10 if brand == "brand-a" else 9000
            for d in range(10):
                metrics = {"daily_active_users": marker + d, "weekly_active_users": marker + 20 + d, "streak_retention": 0.5,
                           "new_user_conversion": 0.3, "voice_participation": 0.2, "reward_efficiency": 0.8,
                           "churn_rate": 0.1, "top_10_concentration": 0.6}
                await conn.execute(
                    "INSERT INTO public.discord_kpi_snapshots (server_id, snapshot_date, snapshot_type, metrics) VALUES ($1, $2, 'daily', $3::jsonb)",
                    server, today - timedelta(days=10 - d), json.dumps(metrics),
                )
            for u in range(5):
                await conn.execute(
                    "INSERT INTO public.discord_user_stats (server_id, discord_user_id, messages_count, rsnc_earned) VALUES ($1, $2, $3, $4)",
                    server, f"{brand}-member-{u}", 10 * u + i, 100 * (u + 1),
                )
            await conn.execute("SELECT resonance.set_event_rule($1, 'seed', 'message', 5)", server)
            await conn.execute("SELECT resonance.set_kpi_target($1, 'daily_active_users', 12, 'day')", server)
        # Brand b's warehouse: a synced mock guild (brand a syncs its own through an extraction job).
        client = create_mock_client(user_count=20, channel_count=2, messages_per_channel=50, days=7, seed=7)
        await run_extraction(client, conn, mock_guild_id(7), tenant_id="brand-b", sync_days=7)
    finally:
        await conn.close()


async def _make_database(admin: str) -> tuple[str, str, str]:
    template = await testing.ensure_template(admin)
    name = await testing.create_test_database(admin, template)
    url = testing.with_database(admin, name)
    await _seed(url)
    return admin, name, url


@dataclass
class WebStack:
    url: str
    db_url: str
    keys: Keys
    fernet_key: str
    stripe: FakeStripe
    process: subprocess.Popen[bytes]
    log_path: Path
    admin: str
    db_name: str
    jwks: _Server

    def token(self, brand: str | None, sub: str = "user-1", rs: bool = False) -> str:
        return self.keys.rs256(brand, sub) if rs else self.keys.hs256(brand, sub)

    def client(self, brand: str | None = "brand-a", sub: str = "user-1", rs: bool = False) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(brand, sub, rs)}"} if brand is not None else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def sql(self, query: str, *args: Any) -> Any:
        async def go() -> Any:
            conn = await asyncpg.connect(self.db_url)
            try:
                return await conn.fetch(query, *args)
            finally:
                await conn.close()

        return run(go())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stripe.server.close()
        self.jwks.close()
        run(testing.drop_database(self.admin, self.db_name))


def start_stack(mock_messages: int = 200, extra_env: dict[str, str] | None = None) -> WebStack:
    admin, name, db_url = run(_make_database(run(testing.admin_url)))
    keys = Keys()
    jwks = jwks_server(keys)
    stripe = FakeStripe()
    fernet_key = Fernet.generate_key().decode()
    port = free_port()
    out = project_root() / "out" / "web"
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / f"server-{port}.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RESONANCE_WEB_JWKS_URL": f"{jwks.url}/.well-known/jwks.json",
        "RESONANCE_WEB_JWT_SECRET": HS_SECRET,
        "DISCORD_TOKEN_ENCRYPTION_KEY": fernet_key,
        "RESONANCE_WEB_DISCORD": "mock",
        "RESONANCE_WEB_MOCK_MESSAGES": str(mock_messages),
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_PRICE_PRO": "price_pro_test",
        "STRIPE_PRICE_TEAM": "price_team_test",
        "STRIPE_API_BASE": stripe.url,
        **(extra_env or {}),
    }
    exe = Path(sys.executable).parent / "resonance"
    cmd = [str(exe), "web", "--host", "127.0.0.1", "--port", str(port)]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"resonance web exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("resonance web did not answer within 60 s")
    return WebStack(url, db_url, keys, fernet_key, stripe, process, log_path, admin, name, jwks)


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/extraction/status/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
