"""The one engine factory. Every dialect-specific choice lives in this module.

SQLite (one branch host)
    WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout`` 10 s. The driver runs
    in autocommit mode (``isolation_level=None``) and we emit ``BEGIN`` ourselves: write
    transactions start with ``BEGIN IMMEDIATE`` so the write lock is taken before the first
    read (a deferred transaction that reads then writes fails with "database is locked" at
    once, whatever the busy timeout, and silently loses updates across processes). Writers
    first queue in :mod:`teller_tui.db.writer_queue` (fair: the busy handler is not the queue); WAL
    checkpoints run after a turn, out of the line. Refuses a network filesystem or other pragmas.

PostgreSQL (several hosts)
    READ COMMITTED; write transactions start with advisory locks (``serialize_writes``, default on)
    so check-then-post code behaves as under SQLite's BEGIN IMMEDIATE: alone without a ``scope``,
    else per branch and customer (:mod:`teller_tui.db.scopes`). Sessions set
    ``idle_in_transaction_session_timeout``, ``lock_timeout`` and TCP keepalives. The ledger locks
    balance rows ``FOR UPDATE`` in account-id order. Serialization failures and deadlocks are retried
    by :meth:`Database.write_retrying` with the same idempotency key; lost connections (57P01/57P03,
    class 08, network loss) too, with a bounded reconnect (``pool_pre_ping``), then
    :class:`~teller_tui.common.errors.DatabaseUnavailable`. A posting whose COMMIT was in flight when
    the connection died is found again by its idempotency key on the retry, never posted twice.

Storage faults (both backends)
    Disk full, read-only, corrupt or missing files, PostgreSQL authentication and certificate
    failures are raised as the :class:`~teller_tui.common.errors.StorageError` of
    :mod:`teller_tui.db.faults` (driver error chained), classified *before* the reconnect logic,
    never retried. :meth:`Database.check_writable` (run at start-up) names a read-only or full disk
    before anyone signs in; the start-up checks live in :mod:`teller_tui.db.checks`.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from teller_tui.common.dburl import normalize_database_url
from teller_tui.common.masks import mask_url
from teller_tui.common.errors import DatabaseUnavailable, StorageError
from teller_tui.db.files import secure_sqlite_file
from teller_tui.common.i18n import _
from teller_tui.db.checks import (  # re-exported: callers import the checks from the engine module
    CODEPOINT_COLLATIONS, NETWORK_FILESYSTEMS, check_local_filesystem, check_sqlite_files_writable,
    filesystem_type, verify_postgresql_settings, verify_sqlite_pragmas,
)
from teller_tui.db.faults import classify_fault, storage_fault
from teller_tui.db.scopes import PG_WRITE_LOCK_KEY, WriteScope, lock_bank, lock_scope
from teller_tui.db.writer_queue import AUTOCHECKPOINT_BACKSTOP, WriterQueue, WriterQueueTimeout, queue_path

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["PG_WRITE_LOCK_KEY", "CODEPOINT_COLLATIONS", "NETWORK_FILESYSTEMS", "Database", "check_local_filesystem",
           "classify_error", "filesystem_type", "is_disconnect", "is_retryable", "make_database",
           "verify_postgresql_settings", "verify_sqlite_pragmas"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Per-session settings: a crashed or cut-off terminal cannot hold locks for long, and a
#: writer waiting longer than lock_timeout gets 55P03, which write_retrying retries.
PG_SESSION_OPTIONS = "-c idle_in_transaction_session_timeout=30000 -c lock_timeout=15000 -c timezone=UTC"
class Database:
    """Engines plus transaction helpers. Build one with :func:`make_database`.

    ``write()`` yields a Session inside one write transaction (``BEGIN IMMEDIATE`` on
    SQLite) that commits on success and rolls back on error; ``read()`` yields a Session
    inside a read transaction (a consistent snapshot).
    """

    def __init__(self, url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False,
                 pool_size: int = 5, reconnect_seconds: float = 15.0, serialize_writes: bool = True) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.synchronous = synchronous
        #: How long write_retrying keeps reconnecting after a lost connection.
        self.reconnect_seconds = reconnect_seconds
        #: Reconnect attempts so far (for tests and the status line).
        self.reconnects = 0
        #: PostgreSQL: start every write with its advisory locks (teller_tui.db.scopes).
        self.serialize_writes = serialize_writes
        #: Only a test turns this off (scoped writes skip their keys): its negative control.
        self.scope_locks = True
        #: Run first in every write (after the writer lock; e.g. the staff row re-read); raise to refuse it.
        self.write_checks: list[Callable[[Session], None]] = []
        self.writer_queue: WriterQueue | None = None  # SQLite: writers' fair queue (None: busy handler)
        if self.dialect == "sqlite":
            database = self.url.database or ""
            if database in ("", ":memory:") or database.startswith("file::memory:"):
                raise StorageError("An in-memory SQLite database cannot be shared safely; use a file.",
                                   code="sqlite_memory")
            self.path: Path | None = Path(database).expanduser()
            if not allow_network_fs:
                check_local_filesystem(self.path)
            try:
                secure_sqlite_file(self.path)
            except OSError as exc:
                raise (storage_fault(exc) or StorageError(str(exc), code="io_error")) from exc
            self.writer_queue = WriterQueue(queue_path(self.path), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
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
                # Keepalives notice a dropped network in ~1 min, not hours; the URL's connect_timeout wins.
                connect_args={"connect_timeout": int(str(self.url.query.get("connect_timeout") or 5)),
                              "application_name": "teller", "keepalives": 1, "keepalives_idle": 30,
                              "keepalives_interval": 10, "keepalives_count": 3, "options": PG_SESSION_OPTIONS},
            )
            # read(): one consistent snapshot, as SQLite's read transaction gives (READ
            # COMMITTED would take a new snapshot per statement).
            self.read_engine = self.write_engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            raise StorageError(f"Unsupported database {self.dialect!r}: use sqlite or postgresql",
                               code="dialect")

    # -- SQLite connection set-up ---------------------------------------------------------

    @property
    def display_url(self) -> str:
        """The URL fit to print: every password masked (user part and query string alike)."""
        return mask_url(self.url.render_as_string(hide_password=False))

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
            if self.writer_queue is not None:  # checkpoints run out of the writers' line (db/writer_queue.py)
                cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_BACKSTOP}")
        finally:
            cur.close()

    def check_pragmas(self) -> dict[str, Any]:
        """Read the pragmas (PostgreSQL: version, encoding, collation) back and refuse anything
        but the required values."""
        if self.dialect == "postgresql":
            return self._check_postgresql()
        if self.dialect != "sqlite":
            return {}
        with _translate_errors(), self.write_engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            got = {
                "journal_mode": raw.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": raw.execute("PRAGMA synchronous").fetchone()[0],
                "foreign_keys": raw.execute("PRAGMA foreign_keys").fetchone()[0],
                "busy_timeout": raw.execute("PRAGMA busy_timeout").fetchone()[0],
            }
        return verify_sqlite_pragmas(got)

    def _check_postgresql(self) -> dict[str, Any]:
        with _translate_errors(), self.write_engine.connect() as conn:
            row = conn.execute(text(
                "SELECT current_setting('server_version_num')::int, pg_encoding_to_char(encoding), datcollate "
                "FROM pg_database WHERE datname = current_database()")).one()
        return verify_postgresql_settings({"server_version_num": row[0], "encoding": row[1], "collate": row[2]})

    def check_writable(self) -> None:
        """Start-up: refuse a database this terminal could read but not write (read-only file, folder
        or disk; a full disk; a PostgreSQL standby), naming the fault instead of failing the first
        posting. SQLite: the files first, then a real write attempt (``PRAGMA user_version`` rewritten
        with its own value inside ``BEGIN IMMEDIATE``, rolled back)."""
        if self.dialect == "postgresql":
            with _translate_errors(), self.write_engine.connect() as conn:
                if str(conn.execute(text("SHOW transaction_read_only")).scalar()).lower() == "on":
                    fault = storage_fault(_ReadOnlySqlState())
                    assert fault is not None
                    raise fault
            return
        assert self.path is not None
        check_sqlite_files_writable(self.path)
        with _translate_errors(), self.write_engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            version = int(raw.execute("PRAGMA user_version").fetchone()[0])
            raw.execute("BEGIN IMMEDIATE")
            try:
                raw.execute(f"PRAGMA user_version={version}")
            finally:
                raw.execute("ROLLBACK")

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def write(self, scope: WriteScope | None = None) -> Iterator[Session]:
        """A write transaction: SQLite queues, PostgreSQL locks alone or ``scope``'s keys (db/scopes.py)."""
        turn = self.writer_queue.turn() if self.writer_queue is not None else nullcontext(-1)
        with turn as ticket, _translate_errors(), Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                if self.dialect == "postgresql" and self.serialize_writes:
                    if scope is None:
                        lock_bank(session)
                    else:
                        lock_scope(session, scope(session), enabled=self.scope_locks)
                for check in self.write_checks:
                    check(session)
                yield session
        if self.writer_queue is not None:  # out of the writers' line now: maybe its WAL checkpoint
            self.writer_queue.checkpoint_after(ticket, self.write_engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _translate_errors(), Session(self.read_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def write_retrying(self, fn: Callable[[Session], T], *, attempts: int = 5,
                       reconnect_seconds: float | None = None, scope: WriteScope | None = None) -> T:
        """Run ``fn`` in a write transaction, retrying conflicts and lost connections.

        * serialization failures, deadlocks, lock timeouts and SQLite "database is locked":
          up to ``attempts`` tries, then :class:`StorageError` (code ``busy``);
        * a lost or refused connection (server restart, network loss): retried with
          backoff for up to ``reconnect_seconds`` (default :attr:`reconnect_seconds`),
          then :class:`DatabaseUnavailable`.

        ``scope``: as for :meth:`write` (the lock keys of a branch-parallel write).
        ``fn`` must be idempotent across attempts: the ledger's idempotency key makes a
        posting so (a retry after an interrupted COMMIT returns the original entry).
        """
        budget = self.reconnect_seconds if reconnect_seconds is None else reconnect_seconds
        deadline: float | None = None
        conflicts = 0
        delay = 0.01
        while True:
            try:
                with self.write(scope) as session:
                    return fn(session)
            except Exception as exc:  # noqa: BLE001 - classified below
                kind = classify_error(exc)
                if kind == "conflict":
                    conflicts += 1
                    if conflicts >= attempts:
                        raise StorageError(
                            _("The database stayed busy after {attempts} attempts; nothing was posted "
                              "twice. Try again.").format(attempts=attempts), code="busy") from exc
                    log.info("retrying write after %s (attempt %d)", _describe(exc), conflicts)
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.5)
                    continue
                if kind == "disconnect":
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + budget
                    if now >= deadline:
                        if isinstance(exc, DatabaseUnavailable):
                            raise
                        raise _unavailable(exc) from exc
                    log.warning("database connection lost (%s); reconnecting", _describe(exc))
                    self.reconnects += 1
                    time.sleep(min(delay * (0.5 + random.random()), max(deadline - now, 0)))
                    delay = min(delay * 2, 1.0)
                    continue
                raise

    def ping(self) -> bool:
        """True if a connection can be opened and used now (the UI's reconnect probe)."""
        try:
            with self.write_engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # noqa: BLE001
            if classify_error(exc) == "disconnect":
                return False
            fault = storage_fault(exc)
            if fault is not None:
                raise fault from exc  # e.g. the password was changed: not an outage to wait out
            raise

    def wait_available(self, timeout: float | None = None) -> bool:
        """Poll :meth:`ping` with backoff for up to ``timeout`` seconds; True once reachable."""
        deadline = time.monotonic() + (self.reconnect_seconds if timeout is None else timeout)
        delay = 0.05
        while True:
            if self.ping():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 1.0)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.dialect == "sqlite":
            self.read_engine.dispose()


