"""`resonance db up|down|status|url|reset`: a local Postgres 15 cluster under `.resonance/`.

The cluster carries pg_cron (preloaded, bound to our database), pgTAP and pg_stat_statements.
Postgres refuses to run as root, so when we are root the server runs as the unprivileged OS
user `resonance`, created on first use.

Every kind of local cluster (the plain one here, the Supabase-like one of `resonance.supabase_env`,
those later features add) is started by `start_cluster(kind)`: its own directory under
`.resonance/`, its default port or, when that is busy, a free one, recorded in
`.resonance/<kind>.port` so every later command finds it. An explicit port variable always wins.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from resonance.paths import state_dir

PG_MAJOR = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
PG_SHARE = Path(f"/usr/share/postgresql/{PG_MAJOR}")
OS_USER = "resonance"
DB_NAME = "resonance"
SUPERUSER = "postgres"
BOT_ROLE = "resonance_bot"
BOT_PASSWORD = "resonance_bot"  # local cluster only; loopback, never exposed
DEFAULT_PORT = 54329

REQUIRED_PACKAGES = {
    "postgresql-15": PG_BIN / "initdb",
    "postgresql-15-pgtap": PG_SHARE / "extension" / "pgtap.control",
    "postgresql-15-cron": PG_SHARE / "extension" / "pg_cron.control",
    "libtap-parser-sourcehandler-pgtap-perl": Path("/usr/bin/pg_prove"),
    "postgresql-15-plpgsql-check": PG_SHARE / "extension" / "plpgsql_check.control",
}


@dataclass(frozen=True)
class Kind:
    """One kind of local cluster: where it lives, its default port and who its bootstrap superuser is."""

    name: str
    default_port: int
    port_env: str
    superuser: str = SUPERUSER
    database: str = DB_NAME  # the database pg_cron is bound to
    subdir: str = ""  # under .resonance/; "" is the plain cluster's historical place
    settings: tuple[str, ...] = field(default_factory=tuple)


PLAIN = Kind(name="plain", default_port=DEFAULT_PORT, port_env="RESONANCE_PG_PORT")


class ClusterError(RuntimeError):
    """A problem the user can act on; printed without a traceback."""


@dataclass(frozen=True)
class Cluster:
    data_dir: Path
    run_dir: Path
    log_file: Path
    port: int
    kind: Kind = PLAIN

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def superuser(self) -> str:
        return self.kind.superuser

    def url(self, database: str | None = None, user: str | None = None) -> str:
        database = database or self.kind.database
        user = user or self.kind.superuser
        if user == BOT_ROLE:
            return f"postgresql://{BOT_ROLE}:{BOT_PASSWORD}@{self.host}:{self.port}/{database}"
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"


def _explicit_port(kind: Kind) -> int | None:
    raw = os.environ.get(kind.port_env)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ClusterError(f"{kind.port_env} must be a port number, got {raw!r}") from exc


def port_file(kind: Kind = PLAIN) -> Path:
    return state_dir() / f"{kind.name}.port"


def _port(kind: Kind = PLAIN) -> int:
    """The explicit port variable, else the port recorded when the cluster last started, else the default."""
    explicit = _explicit_port(kind)
    if explicit is not None:
        return explicit
    try:
        return int(port_file(kind).read_text().strip())
    except (OSError, ValueError):
        return kind.default_port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(cmd: list[str]) -> list[str]:
    if _running_as_root():
        return ["runuser", "-u", OS_USER, "--", *cmd]
    return cmd


def _server_user_can_reach(path: Path) -> bool:
    if not _running_as_root():
        return True
    probe = subprocess.run(_as_server_user(["test", "-x", str(path)]), capture_output=True)
    return probe.returncode == 0


def cluster(kind: Kind = PLAIN) -> Cluster:
    """The cluster of this checkout; when root's checkout is out of the server user's reach
    (say under /root), its data lives under /var/lib/resonance/<checkout hash> instead."""
    home = state_dir()
    base = home
    if _running_as_root() and _user_exists(OS_USER) and not _server_user_can_reach(home.parent):
        digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
        base = Path("/var/lib/resonance") / digest
    if kind.subdir:
        base = base / kind.subdir
    return Cluster(data_dir=base / "data", run_dir=base / "run", log_file=base / "postgres.log", port=_port(kind), kind=kind)


# ---------------------------------------------------------------- packages and the OS user


def missing_packages(packages: dict[str, Path] | None = None) -> list[str]:
    wanted = REQUIRED_PACKAGES if packages is None else packages
    return [pkg for pkg, marker in wanted.items() if not marker.exists()]


def ensure_packages(packages: dict[str, Path] | None = None) -> None:
    """Install the Debian packages whose marker file is missing (apt-get as root, or sudo -n).

    `packages` maps a package name to a file it installs; the default is the cluster's own set.
    Other features (Citus build, the browser tests) pass their own map, so there is one installer.
    """
    missing = missing_packages(packages)
    if not missing:
        return
    apt = shutil.which("apt-get")
    prefix: list[str] = []
    if not _running_as_root():
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            prefix = ["sudo", "-n"]
        else:
            apt = None
    if apt is None:
        raise ClusterError(
            "Missing Debian packages: "
            + " ".join(missing)
            + f"\nInstall them with:  sudo apt-get install -y {' '.join(missing)}"
        )
    print(f"resonance: installing {' '.join(missing)} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for a concurrent apt/dpkg (another checkout's `make test`) instead of failing on its lock.
    wait_for_lock = ["-o", "DPkg::Lock::Timeout=600"]
    update = subprocess.run([*prefix, "apt-get", *wait_for_lock, "update", "-qq"], env=env)
    install = subprocess.run([*prefix, "apt-get", *wait_for_lock, "install", "-y", "-qq", *missing], env=env)
    still = missing_packages(packages)
    if update.returncode or install.returncode or still:
        raise ClusterError(
            "Could not install " + " ".join(still or missing) + f"; install them by hand: apt-get install -y {' '.join(still or missing)}"
        )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_os_user() -> None:
    if not _running_as_root() or _user_exists(OS_USER):
        return
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 9):  # 9: already exists (a concurrent creator)
        raise ClusterError(f"Could not create the OS user {OS_USER!r} to run Postgres: {result.stderr.strip()}")


def _own(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if _running_as_root():
        user = pwd.getpwnam(OS_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(0o700)


# ---------------------------------------------------------------- cluster lifecycle


def _pg_ctl(c: Cluster, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(c.data_dir), *args]),
        capture_output=True,
        text=True,
        check=check,
    )


def is_running(c: Cluster) -> bool:
    if not (c.data_dir / "PG_VERSION").exists():
        return False
    return _pg_ctl(c, "status").returncode == 0


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _clear_stale_pid(c: Cluster) -> None:
    pid_file = c.data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError):
        pass
    except ProcessLookupError:
        print(f"resonance: removing stale {pid_file} (process {pid} is not running)")
        pid_file.unlink()
        return
    except PermissionError:
        return  # alive, owned by someone else


def _settings(c: Cluster) -> str:
    return "\n".join(
        [
            "# written by `resonance db up`; edit postgresql.conf for your own overrides",
            f"port = {c.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{c.run_dir}'",
            "shared_preload_libraries = 'pg_cron,pg_stat_statements'",
            f"cron.database_name = '{c.kind.database}'",
            "max_connections = 300",
            "shared_buffers = 256MB",
            "synchronous_commit = off",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            *c.kind.settings,
            "",
        ]
    )


def _initdb(c: Cluster) -> None:
    _own(c.data_dir.parent)
    _own(c.data_dir)
    _own(c.run_dir)
    print(f"resonance: initialising a Postgres {PG_MAJOR} cluster in {c.data_dir}")
    result = subprocess.run(
        _as_server_user(
            [str(PG_BIN / "initdb"), "-D", str(c.data_dir), "-U", c.superuser, "--auth=trust", "-E", "UTF8", "--no-locale"]
        ),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ClusterError(f"initdb failed:\n{result.stderr}")
    conf = c.data_dir / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write("\ninclude_if_exists = 'resonance.conf'\n")


def start_cluster(kind: Kind = PLAIN, *, quiet: bool = False) -> Cluster:
    """Install what is missing, initialise (once) and start a cluster of this kind; return it.

    The port: the kind's explicit variable when set (busy is then an error), else the recorded or
    default port, else, when that one is busy, a free port; the chosen port is recorded."""
    ensure_packages()
    ensure_os_user()
    c = cluster(kind)
    state_dir().mkdir(parents=True, exist_ok=True)
    if not (c.data_dir / "PG_VERSION").exists():
        _initdb(c)
    running = is_running(c)
    if not running:
        _clear_stale_pid(c)
        if _port_in_use(c.port):
            if _explicit_port(kind) is not None:
                raise ClusterError(
                    f"Port {c.port} is already in use by another process. Stop it, or choose another port: "
                    f"{kind.port_env}=<port> resonance db up"
                )
            moved = _free_port()
            if not quiet:
                print(f"resonance: port {c.port} is busy; the {kind.name} cluster takes port {moved}")
            c = Cluster(data_dir=c.data_dir, run_dir=c.run_dir, log_file=c.log_file, port=moved, kind=kind)
    (c.data_dir / "resonance.conf").write_text(_settings(c))
    if _running_as_root():
        user = pwd.getpwnam(OS_USER)
        os.chown(c.data_dir / "resonance.conf", user.pw_uid, user.pw_gid)
    _own(c.run_dir)
    if running:
        if not quiet:
            print(f"resonance: Postgres already running on port {c.port}")
    else:
        c.log_file.touch()
        if _running_as_root():
            user = pwd.getpwnam(OS_USER)
            os.chown(c.log_file, user.pw_uid, user.pw_gid)
        started = _pg_ctl(c, "start", "-w", "-t", "60", "-l", str(c.log_file))
        if started.returncode != 0:
            tail = "\n".join(c.log_file.read_text(errors="replace").splitlines()[-15:])
            raise ClusterError(f"Postgres did not start:\n{started.stderr.strip()}\n--- {c.log_file} ---\n{tail}")
        if not quiet:
            print(f"resonance: Postgres {PG_MAJOR} started on 127.0.0.1:{c.port}")
    if _explicit_port(kind) is None:
        port_file(kind).write_text(f"{c.port}\n")
    return c


def up(*, quiet: bool = False) -> Cluster:
    """Install what is missing, initialise and start the cluster, create our database and roles."""
    c = start_cluster(PLAIN, quiet=quiet)
    _ensure_database_and_roles(c)
    return c


def _psql(c: Cluster, database: str, sql: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", c.host, "-p", str(c.port),
            "-U", user or c.superuser, "-d", database, "-c", sql,
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip


def _ensure_database_and_roles(c: Cluster) -> None:
    probe = _psql(c, "postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{DB_NAME}'")
    if probe.returncode != 0:
        raise ClusterError(f"Cannot reach the local cluster: {probe.stderr.strip()}")
    if probe.stdout.strip() == "0":
        created = _psql(c, "postgres", f"CREATE DATABASE {DB_NAME}")
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise ClusterError(created.stderr.strip())
    # The Supabase roles come from db/local (one place); the bot's login role joins service_role.
    from resonance.migrate import apply_local_sync

    apply_local_sync(c.url())
    bot = _psql(
        c,
        DB_NAME,
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BOT_ROLE}') THEN
                CREATE ROLE {BOT_ROLE} LOGIN PASSWORD '{BOT_PASSWORD}' IN ROLE service_role;
              END IF;
              -- Sessions start as service_role, as Supabase's service key does: membership alone
              -- would not carry service_role's BYPASSRLS.
              ALTER ROLE {BOT_ROLE} SET role = 'service_role';
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$""",
    )
    if bot.returncode != 0:
        raise ClusterError(bot.stderr.strip())


