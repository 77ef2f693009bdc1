"""Start-up checks of the storage a Database is opened on: local disk, pragmas, settings, writability.

Each check raises a :class:`~teller_tui.common.errors.StorageError` naming the fix. The
writability checks run before the first teller signs in, so that a read-only disk or a full
disk is named at start-up instead of surfacing as a failed posting.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

from teller_tui.common.errors import StorageError
from teller_tui.db.faults import storage_fault

__all__ = ["CODEPOINT_COLLATIONS", "MIN_FREE_BYTES", "NETWORK_FILESYSTEMS", "check_local_filesystem", "read_sqlite_pragmas",
           "check_sqlite_files_writable", "filesystem_type", "verify_postgresql_settings",
           "verify_sqlite_pragmas"]

#: Below this much free space on the database's disk the terminal refuses to start: every
#: posting and sign-in writes, and SQLite needs room for its write-ahead log.
MIN_FREE_BYTES = 1 << 20

NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smbfs", "smb3", "9p", "afs", "ncpfs", "glusterfs", "ceph",
     "fuse.sshfs", "sshfs", "fuse.glusterfs", "fuse.cephfs", "lustre", "gpfs", "davfs", "fuse.rclone"}
)


def filesystem_type(path: Path, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The filesystem type of the mount holding ``path`` (Linux), or None if unknown."""
    try:
        lines = mounts_file.read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best: tuple[int, str] | None = None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if target == mount_point or target.startswith(mount_point.rstrip("/") + "/") or mount_point == "/":
            if best is None or len(mount_point) > best[0]:
                best = (len(mount_point), parts[2])
    return best[1] if best else None


def check_local_filesystem(db_path: Path, mounts_file: Path = Path("/proc/mounts")) -> None:
    fstype = filesystem_type(db_path.parent, mounts_file)
    if fstype and fstype.lower() in NETWORK_FILESYSTEMS:
        raise StorageError(
            f"The database {db_path} is on a network filesystem ({fstype}). SQLite in WAL mode "
            "must live on a local disk: move it, or point TELLER_DATABASE_URL at PostgreSQL.",
            code="network_filesystem",
        )


def read_sqlite_pragmas(raw: Any) -> dict[str, Any]:
    """The pragmas :func:`verify_sqlite_pragmas` judges, read on a DBAPI ``sqlite3`` connection."""
    return {name: raw.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}


def verify_sqlite_pragmas(got: dict[str, Any]) -> dict[str, Any]:
    problems = []
    if str(got.get("journal_mode", "")).lower() != "wal":
        problems.append(f"journal_mode={got.get('journal_mode')} (need wal)")
    if int(got.get("synchronous", -1)) not in (2, 3):  # FULL=2, EXTRA=3
        problems.append(f"synchronous={got.get('synchronous')} (need FULL)")
    if int(got.get("foreign_keys", 0)) != 1:
        problems.append("foreign_keys=off (need on)")
    if int(got.get("busy_timeout", 0)) < 5000:
        problems.append(f"busy_timeout={got.get('busy_timeout')} ms (need at least 5000)")
    if problems:
        raise StorageError("Refusing to run with unsafe SQLite settings: " + ", ".join(problems), code="pragma")
    return got


#: Collations under which PostgreSQL compares text by code point, as SQLite does: name
#: prefix ranges, ordering and therefore customer lookup give the same answers on both.
CODEPOINT_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic"})


def verify_postgresql_settings(got: dict[str, Any]) -> dict[str, Any]:
    problems = []
    if int(got.get("server_version_num", 0)) < 150000:
        problems.append(f"server version {got.get('server_version_num')} (need PostgreSQL 15 or newer)")
    if str(got.get("encoding", "")).upper() != "UTF8":
        problems.append(f"encoding {got.get('encoding')} (need UTF8)")
    if str(got.get("collate", "")) not in CODEPOINT_COLLATIONS:
        problems.append(f"collation {got.get('collate')!r} (need C)")
    if problems:
        raise StorageError(
            "Refusing to use this PostgreSQL database: " + ", ".join(problems) + ". Create it with "
            "CREATE DATABASE teller TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'.", code="pg_settings")
    return got


def _fault(err: int, path: Path) -> StorageError:
    fault = storage_fault(OSError(err, os.strerror(err), str(path)))
    assert fault is not None
    return fault


def check_sqlite_files_writable(path: Path) -> None:
    """The database file and its folder can be written, and the disk has room.

    WAL mode keeps two files beside the database (``-wal``, ``-shm``), so the folder must be
    writable too. ``os.access`` reports a read-only filesystem even to root."""
    directory = path.parent
    if not directory.is_dir():
        raise _fault(errno.ENOENT, directory)
    if not os.access(directory, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise _fault(errno.EROFS, path)
    if shutil.disk_usage(directory).free < MIN_FREE_BYTES:
        raise _fault(errno.ENOSPC, directory)
