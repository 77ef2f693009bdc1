"""Private SQLite files: the database (names, ID numbers, password hashes) is created 0600 in a
0700 folder whatever the umask, and a database file that group or others can access is refused
with the command that fixes it, as the key file is (:mod:`teller_tui.auth.secretbox`)."""

from __future__ import annotations

import os
from pathlib import Path

from teller_tui.common.errors import StorageError
from teller_tui.common.i18n import _

__all__ = ["secure_sqlite_file"]


def secure_sqlite_file(path: Path) -> None:
    """Create the database file 0600 (its folder 0700) before SQLite does, whatever the umask,
    and refuse a database file, or its -wal/-shm, that group or others can access.

    The file holds names, ID numbers and password hashes: as the key file, it is refused with
    the command that fixes it. SQLite creates -wal and -shm with the database file's own mode,
    so they follow once the database is 0600."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(parent, 0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(_("Cannot create the database {path}: {error}").format(
            path=path, error=exc.strerror or exc), code="database_unusable") from exc
    else:
        try:
            os.fchmod(fd, 0o600)  # os.open's mode is reduced by the umask; this is exact
        finally:
            os.close(fd)
    if os.name != "posix":  # pragma: no cover
        return
    loose = []
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o077:
                loose.append(str(candidate))
        except FileNotFoundError:
            continue
    if loose:
        raise StorageError(
            _("The database {path} can be read by other users. Fix it with: chmod 600 {files}").format(
                path=path, files=" ".join(loose)), code="database_permissions")
