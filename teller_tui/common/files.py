"""Private text files the core writes for people: receipts, welcome sheets, statements.

One way to write them: into a directory only the workstation's user can read (0700, created
if missing), the file itself 0600, written to a temporary name and renamed into place so a
reader never sees half a receipt. Names are checked, so a reference can never climb out of the
directory. A directory is made private once per process (remembered; made again if it went away),
not on every receipt; each temporary file is opened exclusively (O_EXCL, 0600) under a name unique
to the process, so no two writers share one.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from pathlib import Path

__all__ = ["fsync_dir", "save_private_text", "save_screenshot", "write_private_file"]

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


def save_private_text(directory: Path, name: str, text: str, *, durable: bool = True) -> Path:
    """Write ``<directory>/<name>.txt`` (directory created 0700, file 0600); returns the path.
    ``durable``: see :func:`write_private_file`."""
    if not _SAFE_NAME.fullmatch(name) or name.startswith("."):  # fullmatch: "$" would let a final "\n" by
        raise ValueError(f"unsafe receipt reference {name!r}")
    key = _make_private_dir(directory)
    try:
        return write_private_file(directory / f"{name}.txt", text, durable=durable)
    except FileNotFoundError:  # the directory went away since it was made: make it again, once
        _private_dirs.discard(key)
        _make_private_dir(directory)
        return write_private_file(directory / f"{name}.txt", text, durable=durable)


def save_screenshot(home: Path, name: str, svg: str) -> Path:
    """Write ``<home>/screenshots/<name>.svg`` (directory 0700, file 0600); returns the path."""
    if not _SAFE_NAME.fullmatch(name) or name.startswith("."):
        raise ValueError(f"unsafe screenshot name {name!r}")
    directory = home / "screenshots"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except OSError:  # pragma: no cover - not ours to fix
        pass
    return write_private_file(directory / f"{name}.svg", svg)
