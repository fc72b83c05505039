"""The outbox and report workers against a fake guild, and the persistent drop button's callback path."""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg

from resonance.bot.discord_io import context_of, to_discord_embed
from resonance.bot.fakes import FakeGuild
from resonance.bot.features.drops import edit_closed
from resonance.bot.outbox import OutboxWorker, ReportWorker, report_embed
from resonance.db.models import Outcome, Row
from resonance.settings import Settings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeQueue:
    """What take_outbox/complete_outbox/fail_outbox promise: one holder per row, backoff on failure,
    dead after max_attempts. Used until the real functions are on main (then the SQL is tested too)."""

    def __init__(self, rows: list[dict[str, Any]], max_attempts: int = 3, base_backoff: float = 10.0) -> None:
        self.rows = {r["id"]: {"status": "pending", "attempts": 0, "available_at": T0, **r} for r in rows}
        self.now = T0
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff

    def api(self) -> types.SimpleNamespace:
        async def take_outbox(_pool: Any, batch: int, worker: str) -> list[Row]:
            ready = [r for r in self.rows.values() if r["status"] == "pending" and r["available_at"] <= self.now]
            for r in ready[:batch]:
                r.update(status="taken", taken_by=worker, attempts=r["attempts"] + 1)
            return [Row(**r) for r in ready[:batch]]

        async def complete_outbox(_pool: Any, outbox_id: int, worker: str) -> bool:
            r = self.rows[outbox_id]
            assert r["taken_by"] == worker
            r["status"] = "done"
            return True

        async def fail_outbox(_pool: Any, outbox_id: int, worker: str, error: str) -> bool:
            r = self.rows[outbox_id]
            assert r["taken_by"] == worker
            r["last_error"] = error
            if r["attempts"] >= self.max_attempts:
                r["status"] = "dead"
            else:
                r["status"] = "pending"
                r["available_at"] = self.now + timedelta(seconds=self.base_backoff * 2 ** (r["attempts"] - 1))
            return True

        return types.SimpleNamespace(take_outbox=take_outbox, complete_outbox=complete_outbox, fail_outbox=fail_outbox)


async def test_outbox_applies_roles_and_messages() -> None:
    queue = FakeQueue(
        [
            {"id": 1, "server_id": "9", "kind": "add_role", "payload": {"user_id": "111", "role_id": "r1"}},
            {
                "id": 2,
                "server_id": "9",
                "kind": "remove_role",
                "payload": {"discord_user_id": "111", "discord_role_id": "r0"},
            },
            {
                "id": 3,
                "server_id": "9",
                "kind": "send_message",
                "payload": {"channel_id": "c1", "content": "Congrats!"},
            },
            {
                "id": 4,
                "server_id": "9",
                "kind": "send_report",
                "payload": {"channel_id": "c2", "report": {"period": "weekly", "daily_active_users": 12}},
            },
        ]
    )
    guild = FakeGuild(members={"111": {"r0"}})
    worker = OutboxWorker(None, guild, worker_id="w1", pace_seconds=0, api=queue.api())
    assert await worker.run_once() == {"taken": 4, "done": 4, "failed": 0}
    assert guild.members["111"] == {"r1"}
    assert [m["channel_id"] for m in guild.messages] == ["c1", "c2"]
    assert guild.messages[1]["embed"].fields[0].name == "daily active users"
    assert all(r["status"] == "done" for r in queue.rows.values())


async def test_outbox_retries_with_backoff_then_succeeds_or_goes_dead() -> None:
    queue = FakeQueue(
        [
            {"id": 1, "server_id": "9", "kind": "add_role", "payload": {"user_id": "111", "role_id": "r1"}},
            {"id": 2, "server_id": "9", "kind": "add_role", "payload": {"user_id": "222", "role_id": "gone"}},
        ]
    )
    guild = FakeGuild(known_roles={"r1"}, fail_next=[RuntimeError("429 Too Many Requests")])
    worker = OutboxWorker(None, guild, worker_id="w1", pace_seconds=0, api=queue.api())

    assert await worker.run_once() == {"taken": 2, "done": 0, "failed": 2}
    assert queue.rows[1]["status"] == "pending" and queue.rows[1]["available_at"] == T0 + timedelta(seconds=10)
    assert "429" in queue.rows[1]["last_error"]
    assert await worker.run_once() == {"taken": 0, "done": 0, "failed": 0}, "backoff: not before available_at"

    queue.now = T0 + timedelta(seconds=10)
    assert await worker.run_once() == {"taken": 2, "done": 1, "failed": 1}
    assert queue.rows[1]["status"] == "done" and guild.members["111"] == {"r1"}
    queue.now = T0 + timedelta(minutes=5)
    await worker.run_once()
    assert queue.rows[2]["status"] == "dead" and queue.rows[2]["attempts"] == 3
    assert "unknown role" in queue.rows[2]["last_error"]


