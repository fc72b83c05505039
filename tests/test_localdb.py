"""`resonance db up` on its own cluster: idempotent, a stale pid file and a busy port get clear messages."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from resonance import localdb


@pytest.fixture
def private_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A second cluster of a throwaway checkout, on a free port; stopped and removed afterwards."""
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "local").mkdir(parents=True)
    for f in (localdb.state_dir().parent / "db" / "local").glob("*.sql"):
        (tmp_path / "db" / "local" / f.name).write_text(f.read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RESONANCE_ROOT", str(tmp_path))
    monkeypatch.setenv("RESONANCE_PG_PORT", str(port))
    yield port
    localdb.down()
    import shutil

    shutil.rmtree(localdb.cluster().data_dir.parent, ignore_errors=True)


def test_up_twice_then_stale_pid_then_busy_port(private_cluster: int, capsys: pytest.CaptureFixture[str]) -> None:
    port = private_cluster
    c = localdb.up()
    assert localdb.is_running(c)
    localdb.up()  # idempotent
    assert "already running" in capsys.readouterr().out

    localdb.down()
    # A crash leaves a pid file behind whose process is gone.
    (c.data_dir / "postmaster.pid").write_text("999999\n")
    localdb.up()
    assert "stale" in capsys.readouterr().out
    assert localdb.is_running(c)
    localdb.down()

    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(localdb.ClusterError, match=f"Port {port} is already in use"):
            localdb.up()
        assert localdb.main(["up"]) == 1
    assert f"Port {port}" in capsys.readouterr().err


async def test_bot_login_role_acts_as_service_role(database_url: str) -> None:
    """The bot's login role starts every session as service_role, so forced RLS lets it write."""
    import asyncpg

    from resonance.testing import with_database

    conn = await asyncpg.connect(database_url)
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", localdb.BOT_ROLE):
            pytest.skip("no bot login role on this server (created by `resonance db up`)")
        database = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()
    c = localdb.cluster()
    bot = await asyncpg.connect(with_database(c.url(user=localdb.BOT_ROLE), database))
    try:
        assert await bot.fetchval("SELECT current_user") == "service_role"
        await bot.execute("SELECT analytics.upsert_server('bot-tenant', 1, 'guild', NULL, NULL, NULL)")
        assert await bot.fetchval("SELECT count(*) FROM analytics.servers WHERE tenant_id = 'bot-tenant'") == 1
        await bot.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('bot-s', 'bot-b')")
        paid = await bot.fetchval("SELECT resonance.apply_reward('bot-s', 'u', 'custom', 'src-1', 5)::text")
        assert '"rewarded"' in paid
    finally:
        await bot.close()


def test_busy_default_port_moves_to_a_free_one_that_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two checkouts (or a demo left running): a cluster whose default port is taken starts on a free
    port, records it under .resonance/, and every later command finds it there."""
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    monkeypatch.setenv("RESONANCE_ROOT", str(tmp_path))
    monkeypatch.delenv("RESONANCE_PORTTEST_PORT", raising=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        kind = localdb.Kind(name="porttest", default_port=busy, port_env="RESONANCE_PORTTEST_PORT", subdir="porttest")
        c = localdb.start_cluster(kind, quiet=True)
        try:
            assert localdb.is_running(c) and c.port != busy
            assert localdb.port_file(kind) == tmp_path / ".resonance" / "porttest.port"
            assert localdb.port_file(kind).read_text().strip() == str(c.port)
            assert localdb.cluster(kind).port == c.port
            # An explicit port variable still wins over the recorded one.
            monkeypatch.setenv("RESONANCE_PORTTEST_PORT", "1")
            assert localdb.cluster(kind).port == 1
            monkeypatch.delenv("RESONANCE_PORTTEST_PORT")
        finally:
            localdb.down(kind)
            import shutil

            shutil.rmtree(c.data_dir.parent, ignore_errors=True)


def test_db_url_reports_the_recorded_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / ".resonance").mkdir()
    monkeypatch.setenv("RESONANCE_ROOT", str(tmp_path))
    monkeypatch.delenv("RESONANCE_PG_PORT", raising=False)
    (tmp_path / ".resonance" / "plain.port").write_text("61234\n")
    assert localdb.main(["url"]) == 0
    assert ":61234/" in capsys.readouterr().out
    monkeypatch.setenv("RESONANCE_PG_PORT", "61999")
    assert localdb.main(["url"]) == 0
    assert ":61999/" in capsys.readouterr().out
