"""The one engine factory. Every dialect-specific choice lives in this module.

SQLite (one branch host)
    WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout`` 10 s. The driver runs
    in autocommit mode (``isolation_level=None``) and we emit ``BEGIN`` ourselves: write
    transactions start with ``BEGIN IMMEDIATE`` so the write lock is taken before the first
    read (a deferred transaction that reads then writes fails with "database is locked" at
    once, whatever the busy timeout, and silently loses updates across processes). Writers
    first queue in :mod:`teller_tui.db.writer_queue` (fair: the busy handler is not the queue);
    only ``BEGIN IMMEDIATE`` … ``COMMIT`` runs in a writer's turn, on the process's *line
    connection*: one connection kept across turns (a turn is held by one writer at a time, so it
    is never shared), which spares every write the pool's checkout and check-in; the Session joins
    its transaction and is only a unit of work (flushed before COMMIT).
    Refuses to open a database on a network filesystem or with other pragmas.

PostgreSQL (several hosts)
    READ COMMITTED; write transactions start with advisory locks (``serialize_writes``,
    default on) so check-then-post code behaves as under SQLite's BEGIN IMMEDIATE: alone
    without a ``scope``, else per branch and customer (:mod:`teller_tui.db.scopes`). Sessions set ``idle_in_transaction_session_timeout``
    and ``lock_timeout``, and TCP keepalives. Balance rows are locked with ``SELECT … FOR UPDATE`` in account-id
    order by the ledger. Serialization failures and deadlocks are retried by
    :meth:`Database.write_retrying` with the same idempotency key. Lost connections
    (server restart 57P01/57P03, class 08, network loss) are retried too, with a bounded
    reconnect (a pooled connection idle a second or more is pinged and a dead one replaced:
    ``engines.PG_PING_AFTER_IDLE_S``); when the budget is
    spent :class:`~teller_tui.common.errors.DatabaseUnavailable` is raised. A posting whose
    COMMIT was in flight when the connection died is found again by its idempotency key
    on the retry (the ledger replays it), never posted twice.

Storage faults (both backends)
    Disk full, read-only, corrupt or missing files, PostgreSQL authentication and certificate
    failures are raised as the :class:`~teller_tui.common.errors.StorageError` of
    :mod:`teller_tui.db.faults` (driver error chained, never a raw ``sqlite3.OperationalError``),
    classified *before* the reconnect logic, and never retried. :meth:`Database.check_writable`
    (run by ``services.open_database`` at start-up) names a read-only or full disk before anyone
    signs in. The start-up checks themselves live in :mod:`teller_tui.db.checks`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlmodel import Session

from teller_tui.common.dburl import normalize_database_url
from teller_tui.common.i18n import _
from teller_tui.common.errors import DatabaseUnavailable, StorageError
from teller_tui.db.checks import (  # re-exported: callers import the checks from the engine module
    CODEPOINT_COLLATIONS, NETWORK_FILESYSTEMS, check_local_filesystem, filesystem_type, verify_postgresql_settings,
    verify_sqlite_pragmas,
)
from teller_tui.db.conflicts import (  # re-exported: callers classify errors through the engine module
    CONFLICT_SQLSTATES, DISCONNECT_SQLSTATES, ReadOnlySqlState, classify_error, describe, is_disconnect,
    is_retryable, translate_errors, unavailable,
)
from teller_tui.db.engines import (  # re-exported: the engine module is where callers look
    PG_SESSION_OPTIONS, SQLITE_BUSY_TIMEOUT_MS, Engines,
)
from teller_tui.db.lean import bound
from teller_tui.db.scopes import PG_WRITE_LOCK_KEY, ScopeWidened, WriteScope, lock_bank, lock_scope, widened

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["PG_WRITE_LOCK_KEY", "CODEPOINT_COLLATIONS", "CONFLICT_SQLSTATES", "DISCONNECT_SQLSTATES",
           "NETWORK_FILESYSTEMS", "PG_SESSION_OPTIONS", "SQLITE_BUSY_TIMEOUT_MS", "Database", "Engines",
           "check_local_filesystem", "classify_error", "filesystem_type", "is_disconnect", "is_retryable",
           "make_database", "verify_postgresql_settings", "verify_sqlite_pragmas"]


class Database(Engines):
    """Engines plus transaction helpers. Build one with :func:`make_database`, or adopt engines a
    start already opened and checked (:meth:`adopt`).

    ``write()`` yields a Session inside one write transaction (``BEGIN IMMEDIATE`` on
    SQLite) that commits on success and rolls back on error; ``read()`` yields a Session
    inside a read transaction (a consistent snapshot).
    """

    write_checks: list[Callable[[Session], None]]

    @classmethod
    def adopt(cls, engines: Engines) -> Database:
        """The :class:`Database` of engines already open and checked (their pools, connections and
        writer queue as they are): a start that opened the database before the core loaded does not
        open it twice. ``engines`` is not to be used on its own afterwards."""
        if isinstance(engines, Database):
            return engines
        database = cls.__new__(cls)
        database.__dict__.update(vars(engines))
        return database

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def write(self, scope: WriteScope | None = None) -> Iterator[Session]:
        """A write transaction: SQLite queues, PostgreSQL locks alone or ``scope``'s keys (db/scopes.py)."""
        line = self.writer_queue
        if line is None:
            with translate_errors(), self.write_engine.connect() as conn, \
                    Session(conn, expire_on_commit=False) as session:
                with session.begin(), bound(session):  # statements run on conn (db/lean.py)
                    if self.dialect == "postgresql" and self.serialize_writes:
                        if scope is None:
                            lock_bank(session)
                            self.bank_writes += 1
                        else:
                            lock_scope(session, scope(session), enabled=self.scope_locks, guard=self.scope_guard)
                    for check in self.write_checks:
                        check(session)
                    yield session
            return
        # SQLite: only BEGIN … COMMIT (or ROLLBACK) runs in the turn, on the line connection.
        with translate_errors():
            with line.turn() as ticket:
                conn = self.line.get(self.write_engine)
                try:
                    trans = conn.begin()  # BEGIN IMMEDIATE (the engine's "begin" listener)
                    # Joined to the connection's transaction: the Session flushes into it and its
                    # close leaves it alone, so COMMIT and ROLLBACK are sent here.
                    with Session(conn, expire_on_commit=False) as session, bound(session):
                        for check in self.write_checks:
                            check(session)
                        yield session
                        if trans.is_active:  # (a body may end it itself with session.rollback())
                            session.flush()
                    if trans.is_active:
                        trans.commit()
                except BaseException:
                    # Whatever failed (the body, a flush, BEGIN or COMMIT itself, an interrupt): no
                    # turn inherits a half-ended transaction; the next turn opens another connection.
                    self.line.discard()
                    raise
                line.catch_up(conn)  # still in the turn, after COMMIT (db/writer_queue.py)
        line.checkpoint_after(ticket, self.write_engine)  # out of the writers' line now

    @contextmanager
    def read(self) -> Iterator[Session]:
        with translate_errors(), Session(self.read_engine, expire_on_commit=False) as session:
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

        ``scope``: as for :meth:`write` (the lock keys of a branch-parallel write); keys an attempt
        found it needed (:class:`~teller_tui.db.scopes.ScopeWidened`) are added to the next one's.
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
                if isinstance(exc, ScopeWidened) and scope is not None:
                    scope = widened(scope, exc.keys)
                kind = classify_error(exc)
                if kind == "conflict":
                    conflicts += 1
                    if conflicts >= attempts:
                        raise StorageError(
                            _("The database stayed busy after {attempts} attempts; nothing was posted "
                              "twice. Try again.").format(attempts=attempts), code="busy") from exc
                    log.info("retrying write after %s (attempt %d)", describe(exc), conflicts)
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
                        raise unavailable(exc) from exc
                    log.warning("database connection lost (%s); reconnecting", describe(exc))
                    self.reconnects += 1
                    time.sleep(min(delay * (0.5 + random.random()), max(deadline - now, 0)))
                    delay = min(delay * 2, 1.0)
                    continue
                raise


def make_database(url: str, *, synchronous: str = "FULL", allow_network_fs: bool = False,
                  pool_size: int = 5, reconnect_seconds: float = 15.0, serialize_writes: bool = True) -> Database:
    """The single place that turns a URL into a :class:`Database`; a PostgreSQL URL may list several
    servers (:mod:`teller_tui.common.dburl`): a terminal then reconnects to whichever takes writes."""
    url = normalize_database_url(url)
    return Database(url, synchronous=synchronous, allow_network_fs=allow_network_fs, pool_size=pool_size,
                    reconnect_seconds=reconnect_seconds, serialize_writes=serialize_writes)
