"""`resonance citus build|up|down|status|url|reset`: Citus built from the vendored source, and a local
3-node cluster (a coordinator and two workers on 127.0.0.1) under `.resonance/citus/`.

Citus is not packaged by Debian. When the system's Postgres 15 has no `citus` extension, we build it
once from `../shared/vendor/citus-13.2.2.tar.gz` (the nearest `shared/vendor` above the checkout, or
RESONANCE_CITUS_TARBALL) in a cache directory
outside the checkout (RESONANCE_CACHE, default ~/.cache/resonance) and `make install` it; later runs
find it installed. The nodes reuse the single-node cluster's helpers (localdb): same OS user, same
initdb, same pg_ctl. Ports come from RESONANCE_CITUS_PORTS ("coordinator,worker,worker"), else the
ports recorded in `.resonance/citus/ports` on first start, else three free ports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from resonance import localdb
from resonance.localdb import DB_NAME, PG_BIN, PG_MAJOR, PG_SHARE, SUPERUSER, Cluster, ClusterError
from resonance.paths import project_root, state_dir

CITUS_VERSION = "13.2.2"
TARBALL_NAME = f"citus-{CITUS_VERSION}.tar.gz"
NODE_NAMES = ("coordinator", "worker1", "worker2")
BUILD_PACKAGES = {
    "postgresql-server-dev-15": Path(f"/usr/include/postgresql/{PG_MAJOR}/server/postgres.h"),
    "liblz4-dev": Path("/usr/include/lz4.h"),
    "libzstd-dev": Path("/usr/include/zstd.h"),
    "libkrb5-dev": Path("/usr/include/krb5.h"),
    "libssl-dev": Path("/usr/include/openssl/ssl.h"),
}


# ---------------------------------------------------------------- the extension


def tarball() -> Path:
    explicit = os.environ.get("RESONANCE_CITUS_TARBALL")
    if explicit:
        return Path(explicit)
    # ../shared/vendor beside the checkout (CI), or beside a folder of worktrees (../../shared/vendor).
    for folder in project_root().parents:
        candidate = folder / "shared" / "vendor" / TARBALL_NAME
        if candidate.exists():
            return candidate
    return project_root().parent / "shared" / "vendor" / TARBALL_NAME


def installed() -> bool:
    """Is the citus extension installed into the system's Postgres 15?"""
    return (PG_SHARE / "extension" / "citus.control").exists() and (Path(f"/usr/lib/postgresql/{PG_MAJOR}/lib") / "citus.so").exists()


def available() -> bool:
    """Citus can be used here: installed, or buildable from the vendored source."""
    return installed() or tarball().exists()


def cache_dir() -> Path:
    return Path(os.environ.get("RESONANCE_CACHE", Path.home() / ".cache" / "resonance"))


def _sudo_prefix() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    raise ClusterError("building Citus needs root (apt-get, make install): run as root or with passwordless sudo")


