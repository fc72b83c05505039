"""A Supabase-like Postgres 15 cluster, built from Supabase's own published init scripts.

`resonance db supabase up` (and `make pgtap-supabase`) starts a second local cluster whose bootstrap
superuser is `supabase_admin`, then replays what supabase/postgres's `migrations/db/migrate.sh` does
on a new project: create `postgres` as a superuser, run `init-scripts/*.sql` as `postgres`, run
`migrations/*.sql` as `supabase_admin` (the first of them demotes `postgres` to CREATEROLE +
BYPASSRLS, no superuser), then enable pg_cron the way the dashboard does (as `supabase_admin`,
followed by Supabase's pg_cron after-create script). The files are verbatim copies kept in
tests/supabase/upstream/ (origin, commit and licence in its README); the few statements that cannot
run on Debian's packages are replaced by the PATCHES below, each with its reason, before replay.

The replayed database is kept as a template (`supabase_pristine`); `reset()` gives a fresh
`postgres` database from it in seconds and drops every role created since the build, so each run
starts from a new project. The whole cluster is rebuilt when the upstream files or the patches change.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from resonance import localdb
from resonance.paths import project_root

SUPABASE = localdb.Kind(
    name="supabase",
    default_port=54339,
    port_env="RESONANCE_SUPABASE_PG_PORT",
    superuser="supabase_admin",
    database="postgres",
    subdir="supabase",
)
PRISTINE = "supabase_pristine"
DEPLOY_ROLE = "postgres"  # the role users deploy with on Supabase


def upstream_dir() -> Path:
    return project_root() / "tests" / "supabase" / "upstream"


@dataclass(frozen=True)
class Patch:
    file: str
    old: str
    new: str
    reason: str


# Each replaces one statement that cannot run on Debian's Postgres 15 packages; docs/supabase.md
# lists them for users. Replay fails loudly when a patch no longer matches its file.
PATCHES: tuple[Patch, ...] = (
    Patch(
        file="init-scripts/00000000000000-initial-schema.sql",
        old="create extension if not exists pgjwt            with schema extensions;",
        new="-- [resonance patch] pgjwt is not packaged by Debian; nothing of ours uses it",
        reason="pgjwt is not packaged by Debian; our migrations and tests never call it",
    ),
    Patch(
        file="migrations/20230529180330_alter_api_roles_for_inherit.sql",
        old="GRANT pgsodium_keyholder to service_role;",
        new="-- [resonance patch] pgsodium is not packaged by Debian, so its role does not exist",
        reason="pgsodium (and its pgsodium_keyholder role) is not packaged by Debian",
    ),
)


def cluster() -> localdb.Cluster:
    return localdb.cluster(SUPABASE)


def url(user: str = DEPLOY_ROLE, database: str = "postgres") -> str:
    return cluster().url(database=database, user=user)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(upstream_dir().rglob("*.sql")):
        digest.update(str(path.relative_to(upstream_dir())).encode())
        digest.update(path.read_bytes())
    for patch in PATCHES:
        digest.update(repr(patch).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _psql(c: localdb.Cluster, user: str, database: str, *, sql: str | None = None, file: Path | None = None) -> None:
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.host, "-p", str(c.port), "-U", user, "-d", database]
    cmd += ["-f", str(file)] if file else ["-c", sql or ""]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        what = file.name if file else (sql or "")[:80]
        raise localdb.ClusterError(f"Supabase replay failed at {what} (as {user}):\n{result.stderr.strip()}")


def _patched_copy(dest: Path) -> list[Path]:
    """Copy the upstream files into dest with PATCHES applied; return init scripts then migrations."""
    src = upstream_dir()
    if not (src / "init-scripts").is_dir():
        raise localdb.ClusterError(f"{src} is missing: the Supabase init scripts ship with the repository")
    for sub in ("init-scripts", "migrations"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
        for path in sorted((src / sub).glob("*.sql")):
            (dest / sub / path.name).write_text(path.read_text())
    for patch in PATCHES:
        target = dest / patch.file
        text = target.read_text()
        if patch.old not in text:
            raise localdb.ClusterError(f"patch for {patch.file} no longer matches: {patch.old!r}")
        target.write_text(text.replace(patch.old, patch.new))
    return sorted((dest / "init-scripts").glob("*.sql")) + sorted((dest / "migrations").glob("*.sql"))


def _enable_platform_extensions(c: localdb.Cluster, database: str) -> None:
    """What a project has once pg_cron is enabled from the dashboard, plus the extensions Supabase
    ships that our tests use (pgTAP for `supabase test db`, plpgsql_check), created by supabase_admin."""
    _psql(c, "supabase_admin", database, sql="CREATE EXTENSION IF NOT EXISTS pg_cron WITH SCHEMA pg_catalog")
    _psql(c, "supabase_admin", database, file=upstream_dir() / "pg_cron-after-create.sql")
    _psql(
        c,
        "supabase_admin",
        database,
        sql="CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions; "
        "CREATE EXTENSION IF NOT EXISTS plpgsql_check WITH SCHEMA extensions;",
    )


def _fetch(c: localdb.Cluster, sql: str, database: str = "template1") -> list[str]:
    out = subprocess.run(
        ["psql", "-X", "-tA", "-h", c.host, "-p", str(c.port), "-U", "supabase_admin", "-d", database, "-c", sql],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise localdb.ClusterError(out.stderr.strip())
    return [line for line in out.stdout.splitlines() if line]


def _roles(c: localdb.Cluster) -> set[str]:
    return set(_fetch(c, "SELECT rolname FROM pg_roles"))


def _state(c: localdb.Cluster) -> Path:
    return c.data_dir.parent


def build(*, quiet: bool = False) -> localdb.Cluster:
    """Initialise a new cluster and replay Supabase's scripts; keep the result as the template."""
    c = cluster()
    if localdb.is_running(c):
        localdb.down(SUPABASE)
    if c.data_dir.exists():
        shutil.rmtree(c.data_dir)
    started = time.monotonic()
    # Replayed without pg_cron loaded: its launcher holds a connection to `postgres`, which would
    # keep the database from being copied as the template.
    c = localdb.start_cluster(replace(SUPABASE, settings=("shared_preload_libraries = 'pg_stat_statements'",)), quiet=True)
    # migrate.sh: postgres is created as a superuser first and owns the database.
    _psql(c, "supabase_admin", "postgres", sql="CREATE ROLE postgres SUPERUSER LOGIN; ALTER DATABASE postgres OWNER TO postgres;")
    with tempfile.TemporaryDirectory() as tmp:
        files = _patched_copy(Path(tmp))
        for path in files:
            user = "postgres" if path.parent.name == "init-scripts" else "supabase_admin"
            _psql(c, user, "postgres", file=path)
    # The auth service (GoTrue) then runs its own migrations as supabase_auth_admin; the two that
    # define today's auth.uid(), auth.role(), auth.email() and auth.jwt() are kept in upstream/auth.
    for path in sorted((upstream_dir() / "auth").glob("*.up.sql")):
        _psql(c, "supabase_auth_admin", "postgres", file=path)
    _psql(c, "supabase_admin", "template1", sql=f"CREATE DATABASE {PRISTINE} TEMPLATE postgres")
    grants = _fetch(c, "SELECT format('GRANT %s ON DATABASE postgres TO %I', a.privilege_type, r.rolname) "
                    "FROM pg_database AS d, aclexplode(d.datacl) AS a JOIN pg_roles AS r ON r.oid = a.grantee "
                    "WHERE d.datname = 'postgres' AND r.rolname <> 'postgres'")
    (_state(c) / "database.grants").write_text("\n".join(grants) + "\n")
    localdb.down(SUPABASE)
    c = localdb.start_cluster(SUPABASE, quiet=True)
    _enable_platform_extensions(c, "postgres")
    (_state(c) / "roles.baseline").write_text("\n".join(sorted(_roles(c))) + "\n")
    (_state(c) / "fingerprint").write_text(fingerprint() + "\n")
    if not quiet:
        print(f"resonance: Supabase-like cluster built on 127.0.0.1:{c.port} in {time.monotonic() - started:.1f}s")
    return c


