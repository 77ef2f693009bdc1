"""Role guards for service methods: the core, not the UI, decides who may do what.

Call :func:`require_role` first thing in a service method that changes state::

    from teller_tui.auth.auth.roles import STAFF_ROLES, require_role

    def cash_in(self, actor, ...):
        require_role(actor, *STAFF_ROLES)

The kiosk runs with its own identity (role ``"kiosk"``); it may do only what a customer may,
through :class:`teller_tui.kiosk.service.KioskService`. Every teller service refuses it here, whatever
screen or script calls the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.common.errors import PermissionDenied
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor

__all__ = ["KIOSK_ROLE", "STAFF_ROLES", "SUPERVISOR_ROLES", "require_role"]

KIOSK_ROLE = "kiosk"
#: People at the counter, and the host's own command-line user ("system").
STAFF_ROLES: tuple[str, ...] = ("teller", "supervisor", "admin", "system")
SUPERVISOR_ROLES: tuple[str, ...] = ("supervisor", "admin", "system")


def require_role(actor: Actor | None, *roles: str) -> None:
    """Raise :class:`PermissionDenied` (code ``role``) unless ``actor.role`` is one of ``roles``.

    With no ``roles`` nothing is allowed (a guard that cannot be forgotten open).
    """
    role = getattr(actor, "role", None)
    if actor is None or role not in roles:
        if role == KIOSK_ROLE:
            raise PermissionDenied(_("A self-service kiosk cannot do this."), code="role", role=role)
        raise PermissionDenied(_("Your role cannot do this."), code="role", role=role)