def _ensure_build_packages() -> None:
    missing = [pkg for pkg, marker in BUILD_PACKAGES.items() if not marker.exists()]
    if not missing:
        return
    prefix = _sudo_prefix()
    print(f"resonance: installing Citus build dependencies: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, check=False)
    result = subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", *missing], env=env)
    still = [pkg for pkg, marker in BUILD_PACKAGES.items() if not marker.exists()]
    if result.returncode or still:
        raise ClusterError(f"could not install {' '.join(still or missing)}; apt-get install -y {' '.join(still or missing)}")


# Postgres 15.14+ exports have_createdb_privilege(), which Citus 13.2.2's compatibility header still
# defines as a static inline for PG 15 ("static declaration follows non-static declaration"). When the
# installed server headers declare it, the header includes them instead of redefining it.
_COMPAT_HEADER = Path("src/include/pg_version_compat.h")
_STATIC_CREATEDB = re.compile(r"static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n", re.S)


def _patch_for_server_headers(src: Path) -> bool:
    dbcommands = Path(f"/usr/include/postgresql/{PG_MAJOR}/server/commands/dbcommands.h")
    if "have_createdb_privilege" not in dbcommands.read_text():
        return False
    header = src / _COMPAT_HEADER
    text = header.read_text()
    patched, count = _STATIC_CREATEDB.subn('#include "commands/dbcommands.h"\n', text)
    if count:
        header.write_text(patched)
    return bool(count)


def build(*, log=print) -> float:
    """Build and install Citus from the vendored tarball (cached); returns the seconds spent (0 if installed)."""
    if installed():
        return 0.0
    source = tarball()
    if not source.exists():
        raise ClusterError(f"Citus is not installed and the source tarball is missing: {source}")
    _ensure_build_packages()
    prefix = _sudo_prefix()
    started = time.perf_counter()
    src = cache_dir() / f"citus-{CITUS_VERSION}-pg{PG_MAJOR}"
    stamp = src / ".resonance-built"
    if not stamp.exists():
        if src.exists():
            shutil.rmtree(src)
        src.mkdir(parents=True)
        log(f"resonance: building Citus {CITUS_VERSION} from {source} in {src} (once; about a minute on two cores)")
        with tarfile.open(source) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts[1:]
                if not parts:
                    continue
                member.name = str(Path(*parts))
                tar.extract(member, src, filter="tar")
        if _patch_for_server_headers(src):
            log("resonance: the server headers export have_createdb_privilege; Citus's compat header uses theirs")
        jobs = str(min(2, os.cpu_count() or 1))
        for cmd in (["./configure", "--without-libcurl"], ["make", f"-j{jobs}", "with_llvm=no"]):
            result = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
                raise ClusterError(f"building Citus failed at {' '.join(cmd)}:\n{tail}")
        stamp.write_text(CITUS_VERSION)
    result = subprocess.run([*prefix, "make", "install", "with_llvm=no"], cwd=src, capture_output=True, text=True)
    if result.returncode != 0 or not installed():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise ClusterError(f"make install of Citus failed:\n{tail}")
    seconds = round(time.perf_counter() - started, 1)
    log(f"resonance: Citus {CITUS_VERSION} installed into Postgres {PG_MAJOR} ({seconds} s)")
    return seconds


# ---------------------------------------------------------------- the cluster


@dataclass(frozen=True)
class Node:
    name: str
    cluster: Cluster

    @property
    def port(self) -> int:
        return self.cluster.port

    def url(self, database: str = DB_NAME, user: str = SUPERUSER) -> str:
        return self.cluster.url(database=database, user=user)


def base_dir() -> Path:
    return localdb.cluster().data_dir.parent / "citus"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ports(*, choose: bool = False) -> list[int]:
    explicit = os.environ.get("RESONANCE_CITUS_PORTS")
    if explicit:
        try:
            found = [int(p) for p in explicit.split(",")]
        except ValueError as exc:
            raise ClusterError(f"RESONANCE_CITUS_PORTS must be three ports, got {explicit!r}") from exc
        if len(found) != len(NODE_NAMES):
            raise ClusterError(f"RESONANCE_CITUS_PORTS must be three ports, got {explicit!r}")
        return found
    recorded = state_dir() / "citus" / "ports"
    if recorded.exists():
        return [int(p) for p in json.loads(recorded.read_text())]
    if not choose:
        return []
    chosen: list[int] = []
    while len(chosen) < len(NODE_NAMES):
        port = _free_port()
        if port not in chosen:
            chosen.append(port)
    recorded.parent.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(chosen))
    return chosen


def nodes(*, choose: bool = False) -> list[Node]:
    found = ports(choose=choose)
    if not found:
        return []
    base = base_dir()
    return [
        Node(name, Cluster(data_dir=base / name / "data", run_dir=base / name / "run", log_file=base / name / "postgres.log", port=port))
        for name, port in zip(NODE_NAMES, found)
    ]


def coordinator() -> Node:
    found = nodes()
    if not found:
        raise ClusterError("the Citus cluster was never started: resonance citus up")
    return found[0]


def _settings(node: Node) -> str:
    c = node.cluster
    return "\n".join(
        [
            "# written by `resonance citus up`",
            f"port = {c.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{c.run_dir}'",
            # citus first; pg_cron on every node because CREATE EXTENSION propagates to the workers.
            "shared_preload_libraries = 'citus,pg_cron,pg_stat_statements'",
            f"cron.database_name = '{DB_NAME}'",
            "max_connections = 300",
            "max_prepared_transactions = 300",
            "shared_buffers = 128MB",
            "synchronous_commit = off",
            "fsync = off",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "citus.enable_statistics_collection = off",
            "citus.enable_stat_counters = on",
            "citus.stat_statements_track = 'all'",
            "",
        ]
    )


def _start(node: Node) -> None:
    c = node.cluster
    if not (c.data_dir / "PG_VERSION").exists():
        localdb._initdb(c)
    conf = c.data_dir / "resonance.conf"
    conf.write_text(_settings(node))
    localdb._own(c.run_dir)
    if localdb._running_as_root():
        import pwd

        user = pwd.getpwnam(localdb.OS_USER)
        os.chown(conf, user.pw_uid, user.pw_gid)
    if localdb.is_running(c):
        if _running_port(c) == c.port:
            localdb._pg_ctl(c, "reload")  # resonance.conf may have changed
            return
        localdb._pg_ctl(c, "stop", "-m", "fast", "-w")  # started on other ports before: move it
    localdb._clear_stale_pid(c)
    if localdb._port_in_use(c.port):
        raise ClusterError(f"port {c.port} ({node.name}) is in use by another process; set RESONANCE_CITUS_PORTS")
    c.log_file.touch()
    if localdb._running_as_root():
        import pwd

        user = pwd.getpwnam(localdb.OS_USER)
        os.chown(c.log_file, user.pw_uid, user.pw_gid)
    started = localdb._pg_ctl(c, "start", "-w", "-t", "60", "-l", str(c.log_file))
    if started.returncode != 0:
        tail = "\n".join(c.log_file.read_text(errors="replace").splitlines()[-15:])
        raise ClusterError(f"{node.name} did not start:\n{started.stderr.strip()}\n--- {c.log_file} ---\n{tail}")