def _make_begin(sql: str) -> Callable[[Any], None]:
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(sql)

    return _begin


#: SQLSTATEs of a conflict between transactions: retry the whole transaction.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: SQLSTATEs of a lost connection (admin shutdown, crash shutdown, cannot connect now).
DISCONNECT_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)


def classify_error(exc: BaseException) -> str | None:
    """``"conflict"`` (retry now), ``"disconnect"`` (reconnect, then retry) or None."""
    if isinstance(exc, DatabaseUnavailable):
        return "disconnect"
    if isinstance(exc, WriterQueueTimeout):
        return "conflict"  # as "database is locked": the SQLite writer queue stayed busy
    if not isinstance(exc, DBAPIError):
        return None
    if classify_fault(exc) is not None:
        return None  # a storage fault (incl. PostgreSQL auth/certificate): retrying cannot help
    state = _sqlstate(exc)
    if state in CONFLICT_SQLSTATES:
        return "conflict"
    if "database is locked" in str(exc.orig):
        return "conflict"
    if exc.connection_invalidated or state in DISCONNECT_SQLSTATES or (state or "").startswith("08"):
        return "disconnect"
    orig = exc.orig
    module = type(orig).__module__ or ""
    if module.startswith("psycopg") and state is None and type(orig).__name__ == "OperationalError":
        return "disconnect"  # psycopg reports "connection failed/refused" with no SQLSTATE
    return None


