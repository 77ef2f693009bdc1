"""Backups a branch can rely on: SQLite's online backup API, checked before anything is replaced.

``backup_sqlite`` copies a live database page by page through SQLite's own backup API
(``sqlite3.Connection.backup``), which is consistent even while tellers keep posting: the copy
is a snapshot of one committed state. The copy is written beside its final name, fsynced, made
0600 and renamed into place, so a crash never leaves a half-written file under the final name.

``restore_sqlite`` never trusts a file it has not checked: it copies the backup to a scratch
file, runs the ledger and audit verifiers on that copy, keeps a copy of the current database
(``<name>.pre-restore-<timestamp>``) and only then copies the backup into the live database,
again through the backup API, so that SQLite's locks keep every other connection consistent.

PostgreSQL is backed up with its own tools (``pg_dump --format=custom``; a standby for
continuity); :func:`postgres_guidance` says so in one paragraph for the CLI.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from teller_tui.audit.trail import verify as verify_audit
from teller_tui.common.errors import StorageError
from teller_tui.common.files import fsync_dir
from teller_tui.db.engine import make_database
from teller_tui.db.faults import classify_fault
from teller_tui.ledger.verify import verify_ledger

__all__ = ["BackupResult", "CopyCheck", "backup_sqlite", "check_copy", "postgres_guidance", "prune_backups",
           "restore_sqlite"]

Progress = Callable[[int, int], None]  # (pages copied, pages in total)

_PAGES_PER_STEP = 1024  # ~4 MiB a step: writers get the lock back between steps


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int
    pages: int


@dataclass(frozen=True, slots=True)
class CopyCheck:
    ledger_ok: bool
    audit_ok: bool
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.ledger_ok and self.audit_ok



def _copy_pages(src: sqlite3.Connection, dst: sqlite3.Connection, progress: Progress | None) -> int:
    total = 0

    def step(_status: int, remaining: int, pages: int) -> None:
        nonlocal total
        total = pages
        if progress is not None:
            progress(pages - remaining, pages)

    src.backup(dst, pages=_PAGES_PER_STEP, progress=step, sleep=0.005)
    return total


def _storage_error(message: str, exc: BaseException, code: str) -> StorageError:
    detail = getattr(exc, "strerror", None) or str(exc)
    return StorageError(f"{message}: {detail}", code=code)


def backup_sqlite(source: Path, dest: Path, *, progress: Progress | None = None) -> BackupResult:
    """Copy the live database ``source`` to ``dest`` (which must not exist) safely while others write."""
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise StorageError(f"There is no database at {source}", code="db_missing")
    if dest.exists():
        raise StorageError(f"{dest} already exists: choose a new file name", code="backup_exists")
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            pages = _copy_pages(src, dst, progress)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
        finally:
            dst.close()
            src.close()
        os.chmod(tmp, 0o600)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except sqlite3.Error as exc:
        raise _storage_error(f"The backup of {source} failed", exc, "backup_failed") from exc
    except OSError as exc:
        raise _storage_error(f"The backup could not be written to {dest}", exc, "backup_failed") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, pages)


def check_copy(path: Path) -> CopyCheck:
    """Run the ledger and audit verifiers on the database file ``path`` (a backup or a scratch copy)."""
    database = make_database(f"sqlite:///{path}")
    problems: list[str] = []
    try:
        with database.read() as session:
            ledger = verify_ledger(session)
            audit = verify_audit(session)
    except Exception as exc:  # noqa: BLE001 - a damaged file is a finding, not a crash
        return CopyCheck(False, False, (f"cannot be read as a teller database: {exc}",))
    finally:
        database.dispose()
    if not ledger.ok:
        problems.append(f"ledger: {ledger.summary()}")
    if not audit.ok:
        problems.append(f"audit: record {audit.first_bad_seq}: {audit.problem}")
    return CopyCheck(ledger.ok, audit.ok, tuple(problems))


def restore_sqlite(backup: Path, target: Path, *, now: datetime, progress: Progress | None = None) -> Path:
    """Replace the contents of ``target`` with ``backup`` once the backup passes both verifiers.

    Returns the path of the copy kept of the database as it was before the restore.
    """
    backup, target = Path(backup), Path(target)
    if not backup.is_file():
        raise StorageError(f"There is no backup at {backup}", code="backup_missing")
    scratch_dir = Path(tempfile.mkdtemp(prefix=".restore-", dir=target.parent))
    try:
        scratch = scratch_dir / "candidate.db"
        backup_sqlite(backup, scratch)
        check = check_copy(scratch)
        if not check.ok:
            raise StorageError("The backup fails verification and was not restored: " + "; ".join(check.problems),
                               code="backup_invalid")
        kept = target.with_name(f"{target.name}.pre-restore-{now:%Y%m%dT%H%M%S}")
        if target.exists():
            try:
                backup_sqlite(target, kept)
            except StorageError as exc:
                if classify_fault(exc.__cause__ or exc) != "corrupt":
                    raise
                # The live file is damaged (the very reason to restore): the backup API cannot read
                # it, so it is set aside as it is, with its -wal/-shm, and the backup goes into a new file.
                kept = kept.with_name(kept.name + ".damaged")
                for suffix in ("", "-wal", "-shm"):
                    part = target.with_name(target.name + suffix)
                    if part.exists():
                        os.replace(part, kept.with_name(kept.name + suffix))
                fsync_dir(target.parent)
        try:
            src = sqlite3.connect(scratch)
            dst = sqlite3.connect(target, timeout=30)
            try:
                _copy_pages(src, dst, progress)
            finally:
                dst.close()
                src.close()
            os.chmod(target, 0o600)
        except sqlite3.Error as exc:
            raise _storage_error(f"The restore into {target} failed (the database is unchanged or in {kept})",
                                 exc, "restore_failed") from exc
        return kept
    finally:
        for child in scratch_dir.iterdir():
            child.unlink(missing_ok=True)
        scratch_dir.rmdir()


def prune_backups(directory: Path, *, keep: int, pattern: str = "teller-*.db") -> list[Path]:
    """Delete all but the newest ``keep`` backups matching ``pattern``; returns the deleted paths."""
    found = sorted(Path(directory).glob(pattern), key=lambda p: p.name)
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def postgres_guidance(url_without_password: str) -> str:
    return ("PostgreSQL is backed up by the server's own tools, not by this command: "
            f"`pg_dump --format=custom --file=teller-$(date +%F).dump '{url_without_password}'` "
            "nightly (restore with `pg_restore --clean --dbname=...`, then run `teller ledger verify` and "
            "`teller audit verify`), and a streaming standby for continuity (see the README).")
