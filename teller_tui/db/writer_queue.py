"""SQLite writers wait their turn in a first-come first-served queue, not in the busy handler.

SQLite's busy handler is no queue: a writer finding the write lock taken sleeps 1, 2, 5 … 100 ms
and tries again, and whoever happens to try just after a commit wins. With 16 terminals writing,
one of them can lose that race again and again (measured: 3.5 s worst wait at 16 writers, 21 s at
32, for 4 ms transactions). So every write transaction first takes an exclusive ``flock`` on a
small file beside the database (``teller.db-writers``), and only then runs ``BEGIN IMMEDIATE``.
Linux queues blocked ``flock`` requests behind the one they wait for and wakes one waiter per
release (kernel 4.20 and later), so writers run in the order they asked and the worst wait is
about the queue length times one transaction. The busy timeout stays as the fallback for
writers outside the queue (``sqlite3`` on the command line, an older release).

* Across processes *and* threads: each turn opens the file anew (its own open file description),
  so two threads of one process queue against each other too.
* Bounded: a turn not granted within ``timeout`` seconds raises :class:`WriterQueueTimeout`, which
  :meth:`~teller_tui.db.engine.Database.write_retrying` treats like "database is locked" (retry,
  then the "stayed busy" refusal). The abandoned request stays in line and lets go of its turn
  the moment it gets it, so the writers behind it are not held up.
* A crashed holder cannot wedge the queue: the kernel drops a process's ``flock`` when it dies.
* The file holds no data; it is created 0600 like the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the queue's lock for the body (one write transaction)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.waited += 1
            self._wait(fd)  # on timeout fd belongs to the request still in line, not to us
        except BaseException:
            os.close(fd)
            raise
        try:
            yield
        finally:
            os.close(fd)  # releases the lock: the next writer in line gets its turn

    def _wait(self, fd: int) -> None:
        """Block in line for the lock, at most ``timeout`` seconds. Returns once granted. On timeout
        raise :class:`WriterQueueTimeout`; the blocked request (and ``fd``) then belongs to the helper
        thread, which closes ``fd`` as soon as the kernel grants the turn, passing it on."""
        granted = threading.Event()
        guard = threading.Lock()
        state: dict[str, Any] = {"abandoned": False, "error": None}

        def wait_in_line() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:  # not granted: the writer raises it
                state["error"] = exc
            with guard:
                if state["abandoned"]:
                    os.close(fd)  # our turn came too late: pass it on at once
                    return
                granted.set()

        # The blocking flock runs in its own thread so that the wait can end at the timeout; the
        # thread lives only while this writer is in line.
        threading.Thread(target=wait_in_line, name="sqlite-writer-queue", daemon=True).start()
        granted.wait(self.timeout)
        with guard:
            if not granted.is_set():
                state["abandoned"] = True
                raise WriterQueueTimeout(f"waited {self.timeout:g} s for the database's writer queue")
        if state["error"] is not None:
            os.close(fd)
            raise state["error"]
