"""Throwaway PostgreSQL servers for the test suite (and CI).

One server per pytest process (so one per pytest-xdist worker), started lazily on
127.0.0.1 the first time a test asks for it, stopped and deleted at session end.
Each test gets its own database cloned from a template (``CREATE DATABASE .. TEMPLATE``).

Availability policy, env ``TELLER_TEST_PG``:

* ``required`` (default when ``CI=true``): a server that cannot be had is a test
  error with the reason; never a silent skip.
* ``auto`` (default elsewhere): skip with the reason when the PostgreSQL binaries are
  missing; any other failure to start is still an error.
* ``off``: skip every test that needs PostgreSQL.

``TELLER_TEST_PG_URL=postgresql://user[:pw]@host:port/db`` uses an existing server
(its user must be able to create databases) instead of starting one.
``TELLER_TEST_PG_BINDIR`` points at the directory holding ``initdb`` and ``postgres``.
``TELLER_TEST_PG_KEEP=1`` keeps the data directory and log after the session.
``TELLER_TEST_PG_TMPDIR`` sets where clusters live (default: /dev/shm for non-durable
clusters when it has 1 GiB free, else /tmp).

Running as root: ``initdb``/``postgres`` refuse root, so they run as the OS user
``postgres`` (or ``TELLER_TEST_PG_OSUSER``; a system user ``teller-pg`` is created when
neither exists) and the temporary directory is owned by that user.

The postmaster is a direct child of the pytest process (not daemonised by pg_ctl), so
start/stop/restart are plain signals with no polling of a second tool, and a small
watchdog process stops the server and deletes its directory if pytest dies without
cleaning up (SIGKILL, OOM). Leftovers of a watchdog that died too are swept at the
next start.

Conftest wiring (see /work/notes/pg_report.md)::

    from pgserver import pg_server, pg_server_factory, pg_database, pg_url  # noqa: F401
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

import pytest

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

__all__ = [
    "PgUnavailable",
    "PgServer",
    "ExternalPgServer",
    "pg_policy",
    "find_pg_bindir",
    "free_port",
    "session_server",
    "apply_policy",
    "pg_server",
    "pg_server_factory",
    "pg_database",
    "pg_url",
    "mark_postgres_items",
    "PgStandby",
    "PgReplicaSet",
    "kill_server",
    "pg_replica_set",
]

Policy = Literal["required", "auto", "off"]
StopMode = Literal["smart", "fast", "immediate"]

_STOP_SIGNALS: dict[str, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}
_DIR_PREFIX = "teller-pg-"
_MARKER = ".teller-pg"
_DEFAULT_TEMPLATE = "teller_template"
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


class PgUnavailable(Exception):
    """No PostgreSQL server can be had. ``missing_binaries`` tells the policy why."""

    def __init__(self, reason: str, *, missing_binaries: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing_binaries = missing_binaries


# --------------------------------------------------------------------------- policy


def pg_policy(environ: Mapping[str, str] | None = None) -> Policy:
    """The availability policy from ``TELLER_TEST_PG`` (default: required in CI)."""
    env = os.environ if environ is None else environ
    raw = env.get("TELLER_TEST_PG", "").strip().lower()
    if not raw:
        in_ci = env.get("CI", "").strip().lower() in {"1", "true", "yes"}
        return "required" if in_ci else "auto"
    if raw not in ("required", "auto", "off"):
        raise ValueError(f"TELLER_TEST_PG must be required, auto or off, not {raw!r}")
    return raw  # type: ignore[return-value]


def apply_policy(exc: PgUnavailable, policy: Policy) -> None:
    """Turn an unavailable server into a skip or a failure, as the policy says. Never returns."""
    if policy == "off":
        pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
    if policy == "auto" and exc.missing_binaries:
        pytest.skip(f"PostgreSQL not available: {exc.reason} (set TELLER_TEST_PG=required to fail)")
    pytest.fail(f"PostgreSQL required (TELLER_TEST_PG={policy}) but unavailable: {exc.reason}",
                pytrace=False)


# --------------------------------------------------------------------------- discovery


def _version_key(path: str) -> tuple[int, ...]:
    m = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/bin", path)
    return tuple(int(x) for x in m.groups() if x) if m else (0,)


def find_pg_bindir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (newest version), or None."""
    env = os.environ if environ is None else environ
    candidates: list[Path] = []
    if env.get("TELLER_TEST_PG_BINDIR"):  # explicit: that directory or nothing
        cand = Path(env["TELLER_TEST_PG_BINDIR"])
        return cand if (cand / "initdb").is_file() and (cand / "postgres").is_file() else None
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).resolve().parent)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [Path(p) for p in found]
    candidates += [Path("/usr/local/pgsql/bin"), Path("/usr/pgsql-15/bin")]
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "postgres").is_file():
            return cand
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and ask the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_ident(name: str) -> str:
    if not _IDENT_RE.match(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
    return name


# --------------------------------------------------------------------------- OS user


def _os_user() -> tuple[int, int, str] | None:
    """(uid, gid, name) to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("TELLER_TEST_PG_OSUSER", "").strip()
    names = [wanted] if wanted else ["postgres", "teller-pg"]
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid == 0:
            raise PgUnavailable(f"OS user {name!r} is root; postgres refuses to run as root")
        return pw.pw_uid, pw.pw_gid, name
    name = wanted or "teller-pg"
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    proc = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )
    try:  # another xdist worker may have created it in the meantime
        pw = pwd.getpwnam(name)
    except KeyError:
        raise PgUnavailable(
            f"running as root and could not create OS user {name!r}: {proc.stderr.strip()}"
        ) from None
    return pw.pw_uid, pw.pw_gid, name


# --------------------------------------------------------------------------- watchdog

# Runs as a separate process; its stdin is a pipe whose write end only the owning pytest
# process holds. EOF (owner exited, however it died) => stop the postmaster, delete dir.
_WATCHDOG = r"""
import os, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
base, keep = sys.argv[1], sys.argv[2] == "1"
try:
    sys.stdin.buffer.read()
except BaseException:
    pass
def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return state not in ("Z", "X") and b"postgres" in cmd and base.encode() in cmd
try:
    with open(os.path.join(base, "data", "postmaster.pid")) as f:
        pid = int(f.readline())
except (OSError, ValueError):
    pid = 0
if pid and alive(pid):
    for sig, wait in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except OSError:
            break
        end = time.monotonic() + wait
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        if not alive(pid):
            break
if not keep:
    shutil.rmtree(base, ignore_errors=True)
"""


_CANDIDATE_PARENTS = ("/dev/shm", "/tmp")
_SHM_MIN_FREE = 1 << 30


def _default_parent(durable: bool, *, as_root: bool) -> Path:
    """Where the cluster lives: ``TELLER_TEST_PG_TMPDIR``; else RAM (/dev/shm, when it has
    1 GiB free) for a non-durable cluster: no disk I/O, steadier timings; else /tmp.
    (Root's own TMPDIR may not be reachable by the postgres user, hence /tmp.)"""
    env = os.environ.get("TELLER_TEST_PG_TMPDIR", "").strip()
    if env:
        return Path(env)
    if not durable:
        try:
            st = os.statvfs("/dev/shm")
            if st.f_bavail * st.f_frsize >= _SHM_MIN_FREE and os.access("/dev/shm", os.W_OK):
                return Path("/dev/shm")
        except OSError:
            pass
    return Path("/tmp") if as_root else Path(tempfile.gettempdir())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_dirs(parent: str | os.PathLike[str]) -> list[str]:
    """Stop and delete servers left by pytest processes that no longer exist."""
    removed: list[str] = []
    for path in glob.glob(os.path.join(os.fspath(parent), _DIR_PREFIX + "*")):
        m = re.match(re.escape(_DIR_PREFIX) + r"(\d+)-", os.path.basename(path))
        if not m or not os.path.exists(os.path.join(path, _MARKER)):
            continue
        if _pid_alive(int(m.group(1))):
            continue
        # Same logic as the watchdog: stop the postmaster if it is still up, delete the dir.
        subprocess.run([sys.executable, "-I", "-S", "-c", _WATCHDOG, path, "0"],
                       stdin=subprocess.DEVNULL, check=False, timeout=30)
        removed.append(path)
    return removed


# --------------------------------------------------------------------------- servers


class _PgBase:
    """SQL helpers shared by a server we start and an existing server."""

    host: str = "127.0.0.1"
    port: int = 0
    user: str = "postgres"
    password: str | None = None
    admin_db: str = "postgres"

    def __init__(self) -> None:
        self._db_counter = itertools.count(1)
        self._templates: set[str] = set()
        self._lock = threading.RLock()

    # -- addresses
    def _netloc(self, user: str | None, password: str | None) -> str:
        user = user or self.user
        if user == self.user and password is None:
            password = self.password
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        return f"{auth}@{self.host}:{self.port}"

    def url(self, dbname: str | None = None, *, user: str | None = None,
            password: str | None = None) -> str:
        """SQLAlchemy URL: ``postgresql+psycopg://USER@127.0.0.1:PORT/DB``."""
        return f"postgresql+psycopg://{self._netloc(user, password)}/{dbname or self.admin_db}"

    def conninfo(self, dbname: str | None = None, *, user: str | None = None,
                 password: str | None = None) -> str:
        """libpq URL for psycopg.connect(): ``postgresql://USER@127.0.0.1:PORT/DB``."""
        return f"postgresql://{self._netloc(user, password)}/{dbname or self.admin_db}"

    # -- SQL
    def connect(self, dbname: str | None = None, *, user: str | None = None,
                password: str | None = None, autocommit: bool = True,
                **kwargs: Any) -> psycopg.Connection[Any]:
        import psycopg

        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.conninfo(dbname, user=user, password=password),
                               autocommit=autocommit, **kwargs)

    def execute(self, sql: Any, params: Any = None, *, dbname: str | None = None,
                user: str | None = None) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) and return its rows ([] when it returns none)."""
        with self.connect(dbname, user=user) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def psql(self, sql: str, *, dbname: str | None = None,
             user: str | None = None) -> list[tuple[Any, ...]]:
        """Run a script of ``;``-separated statements without parameters (simple query
        protocol, autocommit); return the rows of the last statement that has any."""
        with self.connect(dbname, user=user) as conn:
            rows: list[tuple[Any, ...]] = []
            for res in self._simple_query(conn, sql):
                rows = res
            return rows

    @staticmethod
    def _simple_query(conn: psycopg.Connection[Any], sql: str) -> Iterator[list[tuple[Any, ...]]]:
        import psycopg

        with psycopg.ClientCursor(conn) as cur:
            cur.execute(sql)  # client-side binding without params => several statements ok
            while True:
                if cur.description:
                    yield cur.fetchall()
                if not cur.nextset():
                    break

    def create_role(self, name: str, password: str | None = None, login: bool = True,
                    *, superuser: bool = False, createdb: bool = False) -> None:
        from psycopg import sql

        opts: list[sql.Composable] = [sql.SQL("LOGIN" if login else "NOLOGIN"),
                sql.SQL("SUPERUSER" if superuser else "NOSUPERUSER"),
                sql.SQL("CREATEDB" if createdb else "NOCREATEDB")]
        if password is not None:
            opts.append(sql.SQL("PASSWORD {}").format(sql.Literal(password)))
        self.execute(sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(name),
                                                        sql.SQL(" ").join(opts)))

    def drop_role(self, name: str) -> None:
        from psycopg import sql

        self.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))

    def create_database(self, name: str, owner: str | None = None, *,
                        template: str | None = None) -> str:
        from psycopg import sql

        q = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            q += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        if template:
            q += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.execute(q)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        from psycopg import sql

        with self.connect() as conn:
            if self._is_template(conn, name):  # templates cannot be dropped
                conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(
                    sql.Identifier(name)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        self._templates.discard(name)

    @staticmethod
    def _is_template(conn: psycopg.Connection[Any], name: str) -> bool:
        row = conn.execute("SELECT datistemplate FROM pg_database WHERE datname = %s",
                           (name,)).fetchone()
        return bool(row and row[0])

    def _worker_tag(self) -> str:
        return re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "").lower()) or "m"

    def prepare_template(self, name: str = _DEFAULT_TEMPLATE,
                         setup: Callable[[str], None] | None = None) -> str:
        """(Re)create template database ``name``, run ``setup(sqlalchemy_url)`` in it (e.g.
        create the schema), then close it to connections so it can be cloned. The name is
        suffixed with the xdist worker on a shared external server. Returns the real name."""
        real = self._template_name(name)
        with self._lock:
            self.drop_database(real)
            self.create_database(real)
            if setup is not None:
                setup(self.url(real))
            from psycopg import sql

            with self.connect() as conn:
                ident = sql.Identifier(real)
                conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(ident))
                conn.execute(sql.SQL(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()"), (real,))
                conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(ident))
            self._templates.add(real)
        return real

    def _template_name(self, name: str) -> str:
        return _check_ident(name)

    def fresh_database(self, *, template: str | None = None, prefix: str = "t",
                       owner: str | None = None) -> str:
        """A new, empty-or-templated database with a unique name; the caller drops it."""
        tmpl = self._template_name(template or _DEFAULT_TEMPLATE)
        with self._lock:
            if tmpl not in self._templates:
                if template is not None:
                    raise ValueError(f"template {template!r} was not prepared on this server")
                self.prepare_template()
        name = _check_ident(
            f"{prefix}_{self._worker_tag()}_{next(self._db_counter)}_{uuid.uuid4().hex[:8]}")
        return self.create_database(name, owner, template=tmpl)

    def server_version_num(self) -> int:
        return int(self.execute("SHOW server_version_num")[0][0])

    # -- lifecycle defaults
    supports_restart = False

    def start(self) -> _PgBase:
        return self

    def stop(self) -> None:
        return None

    def restart(self, mode: StopMode = "fast") -> None:
        raise PgUnavailable("this server was not started by the test session; cannot restart")

    def __enter__(self) -> _PgBase:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ExternalPgServer(_PgBase):
    """An existing server from ``TELLER_TEST_PG_URL``; start/stop do nothing."""

    def __init__(self, url: str) -> None:
        super().__init__()
        parts = urlsplit(url)
        if not parts.scheme.startswith(("postgresql", "postgres")):
            raise ValueError(f"TELLER_TEST_PG_URL must be a postgresql:// URL, not {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = unquote(parts.username or "postgres")
        self.password = unquote(parts.password) if parts.password is not None else None
        self.admin_db = parts.path.lstrip("/") or "postgres"

    def _template_name(self, name: str) -> str:
        # Several xdist workers share this server: each keeps its own template.
        return _check_ident(f"{name}_{self._worker_tag()}")

    def stop(self) -> None:
        """Drop the templates this process made; the server itself is not ours."""
        for name in list(self._templates):
            try:
                self.drop_database(name)
            except Exception:
                pass

    def start(self) -> ExternalPgServer:
        try:
            self.execute("SELECT 1")
        except Exception as exc:  # psycopg.OperationalError and friends
            raise PgUnavailable(f"cannot connect to TELLER_TEST_PG_URL: {exc}") from exc
        return self


class PgServer(_PgBase):
    """A throwaway cluster in a temporary directory, listening on 127.0.0.1 only.

    ``durable=False`` (default) turns fsync, synchronous_commit and full_page_writes off:
    fast, but an OS crash would corrupt it. ``durable=True`` keeps them on, for tests that
    rely on crash semantics (``restart("immediate")`` is a postmaster crash either way).
    ``auth="scram"`` requires passwords over TCP (superuser password is generated).
    """

    supports_restart = True

    def __init__(self, *, durable: bool = False, auth: Literal["trust", "scram"] = "trust",
                 superuser: str = "postgres", max_connections: int = 100,
                 settings: Mapping[str, str | int] | None = None,
                 bindir: str | os.PathLike[str] | None = None,
                 parent_dir: str | os.PathLike[str] | None = None,
                 keep: bool | None = None) -> None:
        super().__init__()
        self.durable = durable
        self.auth = auth
        self.user = _check_ident(superuser)
        self.password = secrets.token_urlsafe(16) if auth == "scram" else None
        self.max_connections = max_connections
        self.extra_settings = dict(settings or {})
        self._bindir = Path(bindir) if bindir else None
        self._parent_dir = Path(parent_dir) if parent_dir else None
        self.keep = os.environ.get("TELLER_TEST_PG_KEEP") == "1" if keep is None else keep
        self.base_dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()
        self._os_user: tuple[int, int, str] | None = None
        self.timings: dict[str, float] = {}

    # -- paths
    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "postgres.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.running and self.proc else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, AssertionError):
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- process helpers
    def _user_kwargs(self) -> dict[str, Any]:
        if self._os_user is None:
            return {}
        uid, gid, _ = self._os_user
        return {"user": uid, "group": gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self.base_dir is not None:
            env["HOME"] = str(self.base_dir)
        return env

    def _chown(self, path: Path) -> None:
        if self._os_user is not None:
            os.chown(path, self._os_user[0], self._os_user[1])

    def _settings(self) -> dict[str, str]:
        assert self.base_dir is not None
        s: dict[str, str] = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.base_dir),
            "max_connections": str(self.max_connections),
            "timezone": "UTC",
            "log_timezone": "UTC",
            "logging_collector": "off",
            "log_line_prefix": "%m [%p] %q%u@%d ",
            "max_wal_size": "256MB",
        }
        if not self.durable:
            s.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        s.update({k: str(v) for k, v in self.extra_settings.items()})
        return s

    # -- lifecycle
    def start(self) -> PgServer:
        """initdb + start. Raises PgUnavailable with the reason (and log tail) on failure."""
        if self.running:
            return self
        t0 = time.perf_counter()
        bindir = self._bindir or find_pg_bindir()
        if bindir is None or not (bindir / "initdb").is_file():
            raise PgUnavailable(
                "PostgreSQL server binaries (initdb, postgres) not found; install Debian's "
                "'postgresql' package or set TELLER_TEST_PG_BINDIR", missing_binaries=True)
        self.bindir = bindir
        self._os_user = _os_user()
        parent = self._parent_dir or _default_parent(self.durable, as_root=bool(self._os_user))
        for stale_parent in {str(parent), *_CANDIDATE_PARENTS}:
            try:
                sweep_stale_dirs(stale_parent)
            except Exception:  # best effort; never block a test session on a sweep
                pass
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-",
                                              dir=parent))
        (self.base_dir / _MARKER).touch()
        self._chown(self.base_dir)
        self._owner_pid = os.getpid()
        self._start_watchdog()
        _register_atexit(self)
        try:
            self._initdb()
            t1 = time.perf_counter()
            self.timings["initdb"] = t1 - t0
            self._launch(retries=3)
            self.timings["start"] = time.perf_counter() - t1
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.perf_counter() - t0
        return self

    def _start_watchdog(self) -> None:
        assert self.base_dir is not None
        self._watchdog = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(self.base_dir),
             "1" if self.keep else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )

    def _initdb(self) -> None:
        assert self.base_dir is not None
        cmd = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user,
               "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
               "--auth-local=trust"]
        if self.auth == "scram":
            pwfile = self.base_dir / "pwfile"
            pwfile.write_text(self.password or "")
            self._chown(pwfile)
            cmd += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            cmd += ["--auth-host=trust"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self._env(),
                              cwd=self.base_dir, check=False, stdin=subprocess.DEVNULL,
                              **self._user_kwargs())
        if proc.returncode != 0:
            raise PgUnavailable(f"initdb failed (exit {proc.returncode}):\n"
                                f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")

    def _launch(self, retries: int = 1) -> None:
        """Start the postmaster and wait until it accepts connections."""
        last = ""
        for _attempt in range(retries):
            if not self.port:
                self.port = free_port()
            try:
                self._spawn_and_wait()
                return
            except PgUnavailable as exc:
                last = exc.reason
                if "could not bind" in last or "could not create any TCP/IP" in last:
                    self.port = 0  # someone took the port between probe and bind: retry
                    continue
                raise
        raise PgUnavailable(last)

    def _spawn_and_wait(self) -> None:
        assert self.base_dir is not None
        args = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in self._settings().items():
            args += ["-c", f"{key}={value}"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self._env(), cwd=self.base_dir, start_new_session=True,
                close_fds=True, **self._user_kwargs())
        pidfile = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            code = self.proc.poll()
            if code is not None:
                self.proc = None
                raise PgUnavailable(f"postgres exited with code {code} during startup:\n"
                                    f"{self.log_tail()}")
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                lines = []
            # postmaster.pid line 1 = pid, line 8 = status ("ready" once accepting connections)
            if len(lines) >= 8 and lines[0].strip() == str(self.proc.pid) \
                    and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                self._signal_stop("immediate")
                raise PgUnavailable(f"postgres not ready after {START_TIMEOUT:.0f}s:\n"
                                    f"{self.log_tail()}")
            time.sleep(0.01)

    def _signal_stop(self, mode: StopMode) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(_STOP_SIGNALS[mode])
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGQUIT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.proc = None

    def restart(self, mode: StopMode = "fast") -> None:
        """Like ``pg_ctl restart -m MODE``: stop (fast: disconnect clients, checkpoint;
        immediate: crash, recovery on start) and start again on the same port."""
        if os.getpid() != self._owner_pid:
            raise RuntimeError("restart() from a process that did not start the server")
        self._signal_stop(mode)
        self._launch(retries=1)

    def stop(self, mode: StopMode = "immediate") -> None:
        """Stop the server and delete its directory (unless keep). Idempotent.

        Default mode is immediate: the cluster is thrown away, no checkpoint needed."""
        if os.getpid() != self._owner_pid:
            return  # a forked child must never tear down its parent's server
        try:
            self._signal_stop(mode)
        finally:
            if self.base_dir is not None and not self.keep:
                shutil.rmtree(self.base_dir, ignore_errors=True)
            wd, self._watchdog = self._watchdog, None
            if wd is not None:
                if wd.stdin:
                    wd.stdin.close()
                try:
                    wd.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    wd.kill()
            _unregister_atexit(self)


class PgStandby(PgServer):
    """A hot standby of ``primary``, cloned with the ``pg_basebackup`` command ``teller db standby``
    runs (:func:`teller_tui.maintenance.replication.basebackup_argv`: ``-R -C -S NAME -X stream``),
    named ``name`` (its application_name and replication slot). Same settings as the primary."""

    def __init__(self, primary: PgServer, name: str) -> None:
        super().__init__(durable=primary.durable, superuser=primary.user, max_connections=primary.max_connections,
                         settings=primary.extra_settings, bindir=primary._bindir, parent_dir=primary._parent_dir,
                         keep=primary.keep)
        self.primary = primary
        self.name = _check_ident(name)
        self.password = primary.password

    def _initdb(self) -> None:  # the clone replaces initdb
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from teller_tui.maintenance.replication import basebackup_argv, basebackup_password, password_env

        assert self.base_dir is not None
        primary = self.primary.conninfo()
        argv = basebackup_argv(primary, self.data_dir, name=self.name, tool=self.bindir / "pg_basebackup")
        owner = self._os_user[:2] if self._os_user is not None else None
        with password_env(basebackup_password(primary), self._env(), owner=owner) as env:
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=self.base_dir,
                                  check=False, stdin=subprocess.DEVNULL, **self._user_kwargs())
        if proc.returncode != 0:
            raise PgUnavailable(f"pg_basebackup failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once (the host is lost; no shutdown)."""
        kill_server(self)

    def relaunch(self) -> None:
        """Start again on the same port and data directory (after :meth:`kill`)."""
        self._launch(retries=1)


