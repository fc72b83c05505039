"""Headless Chromium from Debian for the dashboard's browser tests and screenshots.

The browser is Debian's `chromium` (installed here with apt-get, as `resonance db up` installs
Postgres), driven by Playwright for Python with `executable_path`: Playwright never downloads a
browser of its own (`playwright install` is not used)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
PACKAGES = {"chromium": CHROMIUM, "chromium-driver": Path("/usr/bin/chromedriver")}
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def ensure_chromium() -> Path:
    """Debian's chromium (and chromium-driver), installed with apt-get when missing (the project's one installer)."""
    from resonance.localdb import ensure_packages

    ensure_packages(PACKAGES)
    if not CHROMIUM.exists():
        raise RuntimeError("chromium is still missing after apt-get install chromium")
    return CHROMIUM


def launch(playwright: Any) -> Any:
    """A persistent context on a fresh user-data-dir of the system Chromium (the caller closes it)."""
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="resonance-chromium-"), executable_path=str(ensure_chromium()), headless=True,
        args=ARGS, viewport={"width": 1280, "height": 900}, accept_downloads=True,
    )
