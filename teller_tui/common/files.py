"""Private text files the core writes for people: receipts, welcome sheets, statements.

One way to write them: into a directory only the workstation's user can read (0700, created
if missing), the file itself 0600, written to a temporary name and renamed into place so a
reader never sees half a receipt. Names are checked, so a reference can never climb out of the
directory.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

__all__ = ["fsync_dir", "save_private_text", "save_screenshot", "write_private_file"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def save_private_text(directory: Path, name: str, text: str, *, durable: bool = True) -> Path:
    """Write ``<directory>/<name>.txt`` (directory created 0700, file 0600); returns the path.
    ``durable``: see :func:`write_private_file`."""
    if not _SAFE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"unsafe receipt reference {name!r}")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except OSError:  # pragma: no cover - not ours to fix
        pass
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
