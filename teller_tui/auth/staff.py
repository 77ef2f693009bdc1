"""Staff accounts as the rest of the system sees them: read models, name rules, the store.

:class:`StaffView`, :class:`SignedIn` and :class:`TotpEnrolment` are what the auth services
return (never ORM rows). :class:`StaffStore` holds what both the administration
(:mod:`teller_tui.auth.admin`) and sign-in (:mod:`teller_tui.auth.service`) halves need: the
database, clock, settings, audit trail and the secret box for TOTP secrets.
"""

from __future__ import annotations

import getpass
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.audit.trail import Actor
from teller_tui.auth.roles import Role
from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.models import Staff

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database

__all__ = [
    "ISSUER",
    "LOCKOUT_MINUTES",
    "MAX_FAILED_ATTEMPTS",
    "SignedIn",
    "StaffStore",
    "StaffView",
    "TotpEnrolment",
    "clean_display_name",
    "failure_message",
    "normalize_username",
    "staff_view",
    "system_actor",
    "totp_context",
    "validate_username",
]

MAX_FAILED_ATTEMPTS = 10
LOCKOUT_MINUTES = 30
#: The issuer an authenticator app shows beside the account name.
ISSUER = "Teller"
DISPLAY_NAME_MAX = 80

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


def clean_display_name(raw: str) -> str:
    """A person's display name: cleaned (:func:`~teller_tui.common.text.clean_text`), 1-80 characters."""
    text = clean_text(raw)
    if not text:
        raise ValidationError(_("Enter the person's name."), code="display_name_empty")
    if len(text) > DISPLAY_NAME_MAX:
        raise ValidationError(_("The name is longer than 80 characters."), code="display_name_long")
    return text


def system_actor(settings: Settings) -> Actor:
    """The actor for commands run on the host (``teller staff ...``): the OS user, this terminal."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        who = "unknown"
    return Actor(staff_id=None, username=f"system:{who}"[:64], terminal_id=settings.terminal_id, role=Role.SYSTEM,
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


def staff_view(row: Staff) -> StaffView:
    assert row.id is not None
    return StaffView(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                     branch_code=row.branch_code, must_change_password=bool(row.must_change_password),
                     totp_active=row.totp_secret_enc is not None, totp_pending=row.totp_pending_enc is not None,
                     disabled=bool(row.disabled), failed_attempts=row.failed_attempts,
                     locked_until=row.locked_until, created_at=row.created_at,
                     password_changed_at=row.password_changed_at)


def totp_context(staff_id: int) -> str:
    """The secret box context of a person's TOTP secret (binds the ciphertext to the row)."""
    return f"staff:{staff_id}:totp"


class StaffStore:
    """What both halves of the auth service share: its dependencies and row look-ups."""

    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail,
                 secretbox: SecretBox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.audit = audit
        self.secretbox = secretbox  # reads its key file on first use, not when services are built

    @staticmethod
    def _require(actor: Actor, roles: Collection[str]) -> None:
        if actor.role not in roles:
            raise PermissionDenied(_("Your role cannot do this."), code="forbidden")

    @staticmethod
    def _row(s: Session, username: str) -> Staff:
        row: Staff | None = s.execute(
            select(Staff).where(col(Staff.username) == normalize_username(username))).scalar_one_or_none()
        if row is None:
            raise NotFound(_("No staff member is called {name}.").format(name=clean_text(username, limit=40)),
                           code="staff_not_found")
        return row
