"""Staff sign-in: passwords, TOTP enrolment and verification, lockout, audit.

:class:`AuthService` is the one place that reads or changes a staff member's credentials. It
is the sign-in half written here on top of the administration half
(:class:`teller_tui.auth.admin.StaffAdministration`: creating, disabling, unlocking people).
It returns read models (:mod:`teller_tui.auth.staff`: :class:`StaffView`, :class:`SignedIn`,
:class:`TotpEnrolment`, re-exported here), never ORM rows, and audits every event with the
terminal it happened on.

Sign-in (``authenticate``) runs in three short steps so that no write transaction is held
while argon2 works (tens of milliseconds and 64 MiB):

1. read the row (read transaction);
2. verify the password outside any transaction (a dummy hash for an unknown user, so the
   time taken does not reveal whether the user exists);
3. one write transaction: lock checks, the TOTP step claimed atomically in the database
   (``UPDATE ... WHERE totp_last_step IS NULL OR totp_last_step < :s``; zero rows means the
   code was already used, on this or any other terminal), the failure counter and lockout,
   and the audit record.

Every failure raises :class:`~teller_tui.common.errors.AuthenticationFailed` with the same message:
unknown user, wrong password, wrong or replayed code, disabled or locked account. The audit
record keeps the real reason for supervisors.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, select, text
from sqlmodel import col

from teller_tui.audit.trail import Actor, stream_of
from teller_tui.auth import passwords, totp
from teller_tui.auth.admin import StaffAdministration
from teller_tui.auth.live import StaffRefused, read_staff_state, staff_refusal
from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.auth.staff import (
    ISSUER,
    LOCKOUT_MINUTES,
    MAX_FAILED_ATTEMPTS,
    SignedIn,
    StaffView,
    TotpEnrolment,
    failure_message,
    normalize_username,
    staff_view,
    system_actor,
    totp_context,
)
from teller_tui.common.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db.scopes import WriteScope, fixed_scope, named_key, stream_key
from teller_tui.models import BANK_STREAM, Staff
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = [
    "LOCKOUT_MINUTES",
    "MAX_FAILED_ATTEMPTS",
    "AuthService",
    "SignedIn",
    "StaffView",
    "TotpEnrolment",
    "failure_message",
    "normalize_username",
    "system_actor",
]


class AuthService(StaffAdministration):
    # -- sign-in ------------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, code: str, terminal_id: str, *,
                     purpose: str = "sign_in") -> SignedIn:
        """Check password and TOTP code; raise :class:`AuthenticationFailed` (one message) on any failure.

        A person without an active authenticator (new, or reset) signs in with the password alone
        and gets ``needs_totp_enrolment``; the UI lets them do nothing but enrol.
        ``purpose`` names the audit action ("sign_in" or "unlock_screen").
        """
        staff, _step = self._check_credentials(username, password, code, terminal_id, action=purpose,
                                               require_totp=False, roles=COUNTER_ROLES)
        return SignedIn(staff=staff, terminal_id=terminal_id, at=self.clock.now(),
                        must_change_password=staff.must_change_password, needs_totp_enrolment=not staff.totp_active)

    def verify_fresh_credentials(self, username: str, password: str, code: str, *,
                                 required_role: str | Collection[str], not_staff_id: int | None,
                                 terminal_id: str | None = None, action: str = "approval_auth") -> StaffView:
        """Authenticate a second person right now (supervisor approval, admin confirmation).

        Needs an active authenticator and an unused code, a role in ``required_role``, and a
        person other than ``not_staff_id``. Failures count towards that person's lockout.
        """
        roles = (required_role,) if isinstance(required_role, str) else tuple(required_role)
        terminal = terminal_id or self.settings.terminal_id
        staff, _step = self._check_credentials(username, password, code, terminal, action=action,
                                               require_totp=True, roles=roles, not_staff_id=not_staff_id)
        return staff

    def _check_credentials(self, username: str, password: str, code: str, terminal_id: str, *, action: str,
                           require_totp: bool, roles: Collection[str] | None = None,
                           not_staff_id: int | None = None) -> tuple[StaffView, int | None]:
        name = normalize_username(username)
        with self.db.read() as s:
            found: Staff | None = s.execute(select(Staff).where(col(Staff.username) == name)).scalar_one_or_none()
            stored_hash = found.password_hash if found is not None else None
            staff_id = found.id if found is not None else None
            branch = found.branch_code if found is not None else ""
        # argon2 outside any transaction; a dummy hash when the user is unknown (same time).
        password_ok = passwords.verify_secret(stored_hash, password or "")
        if staff_id is None:
            self._record_failure(None, name, terminal_id, action, "unknown_user")
        assert staff_id is not None
        now = self.clock.now()

        def work(s: Session) -> tuple[tuple[StaffView, int | None] | None, bool]:
            row = s.get(Staff, staff_id, populate_existing=True)
            if row is None:  # staff rows are never deleted; be safe anyway
                raise AuthenticationFailed(failure_message())
            reason = self._refusal(row, now, password_ok, stored_hash, roles, not_staff_id)
            s.flush()
            step: int | None = None
            if reason is None and (row.totp_secret_enc is not None or require_totp):
                reason, step = self._claim_code(s, row, code, now)
            if reason is None:
                actor = Actor(row.id, row.username, terminal_id, row.role, row.branch_code)
                row.failed_attempts = 0
                if passwords.needs_rehash(row.password_hash):
                    row.password_hash = passwords.hash_secret(password)
                self.audit.append(s, actor, action, subject=f"staff:{row.username}", outcome="ok",
                                  detail={"totp": step is not None})
                s.flush()
                s.refresh(row)
                return (staff_view(row), step), False
            if reason == "self":
                self._audit_failure(s, row, name, terminal_id, action, reason)
                return None, True
            counted = reason not in ("locked", "disabled", "role")
            self._apply_failure(s, row, name, terminal_id, action, reason, now, counted=counted)
            return None, False

        # The person's row and their branch's audit stream: not the bank-wide key (db/scopes.py). A
        # conflict is retried; a lost connection is not (the code is not claimed twice behind their back).
        keys = [named_key(f"staff:{staff_id}"), stream_key(stream_of(Actor(staff_id, name, terminal_id, "", branch)))]
        done, same_person = self.db.write_retrying(work, scope=fixed_scope(keys), reconnect_seconds=0)
        if done is not None:
            return done
        # Raised after the transaction committed, so the failure and its audit record persist.
        if same_person:
            raise PermissionDenied(_("The approver must be a different person."), code="same_person")
        raise AuthenticationFailed(failure_message())

    def _refusal(self, row: Staff, now: datetime, password_ok: bool, stored_hash: str | None,
                 roles: Collection[str] | None, not_staff_id: int | None) -> str | None:
        if row.locked_until is not None and row.locked_until <= now:
            # The lock expired: a fresh count starts.
            row.locked_until = None
            row.failed_attempts = 0
        if row.disabled:
            return "disabled"
        if row.locked_until is not None:
            return "locked"
        if not password_ok or row.password_hash != stored_hash:
            return "password"
        if not_staff_id is not None and row.id == not_staff_id:
            return "self"
        if roles is not None and row.role not in roles:
            return "role"
        return None

    def _claim_code(self, s: Session, row: Staff, code: str, now: datetime) -> tuple[str | None, int | None]:
        """Verify the code and claim its step in the database; (reason, step)."""
        if row.totp_secret_enc is None:
            return "no_totp", None
        assert row.id is not None
        secret = self.secretbox.decrypt(row.totp_secret_enc, context=totp_context(row.id))
        step = totp.verify_totp(secret, code or "", now=now, last_step=row.totp_last_step)
        if step is None:
            return "code", None
        if not self._claim_step(s, row.id, step):
            return "code_replayed", None
        s.refresh(row)
        return None, step

    @staticmethod
    def _claim_step(s: Session, staff_id: int, step: int) -> bool:
        """The replay guard: accept a step only if it is later than every step accepted before."""
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            text("UPDATE staff SET totp_last_step = :s "
                 "WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :s)"),
            {"s": step, "id": staff_id})
        return result.rowcount == 1

    @staticmethod
    def _own_scope(actor: Actor) -> WriteScope:
        """The person's own row and their stream: not the bank-wide key (db/scopes.py)."""
        return fixed_scope([named_key(f"staff:{actor.staff_id}"), stream_key(stream_of(actor))])

    def _record_failure(self, staff_id: int | None, name: str, terminal_id: str, action: str, reason: str) -> None:
        with self.db.write(fixed_scope([stream_key(self.settings.branch_code[:16] or BANK_STREAM)])) as s:  # one record
            self._audit_failure(s, None, name, terminal_id, action, reason)
        raise AuthenticationFailed(failure_message())

    def _audit_failure(self, s: Session, row: Staff | None, name: str, terminal_id: str, action: str,
                       reason: str, **detail: Any) -> None:
        if row is not None:
            actor = Actor(row.id, row.username, terminal_id, row.role, row.branch_code)
        else:
            actor = Actor(None, clean_text(name, limit=64) or "?", terminal_id, "unknown", self.settings.branch_code)
        self.audit.append(s, actor, action, subject=f"staff:{actor.username}", outcome="failed",
                          detail={"reason": reason, **detail})

    def _apply_failure(self, s: Session, row: Staff, name: str, terminal_id: str, action: str, reason: str,
                       now: datetime, *, counted: bool) -> None:
        assert row.id is not None
        attempts = row.failed_attempts
        if counted:
            # Atomic increment: several terminals may fail at once.
            s.execute(text("UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE id = :id"),
                      {"id": row.id})
            s.refresh(row)
            attempts = row.failed_attempts
        self._audit_failure(s, row, name, terminal_id, action, reason, failed_attempts=attempts)
        if counted and attempts >= MAX_FAILED_ATTEMPTS and row.locked_until is None:
            row.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
            actor = Actor(row.id, row.username, terminal_id, row.role, row.branch_code)
            self.audit.append(s, actor, "lockout", subject=f"staff:{row.username}", outcome="locked",
                              detail={"failed_attempts": attempts, "until": row.locked_until.isoformat()})

    # -- credentials of a signed-in person -----------------------------------------------------------------
    @guarded("auth")
    def change_password(self, actor: Actor, current_password: str, new_password: str) -> StaffView:
        """Change one's own password (the current one is checked again)."""
        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        with self.db.read() as s:
            row = s.get(Staff, actor.staff_id)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            stored, username = row.password_hash, row.username
        passwords.validate_new_password(new_password, username=username)
        if not passwords.verify_secret(stored, current_password or ""):
            with self.db.write(self._own_scope(actor)) as s:
                self.audit.append(s, actor, "password_change", subject=f"staff:{username}", outcome="failed",
                                  detail={"reason": "current_password"})
            raise ValidationError(_("The current password is not right."), code="current_password_wrong")
        if passwords.verify_secret(stored, new_password):
            raise ValidationError(_("Choose a password different from the current one."), code="password_same")
        new_hash = passwords.hash_secret(new_password)
        now = self.clock.now()
        with self.db.write(self._own_scope(actor)) as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            assert row is not None
            row.password_hash = new_hash
            row.must_change_password = False
            row.password_changed_at = now
            self.audit.append(s, actor, "password_change", subject=f"staff:{username}")
            return staff_view(row)

    @guarded("auth")
    def begin_totp_enrolment(self, actor: Actor) -> TotpEnrolment:
        """A new secret for the signed-in person, pending until one valid code confirms it."""
        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        secret = totp.new_secret()
        with self.db.write(self._own_scope(actor)) as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            if row.totp_secret_enc is not None:
                raise Conflict(_("An authenticator is already active; an administrator must reset it first."),
                               code="totp_active")
            row.totp_pending_enc = self.secretbox.encrypt(secret, context=totp_context(actor.staff_id))
            self.audit.append(s, actor, "totp_enrol_begin", subject=f"staff:{row.username}")
            username = row.username
        uri = totp.provisioning_uri(secret, username, ISSUER)
        return TotpEnrolment(staff_id=actor.staff_id, username=username, secret=secret, uri=uri)

    @guarded("auth")
    def confirm_totp_enrolment(self, actor: Actor, code: str) -> StaffView:
        """Activate the pending secret with one valid code (that code's step is then used up)."""
        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        now = self.clock.now()
        with self.db.write(self._own_scope(actor)) as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            if row is None or row.totp_pending_enc is None:
                raise Conflict(_("Start the authenticator set-up again."), code="totp_not_pending")
            secret = self.secretbox.decrypt(row.totp_pending_enc, context=totp_context(actor.staff_id))
            step = totp.verify_totp(secret, code or "", now=now, last_step=row.totp_last_step)
            if step is not None and self._claim_step(s, actor.staff_id, step):
                s.refresh(row)
                row.totp_secret_enc = row.totp_pending_enc
                row.totp_pending_enc = None
                self.audit.append(s, actor, "totp_enrol", subject=f"staff:{row.username}")
                return staff_view(row)
            self.audit.append(s, actor, "totp_enrol", subject=f"staff:{row.username}", outcome="failed",
                              detail={"reason": "code"})
        raise ValidationError(_("That code is not right. Wait for the next code and type it."),
                              code="totp_code_wrong")

    @guarded("auth")
    def check_session(self, actor: Actor) -> StaffRefused | None:
        """Whether the signed-in ``actor`` may still act (the app asks every few seconds and signs the
        person out with the returned refusal's message); see :mod:`teller_tui.auth.live`."""
        if actor.staff_id is None:
            return None
        with self.db.read() as s:
            return staff_refusal(actor, read_staff_state(s, actor.staff_id), self.clock.now())

    # -- session events (the UI reports them) -------------------------------------------------------------
    @guarded("auth")
    def record_session_event(self, actor: Actor, action: str, **detail: Any) -> None:
        """Audit ``sign_out`` or ``lock`` (the screen locked after idling or by key)."""
        if action not in ("sign_out", "lock"):
            raise ValueError(f"not a session event: {action}")
        with self.db.write(self._own_scope(actor)) as s:
            self.audit.append(s, actor, action, subject=f"staff:{actor.username}", detail=detail)