def _built(c: localdb.Cluster) -> bool:
    marker = _state(c) / "fingerprint"
    return (c.data_dir / "PG_VERSION").exists() and marker.exists() and marker.read_text().strip() == fingerprint()


def up(*, quiet: bool = False) -> localdb.Cluster:
    """Start the Supabase-like cluster, building it first when it is missing or out of date."""
    c = cluster()
    if not _built(c):
        return build(quiet=quiet)
    return localdb.start_cluster(SUPABASE, quiet=quiet)


def reset(*, quiet: bool = False) -> localdb.Cluster:
    """A brand-new project: `postgres` recreated from the replayed template, pg_cron enabled again,
    and every role created since the build (by our migrations, say) dropped."""
    c = up(quiet=True)
    _psql(c, "supabase_admin", "template1", sql="DROP DATABASE IF EXISTS postgres WITH (FORCE)")
    for attempt in range(50):
        try:
            _psql(c, "supabase_admin", "template1", sql=f"CREATE DATABASE postgres OWNER postgres TEMPLATE {PRISTINE}")
            break
        except localdb.ClusterError:
            if attempt == 49:
                raise
            time.sleep(0.2)
    baseline = set((_state(c) / "roles.baseline").read_text().split())
    extra = sorted(_roles(c) - baseline)
    if extra:
        for role in extra:
            _psql(c, "supabase_admin", PRISTINE, sql=f'DROP OWNED BY "{role}"')
        _psql(c, "supabase_admin", "template1", sql="DROP ROLE " + ", ".join(f'"{r}"' for r in extra))
    grants = (_state(c) / "database.grants").read_text().strip()
    if grants:
        _psql(c, "supabase_admin", "template1", sql=grants.replace("\n", ";\n"))
    _enable_platform_extensions(c, "postgres")
    if not quiet:
        print(f"resonance: fresh Supabase-like database at {url()}")
    return c


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "up"
    try:
        if action == "up":
            up()
        elif action == "build":
            build()
        elif action == "reset":
            reset()
        elif action == "down":
            localdb.down(SUPABASE)
        elif action == "url":
            user = "supabase_admin" if "--admin" in argv else DEPLOY_ROLE
            print(url(user=user))
        else:
            print(f"unknown action {action!r}: use up, build, reset, down or url [--admin]", file=sys.stderr)
            return 2
    except localdb.ClusterError as exc:
        print(f"resonance: {exc}", file=sys.stderr)
        return 1
    return 0
