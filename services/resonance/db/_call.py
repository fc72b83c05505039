"""How the typed layer calls SQL: one statement per function, missing functions named loudly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from resonance.db import Executor


class MissingFunctionError(RuntimeError):
    """The database does not (yet) have the SQL function the typed layer calls."""

    def __init__(self, function: str, detail: str = "") -> None:
        self.function = function
        what = f"SQL functions missing: {function}" if "," in function else f"SQL function {function} is missing"
        super().__init__(f"{what} (not migrated yet, or not on this branch)" + (f": {detail}" if detail else ""))


def _sql(function: str, casts: Sequence[str], star: bool) -> str:
    params = ", ".join(f"${i}::{cast}" for i, cast in enumerate(casts, start=1))
    if star:
        return f"SELECT * FROM {function}({params})"
    return f"SELECT {function}({params})"


async def scalar(ex: Executor, function: str, casts: Sequence[str], *args: Any) -> Any:
    """Call a scalar SQL function (jsonb, uuid, numeric, integer) and return its value."""
    try:
        return await ex.fetchval(_sql(function, casts, star=False), *args)
    except asyncpg.UndefinedFunctionError as exc:
        raise MissingFunctionError(function, str(exc)) from exc


async def rows(ex: Executor, function: str, casts: Sequence[str], *args: Any) -> list[dict[str, Any]]:
    """Call a set-returning (or scalar) SQL function; every row as a dict."""
    try:
        records = await ex.fetch(_sql(function, casts, star=True), *args)
    except asyncpg.UndefinedFunctionError as exc:
        raise MissingFunctionError(function, str(exc)) from exc
    return [dict(r) for r in records]


async def exists(ex: Executor, function: str) -> bool:
    """Whether a function of that qualified name exists (any signature)."""
    schema, _, name = function.partition(".")
    return bool(
        await ex.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
            " WHERE n.nspname = $1 AND p.proname = $2)",
            schema,
            name,
        )
    )
