"""``teller db backup|restore`` and ``teller maintenance run``: the routine jobs a branch must not forget.

``maintenance run`` is meant for cron or a systemd timer: it resolves overdue approval holds,
verifies the ledger and the audit chain, takes the nightly backup (SQLite) and prunes old ones.
It prints one line per job and exits non-zero with one line per problem, so the host's
alerting sees a failure without anyone reading a log.

Like every command module, this one imports the core inside its command functions: the parser
is built on every start of ``teller`` (the app included), and building it must stay cheap.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teller_tui.common.settings import Settings

DEFAULT_KEEP = 14


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("maintenance", help="routine jobs for cron: sweep holds, verify, back up")
    msub = p.add_subparsers(dest="maintenance_command", metavar="ACTION", required=True)
    run = msub.add_parser("run", help="sweep expired holds, verify ledger and audit, back up, prune old backups",
                          description="Exit status 0 when every job succeeded; otherwise one line per problem "
                                      "on standard error and exit status 1.")
    run.add_argument("--backup-dir", type=Path, metavar="DIR",
                     help="where nightly backups go (default: TELLER_HOME/backups)")
    run.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                     help=f"backups to keep (default {DEFAULT_KEEP})")
    run.add_argument("--no-backup", action="store_true", help="skip the backup (e.g. PostgreSQL hosts)")
    run.set_defaults(func=cmd_run)


def register_db_actions(dsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``teller db backup FILE`` and ``teller db restore FILE`` (added to the ``db`` command)."""
    bk = dsub.add_parser("backup", help="copy the live SQLite database to FILE (safe while tellers work)")
    bk.add_argument("file", type=Path, metavar="FILE")
    bk.set_defaults(func=cmd_backup)
    rs = dsub.add_parser("restore", help="verify FILE (ledger and audit), then restore it over the database",
                         description="The current database is kept as <name>.pre-restore-<time> first. "
                                     "Stop the terminals before restoring.")
    rs.add_argument("file", type=Path, metavar="FILE")
    rs.set_defaults(func=cmd_restore)


def _sqlite_path(settings: Settings) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def _safe_url(settings: Settings) -> str:
    from teller_tui.common.masks import mask_url

    return mask_url(settings.effective_database_url)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() and total:
        print(f"\r  {done * 100 // total:3d}% ({done:,} of {total:,} pages)", end="", file=sys.stderr, flush=True)


def cmd_backup(args: argparse.Namespace) -> int:
    from teller_tui.common.settings import load_settings
    from teller_tui.maintenance.backup import backup_sqlite, check_copy, postgres_guidance

    settings = load_settings()
    path = _sqlite_path(settings)
    if path is None:
        print(postgres_guidance(_safe_url(settings)))
        return 1
    result = backup_sqlite(path, args.file, progress=_progress)
    check = check_copy(result.path)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"Backed up {path} to {result.path} ({result.bytes:,} bytes); "
          f"ledger verify {'OK' if check.ledger_ok else 'FAILED'}, audit verify {'OK' if check.audit_ok else 'FAILED'}")
    for problem in check.problems:
        print(f"teller: backup check: {problem}", file=sys.stderr)
    return 0 if check.ok else 1


def cmd_restore(args: argparse.Namespace) -> int:
    from teller_tui.common.settings import load_settings
    from teller_tui.common.clock import SystemClock
    from teller_tui.maintenance.backup import postgres_guidance, restore_sqlite

    settings = load_settings()
    path = _sqlite_path(settings)
    if path is None:
        print("Restore a PostgreSQL database with pg_restore. " + postgres_guidance(_safe_url(settings)))
        return 1
    # Not make_services: the database being replaced may be damaged (the usual reason to restore),
    # and opening it would refuse exactly that.
    kept = restore_sqlite(args.file, path, now=SystemClock().now(), progress=_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"Restored {args.file} into {path} (both verifies passed). The previous database is kept at {kept}.")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from teller_tui.audit.trail import verify as verify_audit
    from teller_tui.common.errors import StorageError
    from teller_tui.common.settings import load_settings
    from teller_tui.ledger.verify import verify_ledger
    from teller_tui.maintenance.backup import backup_sqlite, check_copy, postgres_guidance, prune_backups
    from teller_tui.services import make_services

    settings = load_settings()
    problems: list[str] = []
    services = make_services(settings)
    try:
        released = services.approvals.expire_sweep(limit=10_000)
        print(f"holds: {len(released)} expired approval request(s) resolved, funds released")
        with services.db.read() as session:
            ledger = verify_ledger(session)
        print(ledger.summary())
        if not ledger.ok:
            problems.append(f"ledger verify failed: invariant(s) {', '.join(ledger.broken)}")
        with services.db.read() as session:
            audit = verify_audit(session)
        if audit.ok:
            print(f"audit verify: OK, {audit.records:,} records, head {audit.head_seq} {audit.head_hash[:16]}")
        else:
            print(f"audit verify: FAILED at record {audit.first_bad_seq}: {audit.problem}")
            problems.append(f"audit verify failed at record {audit.first_bad_seq}")
    finally:
        services.close()
    path = _sqlite_path(settings)
    if args.no_backup:
        print("backup: skipped (--no-backup)")
    elif path is None:
        print("backup: PostgreSQL: " + postgres_guidance(_safe_url(settings)))
    else:
        directory = args.backup_dir or settings.home / "backups"
        stamp = services.clock.now().strftime("%Y%m%dT%H%M%S")
        try:
            result = backup_sqlite(path, directory / f"teller-{stamp}.db")
            check = check_copy(result.path)
            print(f"backup: {result.path} ({result.bytes:,} bytes), "
                  f"{'verified' if check.ok else 'FAILED verification'}")
            problems.extend(f"backup check: {p}" for p in check.problems)
            pruned = prune_backups(directory, keep=max(args.keep, 1))
            print(f"backup: kept the newest {args.keep}, removed {len(pruned)}")
        except StorageError as exc:
            problems.append(f"backup failed: {exc}")
    for problem in problems:
        print(f"teller maintenance: {problem}", file=sys.stderr)
    return 1 if problems else 0


__all__ = ["cmd_backup", "cmd_restore", "cmd_run", "register", "register_db_actions"]
