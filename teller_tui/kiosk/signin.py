"""One kiosk sign-in attempt, checked the same way whether the number typed is known or not.

See :mod:`teller_tui.kiosk.guard` for the counting, the lock and its expiry, the pace and the throttle;
:func:`check_sign_in` is what :meth:`teller_tui.kiosk.service.KioskService.sign_in` runs (paced).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.auth import passwords
from teller_tui.common.errors import AuthenticationFailed
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_name
from teller_tui.kiosk.lookup import find_sign_in
from teller_tui.kiosk.pins import check_pin, raise_for_outcome
from teller_tui.kiosk.scopes import kiosk_scope
from teller_tui.models import Customer

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.kiosk.guard import SignInGuard, TerminalThrottle
    from teller_tui.notify.outbox import Outbox

__all__ = ["check_sign_in"]


def check_sign_in(db: Database, clock: Clock, settings: Settings, audit: AuditTrail, box: SecretBox,
                  guard: SignInGuard, throttle: TerminalThrottle, actor: Actor, identifier: str, pin: str,
                  code: str | None, *, outbox: Outbox) -> tuple[int, tuple[int, ...], str, datetime]:
    """One sign-in attempt: (customer id, wallet ids, masked name, when) or the refusal raised.
    The attempt that locks the PIN tells the customer (``pin_lock``) in the same transaction."""
    if not throttle.allow(actor.terminal_id):
        with db.write(kiosk_scope(actor)) as s:
            audit.append(s, actor, "kiosk_sign_in", subject="", outcome="fail", detail={"reason": "throttled"})
        raise AuthenticationFailed(_("Too many tries at this kiosk. Please wait a minute and try again."),
                                   code="kiosk_throttled")
    with db.read() as s:
        found = find_sign_in(s, identifier)
        customer_id = found[0].id if found and found[1] else None
        stored = found[0].pin_hash if found else None
        wallet_ids = found[1] if found else ()
    pin_ok = passwords.verify_pin(stored, pin or "")  # argon2 outside any transaction
    if stored is None:
        passwords.verify_secret(None, pin or "")  # same work as a real check
    keys = guard.keys(identifier, customer_id)
    now = clock.now()
    name_masked, subject = "", ""
    # The kiosk's stream, the customer and the guard counters of this number: not the bank-wide key.
    with db.write(kiosk_scope(actor, customer_id, keys)) as s:
        c = None
        if customer_id is not None:
            c = s.execute(select(Customer).where(col(Customer.id) == customer_id)).scalar_one()
            s.refresh(c)
            subject = c.customer_no
        if guard.locked(s, keys, now):
            outcome = "locked"
        elif c is None:
            outcome = "pin"  # an unknown number is a wrong PIN, counted alike
        else:
            outcome = check_pin(s, c, stored=stored, pin_ok=pin_ok, code=code, box=box, now=now)
        failures = 0
        if outcome in ("pin", "code"):
            locked_now, failures = guard.fail(s, keys, now)
            outcome = "locked_now" if locked_now else outcome
        elif outcome == "ok":
            guard.succeed(s, keys, now)
        if c is not None and outcome != "code_required":
            # Mirrored on the customer for the teller's profile (the guard decides).
            c.pin_failed_attempts = 0 if outcome == "ok" else max(failures, c.pin_failed_attempts)
            c.pin_locked = outcome in ("locked", "locked_now")
            name_masked = mask_name(c.full_name)
            if outcome == "locked_now" and c.id is not None:
                outbox.tell(s, "pin_lock", key=f"{c.id}:{now.isoformat()}", customer_id=c.id)
        if outcome != "code_required":
            audit.append(s, actor, "kiosk_sign_in", subject=subject,
                         outcome="ok" if outcome == "ok" else "fail",
                         detail={"reason": outcome if c is not None else f"unknown_{outcome}",
                                 "failed_attempts": failures})
    raise_for_outcome(outcome, lock_minutes=settings.kiosk_pin_lock_minutes)
    assert customer_id is not None
    return int(customer_id), wallet_ids, name_masked, now
