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
