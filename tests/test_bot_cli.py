"""`resonance bot`: the command tree without connecting, and refusing to start without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from resonance.bot.app import command_lines, intents
from resonance.bot.models import snowflake_time, time_snowflake
from resonance.settings import Settings

EXPECTED = {
    "/checkin",
    "/balance",
    "/leaderboard",
    "/stats",
    "/tip",
    "/history",
    "/wallet register",
    "/wallet verify",
    "/achievements",
    "/goals",
    "/buy role",
    "/ticket open",
    "/ticket list",
    "/ticket close",
    "/drop create",
    "/config events list",
    "/config events set",
    "/roles effect",
    "/milestone create",
    "/reward",
    "/kpi show",
    "/reports schedule",
    "/audit",
    "/help",
    # onboarding and the admin API (issue 17)
    "/setup start",
    "/setup status",
    "/setup channel",
    "/setup antifarming",
    "/setup unlink",
    "/config events disable",
    "/achievement set",
    "/achievement disable",
    "/achievement list",
    "/goal set",
    "/goal disable",
    "/goal list",
    "/kpi target set",
    "/kpi target list",
    "/kpi target disable",
    "/role threshold",
    "/role drip",
    "/role disable",
    "/role list",
    "/currency add",
    "/currency disable",
    "/currency enable",
    "/currency list",
    # for everyone (the admin subcommands of /shop and /ticket check Manage Server in their handlers)
    "/shop view",
    "/shop price",
    "/shop remove",
    "/ticket queue",
    "/ticket triage",
    "/terms",
    "/reputation",
}
ADMIN = {
    "/drop create",
    "/config events list",
    "/config events set",
    "/roles effect",
    "/milestone create",
    "/reward",
    "/kpi show",
    "/reports schedule",
    "/audit",
    "/setup start",
    "/setup status",
    "/setup channel",
    "/setup antifarming",
    "/setup unlink",
    "/config events disable",
    "/achievement set",
    "/achievement disable",
    "/achievement list",
    "/goal set",
    "/goal disable",
    "/goal list",
    "/kpi target set",
    "/kpi target list",
    "/kpi target disable",
    "/role threshold",
    "/role drip",
    "/role disable",
    "/role list",
    "/currency add",
    "/currency disable",
    "/currency enable",
    "/currency list",
}


def _names(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        words = line.split("  ")[0].split(" ")
        name = " ".join(w for w in words if w.startswith("/") or (w and w[0].isalpha()))
        out[name] = line
    return out


async def test_list_commands_covers_every_command() -> None:
    names = _names(await command_lines(Settings(DISCORD_TOKEN=None)))
    assert set(names) == EXPECTED
    for name in ADMIN:
        assert "(admin)" in names[name], name
    for name in EXPECTED - ADMIN:
        assert "(admin)" not in names[name], name
    assert "[period]" in names["/leaderboard"]
    assert "<member> <amount> [currency]" in names["/tip"]


def _run(*args: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "resonance.cli", "bot", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_cli_list_commands_without_token_or_network() -> None:
    done = _run("--list-commands", token=None)
    assert done.returncode == 0, done.stderr
    printed = {line.split("  ")[0] for line in done.stdout.splitlines()}
    assert len(printed) == len(EXPECTED)
    assert any(line.startswith("/drop create <amount> <max_claims>") for line in printed)


def test_cli_without_token_says_so_and_exits_non_zero() -> None:
    done = _run(token=None)
    assert done.returncode == 2
    assert "DISCORD_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert _run(token="   ").returncode == 2


def test_every_feature_module_is_registered_and_no_import_cycle() -> None:
    """Features import plumbing only; the app imports the registry; nothing imports the app."""
    import ast
    from pathlib import Path

    from resonance.bot import features

    bot_dir = Path(features.__file__).parent.parent
    modules = {p.stem for p in (bot_dir / "features").glob("*.py") if p.stem != "__init__"}
    assert modules == set(features.FEATURES)
    for path in [*bot_dir.glob("*.py"), *bot_dir.glob("features/*.py")]:
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert "resonance.bot.app" not in imported, path
        if path.parent.name == "features":
            assert not {m for m in imported if m.startswith("resonance.bot.features.")}, path


def test_settings_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("RESONANCE_GUILD_IDS", "1, 2,3")
    monkeypatch.setenv("RESONANCE_ADMIN_ROLE_ID", "42")
    s = Settings()
    assert s.discord_token.get_secret_value() == "abc"
    assert s.database_url == "postgresql://x/y"
    assert s.guild_ids == [1, 2, 3]
    assert s.admin_role_id == 42
    assert "abc" not in repr(s)


def test_intents_and_snowflake_time() -> None:
    wanted = intents()
    assert wanted.message_content and wanted.members and wanted.voice_states and wanted.guild_reactions
    # Discord's documented example: 175928847299117063 was created 2016-04-30 11:18:25.796 UTC.
    assert snowflake_time(175928847299117063) == datetime(2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert snowflake_time(time_snowflake(at, low=12345)) == at


def test_every_call_a_handler_or_worker_makes_exists_in_the_api_seam() -> None:
    import re
    from pathlib import Path

    from resonance.bot import api

    bot_dir = Path(api.__file__).parent
    source = "".join(p.read_text() for p in [*bot_dir.glob("*.py"), *bot_dir.glob("features/*.py")])
    names = set(re.findall(r'call\(\s*"([a-z_]+)"', source)) | set(re.findall(r"\.api\.([a-z_]+)", source))
    assert len(names) > 30
    assert sorted(n for n in names if not callable(getattr(api, n, None))) == []


def test_structured_logs_json_and_key_value(capsys) -> None:
    import json
    import logging

    from resonance.bot import logs

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logs.setup("json", "INFO")
        logging.getLogger("resonance.bot").info("outbox batch", extra={"taken": 3, "worker": "w1"})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert line["msg"] == "outbox batch" and line["taken"] == 3 and line["level"] == "info"
        logs.setup("kv", "INFO")
        logging.getLogger("resonance.bot").warning("db call failed", extra={"call": "tip"})
        text = capsys.readouterr().err.strip().splitlines()[-1]
        assert 'msg="db call failed"' in text and "call=tip" in text and "level=warning" in text
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
