"""A customer changes their own wallet PIN at the kiosk: the old PIN, the new one twice.

Public API::

    change = KioskPinChange(db, clock, settings, audit, kiosk=kiosk, box=box, guard=guard, outbox=outbox)
    change.change_pin(actor, session, old_pin, new_pin, again)    # services.kiosk_pin_change

The new PIN follows onboarding's rules (:func:`teller_tui.wallets.identity.pins.validate_pin`: six
digits, not easy to guess, not the birth date or the mobile number's tail) and must differ from the
old one; those refusals are not counted. A wrong old PIN is counted by the kiosk's
:class:`~teller_tui.kiosk.guard.SignInGuard` on the customer's own counter, the one sign-in uses, and
checked by :func:`~teller_tui.kiosk.pins.check_pin`: the try that reaches the limit locks the PIN,
ends the session and tells the customer (``pin_lock``). A changed PIN is audited
(``kiosk_pin_change``, never the PIN) and the customer is told (``pin_change``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.auth import passwords
from teller_tui.auth.permissions import guarded
from teller_tui.common.errors import AuthenticationFailed, NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.kiosk.pins import check_pin, raise_for_outcome
from teller_tui.kiosk.scopes import kiosk_scope
from teller_tui.models import Customer
from teller_tui.wallets.identity.pins import validate_pin

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.kiosk.guard import SignInGuard
    from teller_tui.kiosk.service import KioskService
    from teller_tui.kiosk.views import KioskSession
    from teller_tui.notify.outbox import Outbox

__all__ = ["KioskPinChange"]


class KioskPinChange:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *, kiosk: KioskService,
                 box: SecretBox, guard: SignInGuard, outbox: Outbox) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.kiosk, self.box, self.guard, self.outbox = kiosk, box, guard, outbox

    @guarded("kiosk_pin_change")
    def change_pin(self, actor: Actor, session: KioskSession, old_pin: str, new_pin: str, again: str) -> None:
        """Set the signed-in customer's new PIN, or raise: ValidationError (new PIN refused, not counted),
        AuthenticationFailed (old PIN wrong, counted), PinLocked (the session is ended too)."""
        session = self.kiosk.live_session(actor, session)  # role, this kiosk, signed in, not idle
        customer_id = session.customer_id
        with self.db.read() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            stored = c.pin_hash
            birth, phone = c.birth_date, c.phone
        if new_pin != again:
            raise ValidationError(_("The two PINs are not the same"), code="pin_mismatch")
        validate_pin(new_pin, birth_date=birth, phone=phone)
        if new_pin == old_pin:
            raise ValidationError(_("The new PIN must be different from the old one"), code="pin_unchanged")
        pin_ok = passwords.verify_pin(stored, old_pin or "")  # argon2 outside any transaction
        new_hash = passwords.hash_pin(new_pin) if pin_ok else None
        keys = self.guard.keys("", customer_id)[1:]  # the customer's own counter, shared with sign-in
        now = self.clock.now()
        with self.db.write(kiosk_scope(actor, customer_id, keys)) as s:  # not the bank-wide key
            c = s.execute(select(Customer).where(col(Customer.id) == customer_id)).scalar_one()
            s.refresh(c)
            if self.guard.locked(s, keys, now):
                outcome = "locked"
            else:  # signed in already (with the code where enrolled): only the old PIN is asked
                outcome = check_pin(s, c, stored=stored, pin_ok=pin_ok, code=None, box=self.box, now=now)
                outcome = "ok" if outcome == "code_required" else outcome
            failures = 0
            if outcome in ("pin", "code"):
                locked_now, failures = self.guard.fail(s, keys, now)
                outcome = "locked_now" if locked_now else outcome
                c.pin_failed_attempts = max(failures, c.pin_failed_attempts)
            if outcome in ("locked", "locked_now"):
                c.pin_locked = True
            if outcome == "locked_now":
                self.outbox.tell(s, "pin_lock", key=f"{customer_id}:{now.isoformat()}", customer_id=customer_id)
            if outcome == "ok" and new_hash is not None:
                self.guard.succeed(s, keys, now)
                c.pin_hash, c.pin_failed_attempts, c.pin_locked = new_hash, 0, False
                self.outbox.tell(s, "pin_change", key=f"{customer_id}:{now.isoformat()}", customer_id=customer_id)
            self.audit.append(s, actor, "kiosk_pin_change", subject=c.customer_no,
                              outcome="ok" if outcome == "ok" else "fail",
                              detail={"reason": outcome, "failed_attempts": failures})
        if outcome in ("locked", "locked_now"):
            self.kiosk.sign_out(actor, session)
            raise_for_outcome(outcome, lock_minutes=self.settings.kiosk_pin_lock_minutes)
        if outcome != "ok":
            raise AuthenticationFailed(_("The old PIN is not right. Please try again."), code="kiosk_old_pin")
