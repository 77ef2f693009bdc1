"""Staff sign-in: accounts, passwords, TOTP enrolment and verification, lockout, audit.

:class:`AuthService` is the one place that reads or changes a staff member's credentials.
It returns read models (:class:`StaffView`, :class:`SignedIn`, :class:`TotpEnrolment`),
never ORM rows, and audits every event with the terminal it happened on.

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

import getpass
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from teller_tui.audit.trail import Actor
from teller_tui.common.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.auth import passwords, totp

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.models import Staff
    from teller_tui.common.settings import Settings
    from teller_tui.auth.secretbox import SecretBox

__all__ = [
    "LOCKOUT_MINUTES",
    "MAX_FAILED_ATTEMPTS",
    "ROLES",
    "STAFF_ROLES",
    "AuthService",
    "SignedIn",
    "StaffView",
    "TotpEnrolment",
    "failure_message",
    "normalize_username",
    "system_actor",
]

MAX_FAILED_ATTEMPTS = 10
LOCKOUT_MINUTES = 30
ISSUER = "Teller"
ROLES = ("teller", "supervisor", "admin", "kiosk")
#: Roles a person signs in to the teller workstation with.
STAFF_ROLES = ("teller", "supervisor", "admin")
#: Roles that may unlock another person's account.
UNLOCK_ROLES = ("supervisor", "admin", "system")
#: Roles that manage accounts (create, disable, reset TOTP). "system" is the host's CLI user.
ADMIN_ROLES = ("admin", "system")

_USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")


def failure_message() -> str:
    """The one message shown for every sign-in failure (translated when called)."""
    return _("Sign-in failed. Check your details or ask a supervisor.")


def normalize_username(raw: str) -> str:
    """Fold what was typed to the stored form: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def validate_username(raw: str) -> str:
    name = normalize_username(raw)
    if not _USERNAME_RE.match(name):
        raise ValidationError(
            _("A user name is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
              "starting with a letter."), code="username_invalid")
    return name


def _clean_display_name(raw: str) -> str:
    text = "".join(ch for ch in unicodedata.normalize("NFC", raw or "")
                   if unicodedata.category(ch)[0] != "C").strip()
    text = " ".join(text.split())
    if not text:
        raise ValidationError(_("Enter the person's name."), code="display_name_empty")
    if len(text) > 80:
        raise ValidationError(_("The name is longer than 80 characters."), code="display_name_long")
    return text


def system_actor(settings: Settings) -> Actor:
    """The actor for commands run on the host (``teller staff ...``): the OS user, this terminal."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        who = "unknown"
    return Actor(staff_id=None, username=f"system:{who}"[:64], terminal_id=settings.terminal_id, role="system",
                 branch_code=settings.branch_code)


# -- read models ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StaffView:
    id: int
    username: str
    display_name: str
    role: str
    branch_code: str
    must_change_password: bool
    totp_active: bool
    totp_pending: bool
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    password_changed_at: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def actor(self, terminal_id: str) -> Actor:
        return Actor(staff_id=self.id, username=self.username, terminal_id=terminal_id, role=self.role,
                     branch_code=self.branch_code)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A person at a terminal. Until both flags are False they may only finish their set-up."""

    staff: StaffView
    terminal_id: str
    at: datetime
    must_change_password: bool
    needs_totp_enrolment: bool

    @property
    def actor(self) -> Actor:
        return self.staff.actor(self.terminal_id)

    @property
    def complete(self) -> bool:
        return not (self.must_change_password or self.needs_totp_enrolment)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    staff_id: int
    username: str
    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type into an authenticator app."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def _view(row: Staff) -> StaffView:
    assert row.id is not None
    return StaffView(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                     branch_code=row.branch_code, must_change_password=bool(row.must_change_password),
                     totp_active=row.totp_secret_enc is not None, totp_pending=row.totp_pending_enc is not None,
                     disabled=bool(row.disabled), failed_attempts=row.failed_attempts,
                     locked_until=row.locked_until, created_at=row.created_at,
                     password_changed_at=row.password_changed_at)


