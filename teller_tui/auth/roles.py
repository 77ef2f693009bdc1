"""Roles, and which roles may do what: the one place that says so.

Call :func:`require_role` first thing in a service method that changes state::

    from teller_tui.auth.roles import STAFF_ROLES, require_role

    def cash_in(self, actor, ...):
        require_role(actor, *STAFF_ROLES)

The core, not the UI, decides who may do what; screens may use the same sets to grey out
what a role cannot do, never to allow anything. The kiosk runs with its own identity (role
``"kiosk"``); it may do only what a customer may, through
:class:`teller_tui.kiosk.service.KioskService`, and every teller service refuses it here.

Each named set has one meaning (a role set is named for what it permits, not for who is in it):

==================== ============================== ============================================
set                  roles                          may
==================== ============================== ============================================
``ACCOUNT_ROLES``    teller supervisor admin kiosk  be stored on a staff account (``staff.role``)
``COUNTER_ROLES``    teller supervisor admin        sign in at the workstation, hold a drawer,
                                                    hand out cash (people, never the host)
``STAFF_ROLES``      teller supervisor admin system call the teller services (counter staff and
                                                    the host's command line)
``SUPERVISION_ROLES`` supervisor admin system       oversee the branch: unlock someone else's
                                                    account, open and close the business day,
                                                    move vault cash, unfreeze a wallet, see the
                                                    branch dashboard
``APPROVER_ROLES``   supervisor                     approve or countersign another person's
                                                    request (the second person of dual control;
                                                    the approval policy file may widen it)
``ADMIN_ROLES``      admin system                   administer staff accounts (create, disable,
                                                    reset a password or authenticator)
==================== ============================== ============================================

``system`` is the actor of commands run on the host (``teller staff ...``); it is never stored
on a staff account and nobody signs in with it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from teller_tui.common.errors import PermissionDenied
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor

__all__ = [
    "ACCOUNT_ROLES",
    "ADMIN_ROLES",
    "APPROVER_ROLES",
    "COUNTER_ROLES",
    "KIOSK_ROLE",
    "STAFF_ROLES",
    "SUPERVISION_ROLES",
    "Role",
    "require_role",
]


class Role(StrEnum):
    """A role, stored as its value (``staff.role``, ``Actor.role``); members equal the strings."""

    TELLER = "teller"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    KIOSK = "kiosk"  # a self-service kiosk's own identity
    SYSTEM = "system"  # the host's command line; never stored on an account
    TRAINEE = "trainee"  # in training: may do nothing in live mode (in no role set)


KIOSK_ROLE = Role.KIOSK
ACCOUNT_ROLES: tuple[Role, ...] = (Role.TELLER, Role.SUPERVISOR, Role.ADMIN, Role.KIOSK)
COUNTER_ROLES: tuple[Role, ...] = (Role.TELLER, Role.SUPERVISOR, Role.ADMIN)
STAFF_ROLES: tuple[Role, ...] = (*COUNTER_ROLES, Role.SYSTEM)
SUPERVISION_ROLES: tuple[Role, ...] = (Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
APPROVER_ROLES: tuple[Role, ...] = (Role.SUPERVISOR,)
ADMIN_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.SYSTEM)


def require_role(actor: Actor | None, *roles: str) -> None:
    """Raise :class:`PermissionDenied` (code ``role``) unless ``actor.role`` is one of ``roles``.

    With no ``roles`` nothing is allowed (a guard that cannot be forgotten open).
    """
    role = getattr(actor, "role", None)
    if actor is None or role not in roles:
        if role == KIOSK_ROLE:
            raise PermissionDenied(_("A self-service kiosk cannot do this."), code="role", role=role)
        raise PermissionDenied(_("Your role cannot do this."), code="role", role=role)
