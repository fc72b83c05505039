"""The one way the typed layer calls SQL: `call()`. One statement per call, positional and/or named
arguments, results validated into pydantic models, a missing function named loudly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from pydantic import BaseModel

from resonance.db import Executor


class MissingFunctionError(RuntimeError):
    """The database does not (yet) have the SQL function the typed layer calls."""

    def __init__(self, function: str, detail: str = "") -> None:
        self.function = function
        what = f"SQL functions missing: {function}" if "," in function else f"SQL function {function} is missing"
        super().__init__(f"{what} (not migrated yet, or not on this branch)" + (f": {detail}" if detail else ""))


def sql_of(function: str, count: int, names: Sequence[str], casts: Sequence[str], *, many: bool) -> str:
    """`SELECT f($1::cast, p_name => $2)` (one value) or `SELECT * FROM f(...)` (rows)."""
    params = [f"${i}" + (f"::{casts[i - 1]}" if i <= len(casts) else "") for i in range(1, count + 1)]
    params += [f"p_{name} => ${count + i}" for i, name in enumerate(names, start=1)]
    joined = ", ".join(params)
    return f"SELECT * FROM {function}({joined})" if many else f"SELECT {function}({joined})"


def _decoded(value: Any) -> Any:
    """json arrives decoded with our pool's codecs; a bare connection hands over text."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _unpacked(records: list[asyncpg.Record]) -> list[Any]:
    """Rows of a set-returning function; one jsonb array (or object holding one) is unpacked into its items."""
    if len(records) == 1 and len(records[0]) == 1:
        value = _decoded(records[0][0])
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            for key in ("rows", "items", "entries"):
                if isinstance(value.get(key), list):
                    return list(value[key])
            return [value]
    out: list[Any] = []
    for record in records:
        if len(record) == 1 and isinstance(_decoded(record[0]), dict):
            out.append(_decoded(record[0]))
        else:
            out.append(dict(record))
    return out


async def call(
    ex: Executor,
    function: str,
    *args: Any,
    model: type[BaseModel] | None = None,
    many: bool = False,
    casts: Sequence[str] = (),
    **named: Any,
) -> Any:
    """Call one SQL function.

    - `args` are positional parameters (`casts` optionally types the first ones, for NULLs and overloads);
      `named` become `p_<name> => value` (named notation, for functions with many optional parameters).
    - `many=False`: the function's one value (jsonb decoded), validated into `model` when given.
    - `many=True`: its rows (`SELECT * FROM`), each a dict or, with `model`, a model; a single jsonb
      array is unpacked into its items.
    """
    sql = sql_of(function, len(args), list(named), casts, many=many)
    values = [*args, *named.values()]
    try:
        if many:
            items = _unpacked(await ex.fetch(sql, *values))
            return [model.model_validate(item) for item in items] if model else items
        value = _decoded(await ex.fetchval(sql, *values))
    except asyncpg.UndefinedFunctionError as exc:
        raise MissingFunctionError(function, str(exc)) from exc
    if model is None:
        return value
    return model.model_validate(value if value is not None else {})


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
