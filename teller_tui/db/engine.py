"""The one engine factory. Every dialect-specific choice lives in this module.

SQLite (one branch host)
    WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout`` 10 s. The driver runs
    in autocommit mode (``isolation_level=None``) and we emit ``BEGIN`` ourselves: write
    transactions start with ``BEGIN IMMEDIATE`` so the write lock is taken before the first
    read (a deferred transaction that reads then writes fails with "database is locked" at
    once, whatever the busy timeout, and silently loses updates across processes).
    Refuses to open a database on a network filesystem or with other pragmas.

PostgreSQL (several hosts)
    READ COMMITTED; balance rows are locked with ``SELECT … FOR UPDATE`` in account-id
    order by the ledger. Serialization failures and deadlocks are retried by
    :meth:`Database.write_retrying` with the same idempotency key.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import DatabaseUnavailable, StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smbfs", "smb3", "9p", "afs", "ncpfs", "glusterfs", "ceph",
     "fuse.sshfs", "sshfs", "fuse.glusterfs", "fuse.cephfs", "lustre", "gpfs", "davfs", "fuse.rclone"}
)


def filesystem_type(path: Path, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The filesystem type of the mount holding ``path`` (Linux), or None if unknown."""
    try:
        lines = mounts_file.read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best: tuple[int, str] | None = None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if target == mount_point or target.startswith(mount_point.rstrip("/") + "/") or mount_point == "/":
            if best is None or len(mount_point) > best[0]:
                best = (len(mount_point), parts[2])
    return best[1] if best else None


def check_local_filesystem(db_path: Path, mounts_file: Path = Path("/proc/mounts")) -> None:
    fstype = filesystem_type(db_path.parent, mounts_file)
    if fstype and fstype.lower() in NETWORK_FILESYSTEMS:
        raise StorageError(
            f"The database {db_path} is on a network filesystem ({fstype}). SQLite in WAL mode "
            "must live on a local disk: move it, or point TELLER_DATABASE_URL at PostgreSQL.",
            code="network_filesystem",
        )


class Database:
    """Engines plus transaction helpers. Build one with :func:`make_database`.

    ``write()`` yields a Session inside one write transaction (``BEGIN IMMEDIATE`` on
    SQLite) that commits on success and rolls back on error; ``read()`` yields a Session
    inside a read transaction (a consistent snapshot).
    """

    def __init__(self, url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False,
                 pool_size: int = 5) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url

        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.synchronous = synchronous
        if self.dialect == "sqlite":
            database = self.url.database or ""
            if database in ("", ":memory:") or database.startswith("file::memory:"):
                raise StorageError("An in-memory SQLite database cannot be shared safely; use a file.",
                                   code="sqlite_memory")
            self.path: Path | None = Path(database).expanduser()
            if not allow_network_fs:
                check_local_filesystem(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            self.write_engine = create_engine(self.url, connect_args=connect_args, pool_size=pool_size)
            self.read_engine = create_engine(self.url, connect_args=connect_args, pool_size=pool_size)
            for eng, begin_sql in ((self.write_engine, "BEGIN IMMEDIATE"), (self.read_engine, "BEGIN")):
                event.listen(eng, "connect", self._sqlite_on_connect)
                event.listen(eng, "begin", _make_begin(begin_sql))
        elif self.dialect == "postgresql":
            self.path = None
            self.write_engine = create_engine(
                self.url, pool_pre_ping=True, pool_size=pool_size, isolation_level="READ COMMITTED",
                connect_args={"connect_timeout": 5, "application_name": "teller"},
            )
            self.read_engine = self.write_engine
        else:
            raise StorageError(f"Unsupported database {self.dialect!r}: use sqlite or postgresql",
                               code="dialect")

    # -- SQLite connection set-up ---------------------------------------------------------
    def _sqlite_on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"SQLite refused WAL mode (got {mode!r}); the database cannot be used.",
                                   code="pragma")
            cur.execute(f"PRAGMA synchronous={self.synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA case_sensitive_like=ON")  # lets LIKE 'prefix%' use an index
        finally:
            cur.close()

    def check_pragmas(self) -> dict[str, Any]:
        """Read the pragmas back and refuse anything but the required values."""
        if self.dialect != "sqlite":
            return {}
        with self.write_engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            got = {
                "journal_mode": raw.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": raw.execute("PRAGMA synchronous").fetchone()[0],
                "foreign_keys": raw.execute("PRAGMA foreign_keys").fetchone()[0],
                "busy_timeout": raw.execute("PRAGMA busy_timeout").fetchone()[0],
            }
        return verify_sqlite_pragmas(got)

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Session]:
        from sqlmodel import Session

        with _translate_connection_errors(), Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        from sqlmodel import Session

        with _translate_connection_errors(), Session(self.read_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def write_retrying(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in a write transaction, retrying serialization failures and deadlocks.

        ``fn`` must be idempotent across attempts (the ledger's idempotency key makes it so).
        """
        delay = 0.01
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as session:
                    return fn(session)
            except Exception as exc:  # noqa: BLE001 - classified below
                if attempt < attempts and is_retryable(exc):
                    log.info("retrying write after %s (attempt %d)", type(exc).__name__, attempt)
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                if is_retryable(exc):
                    raise StorageError(
                        f"The database stayed busy after {attempts} attempts; nothing was posted twice. "
                        "Try again.", code="busy") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _make_begin(sql: str) -> Callable[[Any], None]:
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(sql)

    return _begin


def verify_sqlite_pragmas(got: dict[str, Any]) -> dict[str, Any]:
    problems = []
    if str(got.get("journal_mode", "")).lower() != "wal":
        problems.append(f"journal_mode={got.get('journal_mode')} (need wal)")
    if int(got.get("synchronous", -1)) not in (2, 3):  # FULL=2, EXTRA=3
        problems.append(f"synchronous={got.get('synchronous')} (need FULL)")
    if int(got.get("foreign_keys", 0)) != 1:
        problems.append("foreign_keys=off (need on)")
    if int(got.get("busy_timeout", 0)) < 5000:
        problems.append(f"busy_timeout={got.get('busy_timeout')} ms (need at least 5000)")
    if problems:
        raise StorageError("Refusing to run with unsafe SQLite settings: " + ", ".join(problems), code="pragma")
    return got


def is_retryable(exc: BaseException) -> bool:
    """Serialization failures, deadlocks and (SQLite) lock timeouts."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
        if sqlstate in ("40001", "40P01", "55P03"):
            return True
        if "database is locked" in str(orig):
            return True
    return False


def is_disconnect(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@contextmanager
def _translate_connection_errors() -> Iterator[None]:
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        yield
    except OperationalError as exc:
        if exc.connection_invalidated or "could not connect" in str(exc) or "connection" in str(exc.orig).lower() \
                and "refused" in str(exc.orig).lower():
            raise DatabaseUnavailable(
                "The database cannot be reached. Your work is kept; the terminal will reconnect.",
            ) from exc
        raise
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(
                "The database connection was lost. Your work is kept; the terminal will reconnect.",
            ) from exc
        raise


def make_database(url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False) -> Database:
    """The single place that turns a URL into a :class:`Database`."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return Database(url, synchronous=synchronous, allow_network_fs=allow_network_fs)


def sqlite_path_from_env() -> Path | None:  # pragma: no cover - convenience for scripts
    url = os.environ.get("TELLER_DATABASE_URL", "")
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite:///") else None
