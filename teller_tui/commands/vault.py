"""``teller vault receive|show``: the branch vault, by denomination.

``teller vault receive note:100=50 note:50=20 [--source settlement|equity]`` records cash
delivered into the vault from the central bank / cash centre (counter-account settlement) or
brought in as capital at set-up (equity). Audited as the host's user on this terminal.
"""

from __future__ import annotations

import argparse


def _count(text: str) -> tuple[str, int]:
    key, sep, n = text.partition("=")
    if not sep or not n.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected DENOMINATION=COUNT such as note:100=50, not {text!r}")
    return key.strip(), int(n)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("vault", help="branch vault: receive cash, show holdings")
    vsub = p.add_subparsers(dest="vault_command", metavar="ACTION", required=True)
    rc = vsub.add_parser("receive", help="cash delivered into the vault, counted by denomination")
    rc.add_argument("counts", nargs="+", type=_count, metavar="DENOMINATION=COUNT",
                    help="e.g. note:100=50 note:50=20 coin:0.5=40")
    rc.add_argument("--source", choices=["settlement", "equity"], default="settlement",
                    help="counter-account: settlement (cash centre, default) or equity (set-up)")
    rc.add_argument("--memo", default="", help="free text for the journal entry")
    rc.set_defaults(func=cmd_receive)
    sh = vsub.add_parser("show", help="the vault's balance and holdings by denomination")
    sh.set_defaults(func=cmd_show)


def _print(view: object) -> None:
    from teller_tui.common.formatting import format_money

    print(f"vault {view.branch_code}: {format_money(view.balance)}")  # type: ignore[attr-defined]
    for key, n in sorted(view.holdings.items()):  # type: ignore[attr-defined]
        print(f"  {key:<10} {n:>8}")


def cmd_receive(args: argparse.Namespace) -> int:
    from teller_tui.auth.service import system_actor
    from teller_tui.common.errors import ValidationError
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    counts: dict[str, int] = {}
    for key, n in args.counts:
        if key in counts:
            raise ValidationError(f"{key} is given twice")
        counts[key] = n
    services = make_services(load_settings())
    try:
        view = services.drawers.receive_into_vault(system_actor(services.settings), counts, source=args.source,
                                                   memo=args.memo)
    finally:
        services.close()
    _print(view)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    services = make_services(load_settings())
    try:
        _print(services.drawers.vault(services.settings.branch_code))
    finally:
        services.close()
    return 0