async def test_outbox_survives_a_database_outage() -> None:
    async def down(*_a: Any) -> Any:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    worker = OutboxWorker(None, FakeGuild(), worker_id="w1", api=types.SimpleNamespace(take_outbox=down))
    assert await worker.run_once() == {"taken": 0, "done": 0, "failed": 0}


async def test_report_worker_posts_due_reports_as_embeds() -> None:
    built = []

    async def due_reports(_pool: Any, now: Any, worker: str) -> list[Row]:
        return [
            Row(server_id="9", channel_id="c1", frequency="weekly"),
            Row(
                server_id="8",
                channel_id="c2",
                report={"period": "daily", "summary": "Quiet day", "kpis": {"dau": 3, "wau": 10}},
            ),
        ]

    async def build_report(_pool: Any, server_id: str, period: str) -> Outcome:
        built.append((server_id, period))
        return Outcome(period=period, daily_active_users=42, top_members=["<@1> 50", "<@2> 40"])

    guild = FakeGuild()
    worker = ReportWorker(
        None, guild, worker_id="w1", api=types.SimpleNamespace(due_reports=due_reports, build_report=build_report)
    )
    assert await worker.run_once(T0) == 2
    assert built == [("9", "weekly")]
    first, second = (m["embed"] for m in guild.messages)
    assert first.title == "Resonance weekly report" and first.fields[0].value == "42"
    assert second.description == "Quiet day" and "dau: 3" in second.fields[0].value


def test_report_embed_converts_to_a_discord_embed() -> None:
    embed = report_embed({"period": "monthly", "churn_rate": 0.123456, "nested": {"a": 1}})
    out = to_discord_embed(embed)
    assert out.title == "Resonance monthly report" and out.fields[0].value == "0.1235"


def test_admin_role_from_settings_counts_as_admin() -> None:
    settings = Settings(DISCORD_TOKEN=None, RESONANCE_ADMIN_ROLE_ID=77)

    def interaction(*, role_ids: tuple[int, ...] = (), manage_guild: bool = False, guild_id: int | None = 9) -> Any:
        roles = [types.SimpleNamespace(id=r, name=f"role{r}", is_default=lambda: False) for r in role_ids]
        perms = types.SimpleNamespace(administrator=False, manage_guild=manage_guild)
        user = types.SimpleNamespace(id=1, name="u", roles=roles, guild_permissions=perms)
        return types.SimpleNamespace(user=user, guild_id=guild_id, channel_id=5, id=42, created_at=T0)

    assert context_of(interaction(role_ids=(77,)), settings).is_admin
    assert context_of(interaction(manage_guild=True), settings).is_admin
    assert not context_of(interaction(role_ids=(78,)), settings).is_admin
    assert not context_of(interaction(manage_guild=True, guild_id=None), settings).is_admin


async def test_outbox_ends_drop_messages_with_the_button_disabled() -> None:
    assert edit_closed is not None  # the drops feature registered its outbox message types
    drop_id = str(uuid4())
    queue = FakeQueue(
        [
            {
                "id": 1,
                "kind": "send_message",
                "server_id": "g",
                "payload": {
                    "type": "drop_sold_out",
                    "drop_id": drop_id,
                    "channel_id": "c",
                    "message_id": "m1",
                    "claims_count": 3,
                    "max_claims": 3,
                },
            },
            {
                "id": 2,
                "kind": "send_message",
                "server_id": "g",
                "payload": {
                    "type": "drop_closed",
                    "drop_id": drop_id,
                    "channel_id": "c",
                    "message_id": "m2",
                    "claims_count": 1,
                    "max_claims": 3,
                },
            },
        ]
    )
    guild = FakeGuild()
    worker = OutboxWorker(None, guild, worker_id="w", pace_seconds=0, api=queue.api())
    assert (await worker.run_once())["done"] == 2
    sold, ended = guild.messages
    assert sold["edited"] == "m1" and sold["button"].disabled and sold["button"].label == "Sold out"
    assert sold["embed"].title.endswith("sold out")
    assert (
        ended["edited"] == "m2"
        and ended["button"].label == "Expired"
        and "1 of 3 claimed" in ended["embed"].description
    )
    assert sold["button"].custom_id == f"resonance:drop:{drop_id}"
