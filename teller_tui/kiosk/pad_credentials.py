"""The customer's part of a credential change on the paired customer display: a new PIN, an
authenticator app set up or removed (the teller starts it: :mod:`teller_tui.consent.credentials`).

Public API (the display's own kiosk identity and :class:`~teller_tui.kiosk.pinpad.PadLink`)::

    creds = PadCredentials(db, clock, settings, audit, box=box, guard=guard, outbox=outbox)  # services.pad_credentials
    creds.change_pin(actor, link, request_id, old_pin, new_pin, again)        # "pin_change"
    offer = creds.authenticator_offer(actor, link, request_id, pin)          # "totp_enrol": PIN, then secret, URI, QR
    creds.enrol_authenticator(actor, link, request_id, offer.secret, code)   # confirmed by one code
    creds.remove_authenticator(actor, link, request_id, pin)                 # "totp_remove"

The new PIN follows onboarding's rules (:func:`~teller_tui.wallets.identity.pins.validate_pin`) and
must differ from the old one, as at the kiosk (:mod:`teller_tui.kiosk.pin_change`). A wrong old PIN,
or a wrong PIN for a removal, is counted and locked on the customer's own counter with the kiosk's
guard (:func:`~teller_tui.kiosk.pinpad.counted_pin_check`); the try that reaches the limit ends the
request. An authenticator is offered only after the customer's PIN (counted the same way); its
secret is made here, kept encrypted on the request row (never chosen by the display: only a code
for the offered secret enrols it), shown only on the display, and moved to the customer only once
the customer typed one valid code from it: it never reaches the teller's screen. Everything is
audited (never a PIN, code or secret) and the customer is told (``pin_change_branch``, ``totp_enrol``, ``totp_remove``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from teller_tui.auth import passwords
from teller_tui.auth.permissions import guarded
from teller_tui.auth.qr import qr_text
from teller_tui.auth.roles import KIOSK_ROLE, require_role
from teller_tui.auth.totp import new_secret, provisioning_uri, verify_totp
from teller_tui.common.errors import AuthenticationFailed, Conflict, ValidationError
from teller_tui.common.i18n import _
from teller_tui.consent.scopes import consent_scope
from teller_tui.db.scopes import WriteScope
from teller_tui.kiosk.pinpad import counted_request_pin, open_request
from teller_tui.kiosk.pins import raise_for_outcome
from teller_tui.kiosk.scopes import kiosk_scope
from teller_tui.models import Customer
from teller_tui.wallets.identity.pins import validate_pin

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.kiosk.guard import SignInGuard
    from teller_tui.kiosk.pinpad import PadLink
    from teller_tui.notify.outbox import Outbox

__all__ = ["QR_ISSUER", "AuthenticatorOffer", "PadCredentials"]

#: The issuer the authenticator app shows next to the phone's last 4 digits ("Wallet (8000)").
QR_ISSUER = "Wallet"


@dataclass(frozen=True, slots=True)
class AuthenticatorOffer:
    """What the display shows to set up an authenticator app (nothing of it is stored yet)."""

    secret: str  # base32
    uri: str  # otpauth://totp/...
    qr: str  # the URI as a QR code in half-block characters (teller_tui.auth.qr)


def _offer_context(request_id: int) -> str:
    return f"consent:{request_id}:totp_offer"


class PadCredentials:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *, box: SecretBox,
                 guard: SignInGuard, outbox: Outbox) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.box, self.guard, self.outbox = box, guard, outbox

    def _customer(self, s: Session, customer_id: int) -> Customer:
        c: Customer = s.execute(select(Customer).where(col(Customer.id) == customer_id)).scalar_one()
        s.refresh(c)
        return c

    def _stored_pin(self, actor: Actor, link: PadLink, request_id: int, kind: str) -> tuple[int, str | None]:
        """The open request's customer and their PIN hash, read before argon2 runs (outside any transaction)."""
        with self.db.read() as s:
            row = open_request(s, actor, link, request_id, self.clock.now(), kind=kind)
            c = s.get(Customer, row.customer_id)
            assert c is not None
            return row.customer_id, c.pin_hash

    def _scope(self, actor: Actor, customer_id: int | None = None, *, request_id: int | None = None) -> WriteScope:
        """The display's stream, the customer (or the request's) and their wrong-PIN counter: not the bank."""
        if customer_id is None:
            return consent_scope(actor, request_id=request_id)
        return kiosk_scope(actor, customer_id, self.guard.keys("", customer_id)[1:])

    def _count(self, s: Session, row: Any, c: Customer, **check: Any) -> tuple[str, int]:
        return counted_request_pin(s, row, c, guard=self.guard, box=self.box, outbox=self.outbox, **check)

    @guarded("pad_credentials")
    def change_pin(self, actor: Actor, link: PadLink, request_id: int, old_pin: str, new_pin: str,
                   again: str) -> None:
        """ValidationError (new PIN refused, not counted), AuthenticationFailed (old PIN wrong, counted),
        PinLocked (the request ends)."""
        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            row = open_request(s, actor, link, request_id, self.clock.now(), kind="pin_change")
            customer_id = row.customer_id
            c = s.get(Customer, customer_id)
            assert c is not None
            stored, birth, phone = c.pin_hash, c.birth_date, c.phone
        if new_pin != again:
            raise ValidationError(_("The two PINs are not the same"), code="pin_mismatch")
        validate_pin(new_pin, birth_date=birth, phone=phone)
        if new_pin == old_pin:
            raise ValidationError(_("The new PIN must be different from the old one"), code="pin_unchanged")
        pin_ok = passwords.verify_pin(stored, old_pin or "")  # argon2 outside any transaction
        new_hash = passwords.hash_pin(new_pin) if pin_ok else None
        now = self.clock.now()
        with self.db.write(self._scope(actor, customer_id)) as s:
            row = open_request(s, actor, link, request_id, now, kind="pin_change")
            c = self._customer(s, customer_id)
            outcome, failures = self._count(s, row, c, stored=stored, pin_ok=pin_ok, now=now)
            if outcome == "ok" and new_hash is not None:
                c.pin_hash = new_hash
                row.status, row.method, row.decided_at = "done", "pin", now
                self.outbox.tell(s, "pin_change_branch", key=f"consent:{request_id}", customer_id=customer_id)
            self.audit.append(s, actor, "customer_pin_change", subject=c.customer_no,
                              outcome="ok" if outcome == "ok" else "fail",
                              detail={"consent_id": request_id, "terminal": link.terminal_id, "reason": outcome,
                                      "failed_attempts": failures, "started_by": row.staff_id})
        self._raise(outcome, _("The old PIN is not right. Please try again."), "pad_old_pin")

    def _raise(self, outcome: str, wrong: str, code: str) -> None:
        if outcome in ("locked", "locked_now"):
            raise_for_outcome(outcome, lock_minutes=self.settings.kiosk_pin_lock_minutes)
        if outcome != "ok":
            raise AuthenticationFailed(wrong, code=code)

    @guarded("pad_credentials")
    def authenticator_offer(self, actor: Actor, link: PadLink, request_id: int, pin: str) -> AuthenticatorOffer:
        """The customer's PIN first (counted and locked as everywhere), then a secret made here: kept
        (encrypted) on the request, so only a code for it can enrol (the display never chooses it)."""
        require_role(actor, KIOSK_ROLE)
        customer_id, stored = self._stored_pin(actor, link, request_id, "totp_enrol")
        pin_ok = passwords.verify_pin(stored, pin or "")  # argon2 outside any transaction
        now = self.clock.now()
        secret = ""
        with self.db.write(self._scope(actor, customer_id)) as s:
            row = open_request(s, actor, link, request_id, now, kind="totp_enrol")
            c = self._customer(s, customer_id)
            outcome, failures = self._count(s, row, c, stored=stored, pin_ok=pin_ok, now=now)
            if outcome == "ok":
                context = _offer_context(request_id)
                secret = self.box.decrypt(row.offer_enc, context=context) if row.offer_enc else new_secret()
                row.offer_enc = self.box.encrypt(secret, context=context)
            phone = c.phone
            self.audit.append(s, actor, "customer_totp_offer", subject=c.customer_no,
                              outcome="ok" if outcome == "ok" else "fail",
                              detail={"consent_id": request_id, "terminal": link.terminal_id, "reason": outcome,
                                      "failed_attempts": failures, "started_by": row.staff_id})
        self._raise(outcome, _("PIN not right. Please try again."), "consent_pin")
        # Short and ASCII: the QR code stays at version 5 (41 modules with its quiet zone, 21 text rows),
        # which fits an 80x24 display; a Chinese issuer, percent-encoded, would need 27 rows.
        uri = provisioning_uri(secret, (phone or "")[-4:] or "wallet", QR_ISSUER)
        return AuthenticatorOffer(secret, uri, qr_text(uri))

    @guarded("pad_credentials")
    def enrol_authenticator(self, actor: Actor, link: PadLink, request_id: int, secret: str, code: str) -> None:
        """Store the offered authenticator once a code from it is right (a wrong code is refused, not
        counted). ``secret`` must be the one :meth:`authenticator_offer` made for this request (the
        display shows it back; any other is refused): the code is checked against the stored one."""
        require_role(actor, KIOSK_ROLE)
        now = self.clock.now()
        with self.db.read() as s:
            row = open_request(s, actor, link, request_id, now, kind="totp_enrol")
            offered = self.box.decrypt(row.offer_enc, context=_offer_context(request_id)) if row.offer_enc else ""
        if not offered:
            raise Conflict(_("The customer types the PIN on the display first."), code="totp_no_offer")
        same = hmac.compare_digest((secret or "").strip().upper().encode(), offered.upper().encode())
        step = verify_totp(offered, code or "", now=now, last_step=None) if same else None
        with self.db.write(self._scope(actor, request_id=request_id)) as s:
            row = open_request(s, actor, link, request_id, now, kind="totp_enrol")
            c = self._customer(s, row.customer_id)
            if c.totp_secret_enc is not None:
                raise Conflict(_("The customer already has an authenticator: remove it first."),
                               code="totp_enrolled")
            if step is not None:
                c.totp_secret_enc = self.box.encrypt(offered, context=f"customer:{c.id}:totp")
                c.totp_last_step = step  # the confirming code cannot sign in afterwards
                row.status, row.method, row.decided_at, row.offer_enc = "done", "totp", now, None
                self.outbox.tell(s, "totp_enrol", key=f"consent:{request_id}", customer_id=row.customer_id)
            self.audit.append(s, actor, "customer_totp_enrol", subject=c.customer_no,
                              outcome="ok" if step is not None else "fail",
                              detail={"consent_id": request_id, "terminal": link.terminal_id,
                                      "started_by": row.staff_id,
                                      "reason": "" if step is not None else ("code" if same else "not_offered")})
        if not same:
            raise ValidationError(_("This is not the authenticator offered on the display: scan the code shown."),
                                  code="totp_not_offered")
        if step is None:
            raise ValidationError(_("That code is not right. Type the newest 6-digit code the app shows."),
                                  code="totp_code")

    @guarded("pad_credentials")
    def remove_authenticator(self, actor: Actor, link: PadLink, request_id: int, pin: str) -> None:
        """The customer's PIN removes their authenticator (wrong PINs count and lock as everywhere)."""
        require_role(actor, KIOSK_ROLE)
        customer_id, stored = self._stored_pin(actor, link, request_id, "totp_remove")
        pin_ok = passwords.verify_pin(stored, pin or "")
        now = self.clock.now()
        with self.db.write(self._scope(actor, customer_id)) as s:
            row = open_request(s, actor, link, request_id, now, kind="totp_remove")
            c = self._customer(s, customer_id)
            outcome, failures = self._count(s, row, c, stored=stored, pin_ok=pin_ok, now=now)
            if outcome == "ok":
                c.totp_secret_enc, c.totp_last_step = None, None
                row.status, row.method, row.decided_at = "done", "pin", now
                self.outbox.tell(s, "totp_remove", key=f"consent:{request_id}", customer_id=customer_id)
            self.audit.append(s, actor, "customer_totp_remove", subject=c.customer_no,
                              outcome="ok" if outcome == "ok" else "fail",
                              detail={"method": "pin", "consent_id": request_id, "terminal": link.terminal_id,
                                      "reason": outcome, "failed_attempts": failures, "started_by": row.staff_id})
        self._raise(outcome, _("PIN not right. Please try again."), "consent_pin")