def kill_server(server: PgServer) -> None:
    """SIGKILL the whole process group of a server we started (postmaster and backends alike)."""
    proc = server.proc
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    server.proc = None


class PgReplicaSet:
    """A primary and ``standbys`` hot standbys on loopback, with synchronous commit over a quorum:
    ``synchronous_standby_names = 'ANY 1 (db1, db2, db3)'`` on every node (the README's topology;
    a COMMIT returns once one standby has flushed it). fsync stays off (a process kill, not a
    power cut, is what these tests do) but ``synchronous_commit`` is on and full-page writes on.

    ``nodes[0]`` is the first primary; :meth:`url` lists every node (libpq multi-host form with
    ``target_session_attrs=read-write``), as a terminal's TELLER_DATABASE_URL does."""

    def __init__(self, standbys: int = 2, *, quorum: int = 1, settings: Mapping[str, str | int] | None = None,
                 durable: bool = False) -> None:
        self.names = [f"db{i + 1}" for i in range(standbys + 1)]
        base = {"synchronous_standby_names": f"ANY {quorum} ({', '.join(self.names)})",
                "synchronous_commit": "on", "full_page_writes": "on", "wal_retrieve_retry_interval": "500ms",
                "hot_standby_feedback": "on", "wal_receiver_status_interval": "1s"}
        base.update({k: str(v) for k, v in (settings or {}).items()})
        self.settings = base
        self.durable = durable
        self.nodes: list[PgServer] = []

    def start(self) -> PgReplicaSet:
        primary = PgServer(durable=self.durable, settings=self.settings)
        self.nodes.append(primary)
        primary.start()
        for name in self.names[1:]:
            standby = PgStandby(primary, name)
            self.nodes.append(standby)
            standby.start()
        self.wait_streaming(len(self.names) - 1)
        return self

    @property
    def primary(self) -> PgServer:
        return self.nodes[0]

    def url(self, dbname: str, *, user: str | None = None, password: str | None = None) -> str:
        auth = quote(user or self.primary.user, safe="")
        pw = password if password is not None else (self.primary.password if user is None else None)
        if pw is not None:
            auth += ":" + quote(pw, safe="")
        hosts = ",".join(f"{n.host}:{n.port}" for n in self.nodes)
        return f"postgresql+psycopg://{auth}@{hosts}/{dbname}?target_session_attrs=read-write"

    def wait_streaming(self, count: int, *, on: PgServer | None = None, timeout: float = 60.0) -> None:
        """Until ``count`` standbys stream synchronously (sync or quorum) from ``on`` (default: nodes[0])."""
        server = on or self.primary
        deadline = time.monotonic() + timeout
        rows: list[tuple[Any, ...]] = []
        while time.monotonic() < deadline:
            rows = server.execute("SELECT application_name, state, sync_state FROM pg_stat_replication")
            if sum(1 for r in rows if r[1] == "streaming" and r[2] in ("sync", "quorum")) >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"{count} synchronous standbys not streaming after {timeout:.0f}s: {rows}")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()


