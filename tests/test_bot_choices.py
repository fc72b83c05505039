"""The choices the bot offers in its commands are the ones the database accepts: each list is
compared with the constraint or function that decides it."""

from __future__ import annotations

import re

import asyncpg

from resonance.bot.features.admin import EFFECT_TYPES, FREQUENCIES, MAX_COOLDOWN_HOURS, MAX_REWARD, MILESTONE_CRITERIA
from resonance.bot.features.drops import MAX_AMOUNT, MAX_CLAIMS
from resonance.db.models import KPI_METRICS


async def check_values(db: asyncpg.Connection, table: str, column: str) -> set[str]:
    """The string literals of the CHECK constraint on table.column (`column IN ('a', 'b', ...)`)."""
    definitions = await db.fetch(
        "SELECT pg_get_constraintdef(c.oid) AS d FROM pg_constraint AS c WHERE c.conrelid = $1::regclass "
        "AND c.contype = 'c'",
        table,
    )
    for row in definitions:
        if column in row["d"] and "ANY" in row["d"]:
            return set(re.findall(r"'([a-z_]+)'::text", row["d"]))
    raise AssertionError(f"no value list constrains {table}.{column}")


async def test_effect_types_are_the_role_config_constraint(db: asyncpg.Connection) -> None:
    assert set(EFFECT_TYPES) == await check_values(db, "public.discord_role_configs", "effect_type")


async def test_report_frequencies_are_the_schedule_constraint(db: asyncpg.Connection) -> None:
    assert set(FREQUENCIES) == await check_values(db, "public.discord_report_schedules", "frequency")


async def test_milestone_criteria_and_kpis_come_from_their_functions(db: asyncpg.Connection) -> None:
    assert set(MILESTONE_CRITERIA) == set(await db.fetchval("SELECT resonance.milestone_criterion_types()"))
    assert list(KPI_METRICS) == list(await db.fetchval("SELECT resonance.kpi_metrics()"))


async def test_option_bounds_are_the_database_bounds(db: asyncpg.Connection) -> None:
    """An option's maximum passes the constraint; one more is refused by it (SQLSTATE 23514)."""
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('s', 'b')")
    for table, column, top in (
        ("public.monitoring_rules", "reward_amount", MAX_REWARD),
        ("public.monitoring_rules", "cooldown_hours", MAX_COOLDOWN_HOURS),
        ("public.discord_drops", "reward_amount", MAX_AMOUNT),
        ("public.discord_drops", "max_claims", MAX_CLAIMS),
    ):
        columns = {
            "public.monitoring_rules": "(brand_id, server_id, event_type, {c}) VALUES ('b', 's', 'x', $1)",
            "public.discord_drops": "(server_id, event_id, {c}) VALUES ('s', 'e', $1)",
        }[table]
        sql = f"INSERT INTO {table} " + columns.format(c=column)
        async with db.transaction():
            await db.execute(sql, top)
        try:
            async with db.transaction():
                await db.execute(sql, top + 1)
        except asyncpg.CheckViolationError:
            continue
        raise AssertionError(f"{table}.{column} accepted {top + 1}")
