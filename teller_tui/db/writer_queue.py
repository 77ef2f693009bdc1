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

Nothing that can wait runs while a turn is held, so that the worst wait stays the queue in front
times one transaction (measured with 16 writers: the outliers were these, not the queue's order):

* **WAL checkpoints leave the line.** SQLite's automatic checkpoint runs inside the COMMIT of
  whichever writer pushes the WAL past 1,000 pages (~100 cash-ins), copying them into the database
  file and syncing it while everyone behind waits (12 ms here with 0.07 ms fsyncs; a branch PC's
  disk is slower). Queued connections set ``wal_autocheckpoint`` to :data:`AUTOCHECKPOINT_BACKSTOP`
  (only a backstop), and the writer whose ticket is a multiple of :data:`CHECKPOINT_EVERY` runs a
  ``PASSIVE`` checkpoint *after* passing its turn on (:func:`checkpoint_passive`): it takes no
  writer lock, so the next writer commits meanwhile.
* **…and the WAL still starts over.** SQLite writes the WAL from its beginning again only when a
  write transaction begins with every frame already copied, which a checkpoint outside the line
  never leaves behind while others commit: the WAL then grew to the backstop (10,000 pages, ~270
  cash-ins) and SQLite's own checkpoint ran in a COMMIT after all (9–11 ms turns, one in ~270,
  measured). So a checkpoint after the line that copied the frames asks for a *catch-up* (a byte in
  the queue file), and the next writer to hold a turn copies, after its COMMIT and before passing
  its turn on, only what was committed meanwhile (:meth:`WriterQueue.catch_up`: a few turns'
  frames, ~75 pages: 1.5 ms alone, 4–5 ms under 16 writers here, mostly the database file's fsync);
  the writer after it starts the WAL over. Measured with 16 writers: the longest turn held went from
  13–15 ms to 8–9 ms and the WAL stays at ~100 turns' frames (15 MB, not 40 MB); the worst wait in
  line did not move (it is set by stretches where every turn is slower, see the README).
* **No garbage collection while a turn is held.** A full (oldest-generation) collection in a
  process of this size took 89 ms, inside the transaction, with the line stopped; young ones
  (0.2–0.7 ms) ran inside one turn in twelve of a 16-writer run. While any turn of the process is
  held the oldest generation's threshold is out of reach and the youngest's is raised to
  :data:`YOUNG_GC_IN_TURN` allocations, more than a posting makes (a long bulk transaction still
  collects, so it does not pile up garbage); when the last turn ends the thresholds are restored
  and the collection that fell due runs then, outside the line.
* **Only BEGIN … COMMIT runs in the turn.** :meth:`~teller_tui.db.engine.Database.write` runs it
  on the process's line connection (:class:`teller_tui.db.engines.LineConnection`, kept across turns:
  no pool checkout or check-in at all), with a Session joined to that transaction (built in the turn:
  it sends nothing and costs microseconds).
* **The hand-over wakes the next writer directly.** A writer in line blocks on an abstract Unix
  socket named after the queue file and its ticket; the writer before sends it a byte the moment
  it has freed its slot, so the kernel wakes the waiting thread itself (a helper thread blocked on
  the lock would be woken first and then wake it: two wake-ups per hand-over). The lock stays the
  truth: the notice only says "look now", and a writer in line also looks every
  :data:`RECHECK_SECONDS` (the writer before may have died, which frees its lock but sends
  nothing). A ticket given up at the timeout is handed to a helper thread that waits on the lock
  and passes the turn on, notice included.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from teller_tui.common.errors import StorageError
from teller_tui.db.faults import storage_fault
from teller_tui.db.turn_gc import YOUNG_GC_IN_TURN, hold_gc, release_gc

__all__ = ["AUTOCHECKPOINT_BACKSTOP", "CHECKPOINT_EVERY", "YOUNG_GC_IN_TURN", "WriterQueue", "WriterQueueTimeout",
           "checkpoint_passive", "queue_path"]

log = logging.getLogger(__name__)

