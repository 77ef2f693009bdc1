"""``teller notify run``: deliver queued customer notifications (for cron or a service manager)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("notify", help="customer notifications: deliver the outbox by SMS gateway and e-mail")
    nsub = p.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    run = nsub.add_parser("run", help="send what is due (retries with backoff; each message has a fixed id the "
                                      "receiver can use to drop repeats). Needs notify_send = true.")
    run.add_argument("--limit", type=int, default=100, help="messages per batch (default 100)")
    run.add_argument("--loop", type=float, metavar="SECONDS", default=0.0,
                     help="keep running, one batch every SECONDS (default: one pass and exit)")
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    import time

    from teller_tui.auth.staff import system_actor
    from teller_tui.common.errors import DomainError
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    settings = load_settings()
    services = make_services(settings)
    try:
        while True:
            try:
                res = services.notify.run(system_actor(settings), limit=args.limit)
            except DomainError as exc:
                print(f"Not sent: {exc}")
                return 1
            print(f"Sent {res.sent}, retrying later {res.retrying}, failed {res.failed}"
                  + (f", taken over by another sender {res.lost_claim}" if res.lost_claim else "") + ".", flush=True)
            if args.loop <= 0:
                return 0 if res.failed == 0 else 1
            time.sleep(args.loop)
    except KeyboardInterrupt:
        return 0
    finally:
        services.close()
