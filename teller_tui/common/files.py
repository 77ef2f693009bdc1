"""Private text files the core writes for people: receipts, welcome sheets, statements.

One way to write them: into a directory only the workstation's user can read (0700, created
if missing), the file itself 0600, written to a temporary name and renamed into place so a
reader never sees half a receipt. Names are checked, so a reference can never climb out of the
directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["save_private_text"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def save_private_text(directory: Path, name: str, text: str) -> Path:
    """Write ``<directory>/<name>.txt`` (directory created 0700, file 0600); returns the path."""
    if not _SAFE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"unsafe receipt reference {name!r}")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except OSError:  # pragma: no cover - not ours to fix
        pass
    path = directory / f"{name}.txt"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed save (disk full) leaves no empty file behind
        raise
    return path
