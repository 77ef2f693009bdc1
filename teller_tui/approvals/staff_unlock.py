"""Unlocking a staff account at a terminal, with the approval the policy's ``staff_unlock`` rule asks for.

A person at a terminal (any counter role) asks to unlock a colleague locked out by wrong passwords or
codes; a different person the policy names as approver (a supervisor, an administrator) approves at the
counter or from the branch queue, and the UI retries with ``approval_id``. The approval binds the user
name and the reason. The host's command line (``teller staff unlock``, role ``system``) uses
:meth:`teller_tui.auth.service.AuthService.unlock` instead.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.admin import clear_lockout
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES, require_role
from teller_tui.auth.staff import StaffView, normalize_username, staff_view
from teller_tui.common.clock import Clock
from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger.business_day import current_business_date
from teller_tui.models import Staff

__all__ = ["StaffUnlockService"]


class StaffUnlockService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, approvals: ApprovalService) -> None:
        self.db, self.clock, self.audit, self.approvals = db, clock, audit, approvals

    @guarded("staff_unlock")
    def unlock(self, actor: Actor, username: str, reason: str, *, approval_id: int | None = None) -> StaffView:
        """Clear ``username``'s failure counter and lock. Raises ApprovalRequired (with the spec)
        when the policy asks for an approval and ``approval_id`` is missing."""
        require_role(actor, *COUNTER_ROLES)
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError(_("Give a reason to unlock the account."), code="reason", field="reason")
        with self.db.write() as s:
            row: Staff | None = s.execute(select(Staff).where(
                col(Staff.username) == normalize_username(username))).scalar_one_or_none()
            if row is None:
                raise NotFound(_("No staff member is called {name}.").format(name=clean_text(username, limit=40)),
                               code="staff_not_found")
            if row.id == actor.staff_id:
                raise PermissionDenied(_("Another person must unlock your account."), code="self_unlock")
            hits = self.approvals.evaluate(Facts("staff_unlock", on=current_business_date(
                s, actor.branch_code, self.clock), role=actor.role))
            spec = ApprovalSpec(kind="staff_unlock", requester_id=actor.staff_id, branch_code=actor.branch_code,
                                subject=f"staff:{row.username}", reason=reason, rules=tuple(h.rule for h in hits),
                                reasons=tuple(h.reason for h in hits),
                                summary=message(N_("Unlock the account of {user}"), user=row.username))
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            was = clear_lockout(row)
            self.audit.append(s, actor, "unlock", subject=f"staff:{row.username}", detail={
                **was, "reason": reason, "approval_id": grant.approval_id if grant else None})
            s.flush()
            return staff_view(row)
        raise AssertionError("unreachable")  # pragma: no cover
