"""Headless Chromium from Debian for the dashboard's browser tests and screenshots.

The browser is Debian's `chromium` (installed here with apt-get, as `resonance db up` installs
Postgres), driven by Playwright for Python with `executable_path`: Playwright never downloads a
browser of its own (`playwright install` is not used)."""

from __future__ import annotations

import os
import shutil
import subprocess
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
    """Debian's chromium (and chromium-driver), installed with apt-get when missing."""
    missing = [pkg for pkg, marker in PACKAGES.items() if not marker.exists()]
    if missing:
        prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
        if not shutil.which("apt-get"):
            raise RuntimeError(f"install {' '.join(missing)} (Debian packages) to run the browser tests")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run([*prefix, "apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", *missing], env=env, check=True)
    if not CHROMIUM.exists():
        raise RuntimeError("chromium is still missing after apt-get install chromium")
    return CHROMIUM


def launch(playwright: Any) -> Any:
    """A persistent context on a fresh user-data-dir of the system Chromium (the caller closes it)."""
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="resonance-chromium-"), executable_path=str(ensure_chromium()), headless=True,
        args=ARGS, viewport={"width": 1280, "height": 900}, accept_downloads=True,
    )
