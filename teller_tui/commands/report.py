"""``teller report eod [--date YYYY-MM-DD] [--branch CODE] [--drawer USER]``: the end-of-day report.

Prints the report (the branch report: every drawer and the branch totals; with ``--drawer`` one
drawer's) and writes the same text under ``settings.reports_dir``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="reports: eod (end of day)")
    rsub = p.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    eod = rsub.add_parser("eod", help="end-of-day report per drawer and for the branch")
    eod.add_argument("--date", type=_date, default=None, help="business date (default: the latest)")
    eod.add_argument("--branch", default=None, metavar="CODE", help="branch code (default: this terminal's)")
    eod.add_argument("--drawer", default=None, metavar="USER", help="only this teller's drawer")
    eod.add_argument("--no-save", action="store_true", help="print only; do not write the report file")
    eod.set_defaults(func=cmd_eod)


def cmd_eod(args: argparse.Namespace) -> int:
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    services = make_services(load_settings())
    try:
        branch = args.branch or services.settings.branch_code
        report = services.drawers.eod_report(branch, args.date, username=args.drawer, write=not args.no_save)
    finally:
        services.close()
    print(report.text())
    if report.path is not None:
        print(f"saved: {report.path}", file=sys.stderr)
    return 0