#: Every this many turns (bank-wide tickets) the writer leaving the line checkpoints the WAL (~1,000
#: pages at ~10 pages a cash-in: SQLite's own default interval).
CHECKPOINT_EVERY = 100
#: SQLite's automatic checkpoint on queued connections: only if the passive ones fall behind (40 MB).
AUTOCHECKPOINT_BACKSTOP = 10_000
#: A writer in line looks at the lock this often even without a notice (the writer before it died).
RECHECK_SECONDS = 0.05
#: Byte of the queue file a checkpoint after the line sets to ask the next turn for a catch-up.
_CATCH_UP = 8


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
        #: Seconds the latest turn waited in line, and held its turn (its own transaction): the bench
        #: reports both, so a long wait can be told from a long transaction.
        self.last_wait = 0.0
        self.last_held = 0.0
        #: ``time.perf_counter()`` when the latest turn was asked for, granted, and passed on (the
        #: clock is the system's monotonic one, so the bench compares them across processes).
        self.last_asked = self.last_granted = self.last_released = 0.0
        #: WAL checkpoints this object ran after leaving the line, and the frames they found copied.
        self.checkpoints = 0
        self.checkpointed_frames = 0
        #: Turns that waited and came by the notice of the writer before (tests: the hand-over wakes).
        self.notified = 0
        #: Catch-up checkpoints this object ran in a turn (asked for by a checkpoint after the line).
        self.caught_up = 0
        self._notifier: socket.socket | None = None
        self._turn_fd: int | None = None  # the queue file, while this object's thread holds a turn

    def close(self) -> None:
        """Close the socket notices are sent from (a later turn opens it again)."""
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.close()

    def checkpoint_after(self, ticket: int, engine: Engine) -> None:
        """Called once the turn of ``ticket`` is over: every :data:`CHECKPOINT_EVERY`-th writer checkpoints."""
        if ticket > 0 and ticket % CHECKPOINT_EVERY == 0:
            frames = checkpoint_passive(engine)
            self.checkpoints += 1
            self.checkpointed_frames += max(frames, 0)
            if frames >= 0:
                self._ask_catch_up()

    def _ask_catch_up(self) -> None:
        """Ask the next turn to copy what was committed while this checkpoint ran (best effort)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.pwrite(fd, b"\1", _CATCH_UP)
            finally:
                os.close(fd)
        except OSError as exc:  # the catch-up is an optimisation: SQLite's backstop remains
            log.warning("could not ask for a WAL catch-up: %s", type(exc).__name__)

    def catch_up(self, conn: Any) -> None:
        """In a turn, after its COMMIT: if a checkpoint after the line asked for it, copy what was
        committed since (``PASSIVE``, on ``conn``'s DBAPI connection: the writer's own, outside any
        transaction) and clear the request, so that the next write transaction can start the WAL
        over (it does when every frame was copied; a reader's older snapshot can hold some back, and
        then the WAL waits for the next request or SQLite's backstop). A checkpoint still running
        elsewhere (busy) leaves the request for the next turn. Never raises: the posting has committed."""
        fd = self._turn_fd
        if fd is None:
            return
        try:
            if os.pread(fd, 1, _CATCH_UP) != b"\1":
                return
            raw = conn.connection.dbapi_connection
            busy, _frames, _done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy:
                os.pwrite(fd, b"\0", _CATCH_UP)
                self.caught_up += 1
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("WAL catch-up in the writers' line failed: %s", type(exc).__name__)

    @contextmanager
    def turn(self) -> Iterator[int]:
        """Hold this writer's turn for the body (one write transaction); yields the ticket."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # a read-only or full disk, as the database itself would report it
            raise (storage_fault(exc) or StorageError(str(exc), code="io_error")) from exc
        asked = time.perf_counter()
        try:
            file = os.fstat(fd)
            key = (file.st_dev, file.st_ino)
            ticket = self.last_ticket = _take_ticket(fd)
            before = _slot(ticket - 1)
            if not _lock(fd, before, wait=False):
                self.waited += 1
                self._wait(fd, before, key, ticket)  # on timeout fd belongs to the ticket still in line, not to us
            _unlock(fd, before)
        except WriterQueueTimeout:
            raise
        except BaseException:
            os.close(fd)
            raise
        granted = time.perf_counter()
        self.last_asked, self.last_granted, self.last_wait = asked, granted, granted - asked
        hold_gc()
        self._turn_fd = fd
        try:
            yield ticket
        finally:
            self._turn_fd = None
            released = self.last_released = time.perf_counter()
            os.close(fd)  # frees this ticket's slot: the next writer in line goes
            self._notify(key, ticket + 1)  # … now, not at its next re-check
            self.last_held = released - granted
            release_gc()  # a full collection that fell due runs now, outside the line

    def _wait(self, fd: int, before: int, key: tuple[int, int], ticket: int) -> None:
        """Wait until the writer before this one frees its slot, at most ``timeout`` seconds: blocked
        on this ticket's socket, woken by the writer before's notice (or every :data:`RECHECK_SECONDS`
        to look at the lock, in case its notice never comes). On timeout raise :class:`WriterQueueTimeout`;
        the ticket (and ``fd``) then belongs to a helper thread, which passes the turn on when it comes."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind(_address(key, ticket))
        except OSError:  # the name is taken (by whom? not by the queue): wait on the lock itself
            sock.close()
            self._wait_on_lock(fd, before, key, ticket)
            return
        try:
            deadline = time.monotonic() + self.timeout
            noticed = False
            while not _lock(fd, before, wait=False):  # looked at after binding: no notice can be missed
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(min(left, RECHECK_SECONDS))
                try:
                    sock.recv(16)
                    noticed = True
                except TimeoutError:
                    noticed = False
            else:
                self.notified += noticed
                return
        finally:
            sock.close()
        self._pass_on_when_due(fd, before, key, ticket)
        raise WriterQueueTimeout(f"waited {self.timeout:g} s for the database's writer queue")

    def _wait_on_lock(self, fd: int, before: int, key: tuple[int, int], ticket: int) -> None:
        """:meth:`_wait` without a socket: a helper thread blocks on the lock and wakes this one."""
        granted = threading.Lock()
        granted.acquire()
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
                    self._notify(key, ticket + 1)
                    return
                state["granted"] = True
            granted.release()

        threading.Thread(target=wait_in_line, name="sqlite-writer-queue", daemon=True).start()
        granted.acquire(timeout=self.timeout)
        with guard:
            if not state.get("granted"):
                state["abandoned"] = True
                raise WriterQueueTimeout(f"waited {self.timeout:g} s for the database's writer queue")
        if state["error"] is not None:
            raise state["error"]

    def _pass_on_when_due(self, fd: int, before: int, key: tuple[int, int], ticket: int) -> None:
        """An abandoned ticket stays in line: a helper thread waits for its turn and passes it on at once."""
        def pass_on() -> None:
            try:
                _lock(fd, before, wait=True)
            except OSError:  # pragma: no cover - closing frees the slot all the same
                pass
            os.close(fd)
            self._notify(key, ticket + 1)

        threading.Thread(target=pass_on, name="sqlite-writer-queue", daemon=True).start()

    def _notify(self, key: tuple[int, int], ticket: int) -> None:
        """Wake the writer holding ``ticket`` if it is waiting (best effort: it re-checks anyway)."""
        try:
            if self._notifier is None:
                self._notifier = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._notifier.setblocking(False)
            self._notifier.sendto(b"\0", _address(key, ticket))
        except OSError:  # nobody is waiting on that ticket (yet), or its notices are not read
            pass


def checkpoint_passive(engine: Engine) -> int:
    """A ``PASSIVE`` WAL checkpoint on one of ``engine``'s connections, outside any transaction: it
    copies what it can without taking the writer lock or waiting. Returns the WAL frames now in the
    database file (-1: another checkpoint was running). Best effort: the posting before it has
    committed, so a failure is logged, never raised (SQLite's backstop checkpoint remains)."""
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            busy, _frames, done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return -1 if busy else int(done)
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("WAL checkpoint after the writers' line failed: %s", type(exc).__name__)
        return -1


# -- the ticket lock --------------------------------------------------------------------------------
_COUNTER = 0  # bytes 0..7: the next ticket (big-endian), guarded by a lock on those bytes
_SLOTS = 1 << 20  # slot bytes start here (locks may lie past the end of the file)
_WRAP = 1 << 40


def _address(key: tuple[int, int], ticket: int) -> bytes:
    """The abstract socket a writer in line listens on: the queue file's device and inode, the ticket."""
    return b"\0teller-writers-%d-%d-%d" % (key[0], key[1], ticket % _WRAP)


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
