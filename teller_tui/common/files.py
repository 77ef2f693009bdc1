"""Private text files the core writes for people: receipts, welcome sheets, statements.

One way to write them: into a directory only the workstation's user can read (0700, created
if missing), the file itself 0600, written to a temporary name and renamed into place so a
reader never sees half a receipt. Names are checked, so a reference can never climb out of the
directory. A directory is made private once per process (remembered; made again if it went away),
not on every receipt; each temporary file is opened exclusively (O_EXCL, 0600) under a name unique
to the process, so no two writers share one.

A *copy* the database can give again at any time (a posting's receipt: the ledger reprints it) is
written by :data:`copies`, one background thread per process, in the order asked: the teller's
path never waits for the filesystem (creating a file costs 0.01–0.4 ms on the disks measured).
``copies.keep(directory, name, text)`` returns the path the copy will be at; ``copies.flush()``
waits until every copy asked for so far is written (printing does, and so does closing the core).
A failed copy is logged and counted (``copies.failed``), never raised: the posting stands.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import queue
import re
import tempfile
import threading
from pathlib import Path

__all__ = ["CopyWriter", "copies", "fsync_dir", "save_private_text", "save_screenshot", "write_private_file"]

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_temp_numbers = itertools.count()  # next() on a count is atomic under the GIL: one number per file
_private_dirs: set[str] = set()  # absolute paths this process made (or found and chmodded) 0700


def fsync_dir(directory: Path) -> None:
    """Make a rename or an unlink in ``directory`` durable (best effort where the OS cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_private_file(path: Path, text: str, *, durable: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically: a 0600 temporary file beside it, fsynced, renamed into
    place, the directory fsynced. A failure (disk full) leaves neither a partial nor an empty file.

    ``durable=False`` skips the two fsyncs, for a copy the database can give again at any time
    (a posting's receipt: ``receipt_for`` renders it from the ledger). A reader still never sees
    half a file; a power cut may lose the copy, never what it copies."""
    fd, tmp = _open_temporary(path)
    try:
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def _open_temporary(path: Path) -> tuple[int, str]:
    """A new 0600 file beside ``path``, opened exclusively: (descriptor, name)."""
    tmp = os.path.join(path.parent, f".{path.name}.{os.getpid()}.{next(_temp_numbers)}.tmp")
    try:
        return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
    except FileExistsError:  # a crashed process of the same pid left one: a random name instead
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def _make_private_dir(directory: Path) -> str:
    """Create ``directory`` 0700 (or make it so) once per process; returns its remembered key."""
    key = os.path.abspath(directory)
    if key not in _private_dirs:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.chmod(directory, 0o700)
        except OSError:  # pragma: no cover - not ours to fix
            pass
        _private_dirs.add(key)
    return key


def _check_name(name: str) -> None:
    if not _SAFE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"unsafe receipt reference {name!r}")


def save_private_text(directory: Path, name: str, text: str, *, durable: bool = True) -> Path:
    """Write ``<directory>/<name>.txt`` (directory created 0700, file 0600); returns the path.
    ``durable``: see :func:`write_private_file`."""
    _check_name(name)
    key = _make_private_dir(directory)
    try:
        return write_private_file(directory / f"{name}.txt", text, durable=durable)
    except FileNotFoundError:  # the directory went away since it was made: make it again, once
        _private_dirs.discard(key)
        _make_private_dir(directory)
        return write_private_file(directory / f"{name}.txt", text, durable=durable)


def save_screenshot(home: Path, name: str, svg: str) -> Path:
    """Write ``<home>/screenshots/<name>.svg`` (directory 0700, file 0600); returns the path."""
    if not _SAFE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"unsafe screenshot name {name!r}")
    directory = home / "screenshots"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except OSError:  # pragma: no cover - not ours to fix
        pass
    return write_private_file(directory / f"{name}.svg", svg)


class CopyWriter:
    """Writes copies (:func:`save_private_text` without fsync) on one background thread, in the
    order they were asked for: see the module's docstring. Thread-safe; the thread starts on the
    first copy (and again in a forked child, which does not inherit it)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Path, str, str]] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        #: Copies written, and copies that could not be (logged), by this process.
        self.written = 0
        self.failed = 0

    def keep(self, directory: Path, name: str, text: str) -> Path:
        """Queue ``<directory>/<name>.txt`` (0700 directory, 0600 file); returns its path. An unsafe
        ``name`` raises ``ValueError`` here, before anything is queued."""
        _check_name(name)
        with self._idle:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="teller-copies", daemon=True)
                self._thread.start()
        self._queue.put((directory, name, text))
        return directory / f"{name}.txt"

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every copy asked for so far is written (or failed); False if ``timeout`` passed."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            directory, name, text = self._queue.get()
            try:
                save_private_text(directory, name, text, durable=False)
                self.written += 1
            except Exception as exc:  # noqa: BLE001 - a copy: the posting stands, reprint gives it again
                self.failed += 1
                log.warning("could not keep the copy %s in %s: %s", name, directory, exc)
            finally:
                with self._idle:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.notify_all()

    def _after_fork(self) -> None:
        """In a forked child: no thread, nothing pending (the parent writes what it queued)."""
        self._queue = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = None


#: The process's copy writer (flushed at exit, so a CLI run leaves every copy it made).
copies = CopyWriter()
atexit.register(copies.flush)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=copies._after_fork)
