"""Staff administration at a terminal: an administrator adds people, disables and re-enables them,
changes roles and resets authenticators, with a second person's approval where the policy asks.

Granting a role (adding a person is granting them one; changing a role), re-enabling a disabled
account and resetting an authenticator go through the policy's ``staff_role``, ``staff_enable`` and
``staff_totp_reset`` rules: a different supervisor or administrator approves at the counter or from
the branch queue (Fineract's maker-checker inbox), and the UI retries with ``approval_id``. The
approval binds the user name, the role and the reason. The person concerned never approves a change
to their own account, and nobody changes their own. Disabling needs no approval (it only removes
access). Unlocking is :class:`teller_tui.approvals.staff_unlock.StaffUnlockService`.

The host's command line (``teller staff``) stays for the first admin and for scripts
(:class:`teller_tui.auth.admin.StaffAdministration`). On PostgreSQL only the admin database role
may write ``staff`` roles (:mod:`teller_tui.db.roles`); :meth:`StaffAdminService.can_write_staff`
tells the screen before anyone types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from teller_tui.approvals.policy import Facts, role_msg
from teller_tui.approvals.records import Grant
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth import passwords
from teller_tui.auth.admin import insert_staff_row
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import ADMIN_ROLES, COUNTER_ROLES, require_role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.staff import (
    StaffView,
    clean_display_name,
    normalize_username,
    staff_view,
    validate_username,
)
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger.business_day import current_business_date
from teller_tui.models import AuditRecord, Staff

__all__ = ["NewStaff", "StaffAdminService", "StaffEntry"]


@dataclass(frozen=True, slots=True)
class StaffEntry:
    """One line of the staff list: the person and their last successful sign-in (from the audit trail)."""

    staff: StaffView
    last_sign_in: datetime | None


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A person just added: the one-time password is shown once and never stored in clear."""

    staff: StaffView
    one_time_password: str


