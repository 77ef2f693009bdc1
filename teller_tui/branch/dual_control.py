"""Dual control: who may hold a drawer, and a supervisor's countersignature with fresh credentials."""

from __future__ import annotations

from teller_tui.audit.trail import Actor
from teller_tui.auth.roles import APPROVER_ROLES, COUNTER_ROLES
from teller_tui.auth.service import AuthService
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.errors import ApprovalRequired, PermissionDenied
from teller_tui.common.i18n import _

__all__ = ["countersign", "require_staff"]


def require_staff(actor: Actor) -> int:
    """The actor's staff id, or PermissionDenied when the actor cannot hold a cash drawer."""
    if actor.staff_id is None or actor.role not in COUNTER_ROLES:
        raise PermissionDenied(_("Only a signed-in teller has a cash drawer."), code="forbidden")
    return actor.staff_id


def countersign(auth: AuthService, actor: Actor, supervisor: SupervisorCredentials | None, action: str) -> str:
    """Verify the supervisor's fresh credentials (a different person, role supervisor, password
    and an unused code); return their user name. Auth audits the attempt as ``countersign_<action>``."""
    if supervisor is None:
        raise ApprovalRequired(_("A supervisor must confirm this with their password and code."),
                               rules=["dual_control"])
    staff = auth.verify_fresh_credentials(
        supervisor.username, supervisor.password, supervisor.code, required_role=APPROVER_ROLES,
        not_staff_id=actor.staff_id, terminal_id=actor.terminal_id, action=f"countersign_{action}")
    return str(staff.username)
