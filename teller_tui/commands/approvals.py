"""``teller approvals sweep``: expire approval requests past their time and release their holds.

Every running teller app already sweeps every 30 seconds, and whatever reads or spends a
wallet's available balance (or counts a drawer) resolves overdue holds first, so nothing waits
for this command. It is for cron or a systemd timer on hosts where no app may be running (and
``teller maintenance run`` does it too). Prints one line; exit status 0.

Like every command module, this one imports the core inside its command functions: the parser
is built on every start of ``teller``, and building it must stay cheap.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("approvals", help="supervisor approvals: sweep expired requests")
    asub = p.add_subparsers(dest="approvals_command", metavar="ACTION", required=True)
    sw = asub.add_parser("sweep", help="expire approval requests past their time and release their held funds",
                         description="For cron or a systemd timer; running apps also sweep every 30 seconds.")
    sw.add_argument("--limit", type=int, default=10_000, metavar="N", help="at most N requests (default 10000)")
    sw.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    services = make_services(load_settings())
    try:
        expired = services.approvals.expire_sweep(limit=max(int(args.limit), 1))
    finally:
        services.close()
    if expired:
        print(f"approvals sweep: {len(expired)} expired request(s), funds released "
              f"({', '.join(str(i) for i in expired[:20])}{' …' if len(expired) > 20 else ''})")
    else:
        print("approvals sweep: nothing past its time")
    return 0
