"""Saving a printed receipt or statement as a text file: ``<directory>/<name>.txt``, directory 0700.

Used by the desk (cash receipts), wallet onboarding (welcome sheets) and the kiosk screens
(statements); the name must be a plain reference (letters, digits, ``_.-``), never a path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["save_receipt"]

_SAFE_REF = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def save_receipt(directory: Path, reference: str, text: str) -> Path:
    """Write ``<directory>/<reference>.txt`` (directory created 0700); returns the path."""
    if not _SAFE_REF.match(reference) or reference.startswith("."):
        raise ValueError(f"unsafe receipt reference {reference!r}")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(directory, 0o700)
    except OSError:  # pragma: no cover - not ours to fix
        pass
    path = directory / f"{reference}.txt"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
