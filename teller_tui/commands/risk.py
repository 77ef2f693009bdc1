"""``teller risk scan|reports`` and ``teller alerts list``: risk monitoring from the command line."""

from __future__ import annotations

import argparse
import datetime as dt


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("risk", help="risk monitoring: scan for suspicious patterns, export reports")
    rsub = p.add_subparsers(dest="risk_command", metavar="ACTION", required=True)
    sc = rsub.add_parser("scan", help="look for the patterns of data/risk_rules.toml and raise alerts (each once)")
    sc.add_argument("--since", type=_day, metavar="DATE",
                    help="scan from this branch-local date (default: the rules file's lookback_days)")
    sc.set_defaults(func=cmd_scan)
    rp = rsub.add_parser("reports", help="export the filed suspicious-transaction reports")
    rp.add_argument("--format", choices=("csv", "json"), default="csv")
    rp.add_argument("--since", type=_day, metavar="DATE", help="reports filed on or after this date")
    rp.add_argument("--output", metavar="FILE", help="write to FILE (created private, 0600) instead of stdout")
    rp.add_argument("--all-branches", action="store_true", help="every branch, not only this one")
    rp.set_defaults(func=cmd_reports)
    a = sub.add_parser("alerts", help="risk alerts for supervisors")
    asub = a.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    ls = asub.add_parser("list", help="list alerts (default: the open ones of this branch)")
    ls.add_argument("--status", choices=("open", "cleared", "escalated", "all"), default="open")
    ls.add_argument("--all-branches", action="store_true")
    ls.set_defaults(func=cmd_alerts_list)


def _start(day: dt.date | None) -> dt.datetime | None:
    from teller_tui.common.clock import BRANCH_TZ

    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(0), tzinfo=BRANCH_TZ).astimezone(dt.UTC)


def cmd_scan(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.settings import load_settings
    from teller_tui.risk.rules import rule_title
    from teller_tui.services import make_services

    settings = load_settings()
    services = make_services(settings)
    try:
        res = services.risk.scan(system_actor(settings), since=_start(args.since))
        open_now = services.risk.open_count(system_actor(settings))
    finally:
        services.close()
    print(f"Scanned {res.start:%Y-%m-%d %H:%M} to {res.end:%Y-%m-%d %H:%M} UTC: {res.findings} pattern(s) found, "
          f"{len(res.new_alerts)} new alert(s); {open_now} open in branch {settings.branch_code}.")
    for rule, n in sorted(res.by_rule.items()):
        print(f"  {n:4d}  {rule}  {rule_title(rule)}")
    return 0


def cmd_alerts_list(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.formatting import format_money, pad, truncate
    from teller_tui.common.text import clean_text
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    settings = load_settings()
    services = make_services(settings)
    try:
        alerts = services.risk.alerts(system_actor(settings), status=None if args.status == "all" else args.status,
                                      all_branches=args.all_branches)
    finally:
        services.close()
    if not alerts:
        print(f"No {'' if args.status == 'all' else args.status + ' '}alerts.")
        return 0
    for v in alerts:
        who = clean_text(v.customer_no or v.subject)
        print(f"{v.id:6d}  {pad(v.status, 9)}  {v.first_at:%Y-%m-%d %H:%M}  {pad(v.rule, 20)}  "
              f"{pad(truncate(who, 24), 24)}  {format_money(v.amount) if v.amount.minor else '':>14}  "
              f"{truncate(clean_text(v.title), 40)}")
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from teller_tui.auth.staff import system_actor
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    settings = load_settings()
    services = make_services(settings)
    try:
        text = services.risk.export_reports(system_actor(settings), args.format, since=_start(args.since),
                                            all_branches=args.all_branches)
    finally:
        services.close()
    if args.output:
        path = Path(args.output)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        print(f"Wrote {path}")
    else:
        print(text, end="")
    return 0
