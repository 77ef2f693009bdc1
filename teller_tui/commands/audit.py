"""``teller audit verify|head``: check the tamper-evident audit chain."""

from __future__ import annotations

import argparse

from teller_tui.commands import configured_database

EXIT_INVARIANT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="audit trail: verify the hash chain, show its head")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="walk the hash chain; exit 3 naming the first bad record")
    v.add_argument("--expect-head", metavar="HASH",
                   help="the head hash kept outside the database (from an end-of-day report)")
    v.set_defaults(func=cmd_verify)
    h = asub.add_parser("head", help="print the chain head (sequence number and hash) to keep elsewhere")
    h.set_defaults(func=cmd_head)


def cmd_verify(args: argparse.Namespace) -> int:
    from teller_tui.audit.trail import verify

    with configured_database() as database:
        with database.read() as session:
            result = verify(session, expect_head=(args.expect_head or "").strip().lower() or None)
    if result.ok:
        print(f"audit verify: OK, {result.records:,} records, head seq {result.head_seq} hash {result.head_hash}")
        return 0
    where = f"first bad record: seq {result.first_bad_seq}" if result.first_bad_seq is not None else "head mismatch"
    print(f"audit verify: FAILED, {where}: {result.problem}")
    return EXIT_INVARIANT


def cmd_head(args: argparse.Namespace) -> int:
    from teller_tui.audit.trail import AuditTrail

    with configured_database() as database:
        with database.read() as session:
            seq, digest = AuditTrail.head(session)
    print(f"{seq} {digest}")
    return 0