# --------------------------------------------------------------------------- atexit

_LIVE: list[PgServer] = []


def _stop_all() -> None:
    for server in list(_LIVE):
        try:
            server.stop()
        except Exception:
            pass


atexit.register(_stop_all)


def _register_atexit(server: PgServer) -> None:
    if server not in _LIVE:
        _LIVE.append(server)


def _unregister_atexit(server: PgServer) -> None:
    if server in _LIVE:
        _LIVE.remove(server)


# --------------------------------------------------------------------------- session

_session: _PgBase | None = None
_session_error: PgUnavailable | None = None
_session_lock = threading.Lock()


def session_server() -> _PgBase:
    """This process's shared server, started on first use. Raises PgUnavailable (cached,
    so a broken setup costs one attempt per worker, not one per test)."""
    global _session, _session_error
    with _session_lock:
        if _session is not None:
            return _session
        if _session_error is not None:
            raise _session_error
        url = os.environ.get("TELLER_TEST_PG_URL", "").strip()
        server: _PgBase = ExternalPgServer(url) if url else PgServer()
        try:
            server.start()
        except PgUnavailable as exc:
            _session_error = exc
            raise
        except Exception as exc:  # unexpected: still report it as a reason, once
            _session_error = PgUnavailable(f"{type(exc).__name__}: {exc}")
            raise _session_error from exc
        _session = server
        return server


