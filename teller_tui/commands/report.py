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
    p = sub.add_parser("report", help="reports: eod (end of day), promotion (analytics)")
    rsub = p.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    eod = rsub.add_parser("eod", help="end-of-day report per drawer and for the branch")
    eod.add_argument("--date", type=_date, default=None, help="business date (default: the latest)")
    eod.add_argument("--branch", default=None, metavar="CODE", help="branch code (default: this terminal's)")
    eod.add_argument("--drawer", default=None, metavar="USER", help="only this teller's drawer")
    eod.add_argument("--no-save", action="store_true", help="print only; do not write the report file")
    eod.set_defaults(func=cmd_eod)
    promo = rsub.add_parser("promotion", help="promotion and branch analytics over business dates")
    promo.add_argument("--from", dest="first", type=_date, default=None,
                       help="first business date (default: the first day of last month)")
    promo.add_argument("--to", dest="last", type=_date, default=None,
                       help="last business date, inclusive (default: the last day of last month)")
    promo.add_argument("--by", choices=("teller", "branch", "day", "week", "month"), default="teller",
                       help="group by (default: teller)")
    promo.add_argument("--format", dest="fmt", choices=("table", "csv", "json"), default="table")
    promo.add_argument("--branch", default=None, metavar="CODE", help="one branch (default: every branch)")
    promo.add_argument("--output", default=None, metavar="FILE", help="write to FILE (0600) instead of printing")
    promo.set_defaults(func=cmd_promotion)


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


def cmd_promotion(args: argparse.Namespace) -> int:
    from pathlib import Path

    from teller_tui.analytics.render import render_csv, render_json, render_table
    from teller_tui.analytics.service import last_month
    from teller_tui.common.errors import DomainError
    from teller_tui.common.files import write_private_file
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    from teller_tui.auth.staff import system_actor

    settings = load_settings()
    services = make_services(settings)
    actor = system_actor(settings)  # the host's command line, as for `teller report eod`
    try:
        first, last = args.first, args.last
        if first is None or last is None:
            default_first, default_last = last_month(services.analytics.business_date(actor, args.branch))
            first, last = first or default_first, last or default_last
        try:
            report = services.analytics.promotion(actor, first, last, args.by, args.branch)
        except DomainError as exc:
            print(f"teller report promotion: {exc}", file=sys.stderr)
            return 2
    finally:
        services.close()
    text = {"csv": render_csv, "json": render_json}.get(args.fmt, render_table)(report)
    if args.output:
        write_private_file(Path(args.output), text)
        print(f"saved: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
