"""``teller ledger verify|head|export|trial-balance``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from teller_tui.commands import configured_database

EXIT_INVARIANT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ledger", help="ledger checks and exports: verify, head, export, trial-balance")
    lsub = p.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)

    v = lsub.add_parser("verify", help="check every ledger invariant; exit 3 naming each broken one")
    v.add_argument("--samples", type=int, default=10, help="offending rows shown per invariant (default 10)")
    hist = v.add_mutually_exclusive_group()
    hist.add_argument("--history", dest="history", action="store_true", default=None,
                      help="replay every account's running balance (automatic up to 2,000,000 postings)")
    hist.add_argument("--no-history", dest="history", action="store_false",
                      help="check current balances only")
    v.add_argument("--integrity", action="store_true", help="also run SQLite's PRAGMA integrity_check (slow)")
    v.add_argument("--timings", action="store_true", help="also print the wall time of each group of checks")
    v.add_argument("--expect-head", action="append", default=[], metavar="HEAD",
                   help="a branch chain head kept outside the database (BRANCH:SEQ:HASH as `teller ledger head` "
                        "prints it); repeatable")
    v.add_argument("--heads-file", type=Path, metavar="FILE",
                   help="check every ledger head in a file written by `teller heads export`")
    v.add_argument("--since-head", type=Path, metavar="FILE",
                   help="incremental: trust the last ledger head of each branch in FILE (written by `teller heads "
                        "export`, kept off this host) and re-derive and re-hash only the entries after it")
    v.add_argument("--workers", type=int, metavar="N",
                   help="processes for the content and chain checks (default: one per CPU; 1: this process only)")
    shown = v.add_mutually_exclusive_group()
    shown.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help="a line on standard error as each group of checks ends (default: when it is a terminal)")
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="no progress lines")
    v.set_defaults(func=cmd_verify)

    h = lsub.add_parser("head", help="print each branch's chain head (BRANCH:SEQ:HASH) to keep elsewhere")
    h.set_defaults(func=cmd_head)

    e = lsub.add_parser("export", help="export the journal as CSV or beancount")
    e.add_argument("--format", choices=("csv", "beancount"), default="csv")
    e.add_argument("--out", type=Path, help="output file (default: standard output)")
    e.add_argument("--no-balances", action="store_true", help="beancount: omit the closing balance assertions")
    e.set_defaults(func=cmd_export)

    t = lsub.add_parser("trial-balance", help="debits and credits per branch, kind and currency")
    t.add_argument("--branch", help="only this branch")
    t.set_defaults(func=cmd_trial_balance)


def cmd_verify(args: argparse.Namespace) -> int:
    from teller_tui.common.text import clean_text
    from teller_tui.ledger.verify import verify_ledger
    from teller_tui.ledger.verify_content import parse_expected_heads, since_heads
    from teller_tui.maintenance.heads import read_heads_file

    try:
        values = list(args.expect_head)
        if args.heads_file is not None:
            values += read_heads_file(args.heads_file)[1]
        expected = parse_expected_heads(values)
        since = parse_expected_heads(read_heads_file(args.since_head)[1]) if args.since_head is not None else []
        since_heads(since)  # refuses heads without a branch and seq
        if args.since_head is not None and not since:
            raise ValueError(f"{args.since_head}: no ledger head in it")
        if args.workers is not None and args.workers < 1:
            raise ValueError("--workers needs a number of at least 1")
    except (OSError, ValueError) as exc:
        print(f"teller: {exc}", file=sys.stderr)
        return 2
    shown = sys.stderr.isatty() if args.progress is None else args.progress

    def progress(line: str) -> None:
        print(f"teller ledger verify: {clean_text(line)}", file=sys.stderr, flush=True)

    with configured_database() as database:
        with database.read() as session:
            report = verify_ledger(session, samples=max(args.samples, 0), integrity=args.integrity,
                                   history=args.history, expected_heads=expected, workers=args.workers,
                                   since_heads=since, progress=progress if shown else None)
    if report.ok:
        print(report.summary())
        for key, text in report.notes.items():
            print(f"  note [{key}]: {text}")
    else:
        print(report.render(), file=sys.stdout)
    if args.timings:
        print(report.render_timings())
    return 0 if report.ok else EXIT_INVARIANT


def cmd_head(args: argparse.Namespace) -> int:
    from teller_tui.common.text import clean_text
    from teller_tui.ledger.chain import branch_heads

    with configured_database() as database:
        with database.read() as session:
            heads = branch_heads(session)
    for h in heads:
        print(clean_text(f"{h.branch_code}:{h.last_seq}:{h.hash}  ({h.entries:,} entries)"))
    if not heads:
        print("no entries yet")
    return 0


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or a file written beside its target and renamed into place."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = path.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent or Path(".")))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from teller_tui.ledger.export import export_beancount, export_csv

    try:
        with configured_database() as database, database.read() as session, _output(args.out) as out:
            if args.format == "beancount":
                n = export_beancount(session, out, balances=not args.no_balances)
                what = "transactions"
            else:
                n = export_csv(session, out)
                what = "postings"
    except BrokenPipeError:  # e.g. `teller ledger export | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    if args.out is not None:
        print(f"Exported {n:,} {what} to {args.out}")
    return 0


def cmd_trial_balance(args: argparse.Namespace) -> int:
    from teller_tui.ledger.verify import trial_balance_rows
    from teller_tui.common.money import Money

    with configured_database() as database:
        with database.read() as session:
            rows = trial_balance_rows(session, branch_code=args.branch)
    print(f"{'branch':<8} {'kind':<12} {'cur':<4} {'debits':>20} {'credits':>20} {'net (Dr-Cr)':>20}")
    totals: dict[tuple[str, str], int] = {}
    for r in rows:
        net = r.debits - r.credits
        totals[(r.branch_code, r.currency)] = totals.get((r.branch_code, r.currency), 0) + net
        print(f"{r.branch_code:<8} {r.kind:<12} {r.currency:<4} {Money(r.debits, r.currency).plain():>20} "
              f"{Money(r.credits, r.currency).plain():>20} {Money(net, r.currency).plain():>20}")
    unbalanced = {k: v for k, v in totals.items() if v}
    grand: dict[str, int] = {}
    for (_branch, cur), net in totals.items():
        grand[cur] = grand.get(cur, 0) + net
    for cur, net in sorted(grand.items()):
        print(f"{'total':<8} {'':<12} {cur:<4} {'':>20} {'':>20} {Money(net, cur).plain():>20}")
    if unbalanced or any(grand.values()):
        where = ", ".join(f"{b} {c} {Money(v, c).plain()}" for (b, c), v in sorted(unbalanced.items()))
        print(f"trial balance: NOT ZERO ({where})")
        return EXIT_INVARIANT
    print("trial balance: zero for every branch and currency")
    return 0