def is_retryable(exc: BaseException) -> bool:
    """Serialization failures, deadlocks, (SQLite) lock timeouts and lost connections."""
    return classify_error(exc) is not None


def is_disconnect(exc: BaseException) -> bool:
    return classify_error(exc) == "disconnect"


def _describe(exc: BaseException) -> str:
    state = _sqlstate(exc)
    return f"{type(getattr(exc, 'orig', None) or exc).__name__}{f' {state}' if state else ''}"


def _unavailable(exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        _("The database cannot be reached. Your work is kept; the terminal will reconnect."),
        code="db_unavailable", cause=_describe(exc))


class _ReadOnlySqlState(Exception):
    """Stands for SQLSTATE 25006 (read-only transaction) when a standby is found at start-up."""
    sqlstate = "25006"


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Driver errors as the core's errors, cause chained: a storage fault (disk full, read-only,
    corrupt, PostgreSQL authentication or certificate) as its :class:`StorageError`, checked
    *before* the reconnect logic (a wrong password is not an outage); a lost or refused
    connection as :class:`DatabaseUnavailable`; conflicts pass unchanged (``write_retrying``)."""
    try:
        yield
    except (DBAPIError, sqlite3.Error) as exc:
        fault = storage_fault(exc)
        if fault is not None:
            raise fault from exc
        if classify_error(exc) == "disconnect":
            raise _unavailable(exc) from exc
        raise


def make_database(url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False,
                  pool_size: int = 5, reconnect_seconds: float = 15.0, serialize_writes: bool = True) -> Database:
    """The single place that turns a URL into a :class:`Database`; a PostgreSQL URL may list several
    servers (:mod:`teller_tui.common.dburl`): a terminal then reconnects to whichever takes writes."""
    url = normalize_database_url(url)
    return Database(url, synchronous=synchronous, allow_network_fs=allow_network_fs, pool_size=pool_size,
                    reconnect_seconds=reconnect_seconds, serialize_writes=serialize_writes)

