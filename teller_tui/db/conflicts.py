"""How a driver error is read: a conflict to retry at once, a lost connection to wait out, or
neither (split from :mod:`teller_tui.db.engine`, which re-exports these).

Conflicts: serialization failures, deadlocks and lock timeouts (PostgreSQL), "database is locked"
and the writer queue's timeout (SQLite), and :class:`~teller_tui.db.scopes.ScopeWidened` (a
scoped write that found it needs more keys: retried with them up front). Storage faults
(:mod:`teller_tui.db.faults`) are never retried.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from teller_tui.common.errors import DatabaseUnavailable
from teller_tui.common.i18n import _
from teller_tui.db.faults import classify_fault, storage_fault
from teller_tui.db.scopes import ScopeWidened
from teller_tui.db.writer_queue import WriterQueueTimeout

__all__ = ["CONFLICT_SQLSTATES", "DISCONNECT_SQLSTATES", "ReadOnlySqlState", "classify_error", "describe",
           "is_disconnect", "is_retryable", "translate_errors", "unavailable"]


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
    if isinstance(exc, (WriterQueueTimeout, ScopeWidened)):
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


def describe(exc: BaseException) -> str:
    state = _sqlstate(exc)
    return f"{type(getattr(exc, 'orig', None) or exc).__name__}{f' {state}' if state else ''}"


def unavailable(exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        _("The database cannot be reached. Your work is kept; the terminal will reconnect."),
        code="db_unavailable", cause=describe(exc))


class ReadOnlySqlState(Exception):
    """Stands for SQLSTATE 25006 (read-only transaction) when a standby is found at start-up."""

    sqlstate = "25006"


@contextmanager
def translate_errors() -> Iterator[None]:
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
            raise unavailable(exc) from exc
        raise
