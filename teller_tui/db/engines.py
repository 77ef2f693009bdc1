"""The engines of one database and its start-up checks, Core only (no ORM, no models).

A start opens the database here first — engines, pragmas, a write attempt, the schema revision
(:mod:`teller_tui.db.revisions`) — so the sign-in is usable as soon as the database is, while the
core (models, services) loads after it (issue 25). :mod:`teller_tui.db.engine` builds its
:class:`~teller_tui.db.engine.Database` on :class:`Engines`: the one engine factory, the same
dialect choices (see that module's docstring), opened once.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError

from teller_tui.common.dburl import normalize_database_url
from teller_tui.common.masks import mask_url
from teller_tui.common.errors import DatabaseUnavailable, StorageError
from teller_tui.db import revisions
from teller_tui.db.files import secure_sqlite_file
from teller_tui.common.i18n import _
from teller_tui.db.checks import (
    check_local_filesystem, check_sqlite_files_writable, read_sqlite_pragmas, verify_postgresql_settings,
    verify_sqlite_pragmas,
)
from teller_tui.db.conflicts import ReadOnlySqlState, classify_error, describe, translate_errors, unavailable
from teller_tui.db.faults import storage_fault
from teller_tui.db.lean import send
from teller_tui.db.writer_queue import AUTOCHECKPOINT_BACKSTOP, WriterQueue, queue_path

log = logging.getLogger(__name__)
E = TypeVar("E", bound="Engines")

__all__ = ["Engines", "classify_error", "is_disconnect", "is_retryable", "make_engines", "open_checked"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Per-session settings: a crashed or cut-off terminal cannot hold locks for long, and a
#: writer waiting longer than lock_timeout gets 55P03, which write_retrying retries.
PG_SESSION_OPTIONS = "-c idle_in_transaction_session_timeout=30000 -c lock_timeout=15000 -c timezone=UTC"
#: A pooled PostgreSQL connection idle this long is pinged before it is handed out (a server restart
#: or a dropped network is found then, and the connection replaced); one back in the pool for less is
#: used as it is. SQLAlchemy's ``pool_pre_ping`` pinged before *every* transaction: one more round
#: trip per posting (~1 in 30), each a wake-up of the client and its server process, which on a
#: terminal posting without pause is CPU the other branches' postings need (issue 25). A connection
#: that died within the window fails its first statement as a lost connection: SQLAlchemy then
#: replaces every connection older than the failure, and ``write_retrying`` retries the write.
PG_PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "teller_idle_since"


class Engines:
    """The engines of one database and its start-up checks, without the ORM: what a start needs
    before the sign-in can be used. :class:`teller_tui.db.engine.Database` adds the transactions
    (sessions) and adopts an opened instance as it is (:meth:`~teller_tui.db.engine.Database.adopt`)."""

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
        #: Only a test turns these off (scoped writes skip their keys; require_keys checks nothing):
        #: the negative controls of the branch-parallel tests.
        self.scope_locks = True
        self.scope_guard = True
        #: PostgreSQL writes that took the bank-wide key exclusively (tests and the bench count them).
        self.bank_writes = 0
        #: Checks run first thing in every write transaction (after the writer lock), e.g. the
        #: auth layer's re-read of the acting person's staff row. They raise to refuse the write.
        self.write_checks: list[Callable[[Any], None]] = []  # each takes the write's Session
        self.writer_queue: WriterQueue | None = None  # SQLite: writers' fair queue (None: busy handler)
        #: SQLite: the connection this process's turns run on (:meth:`teller_tui.db.engine.Database.write`).
        self.line = LineConnection()
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
            event.listen(self.write_engine, "engine_disposed", self.line.disposed)
        elif self.dialect == "postgresql":
            self.path = None
            self.write_engine = create_engine(
                self.url, pool_size=pool_size, isolation_level="READ COMMITTED",
                # Keepalives notice a dropped network in ~1 min, not hours; the URL's connect_timeout wins.
                connect_args={"connect_timeout": int(str(self.url.query.get("connect_timeout") or 5)),
                              "application_name": "teller", "keepalives": 1, "keepalives_idle": 30,
                              "keepalives_interval": 10, "keepalives_count": 3, "options": PG_SESSION_OPTIONS},
            )
            _ping_after_idle(self.write_engine, PG_PING_AFTER_IDLE_S)
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
        with translate_errors(), self.write_engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            got = read_sqlite_pragmas(raw)
        return verify_sqlite_pragmas(got)

    def _check_postgresql(self) -> dict[str, Any]:
        with translate_errors(), self.write_engine.connect() as conn:
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
            with translate_errors(), self.write_engine.connect() as conn:
                if str(conn.execute(text("SHOW transaction_read_only")).scalar()).lower() == "on":
                    fault = storage_fault(ReadOnlySqlState())
                    assert fault is not None
                    raise fault
            return
        assert self.path is not None
        check_sqlite_files_writable(self.path)
        with translate_errors(), self.write_engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            version = int(raw.execute("PRAGMA user_version").fetchone()[0])
            raw.execute("BEGIN IMMEDIATE")
            try:
                raw.execute(f"PRAGMA user_version={version}")
            finally:
                raw.execute("ROLLBACK")

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
        self.line.close()
        self.write_engine.dispose()
        if self.dialect == "sqlite":
            self.read_engine.dispose()
        if self.writer_queue is not None:
            self.writer_queue.close()


class LineConnection:
    """SQLite: the connection a process's writer turns run on, kept across turns (a turn is held by one
    writer at a time, so it is never shared; :meth:`teller_tui.db.engine.Database.write`). Replaced when
    it is broken, in a forked child, and after its engine's pool was disposed (``engine_disposed``: the
    connections opened from then on are the ones to use, e.g. after a fault or a failover)."""

    __slots__ = ("conn", "pid", "stale")

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.pid = 0
        self.stale = False

    def get(self, engine: Engine) -> Connection:
        """The connection for a turn (opened on first use, and again when it must be replaced)."""
        conn = self.conn
        if conn is not None and not (conn.invalidated or conn.closed or self.stale or self.pid != os.getpid()):
            return conn
        self.close()
        self.stale = False
        self.conn, self.pid = engine.connect(), os.getpid()
        return self.conn

    def disposed(self, _engine: Engine) -> None:
        self.stale = True  # the next turn opens a new one (a turn running now finishes on this one)

    def discard(self) -> None:
        """After a failed turn: roll the driver's own transaction back if it is still open (a failed
        COMMIT leaves SQLite's open, and its write lock held, while SQLAlchemy counts it ended; the
        pool's reset does not end it), then give the connection back."""
        conn = self.conn
        if conn is not None and self.pid == os.getpid():
            try:
                raw = conn.connection.dbapi_connection
                if raw is not None and raw.in_transaction:
                    raw.execute("ROLLBACK")
            except Exception as exc:  # noqa: BLE001 - a broken connection: closing it releases the lock
                log.debug("rolling back the writers' line connection: %s", exc)
        self.close()

    def close(self) -> None:
        """Give the connection back (not one inherited from the parent of a fork: only dropped)."""
        conn, self.conn = self.conn, None
        if conn is not None and self.pid == os.getpid():
            try:
                conn.close()
            except Exception as exc:  # noqa: BLE001 - already broken; the pool replaces it
                log.debug("closing the writers' line connection: %s", exc)


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection at checkout only if it has been idle ``seconds`` or more (see
    :data:`PG_PING_AFTER_IDLE_S`); a dead one is replaced (``DisconnectionError``: the pool's own
    documented way to refuse a connection at checkout and take a fresh one)."""

    def _mark(_dbapi_conn: Any, record: Any, *_args: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - a lost connection is replaced; anything else is raised
            error: Any = exc
            if getattr(dbapi_conn, "closed", False) or engine.dialect.is_disconnect(error, dbapi_conn, None):
                raise DisconnectionError(f"pooled connection lost: {describe(exc)}") from exc
            raise

    event.listen(engine, "connect", _mark)
    event.listen(engine, "checkin", _mark)
    event.listen(engine, "checkout", _checkout)


def _make_begin(sql: str) -> Callable[[Any], None]:
    def _begin(conn: Any) -> None:
        send(conn, sql).close()  # as exec_driver_sql, minus its execution context (db/lean.py)

    return _begin


def make_engines(url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False) -> Engines:
    """The engines alone (a start's first step; :func:`teller_tui.db.engine.make_database` builds the rest)."""
    return Engines(normalize_database_url(url), synchronous=synchronous, allow_network_fs=allow_network_fs)


def open_checked(engines: E, *, check_schema: bool = True) -> E:
    """Every start-up check, in order: a write attempt (a read-only or full disk is named now, not at
    the first posting), the pragmas, then the schema revision. Disposes the engines when one fails."""
    try:
        engines.check_writable()
        engines.check_pragmas()
        if check_schema:
            revisions.ensure_current(engines)
    except BaseException:
        engines.dispose()
        raise
    return engines
