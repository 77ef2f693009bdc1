"""Storage faults named as what they are, in one sentence a teller or an operator can act on.

A driver error is turned into a :class:`~teller_tui.common.errors.StorageError` with a stable
code (``disk_full``, ``read_only``, ``corrupt``, ``missing``, ``io_error``, ``auth_failed``,
``certificate_failed``); the driver's own text goes to the log, never to the screen. A lost or
refused connection is *not* a storage fault: :mod:`teller_tui.db.engine` reports it as
``DatabaseUnavailable`` and reconnects, so ``classify_fault`` returns None for it.

SQLite reports faults by result code (Python exposes ``sqlite_errorcode``); PostgreSQL by
SQLSTATE, except for TLS and authentication problems that libpq reports before a session
exists (no SQLSTATE), which are recognised by libpq's message.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Final

from teller_tui.common.errors import StorageError
from teller_tui.common.i18n import N_, _

__all__ = ["FAULT_MESSAGES", "classify_fault", "refused_by_database", "storage_fault"]

# SQLite primary result codes (https://sqlite.org/rescode.html).
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_NOTADB: Final = 26

FAULT_MESSAGES: Final[dict[str, str]] = {
    "disk_full": N_("The disk holding the database is full. Nothing was saved; free space on the "
                    "branch host, then try again."),
    "read_only": N_("The database can only be read, not written (read-only file or disk). Nothing was "
                    "saved; ask the branch's IT support to check the disk."),
    "corrupt": N_("The database file is damaged. Stop the terminals and restore the latest backup "
                  "(`teller db restore FILE`)."),
    "missing": N_("The database file cannot be opened (missing, or no permission). Check TELLER_HOME "
                  "and the file's owner."),
    "io_error": N_("The disk reported an error while reading or writing the database. Nothing was "
                   "saved; ask the branch's IT support to check the disk."),
    "auth_failed": N_("The database refused the sign-in of this terminal (user name or password). Check "
                      "the database URL's credentials; this is not an outage."),
    "not_permitted": N_("The database refused this change: the role this program connects as may not make it "
                        "(permission denied). Nothing was saved. Staff administration runs as the admin role; "
                        "compliance records are never rewritten."),
    "certificate_failed": N_("The database server's certificate could not be verified. Check sslrootcert "
                             "and the server name; this is not an outage."),
}

_PG_STATES: Final[dict[str, str]] = {
    "53100": "disk_full",        # disk_full
    "25006": "read_only",        # read_only_sql_transaction (e.g. connected to a standby)
    "28P01": "auth_failed",      # invalid_password
    "28000": "auth_failed",      # invalid_authorization_specification (pg_hba reject, no such role)
    "XX001": "corrupt",          # data_corrupted
    "XX002": "corrupt",          # index_corrupted
    "58030": "io_error",         # io_error
}

_LIBPQ_CERT_WORDS: Final = ("certificate verify failed", "root certificate file", "server certificate for",
                            "ssl error", "sslmode value", "certificate")
_LIBPQ_AUTH_WORDS: Final = ("password authentication failed", "no pg_hba.conf entry",
                            "fe_sendauth: no password supplied")


def _sqlite_kind(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in text:
        return "disk_full"
    if primary == _SQLITE_READONLY or "readonly database" in text or "read-only" in text:
        return "read_only"
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return "corrupt"
    if primary == _SQLITE_CANTOPEN or "unable to open database" in text:
        return "missing"
    if primary == _SQLITE_IOERR or "disk i/o error" in text:
        return "io_error"
    return None


def _os_kind(exc: OSError) -> str | None:
    return {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EROFS: "read_only",
            errno.EACCES: "missing", errno.ENOENT: "missing", errno.EIO: "io_error"}.get(exc.errno or -1)


def classify_fault(exc: BaseException) -> str | None:
    """The fault code of ``exc`` (a driver error, possibly wrapped by SQLAlchemy), or None."""
    orig: BaseException = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.Error):
        return _sqlite_kind(orig)
    if isinstance(orig, OSError):
        return _os_kind(orig)
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    if isinstance(state, str) and state in _PG_STATES:
        return _PG_STATES[state]
    if type(orig).__module__.startswith("psycopg"):
        text = str(orig).lower()
        if any(word in text for word in _LIBPQ_AUTH_WORDS) or ('role "' in text and "does not exist" in text):
            return "auth_failed"
        if any(word in text for word in _LIBPQ_CERT_WORDS):
            return "certificate_failed"
    return None


def storage_fault(exc: BaseException) -> StorageError | None:
    """A translated :class:`StorageError` for a storage fault, or None if ``exc`` is not one."""
    kind = classify_fault(exc)
    if kind is None:
        return None
    return StorageError(_(FAULT_MESSAGES[kind]), code=kind)


def refused_by_database(exc: BaseException) -> StorageError | None:
    """A command's one line for SQLSTATE 42501 (a grant or a guard trigger refused the statement), or
    None. Not a storage fault: the engine lets it through unchanged, the CLI names it (``not_permitted``)."""
    orig: BaseException = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    if state != "42501":
        return None
    return StorageError(_(FAULT_MESSAGES["not_permitted"]), code="not_permitted")
