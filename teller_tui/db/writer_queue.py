"""SQLite writers wait their turn in a first-come first-served queue, not in the busy handler.

SQLite's busy handler is no queue: a writer finding the write lock taken sleeps 1, 2, 5 … 100 ms
and tries again, and whoever happens to try just after a commit wins. With 16 terminals writing,
one of them can lose that race again and again (measured: 3.5 s worst wait at 16 writers, 21 s at
32, for 4 ms transactions). So every write transaction first takes its turn in a queue kept in a
small file beside the database (``teller.db-writers``), and only then runs ``BEGIN IMMEDIATE``.

The queue is a ticket lock made of the kernel's open-file-description byte-range locks
(``F_OFD_SETLKW``; Linux 3.15+), a CLH queue: under a short lock on the file's first bytes a
writer takes the next ticket ``t`` (a counter stored there) and locks its own slot byte ``t``;
then it waits until slot ``t - 1`` is free (the writer before it has finished or died), and holds
its slot for the transaction. Writers therefore run strictly in the order they took tickets, and
the worst wait is the queue in front times one transaction. (A plain ``flock`` is not enough: a
writer that has just finished can take the lock again before the waiter the kernel woke runs.)
The busy timeout stays as the fallback for writers outside the queue (``sqlite3`` on the command
line, an older release).

* Across processes *and* threads: each turn opens the file anew (its own open file description),
  so two threads of one process queue against each other too.
* Bounded: a turn not granted within ``timeout`` seconds raises :class:`WriterQueueTimeout`, which
  :meth:`~teller_tui.db.engine.Database.write_retrying` treats like "database is locked" (retry,
  then the "stayed busy" refusal). The abandoned ticket stays in line and passes its turn on the
  moment it comes, so the writers behind it are not held up.
* A crashed writer cannot wedge the queue: the kernel drops a dead process's locks.
* The file holds only the ticket counter; it is created 0600 like the database.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from teller_tui.common.errors import StorageError
from teller_tui.db.faults import storage_fault

__all__ = ["WriterQueue", "WriterQueueTimeout", "queue_path"]


class WriterQueueTimeout(Exception):
    """The writer's turn did not come within the timeout (classified as a conflict: retried)."""


def queue_path(database: Path) -> Path:
    """The queue's file beside the database file (``teller.db`` → ``teller.db-writers``)."""
    return database.with_name(database.name + "-writers")


class WriterQueue:
    """First-come first-served turns for the write transactions on one SQLite database."""

    def __init__(self, path: Path, *, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        #: Turns that had to wait for another writer (for tests and the bench).
        self.waited = 0
        #: The ticket of the latest turn taken through this object (tests: turns run in ticket order).
        self.last_ticket = -1

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold this writer's turn for the body (one write transaction)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # a read-only or full disk, as the database itself would report it
            raise (storage_fault(exc) or StorageError(str(exc), code="io_error")) from exc
        try:
            ticket = self.last_ticket = _take_ticket(fd)
            before = _slot(ticket - 1)
            if not _lock(fd, before, wait=False):
                self.waited += 1
                self._wait(fd, before)  # on timeout fd belongs to the ticket still in line, not to us
            _unlock(fd, before)
        except WriterQueueTimeout:
            raise
        except BaseException:
            os.close(fd)
            raise
        try:
            yield
        finally:
            os.close(fd)  # frees this ticket's slot: the next writer in line goes

    def _wait(self, fd: int, before: int) -> None:
        """Wait until the writer before this one frees its slot, at most ``timeout`` seconds. On
        timeout raise :class:`WriterQueueTimeout`; the ticket (and ``fd``) then belongs to a helper
        thread, which closes ``fd`` as soon as the turn comes, passing it on."""
        granted = threading.Event()
        guard = threading.Lock()
        state: dict[str, Any] = {"abandoned": False, "error": None}

        def wait_in_line() -> None:
            try:
                _lock(fd, before, wait=True)
            except OSError as exc:  # not granted: the writer raises it
                state["error"] = exc
            with guard:
                if state["abandoned"]:
                    os.close(fd)  # our turn came too late: pass it on at once
                    return
                granted.set()

        # The blocking lock runs in its own thread so that the wait can end at the timeout; the
        # thread lives only while this writer is in line.
        threading.Thread(target=wait_in_line, name="sqlite-writer-queue", daemon=True).start()
        granted.wait(self.timeout)
        with guard:
            if not granted.is_set():
                state["abandoned"] = True
                raise WriterQueueTimeout(f"waited {self.timeout:g} s for the database's writer queue")
        if state["error"] is not None:
            raise state["error"]


# -- the ticket lock --------------------------------------------------------------------------------
_COUNTER = 0  # bytes 0..7: the next ticket (big-endian), guarded by a lock on those bytes
_SLOTS = 1 << 20  # slot bytes start here (locks may lie past the end of the file)
_WRAP = 1 << 40


def _slot(ticket: int) -> int:
    return _SLOTS + ticket % _WRAP


def _take_ticket(fd: int) -> int:
    """The next ticket, with this writer's slot locked before anyone can take the ticket after it."""
    _lock(fd, _COUNTER, wait=True, length=8)
    try:
        raw = os.pread(fd, 8, _COUNTER)
        ticket = int.from_bytes(raw, "big") if len(raw) == 8 else 0
        os.pwrite(fd, ((ticket + 1) % _WRAP).to_bytes(8, "big"), _COUNTER)
        if not _lock(fd, _slot(ticket), wait=False):  # pragma: no cover - only a wrapped-around ticket
            raise BlockingIOError(errno.EAGAIN, "the writer queue's slot is still held")
    finally:
        _unlock(fd, _COUNTER, length=8)
    return ticket


def _flock(kind: int, start: int, length: int) -> bytes:
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (0 for OFD locks)
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)


def _lock(fd: int, start: int, *, wait: bool, length: int = 1) -> bool:
    """An exclusive open-file-description lock on ``length`` bytes: blocks until granted (``wait``),
    or returns False at once if another writer holds it."""
    if wait:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _flock(fcntl.F_WRLCK, start, length))
        return True
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_WRLCK, start, length))
    except (BlockingIOError, PermissionError):  # EAGAIN / EACCES: held by another writer
        return False
    return True


def _unlock(fd: int, start: int, *, length: int = 1) -> None:
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, start, length))
