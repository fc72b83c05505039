"""docs/errors.md is the one table of SQLSTATEs: every code a function raises is listed there."""

from __future__ import annotations

import re

from resonance.paths import db_dir, project_root

RAISED = re.compile(r"ERRCODE\s*=\s*'(R[A-Z]\d{3})'")
DOCUMENTED = re.compile(r"^\| (R[A-Z]\d{3}) \|", re.M)


def test_every_raised_code_is_documented_once() -> None:
    raised = {code for path in (db_dir() / "functions").rglob("*.sql") for code in RAISED.findall(path.read_text())}
    table = (project_root() / "docs" / "errors.md").read_text()
    documented = DOCUMENTED.findall(table)
    assert raised, "the functions raise typed errors"
    assert sorted(raised - set(documented)) == [], "codes raised but missing from docs/errors.md"
    assert len(documented) == len(set(documented)), "a code is listed twice"