def _running_port(c: Cluster) -> int | None:
    try:
        return int((c.data_dir / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, ValueError, IndexError):
        return None


def _sql(node: Node, database: str, sql: str) -> str:
    result = localdb._psql(node.cluster, database, sql)
    if result.returncode != 0:
        raise ClusterError(f"{node.name}: {result.stderr.strip()}")
    return result.stdout.strip()


def create_database(name: str = DB_NAME) -> str:
    """Create `name` on every node with the citus extension and register the workers; returns its URL."""
    all_nodes = nodes()
    for node in all_nodes:
        if _sql(node, "postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "0":
            _sql(node, "postgres", f'CREATE DATABASE "{name}"')
        _sql(node, name, "CREATE EXTENSION IF NOT EXISTS citus")
    coord, workers = all_nodes[0], all_nodes[1:]
    # The nodes moved to other ports since this database registered them: follow them.
    known = _sql(coord, name, "SELECT string_agg(nodeid || ':' || nodeport, ',' ORDER BY nodeid) FROM pg_dist_node WHERE groupid > 0")
    moved = False
    for (nodeid, port), worker in zip((item.split(":") for item in known.split(",") if item), workers):
        if int(port) != worker.port:
            _sql(coord, name, f"SELECT citus_update_node({nodeid}, '127.0.0.1', {worker.port})")
            moved = True
    if moved:
        for worker in workers:
            _sql(coord, name, f"SELECT start_metadata_sync_to_node('127.0.0.1', {worker.port})")
    _sql(coord, name, f"SELECT citus_set_coordinator_host('127.0.0.1', {coord.port})")
    for worker in workers:
        _sql(
            coord,
            name,
            f"SELECT citus_add_node('127.0.0.1', {worker.port}) WHERE NOT EXISTS "
            f"(SELECT FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = {worker.port})",
        )
    return coord.url(database=name)


def drop_database(name: str) -> None:
    for node in nodes():
        _sql(node, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def up(*, quiet: bool = False) -> list[Node]:
    """Build Citus if needed, then initialise and start the three nodes; our database on each."""
    localdb.ensure_packages()
    build(log=(lambda _m: None) if quiet else print)
    localdb.ensure_os_user()
    all_nodes = nodes(choose=True)
    localdb._own(base_dir().parent)
    localdb._own(base_dir())
    for node in all_nodes:
        localdb._own(node.cluster.data_dir.parent)
        _start(node)
    create_database(DB_NAME)
    if not quiet:
        print("resonance: Citus cluster up: " + ", ".join(f"{n.name} 127.0.0.1:{n.port}" for n in all_nodes))
    return all_nodes


def down() -> None:
    for node in reversed(nodes()):
        if localdb.is_running(node.cluster):
            localdb._pg_ctl(node.cluster, "stop", "-m", "fast", "-w")
            print(f"resonance: {node.name} stopped")


def status() -> int:
    found = nodes()
    print(f"citus          : {'installed' if installed() else ('buildable from ' + str(tarball()) if tarball().exists() else 'not available')}")
    if not found:
        print("cluster        : never started (resonance citus up)")
        return 3
    running = 0
    for node in found:
        up_now = localdb.is_running(node.cluster)
        running += up_now
        print(f"{node.name:15}: {'running' if up_now else 'stopped'} on 127.0.0.1:{node.port}")
    print(f"database url   : {found[0].url()}")
    return 0 if running == len(found) else 3


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    try:
        if action == "build":
            seconds = build()
            print(f"resonance: Citus {CITUS_VERSION} {'built and installed in ' + str(seconds) + ' s' if seconds else 'already installed'}")
        elif action == "up":
            up()
        elif action == "down":
            down()
        elif action == "status":
            return status()
        elif action == "url":
            print(coordinator().url())
        else:
            print(f"unknown action {action!r}: use build, up, down, status or url", file=sys.stderr)
            return 2
    except ClusterError as exc:
        print(f"resonance: {exc}", file=sys.stderr)
        return 1
    return 0
