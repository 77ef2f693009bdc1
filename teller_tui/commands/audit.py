"""``teller audit verify|head``: check the tamper-evident audit chain."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from teller_tui.commands import configured_database

EXIT_INVARIANT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="audit trail: verify the hash chain, show its head")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="walk the hash chain; exit 3 naming the first bad record")
    v.add_argument("--expect-head", action="append", default=[], metavar="HEAD",
                   help="a head kept outside the database (STREAM:SEQ:HASH, SEQ:HASH or HASH, from `teller audit head`, an "
                        "end-of-day report or `teller heads export`); repeatable")
    v.add_argument("--heads-file", type=Path, metavar="FILE",
                   help="check every audit head in a file written by `teller heads export`")
    v.set_defaults(func=cmd_verify)
    h = asub.add_parser("head", help="print each stream's chain head (SEQ HASH STREAM, one line per branch) to keep elsewhere")
    h.set_defaults(func=cmd_head)


def cmd_verify(args: argparse.Namespace) -> int:
    from teller_tui.audit.trail import parse_expected, verify
    from teller_tui.common.text import clean_text
    from teller_tui.maintenance.heads import read_heads_file

    try:
        values = list(args.expect_head)
        if args.heads_file is not None:
            values += read_heads_file(args.heads_file)[0]
        parse_expected(values)
    except (OSError, ValueError) as exc:
        print(f"teller: {exc}", file=sys.stderr)
        return 2
    with configured_database() as database:
        with database.read() as session:
            result = verify(session, expect_head=values)
    if result.ok:
        print(f"audit verify: OK, {result.records:,} records in {len(result.streams)} streams, head seq "
              f"{result.head_seq} hash {clean_text(result.head_hash)}")
        return 0
    where = f"first bad record: seq {result.first_bad_seq}" if result.first_bad_seq is not None else "head mismatch"
    print(f"audit verify: FAILED, {where}: {result.problem}")
    return EXIT_INVARIANT


def cmd_head(args: argparse.Namespace) -> int:
    from teller_tui.audit.trail import AuditTrail
    from teller_tui.common.text import clean_text

    with configured_database() as database:
        with database.read() as session:
            heads = [h for h in AuditTrail.heads(session) if h.entries]
    for h in heads:  # `SEQ:HASH` (or the hash alone) is what --expect-head takes; one line per stream
        print(clean_text(f"{h.seq} {h.hash} {h.stream}"))
    return 0