def down(kind: Kind = PLAIN) -> None:
    c = cluster(kind)
    if not is_running(c):
        print("resonance: Postgres is not running")
        return
    result = _pg_ctl(c, "stop", "-m", "fast", "-w")
    if result.returncode != 0:
        raise ClusterError(result.stderr.strip())
    print("resonance: Postgres stopped")


def status() -> int:
    c = cluster()
    initialised = (c.data_dir / "PG_VERSION").exists()
    running = is_running(c)
    print(f"data directory : {c.data_dir} ({'initialised' if initialised else 'not initialised'})")
    print(f"server         : {'running' if running else 'stopped'} on 127.0.0.1:{c.port}")
    print(f"database url   : {c.url()}")
    print(f"bot url        : {c.url(user=BOT_ROLE)}")
    missing = missing_packages()
    print(f"packages       : {'all present' if not missing else 'missing ' + ' '.join(missing)}")
    return 0 if running else 3


def reset() -> None:
    """Drop and recreate the local database (the cluster and its roles stay)."""
    c = up(quiet=True)
    dropped = _psql(c, "postgres", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    if dropped.returncode != 0:
        raise ClusterError(dropped.stderr.strip())
    _ensure_database_and_roles(c)
    print(f"resonance: database {DB_NAME} recreated (empty); run `resonance migrate`")


def default_url() -> str:
    """DATABASE_URL when set, else the local cluster's superuser URL."""
    return os.environ.get("DATABASE_URL") or cluster().url()


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    if action == "supabase":
        from resonance import supabase_env

        return supabase_env.main(argv[1:])
    try:
        if action == "up":
            up()
        elif action == "down":
            down()
        elif action == "status":
            return status()
        elif action == "url":
            print(cluster().url(user=BOT_ROLE) if "--bot" in argv else cluster().url())
        elif action == "reset":
            reset()
        else:
            print(f"unknown action {action!r}: use up, down, status, url, reset or supabase ...", file=sys.stderr)
            return 2
    except ClusterError as exc:
        print(f"resonance: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a database refusal is a message, not a traceback
        print(f"resonance: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


