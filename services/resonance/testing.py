"""Test databases: a migrated template per db/ tree, cloned for every test.

Where the server comes from: TEST_DATABASE_URL when set (an admin URL), else a Postgres container
(testcontainers, the supabase/postgres image) when a Docker engine answers, else the local cluster,
started if needed. The template's name carries a hash of db/, so editing a migration builds a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from resonance.migrate import migrate
from resonance.paths import db_dir

TEMPLATE_LOCK = 7_201_511_078


def tree_hash() -> str:
    digest = hashlib.sha256()
    root = db_dir()
    for path in sorted(root.rglob("*.sql")):
        if "tests" in path.relative_to(root).parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_container = None


def admin_url() -> str:
    """A superuser URL on a server we may create databases in."""
    global _container
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    if os.environ.get("RESONANCE_TEST_DOCKER", "auto") != "never" and _docker_answers():
        from testcontainers.postgres import PostgresContainer

        if _container is None:
            _container = PostgresContainer("supabase/postgres:15.8.1.060", username="postgres", password="postgres")
            _container.start()
        return _container.get_connection_url(driver=None)
    from resonance.localdb import up

    return up(quiet=True).url(database="postgres")


async def ensure_template(admin: str) -> str:
    """Create (once per db/ tree) a migrated template database and return its name."""
    name = f"resonance_tpl_{tree_hash()}"
    conn = await asyncpg.connect(with_database(admin, "postgres"))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", TEMPLATE_LOCK)
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                return name
            building = f"{name}_build"
            await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{building}"')
            await migrate(with_database(admin, building), log=lambda _m: None)
            await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            stale = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'resonance_tpl_%' AND datname <> $1", name
            )
            for row in stale:
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
            return name
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", TEMPLATE_LOCK)
    finally:
        await conn.close()


async def create_test_database(admin: str, template: str | None) -> str:
    name = f"resonance_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(with_database(admin, "postgres"))
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        for attempt in range(20):
            try:
                await conn.execute(f'CREATE DATABASE "{name}"{clause}')
                break
            except asyncpg.ObjectInUseError:
                # CREATE DATABASE ... TEMPLATE needs the template idle for an instant; retry.
                await asyncio.sleep(0.05 * (attempt + 1))
        else:
            raise RuntimeError(f"template {template} stayed busy")
    finally:
        await conn.close()
    return name


async def drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(admin, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
