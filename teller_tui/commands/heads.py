"""``teller heads export [FILE] [--syslog]``: keep the chain heads outside the database.

Appends the audit trail's head and each branch's ledger chain head, with a timestamp, to FILE
(created 0600) and/or sends the same lines to syslog. ``teller audit verify --heads-file FILE``
and ``teller ledger verify --heads-file FILE`` then find a tail that was removed or rewritten
with recomputed hashes. Run it at the end of each day (the end-of-day report prints the same
heads) or from cron, and keep FILE on another machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("heads", help="chain heads kept outside the database: export")
    hsub = p.add_subparsers(dest="heads_command", metavar="ACTION", required=True)
    e = hsub.add_parser("export", help="append the audit and ledger chain heads, with a timestamp, to FILE")
    e.add_argument("file", type=Path, nargs="?", metavar="FILE", help="heads file to append to (created 0600)")
    e.add_argument("--syslog", action="store_true", help="also send the heads to syslog (facility AUTH)")
    e.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from teller_tui.commands import configured_database
    from teller_tui.common.clock import SystemClock
    from teller_tui.maintenance.heads import append_heads, current_heads, heads_lines

    if args.file is None and not args.syslog:
        print("teller: give a FILE, --syslog, or both", file=sys.stderr)
        return 2
    with configured_database() as database:
        with database.read() as session:
            lines = heads_lines(current_heads(session), SystemClock().now())
    if args.file is not None:
        append_heads(args.file, lines)
    if args.syslog:
        import syslog

        syslog.openlog("teller", 0, syslog.LOG_AUTH)
        for line in lines:
            syslog.syslog(syslog.LOG_NOTICE, f"chain head {line}")
        syslog.closelog()
    for line in lines:
        print(line)
    return 0
