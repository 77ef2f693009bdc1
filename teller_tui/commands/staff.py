"""``teller staff add|list|disable|unlock|reset-totp``: manage staff accounts from the host.

Commands run as the host's user (audited as ``system:<user>`` on this terminal), except
``reset-totp``, which needs an administrator to confirm with password and a fresh code.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from teller_tui.common.i18n import _
from teller_tui.common.formatting import truncate
from teller_tui.common.text import clean_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("staff", help="staff accounts: add, list, disable, unlock, reset-totp")
    ssub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    add = ssub.add_parser("add", help="create a person; prints a one-time password once")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["teller", "supervisor", "admin", "kiosk"])
    add.add_argument("--name", required=True, help="display name, e.g. \"王芳\"")
    add.add_argument("--branch", default=None, help="branch code (default: this terminal's branch)")
    add.set_defaults(func=cmd_add)

    ls = ssub.add_parser("list", help="list staff with role and state")
    ls.set_defaults(func=cmd_list)

    dis = ssub.add_parser("disable", help="disable an account (it can no longer sign in)")
    dis.add_argument("username")
    dis.set_defaults(func=cmd_disable)

    un = ssub.add_parser("unlock", help="clear failed sign-ins and the lock")
    un.add_argument("username")
    un.set_defaults(func=cmd_unlock)

    rt = ssub.add_parser("reset-totp", help="forget a person's authenticator (an admin confirms)")
    rt.add_argument("username")
    rt.add_argument("--by", required=True, metavar="ADMIN_USERNAME",
                    help="the administrator who confirms with password and authenticator code")
    rt.set_defaults(func=cmd_reset_totp)


def _services() -> Any:
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    return make_services(load_settings())


def cmd_add(args: argparse.Namespace) -> int:
    from teller_tui.auth.service import system_actor

    services = _services()
    try:
        view, one_time = services.auth.create_staff(system_actor(services.settings), args.username, args.name,
                                                    args.role, branch_code=args.branch)
    finally:
        services.close()
    print(_("Created {username} ({role}).").format(username=view.username, role=view.role))
    if one_time:
        print(_("One-time password (shown only now; the person must change it at first sign-in):"))
        print(f"    {one_time}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    services = _services()
    try:
        people = services.auth.list_staff()
        now = services.clock.now()
    finally:
        services.close()
    headers = (_("user"), _("role"), _("branch"), _("state"), _("authenticator"), _("failures"), _("name"))
    rows = []
    for v in people:
        if v.disabled:
            state = _("disabled")
        elif v.locked(now):
            state = _("locked until {time}").format(time=v.locked_until.strftime("%H:%M UTC"))
        elif v.must_change_password:
            state = _("first sign-in pending")
        else:
            state = _("active")
        auth = _("active") if v.totp_active else (_("pending") if v.totp_pending else _("not enrolled"))
        rows.append((v.username, v.role, v.branch_code, state, auth, str(v.failed_attempts),
                     truncate(clean_text(v.display_name), 40)))
    if not rows:
        print(_("No staff yet. Add one with: teller staff add USERNAME --role admin --name NAME"))
        return 0
    from teller_tui.common.formatting import display_width, pad

    widths = [max(display_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        print("  ".join(pad(str(cell), widths[i]) for i, cell in enumerate(r)).rstrip())
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from teller_tui.auth.service import system_actor

    services = _services()
    try:
        view = services.auth.disable(system_actor(services.settings), args.username)
    finally:
        services.close()
    print(_("Disabled {username}.").format(username=view.username))
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from teller_tui.auth.service import system_actor

    services = _services()
    try:
        view = services.auth.unlock(system_actor(services.settings), args.username)
    finally:
        services.close()
    print(_("Unlocked {username}.").format(username=view.username))
    return 0


def cmd_reset_totp(args: argparse.Namespace) -> int:
    services = _services()
    try:
        target = services.auth.get_staff(args.username)
        print(_("Administrator {admin}: confirm with your password and authenticator code.").format(
            admin=args.by), file=sys.stderr)
        password = getpass.getpass(_("Password: "))
        code = input(_("Authenticator code: ")).strip()
        admin = services.auth.verify_fresh_credentials(args.by, password, code, required_role="admin",
                                                       not_staff_id=target.id, action="admin_confirm")
        view = services.auth.reset_totp(admin.actor(services.settings.terminal_id), target.username)
    finally:
        services.close()
    print(_("Authenticator reset for {username}; they set up a new one at their next sign-in.").format(
        username=view.username))
    return 0
