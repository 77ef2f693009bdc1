"""``teller cases list [--due] [--status S]``: the branch's customer service cases from the command line.

``--due`` lists the cases past their service deadline (open or in progress) and escalates the ones
not yet escalated to the branch's supervisors first (the same sweep the app runs).
"""

from __future__ import annotations

import argparse

STATUSES = ("open", "in_progress", "waiting_for_customer", "resolved", "closed")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cases", help="customer service cases: list them, the overdue ones first")
    csub = p.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    ls = csub.add_parser("list", help="the branch's cases, soonest deadline first")
    ls.add_argument("--due", action="store_true",
                    help="only cases past their deadline (escalating those not yet escalated)")
    ls.add_argument("--status", choices=STATUSES, help="only cases with this status")
    ls.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.cases.flow import status_title
    from teller_tui.cases.views import case_type_title
    from teller_tui.common.clock import BRANCH_TZ
    from teller_tui.common.formatting import pad
    from teller_tui.common.i18n import _
    from teller_tui.common.settings import load_settings
    from teller_tui.common.text import clean_text
    from teller_tui.services import make_services

    settings = load_settings()
    services = make_services(settings)
    try:
        actor = system_actor(settings)
        escalated = services.cases.escalate_overdue(actor) if args.due else []
        rows = services.cases.list_cases(actor, status=args.status, due=args.due)
    finally:
        services.close()
    if escalated:
        print(_("{count} case(s) escalated to the branch's supervisors.").format(count=len(escalated)))
    if not rows:
        print(_("No cases."))
        return 0
    for v in rows:
        due = v.due_at.astimezone(BRANCH_TZ).strftime("%Y-%m-%d %H:%M")
        flag = "!" if v.overdue else (" " if v.escalated_at is None else "^")
        print(f"{v.number} {flag} {pad(status_title(v.status), 14, clip=True)} "
              f"{pad(case_type_title(v.type), 16, clip=True)} {due}  {pad(v.customer_no, 12)} "
              f"{pad(clean_text(v.customer_name), 10, clip=True)} {pad(v.owner or '-', 10, clip=True)} "
              f"{clean_text(v.summary, limit=60)}")
    return 0
