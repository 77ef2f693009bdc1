"""``teller demo [--customers N] [--seed S] [--no-run] [--force]``: build a demo branch."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="build a demo branch (staff, customers, history) and start the app")
    p.add_argument("--customers", type=int, default=1000, metavar="N", help="number of customers (default 1000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (same seed, same data)")
    p.add_argument("--no-run", action="store_true", help="build only; do not start the app")
    p.add_argument("--force", action="store_true", help="replace a database that already holds data")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import sys

    from teller_tui.demo.build import DEMO_PIN, build_demo
    from teller_tui.demo.staff import iter_staff_table
    from teller_tui.common.settings import load_settings

    if args.customers < 0:
        print("teller: --customers must be 0 or more", file=sys.stderr)
        return 2
    settings = load_settings()
    summary = build_demo(settings, customers=args.customers, seed=args.seed, force=args.force,
                         progress=sys.stderr.isatty())
    print(f"Demo branch {settings.branch_code} built in {summary.seconds:.1f} s: {summary.customers} customers "
          f"({summary.active_customers} with history), {summary.entries} ledger entries, at {summary.database}")
    print("Sign-ins (user / role / password / authenticator secret):")
    for user, role, password, secret in iter_staff_table():
        print(f"  {user:<8} {role:<10} {password:<18} {secret}")
    if summary.kiosk_phones:
        print(f"Kiosk and customer display: phone {', '.join(summary.kiosk_phones)} with PIN {DEMO_PIN}")
    if args.no_run:
        return 0
    launch = getattr(args, "launch_app", None)
    if launch is None:
        print("Start the teller workstation with `teller`.")
        return 0
    return int(launch(args))
