"""pytest fixtures: a started FakeDiscord with the default world, and the real `resonance bot` process
run against it and against this test's migrated database.

    async def test_x(fake_discord, bot_runner, database_url):
        await link_guild(database_url, fake_discord.world.guild.id)
        bot = await bot_runner.start()          # waits for the bot's "started" log line
        await fake_discord.send_message(...)
        await bot.stop()                        # SIGTERM; returns the exit code
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from fakediscord.server import FakeDiscord, World

# Event rules of a linked test server (the seed's shapes): messages 5, reactions 1/2, voice 1 per minute
# from 1 minute, check-in 10.
DEFAULT_RULES: tuple[tuple[str, int, dict[str, Any] | None, dict[str, Any]], ...] = (
    ("channel_message", 5, None, {}),
    ("reaction_given", 1, None, {}),
    ("reaction_received", 2, None, {}),
    ("voice_minutes", 1, {"min_minutes": 1}, {"per_minute": True}),
    ("daily_checkin", 10, None, {}),
)


async def link_guild(
    database_url: str,
    guild_id: int,
    *,
    brand: str = "brand-e2e",
    rules: tuple[tuple[str, int, dict[str, Any] | None, dict[str, Any]], ...] = DEFAULT_RULES,
) -> None:
    """Link the guild to a brand and give it event rules, as an admin's setup would."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO public.discord_server_configs (server_id, brand_id, server_name) "
            "VALUES ($1, $2, 'Resonance Test')",
            str(guild_id),
            brand,
        )
        for event_type, amount, detection, metadata in rules:
            await conn.execute(
                "INSERT INTO public.monitoring_rules (brand_id, server_id, event_type, reward_amount, "
                "detection_config, rule_metadata) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
                brand,
                str(guild_id),
                event_type,
                amount,
                json.dumps(detection) if detection else None,
                json.dumps(metadata),
            )
    finally:
        await conn.close()


def resonance_executable() -> list[str]:
    """The installed console script next to this interpreter (the real entry point), else -m."""
    script = Path(sys.executable).parent / "resonance"
    if script.exists():
        return [str(script)]
    found = shutil.which("resonance")
    return [found] if found else [sys.executable, "-m", "resonance.cli"]


class BotProcess:
    """A running `resonance bot`: its structured log lines (stderr), stdout, and its exit code."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.stdout: list[str] = []
        self._changed = asyncio.Event()
        self._readers = [
            asyncio.create_task(self._read(proc.stderr, self.lines)),
            asyncio.create_task(self._read(proc.stdout, self.stdout)),
        ]

    async def _read(self, stream: asyncio.StreamReader | None, sink: list[str]) -> None:
        assert stream is not None
        while line := await stream.readline():
            sink.append(line.decode(errors="replace").rstrip("\n"))
            self._changed.set()

    @property
    def logs(self) -> list[dict[str, Any]]:
        """Every JSON log record so far (non-JSON lines are skipped)."""
        out = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
        return out

    def logged(self, msg: str, **fields: Any) -> list[dict[str, Any]]:
        return [r for r in self.logs if r.get("msg") == msg and all(r.get(k) == v for k, v in fields.items())]

    async def wait_log(self, msg: str, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.logged(msg, **fields)
            if found:
                return found[-1]
            if self.proc.returncode is not None:
                await asyncio.gather(*self._readers)
                found = self.logged(msg, **fields)
                if found:
                    return found[-1]
                raise AssertionError(f"bot exited {self.proc.returncode} before logging {msg!r}:\n{self.output}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"bot did not log {msg!r} within {timeout}s:\n{self.output}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.2))

    async def wait_exit(self, timeout: float = 20.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout=timeout)
        await asyncio.gather(*self._readers)
        return code

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await self.wait_exit(timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            await self.wait_exit(10)

    def problems(self) -> list[str]:
        """Error/critical log records and tracebacks: a healthy run has none."""
        bad = [json.dumps(r) for r in self.logs if r.get("level") in ("error", "critical")]
        return bad + [line for line in self.lines if "Traceback" in line]

    @property
    def output(self) -> str:
        return "\n".join(self.stdout + self.lines)


class BotRunner:
    """Starts `resonance bot` processes against the fake and a database; kills leftovers at teardown."""

    def __init__(self, fake: FakeDiscord, database_url: str) -> None:
        self.fake = fake
        self.database_url = database_url
        self.processes: list[BotProcess] = []

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISCORD_", "RESONANCE_"))}
        env.update(
            {
                "DISCORD_TOKEN": self.fake.state.token,
                "DATABASE_URL": self.database_url,
                "RESONANCE_DISCORD_API_BASE": self.fake.api_base,
                "RESONANCE_LOG_FORMAT": "json",
                "RESONANCE_OUTBOX_INTERVAL": "0.2",
                "RESONANCE_OUTBOX_PACE": "0",
                "PYTHONUNBUFFERED": "1",
                "RESONANCE_GUILD_READY_TIMEOUT": "0.2",
            }
        )
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    async def spawn(self, *args: str, **env: str | None) -> BotProcess:
        proc = await asyncio.create_subprocess_exec(
            *resonance_executable(),
            "bot",
            *args,
            env=self.env(**env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = BotProcess(proc)
        self.processes.append(bot)
        return bot

    async def start(self, **env: str | None) -> BotProcess:
        """Spawn and wait until the bot logged "started" (gateway READY, guilds received, linked servers
        loaded, voice and roles reconciled)."""
        bot = await self.spawn(**env)
        await bot.wait_log("started", timeout=30)
        return bot

    async def close(self) -> None:
        for bot in self.processes:
            await bot.kill()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A FakeDiscord on 127.0.0.1 with the default world in `fake_discord.world`."""
    fake = FakeDiscord()
    fake.default_world()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def world(fake_discord: FakeDiscord) -> World:
    assert fake_discord.world is not None
    return fake_discord.world


@pytest.fixture
async def bot_runner(fake_discord: FakeDiscord, database_url: str) -> AsyncIterator[BotRunner]:
    runner = BotRunner(fake_discord, database_url)
    try:
        yield runner
    finally:
        await runner.close()


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll an async (or plain) check until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)
