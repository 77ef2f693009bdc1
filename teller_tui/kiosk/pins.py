"""Customer PINs at the kiosk: checking a sign-in attempt, counting wrong tries, locking, unlocking.

Public API::

    outcome = check_pin(session, customer, stored=hash, pin_ok=..., code=..., box=box, now=now)
    raise_for_outcome(outcome, lock_minutes=30)   # CodeRequired / PinLocked / AuthenticationFailed unless "ok"
    pins = CustomerPinService(db, clock, settings, audit, guard=guard, outbox=outbox)   # services.customer_pins
    pins.unlock_customer_pin(actor, customer_id)             # teller/supervisor/admin only

A customer who enrolled an authenticator needs the code as well as the PIN. Wrong tries are
counted and locked by :class:`~teller_tui.kiosk.guard.SignInGuard` (per number typed, known or
not, and per customer); a lock expires after ``kiosk_pin_lock_minutes`` or a teller lifts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlmodel import col

from teller_tui.auth import totp
from teller_tui.auth.roles import COUNTER_ROLES, require_role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.common.errors import AuthenticationFailed, NotFound
from teller_tui.common.i18n import _
from teller_tui.kiosk.guard import SignInGuard, locked_message
from teller_tui.models import Customer, Wallet
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.notify.outbox import Outbox


class CodeRequired(AuthenticationFailed):
    """The PIN was right and the customer has an authenticator: ask for the code."""


class PinLocked(AuthenticationFailed):
    """Too many wrong tries with one number: paused until the lock expires or a teller lifts it."""


def failure_message() -> str:
    """One message for every failed sign-in (nothing about which part was wrong)."""
    return _("Phone or wallet number, PIN or code not right. Please try again.")


def claim_totp_step(s: Session, customer_id: int, step: int) -> bool:
    """Record ``step`` as the customer's last used code; False when it (or a later one) was used."""
    result = s.execute(text("UPDATE customer SET totp_last_step = :s "
                            "WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :s)"),
                       {"s": step, "id": customer_id})
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def check_pin(s: Session, c: Customer, *, stored: str | None, pin_ok: bool, code: str | None, box: SecretBox,
              now: datetime) -> str:
    """The outcome of a sign-in attempt for customer ``c`` (locked for update by the caller's write):
    ``ok``, ``pin``/``code`` (wrong: the caller counts it, :class:`~teller_tui.kiosk.guard.SignInGuard`)
    or ``code_required`` (right PIN, authenticator enrolled, no code given: not counted).

    ``pin_ok`` is the PIN hash check, done before the transaction (argon2 is slow); ``stored`` the
    hash it was checked against, so a PIN changed in between counts as wrong."""
    assert c.id is not None
    if not pin_ok or c.pin_hash != stored:
        return "pin"
    if c.totp_secret_enc is not None and not (code or "").strip():
        return "code_required"
    if c.totp_secret_enc is not None:
        secret = box.decrypt(c.totp_secret_enc, context=f"customer:{c.id}:totp")
        step = totp.verify_totp(secret, code or "", now=now, last_step=c.totp_last_step)
        if step is None or not claim_totp_step(s, c.id, step):
            return "code"
    return "ok"


def raise_for_outcome(outcome: str, *, lock_minutes: int) -> None:
    """Nothing for ``ok``; the customer-facing refusal otherwise (the same for known and unknown numbers)."""
    if outcome == "code_required":
        raise CodeRequired(_("Enter the 6-digit code from your authenticator app."), code="kiosk_code")
    if outcome in ("locked", "locked_now"):
        raise PinLocked(locked_message(lock_minutes), code="kiosk_pin_locked")
    if outcome != "ok":
        raise AuthenticationFailed(failure_message(), code="kiosk_signin")


# -- the teller side: unlocking a PIN -----------------------------------------------------------------
class CustomerPinService:
    """What a teller does about kiosk PINs at the counter."""

    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *,
                 guard: SignInGuard, outbox: Outbox) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.guard, self.outbox = guard, outbox

    @guarded("customer_pins")
    def unlock_customer_pin(self, actor: Actor, customer_id: int) -> bool:
        """Clear the wrong-PIN counter and the lock; True when the PIN was locked."""
        require_role(actor, *COUNTER_ROLES)
        with self.db.write() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            was_locked, attempts = bool(c.pin_locked), int(c.pin_failed_attempts)
            c.pin_locked = False
            c.pin_failed_attempts = 0
            numbers = s.execute(select(col(Wallet.number)).where(col(Wallet.customer_id) == customer_id)).scalars()
            self.guard.clear_customer(s, customer_id, [c.phone or "", *numbers], self.clock.now())
            if was_locked:  # the customer hears of it (someone else may have asked)
                self.outbox.tell(s, "pin_unlock", key=f"{customer_id}:{self.clock.now().isoformat()}",
                                 customer_id=customer_id)
            self.audit.append(s, actor, "customer_pin_unlock", subject=c.customer_no,
                              detail={"was_locked": was_locked, "failed_attempts": attempts})
            return was_locked