def stop_session_server() -> None:
    global _session
    with _session_lock:
        if _session is not None:
            _session.stop()
            _session = None


# --------------------------------------------------------------------------- fixtures

PG_FIXTURES = frozenset({"pg_server", "pg_server_factory", "pg_database", "pg_url", "pg_replica_set"})


def mark_postgres_items(items: list[pytest.Item]) -> None:
    """For ``pytest_collection_modifyitems``: mark every test that uses a PG fixture with
    ``postgres`` so ``-m "not postgres"`` deselects it even if its author forgot the mark."""
    for item in items:
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)



@pytest.fixture(scope="session")
def pg_server() -> Iterator[_PgBase]:
    """The per-worker server (or TELLER_TEST_PG_URL), subject to TELLER_TEST_PG."""
    policy = pg_policy()
    if policy == "off":
        pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
    try:
        server = session_server()
    except PgUnavailable as exc:
        apply_policy(exc, policy)
    yield server
    stop_session_server()


@pytest.fixture
def pg_server_factory() -> Iterator[Callable[..., PgServer]]:
    """Start a private PgServer(**kwargs) for one test (e.g. durable=True, auth="scram",
    or a test that crashes/restarts it); stopped at teardown."""
    policy = pg_policy()
    started: list[PgServer] = []

    def make(**kwargs: Any) -> PgServer:
        if policy == "off":
            pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
        server = PgServer(**kwargs)
        started.append(server)
        try:
            return server.start()
        except PgUnavailable as exc:
            apply_policy(exc, policy)
            raise  # unreachable

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def pg_database(pg_server: _PgBase) -> Iterator[str]:
    """Name of a fresh database (cloned from the template) for this test; dropped after."""
    name = pg_server.fresh_database()
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def pg_url(pg_server: _PgBase, pg_database: str) -> str:
    """SQLAlchemy URL of this test's fresh database."""
    return pg_server.url(pg_database)


@pytest.fixture
def pg_replica_set() -> Iterator[Callable[..., PgReplicaSet]]:
    """Start a private :class:`PgReplicaSet` (primary + standbys, synchronous quorum) for one test;
    every node is stopped and deleted at teardown."""
    policy = pg_policy()
    started: list[PgReplicaSet] = []

    def make(**kwargs: Any) -> PgReplicaSet:
        if policy == "off":
            pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
        cluster = PgReplicaSet(**kwargs)
        started.append(cluster)
        try:
            return cluster.start()
        except PgUnavailable as exc:
            apply_policy(exc, policy)
            raise  # unreachable

    yield make
    for cluster in started:
        cluster.stop()