def _totp_context(staff_id: int) -> str:
    return f"staff:{staff_id}:totp"


# -- the service -----------------------------------------------------------------------------------
class AuthService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail,
                 secretbox: SecretBox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.audit = audit
        self.secretbox = secretbox  # reads its key file on first use, not when services are built

    # -- queries ---------------------------------------------------------------------------------
    def is_first_run(self) -> bool:
        """True while no person with a staff role exists: the UI then creates the first admin."""
        from sqlalchemy import func, select

        from teller_tui.models import Staff

        with self.db.read() as s:
            count = s.execute(select(func.count()).select_from(Staff)
                              .where(Staff.role.in_(STAFF_ROLES))).scalar_one()  # type: ignore[attr-defined]
        return count == 0

    def list_staff(self) -> list[StaffView]:
        from sqlalchemy import select

        from teller_tui.models import Staff

        with self.db.read() as s:
            return [_view(r) for r in s.execute(select(Staff).order_by(Staff.username)).scalars()]

    def get_staff(self, username: str) -> StaffView:
        with self.db.read() as s:
            return _view(self._row(s, username))

    def get_staff_by_id(self, staff_id: int) -> StaffView:
        from teller_tui.models import Staff

        with self.db.read() as s:
            row = s.get(Staff, staff_id)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            return _view(row)

    # -- account management --------------------------------------------------------------------------
    def create_staff(self, actor: Actor, username: str, display_name: str, role: str, *,
                     password: str | None = None, totp_secret: str | None = None,
                     branch_code: str | None = None) -> tuple[StaffView, str | None]:
        """Create a person. Returns (view, one-time password) -- the password is shown once.

        With ``password`` given (``teller demo``), that password is set, no change is forced and
        no one-time password is returned. With ``totp_secret`` the authenticator is active at once.
        """
        self._require(actor, ADMIN_ROLES)
        name = validate_username(username)
        display = _clean_display_name(display_name)
        if role not in ROLES:
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
        display = _clean_display_name(display_name)
        passwords.validate_new_password(password, username=name)
        secret_hash = passwords.hash_secret(password)
        actor = Actor(staff_id=None, username=name, terminal_id=terminal_id, role="admin",
                      branch_code=self.settings.branch_code)
        return self._insert_staff(actor, name, display, "admin", secret_hash, must_change=False, totp_secret=None,
                                  branch_code=self.settings.branch_code, first_admin=True)

    def _insert_staff(self, actor: Actor, name: str, display: str, role: str, secret_hash: str, *,
                      must_change: bool, totp_secret: str | None, branch_code: str, first_admin: bool) -> StaffView:
        from sqlalchemy import func, select

        from teller_tui.models import Staff

        now = self.clock.now()
        with self.db.write() as s:
            if first_admin:
                existing = s.execute(select(func.count()).select_from(Staff)
                                     .where(Staff.role.in_(STAFF_ROLES))).scalar_one()  # type: ignore[attr-defined]
                if existing:
                    raise Conflict(_("The first administrator has already been set up; sign in instead."),
                                   code="not_first_run")
            if s.execute(select(Staff.id).where(Staff.username == name)).first() is not None:
                raise Conflict(_("The user name {name} is taken.").format(name=name), code="username_taken")
            row = Staff(username=name, display_name=display, role=role, branch_code=branch_code,
                        password_hash=secret_hash, must_change_password=must_change, created_at=now,
                        password_changed_at=None if must_change else now)
            s.add(row)
            s.flush()
            assert row.id is not None
            if totp_secret is not None:
                row.totp_secret_enc = self.secretbox.encrypt(totp_secret, context=_totp_context(row.id))
            if first_admin:
                actor = replace(actor, staff_id=row.id)
            self.audit.append(s, actor, "staff_create", subject=f"staff:{name}",
                              detail={"role": role, "first_admin": first_admin,
                                      "one_time_password": must_change, "totp_preset": totp_secret is not None})
            return _view(row)

    def disable(self, actor: Actor, username: str) -> StaffView:
        self._require(actor, ADMIN_ROLES)
        with self.db.write() as s:
            row = self._row(s, username)
            if row.id == actor.staff_id:
                raise PermissionDenied(_("You cannot disable your own account."), code="self_disable")
            row.disabled = True
            self.audit.append(s, actor, "disable", subject=f"staff:{row.username}")
            return _view(row)

    def unlock(self, actor: Actor, username: str) -> StaffView:
        """Clear the failure counter and lock (a supervisor or admin, not for oneself)."""
        self._require(actor, UNLOCK_ROLES)
        with self.db.write() as s:
            row = self._row(s, username)
            if row.id == actor.staff_id:
                raise PermissionDenied(_("Another supervisor must unlock your account."), code="self_unlock")
            was = {"failed_attempts": row.failed_attempts,
                   "locked_until": row.locked_until.isoformat() if row.locked_until else None}
            row.failed_attempts = 0
            row.locked_until = None
            self.audit.append(s, actor, "unlock", subject=f"staff:{row.username}", detail=was)
            return _view(row)

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
            return _view(row)

    # -- sign-in ------------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, code: str, terminal_id: str, *,
                     purpose: str = "sign_in") -> SignedIn:
        """Check password and TOTP code; raise :class:`AuthenticationFailed` (one message) on any failure.

        A person without an active authenticator (new, or reset) signs in with the password alone
        and gets ``needs_totp_enrolment``; the UI lets them do nothing but enrol.
        ``purpose`` names the audit action ("sign_in" or "unlock_screen").
        """
        staff, _step = self._check_credentials(username, password, code, terminal_id, action=purpose,
                                               require_totp=False, roles=STAFF_ROLES)
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
        from sqlalchemy import select

        from teller_tui.models import Staff

        name = normalize_username(username)
        with self.db.read() as s:
            row = s.execute(select(Staff).where(Staff.username == name)).scalar_one_or_none()
            stored_hash = row.password_hash if row is not None else None
            staff_id = row.id if row is not None else None
        # argon2 outside any transaction; a dummy hash when the user is unknown (same time).
        password_ok = passwords.verify_secret(stored_hash, password or "")
        if staff_id is None:
            self._record_failure(None, name, terminal_id, action, "unknown_user")
        assert staff_id is not None
        now = self.clock.now()
        same_person = False
        with self.db.write() as s:
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
                return _view(row), step
            if reason == "self":
                same_person = True
                self._audit_failure(s, row, name, terminal_id, action, reason)
            else:
                counted = reason not in ("locked", "disabled", "role")
                self._apply_failure(s, row, name, terminal_id, action, reason, now, counted=counted)
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
        secret = self.secretbox.decrypt(row.totp_secret_enc, context=_totp_context(row.id))
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
        from sqlalchemy import text

        result = s.execute(
            text("UPDATE staff SET totp_last_step = :s "
                 "WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :s)"),
            {"s": step, "id": staff_id})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def _record_failure(self, staff_id: int | None, name: str, terminal_id: str, action: str, reason: str) -> None:
        with self.db.write() as s:
            self._audit_failure(s, None, name, terminal_id, action, reason)
        raise AuthenticationFailed(failure_message())

    def _audit_failure(self, s: Session, row: Staff | None, name: str, terminal_id: str, action: str,
                       reason: str, **detail: Any) -> None:
        if row is not None:
            actor = Actor(row.id, row.username, terminal_id, row.role, row.branch_code)
        else:
            actor = Actor(None, _printable(name)[:64] or "?", terminal_id, "unknown", self.settings.branch_code)
        self.audit.append(s, actor, action, subject=f"staff:{actor.username}", outcome="failed",
                          detail={"reason": reason, **detail})

    def _apply_failure(self, s: Session, row: Staff, name: str, terminal_id: str, action: str, reason: str,
                       now: datetime, *, counted: bool) -> None:
        from sqlalchemy import text

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
    def change_password(self, actor: Actor, current_password: str, new_password: str) -> StaffView:
        """Change one's own password (the current one is checked again)."""
        from teller_tui.models import Staff

        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        with self.db.read() as s:
            row = s.get(Staff, actor.staff_id)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            stored, username = row.password_hash, row.username
        passwords.validate_new_password(new_password, username=username)
        if not passwords.verify_secret(stored, current_password or ""):
            with self.db.write() as s:
                self.audit.append(s, actor, "password_change", subject=f"staff:{username}", outcome="failed",
                                  detail={"reason": "current_password"})
            raise ValidationError(_("The current password is not right."), code="current_password_wrong")
        if passwords.verify_secret(stored, new_password):
            raise ValidationError(_("Choose a password different from the current one."), code="password_same")
        new_hash = passwords.hash_secret(new_password)
        now = self.clock.now()
        with self.db.write() as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            assert row is not None
            row.password_hash = new_hash
            row.must_change_password = False
            row.password_changed_at = now
            self.audit.append(s, actor, "password_change", subject=f"staff:{username}")
            return _view(row)

    def begin_totp_enrolment(self, actor: Actor) -> TotpEnrolment:
        """A new secret for the signed-in person, pending until one valid code confirms it."""
        from teller_tui.models import Staff

        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        secret = totp.new_secret()
        with self.db.write() as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            if row is None:
                raise NotFound(_("No such staff member."), code="staff_not_found")
            if row.totp_secret_enc is not None:
                raise Conflict(_("An authenticator is already active; an administrator must reset it first."),
                               code="totp_active")
            row.totp_pending_enc = self.secretbox.encrypt(secret, context=_totp_context(actor.staff_id))
            self.audit.append(s, actor, "totp_enrol_begin", subject=f"staff:{row.username}")
            username = row.username
        uri = totp.provisioning_uri(secret, username, ISSUER)
        return TotpEnrolment(staff_id=actor.staff_id, username=username, secret=secret, uri=uri)

    def confirm_totp_enrolment(self, actor: Actor, code: str) -> StaffView:
        """Activate the pending secret with one valid code (that code's step is then used up)."""
        from teller_tui.models import Staff

        if actor.staff_id is None:
            raise PermissionDenied(_("Sign in first."), code="not_signed_in")
        now = self.clock.now()
        with self.db.write() as s:
            row = s.get(Staff, actor.staff_id, populate_existing=True)
            if row is None or row.totp_pending_enc is None:
                raise Conflict(_("Start the authenticator set-up again."), code="totp_not_pending")
            secret = self.secretbox.decrypt(row.totp_pending_enc, context=_totp_context(actor.staff_id))
            step = totp.verify_totp(secret, code or "", now=now, last_step=row.totp_last_step)
            if step is not None and self._claim_step(s, actor.staff_id, step):
                s.refresh(row)
                row.totp_secret_enc = row.totp_pending_enc
                row.totp_pending_enc = None
                self.audit.append(s, actor, "totp_enrol", subject=f"staff:{row.username}")
                return _view(row)
            self.audit.append(s, actor, "totp_enrol", subject=f"staff:{row.username}", outcome="failed",
                              detail={"reason": "code"})
        raise ValidationError(_("That code is not right. Wait for the next code and type it."),
                              code="totp_code_wrong")

    # -- session events (the UI reports them) -------------------------------------------------------------
    def record_session_event(self, actor: Actor, action: str, **detail: Any) -> None:
        """Audit ``sign_out`` or ``lock`` (the screen locked after idling or by key)."""
        if action not in ("sign_out", "lock"):
            raise ValueError(f"not a session event: {action}")
        with self.db.write() as s:
            self.audit.append(s, actor, action, subject=f"staff:{actor.username}", detail=detail)

    # -- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _require(actor: Actor, roles: Collection[str]) -> None:
        if actor.role not in roles:
            raise PermissionDenied(_("Your role cannot do this."), code="forbidden")

    @staticmethod
    def _row(s: Session, username: str) -> Staff:
        from sqlalchemy import select

        from teller_tui.models import Staff

        row = s.execute(select(Staff).where(Staff.username == normalize_username(username))).scalar_one_or_none()
        if row is None:
            raise NotFound(_("No staff member is called {name}.").format(name=_printable(username)[:40]),
                           code="staff_not_found")
        return row


def _printable(text: str) -> str:
    return "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