class StaffAdminService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, secretbox: SecretBox, *,
                 approvals: ApprovalService) -> None:
        self.db, self.clock, self.audit, self.secretbox, self.approvals = db, clock, audit, secretbox, approvals

    # -- reads -------------------------------------------------------------------------------------------
    @guarded("staff_admin")
    def roster(self, actor: Actor) -> list[StaffEntry]:
        """Everyone with a staff account, by user name, with their last sign-in."""
        require_role(actor, *ADMIN_ROLES)
        with self.db.read() as s:
            last: dict[int | None, datetime] = {
                who: at for who, at in s.execute(
                    select(col(AuditRecord.actor_id), func.max(col(AuditRecord.at)))
                    .where(col(AuditRecord.action) == "sign_in", col(AuditRecord.outcome) == "ok")
                    .group_by(col(AuditRecord.actor_id))).all()}
            rows = s.execute(select(Staff).order_by(col(Staff.username))).scalars().all()
            return [StaffEntry(staff_view(r), last.get(r.id)) for r in rows]

    @guarded("staff_admin")
    def can_write_staff(self, actor: Actor) -> bool:
        """False on PostgreSQL when this program connects as a role that may not add people or change
        roles (the application role): staff changes need the admin role's connection."""
        require_role(actor, *ADMIN_ROLES)
        with self.db.read() as s:
            if s.get_bind().dialect.name != "postgresql":
                return True
            return bool(s.execute(text(
                "SELECT has_table_privilege('public.staff', 'INSERT') "
                "AND has_column_privilege('public.staff', 'role', 'UPDATE') "
                "AND has_column_privilege('public.staff', 'disabled', 'UPDATE')")).scalar_one())

    # -- changes -----------------------------------------------------------------------------------------
    @guarded("staff_admin")
    def add(self, actor: Actor, username: str, display_name: str, role: str, *,
            approval_id: int | None = None) -> NewStaff:
        """Add a person with a one-time password (changed, and an authenticator enrolled, at their first
        sign-in). Granting the role needs the ``staff_role`` approval."""
        require_role(actor, *ADMIN_ROLES)
        name, display, role = validate_username(username), clean_display_name(display_name), _role(role)
        one_time = passwords.generate_one_time_password()
        secret_hash = passwords.hash_secret(one_time)  # argon2 outside the transaction
        with self.db.write() as s:
            if s.execute(select(col(Staff.id)).where(col(Staff.username) == name)).first() is not None:
                raise Conflict(_("The user name {name} is taken.").format(name=name), code="username_taken")
            spec = self._spec(s, actor, "staff_role", name, reason=display, role=role,
                              summary=message(N_("Add {user} ({name}) as {role}"),
                                              user=name, name=display, role=role_msg(role)))
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            row = insert_staff_row(s, self.secretbox, name, display, role, secret_hash, must_change=True,
                                   totp_secret=None, branch_code=actor.branch_code, now=self.clock.now())
            self._not_approver(grant, row)
            self.audit.append(s, actor, "staff_create", subject=f"staff:{name}", detail={
                "role": role, "first_admin": False, "one_time_password": True, "totp_preset": False,
                "approval_id": grant.approval_id if grant else None})
            s.flush()
            return NewStaff(staff_view(row), one_time)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("staff_admin")
    def change_role(self, actor: Actor, username: str, role: str, reason: str, *,
                    approval_id: int | None = None) -> StaffView:
        require_role(actor, *ADMIN_ROLES)
        role, reason = _role(role), _reason(reason)
        with self.db.write() as s:
            row = self._target(s, actor, username)
            if row.role == role:
                raise ValidationError(_("{user} already has that role.").format(user=row.username),
                                      code="role_unchanged", field="role")
            if row.role not in COUNTER_ROLES:
                raise PermissionDenied(_("Kiosk accounts are managed with `teller staff` on the host."),
                                       code="kiosk_account")
            spec = self._spec(s, actor, "staff_role", row.username, reason=reason, role=role,
                              summary=message(N_("Change the role of {user} from {old} to {new}"),
                                              user=row.username, old=role_msg(row.role), new=role_msg(role)))
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            self._not_approver(grant, row)
            old, row.role = row.role, role
            self.audit.append(s, actor, "staff_role", subject=f"staff:{row.username}", detail={
                "from": old, "to": role, "reason": reason, "approval_id": grant.approval_id if grant else None})
            s.flush()
            return staff_view(row)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("staff_admin")
    def disable(self, actor: Actor, username: str, reason: str) -> StaffView:
        """Take away a person's access at once (no approval: it only removes access)."""
        require_role(actor, *ADMIN_ROLES)
        reason = _reason(reason)
        with self.db.write() as s:
            row = self._target(s, actor, username)
            if row.disabled:
                raise Conflict(_("{user} is already disabled.").format(user=row.username), code="already_disabled")
            row.disabled = True
            self.audit.append(s, actor, "disable", subject=f"staff:{row.username}", detail={"reason": reason})
            s.flush()
            return staff_view(row)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("staff_admin")
    def enable(self, actor: Actor, username: str, reason: str, *, approval_id: int | None = None) -> StaffView:
        require_role(actor, *ADMIN_ROLES)
        reason = _reason(reason)
        with self.db.write() as s:
            row = self._target(s, actor, username)
            if not row.disabled:
                raise Conflict(_("{user} is not disabled.").format(user=row.username), code="not_disabled")
            spec = self._spec(s, actor, "staff_enable", row.username, reason=reason, role=row.role,
                              summary=message(N_("Re-enable the account of {user}"), user=row.username))
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            self._not_approver(grant, row)
            row.disabled = False
            self.audit.append(s, actor, "enable", subject=f"staff:{row.username}", detail={
                "reason": reason, "approval_id": grant.approval_id if grant else None})
            s.flush()
            return staff_view(row)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("staff_admin")
    def reset_authenticator(self, actor: Actor, username: str, reason: str, *,
                            approval_id: int | None = None) -> StaffView:
        """Forget the person's authenticator; they enrol a new one at their next sign-in."""
        require_role(actor, *ADMIN_ROLES)
        reason = _reason(reason)
        with self.db.write() as s:
            row = self._target(s, actor, username)
            spec = self._spec(s, actor, "staff_totp_reset", row.username, reason=reason, role=row.role,
                              summary=message(N_("Reset the authenticator of {user}"), user=row.username))
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            self._not_approver(grant, row)
            row.totp_secret_enc = None
            row.totp_pending_enc = None  # totp_last_step is kept: it is never lowered
            self.audit.append(s, actor, "totp_reset", subject=f"staff:{row.username}", detail={
                "reason": reason, "approval_id": grant.approval_id if grant else None})
            s.flush()
            return staff_view(row)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- helpers -----------------------------------------------------------------------------------------
    @staticmethod
    def _target(s: Session, actor: Actor, username: str) -> Staff:
        row: Staff | None = s.execute(select(Staff).where(
            col(Staff.username) == normalize_username(username))).scalar_one_or_none()
        if row is None:
            raise NotFound(_("No staff member is called {name}.").format(name=clean_text(username, limit=40)),
                           code="staff_not_found")
        if row.id == actor.staff_id:
            raise PermissionDenied(_("Another administrator must change your own account."), code="self_admin")
        return row

    def _spec(self, s: Session, actor: Actor, action: str, username: str, *, reason: str, role: str,
              summary: str) -> ApprovalSpec:
        hits = self.approvals.evaluate(Facts(action, on=current_business_date(s, actor.branch_code, self.clock),
                                             role=actor.role))
        # The role is bound through the subject: an approval to make wang a teller cannot make him an admin.
        return ApprovalSpec(kind=action, requester_id=actor.staff_id, branch_code=actor.branch_code,
                            subject=f"staff:{username}:{role}", reason=reason, rules=tuple(h.rule for h in hits),
                            reasons=tuple(h.reason for h in hits), summary=summary)

    @staticmethod
    def _not_approver(grant: Grant | None, row: Staff) -> None:
        if grant is not None and grant.approver_id is not None and grant.approver_id == row.id:
            raise PermissionDenied(_("The person concerned cannot approve a change to their own account."),
                                   code="approver_is_subject")


def _role(role: str) -> str:
    if role not in COUNTER_ROLES:
        raise ValidationError(_("Choose teller, supervisor or administrator."), code="role_invalid", field="role")
    return str(role)


def _reason(reason: str) -> str:
    reason = clean_text(reason, limit=200)
    if not reason:
        raise ValidationError(_("Give a reason."), code="reason", field="reason")
    return reason
