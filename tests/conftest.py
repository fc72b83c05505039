"""Shared fixtures: every test gets a fresh database cloned from a migrated template."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from resonance import testing

# The fake Discord's fixtures (fake_discord, world, bot_runner): tests/fakediscord/fixtures.py.
pytest_plugins = ("fakediscord.fixtures",)


@pytest.fixture(scope="session")
def admin_url() -> str:
    return testing.admin_url()


@pytest.fixture(scope="session")
async def template(admin_url: str) -> str:
    return await testing.ensure_template(admin_url)


@pytest.fixture
async def database_url(admin_url: str, template: str) -> AsyncIterator[str]:
    """A superuser URL to a fresh, fully migrated database of this test's own."""
    name = await testing.create_test_database(admin_url, template)
    try:
        yield testing.with_database(admin_url, name)
    finally:
        await testing.drop_database(admin_url, name)


@pytest.fixture
async def empty_database_url(admin_url: str) -> AsyncIterator[str]:
    """A superuser URL to a fresh, empty database (for the migration runner's own tests)."""
    name = await testing.create_test_database(admin_url, None)
    try:
        yield testing.with_database(admin_url, name)
    finally:
        await testing.drop_database(admin_url, name)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """One superuser connection to this test's database."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of real parallel connections to this test's database, for concurrency storms."""
    async with asyncpg.create_pool(database_url, min_size=2, max_size=50) as p:
        yield p
