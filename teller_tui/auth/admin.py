"""Staff administration: who exists, creating people, disabling, unlocking, resetting TOTP.

:class:`StaffAdministration` is one half of :class:`teller_tui.auth.service.AuthService` (the
other is sign-in); every change is audited with the acting person and terminal. Who may do
what is in :mod:`teller_tui.auth.roles`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import col

from teller_tui.audit.trail import Actor
from teller_tui.auth import passwords, totp
from teller_tui.auth.roles import ACCOUNT_ROLES, ADMIN_ROLES, COUNTER_ROLES, Role
from teller_tui.auth.staff import (
    ISSUER,
    StaffStore,
    StaffView,
    clean_display_name,
    staff_view,
    totp_context,
    validate_username,
)
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.models import Staff
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.auth.secretbox import SecretBox

__all__ = ["StaffAdministration", "clear_lockout", "insert_staff_row"]


def clear_lockout(row: Staff) -> dict[str, object]:
    """Clear a staff row's failure counter and lock (inside the caller's transaction); returns what it was."""
    was: dict[str, object] = {"failed_attempts": row.failed_attempts,
                              "locked_until": row.locked_until.isoformat() if row.locked_until else None}
    row.failed_attempts = 0
    row.locked_until = None
    return was


def insert_staff_row(s: Session, secretbox: SecretBox, name: str, display: str, role: str, secret_hash: str, *,
                     must_change: bool, totp_secret: str | None, branch_code: str, now: datetime) -> Staff:
    """Insert a person (inside the caller's transaction; the caller audits it). Refuses a taken name."""
    if s.execute(select(col(Staff.id)).where(col(Staff.username) == name)).first() is not None:
        raise Conflict(_("The user name {name} is taken.").format(name=name), code="username_taken")
    row = Staff(username=name, display_name=display, role=str(role), branch_code=branch_code,
                password_hash=secret_hash, must_change_password=must_change, created_at=now,
                password_changed_at=None if must_change else now)
    s.add(row)
    s.flush()
    assert row.id is not None
    if totp_secret is not None:
        row.totp_secret_enc = secretbox.encrypt(totp_secret, context=totp_context(row.id))
    return row


class StaffAdministration(StaffStore):
    # -- queries ---------------------------------------------------------------------------------
    def is_first_run(self) -> bool:
        """True while no person with a counter role exists: the UI then creates the first admin."""
        with self.db.read() as s:
            count: int = s.execute(select(func.count()).select_from(Staff)
                              .where(col(Staff.role).in_(COUNTER_ROLES))).scalar_one()
        return count == 0

    def list_staff(self) -> list[StaffView]:
        with self.db.read() as s:
            return [staff_view(r) for r in s.execute(select(Staff).order_by(col(Staff.username))).scalars()]

    def get_staff(self, username: str) -> StaffView:
        with self.db.read() as s:
            return staff_view(self._row(s, username))

    def get_staff_by_id(self, staff_id: int) -> StaffView:
        with self.db.read() as s:
            row = s.get(Staff, staff_id)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            return staff_view(row)

    # -- account management --------------------------------------------------------------------------
    @guarded("auth")
    def create_staff(self, actor: Actor, username: str, display_name: str, role: str, *,
                     password: str | None = None, totp_secret: str | None = None,
                     branch_code: str | None = None) -> tuple[StaffView, str | None]:
        """Create a person. Returns (view, one-time password) -- the password is shown once.

        With ``password`` given (``teller demo``), that password is set, no change is forced and
        no one-time password is returned. With ``totp_secret`` the authenticator is active at once.
        """
        self._require(actor, ADMIN_ROLES)
        name = validate_username(username)
        display = clean_display_name(display_name)
        if role not in ACCOUNT_ROLES:
            raise ValidationError(_("Unknown role {role}; choose teller, supervisor, admin or kiosk.").format(
                role=repr(role)[:20]), code="role_invalid")
        if password is not None:
            passwords.validate_new_password(password, username=name)
            one_time = None
            secret_hash = passwords.hash_secret(password)
        else:
            one_time = passwords.generate_one_time_password()
            secret_hash = passwords.hash_secret(one_time)
        if totp_secret is not None:
            totp.provisioning_uri(totp_secret, name, ISSUER)  # validates the secret
            if len(totp._secret_bytes(totp_secret)) < totp.SECRET_BYTES:
                raise ValidationError(_("An authenticator secret must be at least 160 bits."),
                                      code="totp_secret_short")
        view = self._insert_staff(actor, name, display, role, secret_hash, must_change=password is None,
                                  totp_secret=totp_secret, branch_code=branch_code or self.settings.branch_code,
                                  first_admin=False)
        return view, one_time

    def create_first_admin(self, username: str, display_name: str, password: str, *,
                           terminal_id: str) -> StaffView:
        """First run only: the person at the terminal becomes the first admin with their own password."""
        name = validate_username(username)
        display = clean_display_name(display_name)
        passwords.validate_new_password(password, username=name)
        secret_hash = passwords.hash_secret(password)
        actor = Actor(staff_id=None, username=name, terminal_id=terminal_id, role=Role.ADMIN,
                      branch_code=self.settings.branch_code)
        return self._insert_staff(actor, name, display, Role.ADMIN, secret_hash, must_change=False,
                                  totp_secret=None, branch_code=self.settings.branch_code, first_admin=True)

    def _insert_staff(self, actor: Actor, name: str, display: str, role: str, secret_hash: str, *,
                      must_change: bool, totp_secret: str | None, branch_code: str, first_admin: bool) -> StaffView:
        now = self.clock.now()
        with self.db.write() as s:
            if first_admin:
                existing = s.execute(select(func.count()).select_from(Staff)
                                     .where(col(Staff.role).in_(COUNTER_ROLES))).scalar_one()
                if existing:
                    raise Conflict(_("The first administrator has already been set up; sign in instead."),
                                   code="not_first_run")
            row = insert_staff_row(s, self.secretbox, name, display, role, secret_hash, must_change=must_change,
                                   totp_secret=totp_secret, branch_code=branch_code, now=now)
            if first_admin:
                actor = replace(actor, staff_id=row.id)
            self.audit.append(s, actor, "staff_create", subject=f"staff:{name}",
                              detail={"role": str(role), "first_admin": first_admin,
                                      "one_time_password": must_change, "totp_preset": totp_secret is not None})
            return staff_view(row)

    @guarded("auth")
    def disable(self, actor: Actor, username: str) -> StaffView:
        self._require(actor, ADMIN_ROLES)
        with self.db.write() as s:
            row = self._row(s, username)
            if row.id == actor.staff_id:
                raise PermissionDenied(_("You cannot disable your own account."), code="self_disable")
            row.disabled = True
            self.audit.append(s, actor, "disable", subject=f"staff:{row.username}")
            return staff_view(row)

    @guarded("auth")
    def unlock(self, actor: Actor, username: str) -> StaffView:
        """Clear the failure counter and lock: the host's command line (``teller staff unlock``).

        A person at a terminal unlocks through :class:`teller_tui.approvals.staff_unlock.StaffUnlockService`,
        with the approval the policy's ``staff_unlock`` rule asks for."""
        self._require(actor, (Role.SYSTEM,))
        with self.db.write() as s:
            row = self._row(s, username)
            self.audit.append(s, actor, "unlock", subject=f"staff:{row.username}", detail=clear_lockout(row))
            return staff_view(row)

    @guarded("auth")
    def reset_totp(self, actor: Actor, username: str) -> StaffView:
        """Forget the person's authenticator; they enrol a new one at their next sign-in."""
        self._require(actor, ADMIN_ROLES)
        with self.db.write() as s:
            row = self._row(s, username)
            if row.id == actor.staff_id:
                raise PermissionDenied(_("Another administrator must reset your authenticator."),
                                       code="self_reset")
            row.totp_secret_enc = None
            row.totp_pending_enc = None
            # totp_last_step is kept: it is never lowered.
            self.audit.append(s, actor, "totp_reset", subject=f"staff:{row.username}")
            return staff_view(row)
