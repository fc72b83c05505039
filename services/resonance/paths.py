"""Where the project lives on disk: the repository root, its db/ tree and the local cluster."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds db/migrations: RESONANCE_ROOT, else the package's own tree, else cwd."""
    explicit = os.environ.get("RESONANCE_ROOT")
    if explicit:
        return Path(explicit).resolve()
    here = Path(__file__).resolve()
    for candidate in (here.parents[2], Path.cwd(), *Path.cwd().parents):
        if (candidate / "db" / "migrations").is_dir():
            return candidate
    return Path.cwd()


def db_dir() -> Path:
    return project_root() / "db"


def state_dir() -> Path:
    """The git-ignored home of the local cluster (`.resonance/`)."""
    return project_root() / ".resonance"
