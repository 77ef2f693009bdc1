"""The customer display at the counter (``teller pinpad --pair T01``): pairing, the PIN, a new PIN.

Public API (every method takes the display's own kiosk identity, ``kiosk.ensure_identity("PAD-T01")``)::

    pad = PinpadService(db, clock, settings, audit, box=box, guard=guard, outbox=outbox)   # services.pinpad
    link = pad.pair(actor, "T01", "123456")        # PadLink: the code shown on the teller's screen
    prompt = pad.prompt(actor, link)               # ConsentPrompt of the terminal's open request, or None
    pad.answer(actor, link, prompt.request_id, "135790")   # the customer's PIN (raises when wrong/locked)
    pad.decline(actor, link, prompt.request_id)    # the customer says no
    pad.set_new_pin(actor, link, prompt.request_id, new, again)   # a PIN reset started at the counter

A display answers only for the terminal it is paired with (the pairing's secret token, held in the
display process's memory, and the display's identity both have to match). Wrong PINs are counted
and locked by the kiosk's :class:`~teller_tui.kiosk.guard.SignInGuard` and checked by
:func:`~teller_tui.kiosk.pins.check_pin`: one owner of PIN checks and lockout for every channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlmodel import col

from teller_tui.auth import passwords
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import KIOSK_ROLE, require_role
from teller_tui.common.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from teller_tui.common.money import Money, parse_money
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_name
from teller_tui.consent.scopes import consent_scope
from teller_tui.consent.service import active_pairing, code_hash
from teller_tui.consent.spec import CREDENTIAL_KINDS
from teller_tui.kiosk.pins import check_pin, raise_for_outcome
from teller_tui.kiosk.scopes import kiosk_scope
from teller_tui.models import ConsentRequest, Customer, PinpadPairing, Wallet
from teller_tui.wallets.identity.pins import validate_pin

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.kiosk.guard import SignInGuard
    from teller_tui.notify.outbox import Outbox

__all__ = ["PAIRING_ATTEMPTS", "ConsentPrompt", "PadLink", "PinpadService", "code_threshold", "counted_pin_check",
           "open_request", "paired_row"]

PAIRING_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class PadLink:
    """A display's pairing: the terminal it serves and the secret only this display process holds."""

    terminal_id: str
    token: str


@dataclass(frozen=True, slots=True)
class ConsentPrompt:
    request_id: int
    kind: str
    locale: str
    customer: str  # masked
    summary: dict[str, Any]
    code_needed: bool = False  # the customer's authenticator code too (high value, authenticator set up)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



def paired_row(s: Session, actor: Actor, link: PadLink) -> PinpadPairing:
    """The display's active pairing, or PermissionDenied: its identity and secret token must both match."""
    row = active_pairing(s, link.terminal_id)
    if (row is None or row.display_staff_id != actor.staff_id
            or not hmac.compare_digest(row.display_token_hash, _token_hash(link.token))):
        raise PermissionDenied(_("This display is not paired with that terminal. Pair it again."),
                               code="pinpad_not_paired")
    return row


def open_request(s: Session, actor: Actor, link: PadLink, request_id: int, now: datetime,
                 kind: str | None = None) -> ConsentRequest:
    """The paired terminal's open request ``request_id`` (of ``kind`` when given), or a refusal."""
    paired_row(s, actor, link)
    row = s.get(ConsentRequest, request_id)
    if row is not None:
        s.refresh(row)
    if row is None or row.terminal_id != link.terminal_id:
        raise PermissionDenied(_("This display is not paired with that terminal. Pair it again."),
                               code="pinpad_not_paired")
    if row.status != "pending" or row.expires_at <= now:
        raise Conflict(_("This request is no longer open."), code="consent_closed")
    if kind is not None and row.kind != kind:
        raise Conflict(_("This request is not for that."), code="consent_kind")
    return row


def counted_pin_check(s: Session, c: Customer, *, guard: SignInGuard, box: SecretBox, outbox: Outbox,
                      stored: str | None, pin_ok: bool, now: datetime, code: str | None = None,
                      want_code: bool = False) -> tuple[str, int]:
    """The customer's PIN typed on the display, counted and locked with the kiosk's guard (the
    customer's own counter): ``(outcome, failures)``, outcome ``ok``, ``pin``, ``code``, ``locked``,
    ``locked_now`` or ``code_required`` (right PIN, no code given: not counted). The authenticator's
    code is asked only when ``want_code`` (a high-value consent) and the customer has one."""
    assert c.id is not None
    keys = guard.keys("", c.id)[1:]
    if guard.locked(s, keys, now):
        outcome = "locked"
    else:
        outcome = check_pin(s, c, stored=stored, pin_ok=pin_ok, code=code if want_code else None, box=box, now=now)
        if outcome == "code_required" and not want_code:
            outcome = "ok"
    failures = 0
    if outcome in ("pin", "code"):
        locked_now, failures = guard.fail(s, keys, now)
        outcome = "locked_now" if locked_now else outcome
    elif outcome == "ok":
        guard.succeed(s, keys, now)
    if outcome == "code_required":
        return outcome, 0
    c.pin_failed_attempts = 0 if outcome == "ok" else max(failures, c.pin_failed_attempts)
    c.pin_locked = outcome in ("locked", "locked_now")
    if outcome == "locked_now":
        outbox.tell(s, "pin_lock", key=f"{c.id}:{now.isoformat()}", customer_id=c.id)
    return outcome, failures


def counted_request_pin(s: Session, row: Any, c: Customer, **check: Any) -> tuple[str, int]:
    """:func:`counted_pin_check` for a display request ``row``: a wrong PIN or code counts on the
    request too, and a lock (already there, or reached now) ends it."""
    outcome, failures = counted_pin_check(s, c, **check)
    if outcome in ("pin", "code", "locked_now"):
        row.pin_failures += 1
    if outcome in ("locked", "locked_now"):
        row.status, row.decided_at = "refused", check["now"]
    return outcome, failures


def code_threshold(settings: Settings, currency: str) -> Money | None:
    """The amount from which a counter cash-out or transfer in ``currency`` also needs the customer's
    authenticator code: ``consent_code_from`` for CNY, ``consent_code_from_currencies[currency]`` for
    another (each in its own currency, never a yuan figure read as another currency's units). None when
    none is set or it does not parse: then every such amount asks for the code (fails closed)."""
    raw = settings.consent_code_from if currency == "CNY" else settings.consent_code_from_currencies.get(currency)
    if raw is None:
        return None
    try:
        return parse_money(str(raw), currency, allow_zero=True)
    except (ValidationError, ValueError):
        return None


class PinpadService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *, box: SecretBox,
                 guard: SignInGuard, outbox: Outbox) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.box, self.guard, self.outbox = box, guard, outbox

    @guarded("pinpad")
    def pair(self, actor: Actor, terminal_id: str, code: str) -> PadLink:
        require_role(actor, KIOSK_ROLE)
        terminal_id, now = terminal_id.strip()[:32], self.clock.now()
        token = secrets.token_urlsafe(24)
        with self.db.write() as s:
            row = s.execute(select(PinpadPairing).where(col(PinpadPairing.terminal_id) == terminal_id,
                                                        col(PinpadPairing.status) == "pending")
                            .order_by(col(PinpadPairing.id).desc())).scalars().first()
            ok = (row is not None and row.expires_at > now
                  and hmac.compare_digest(row.code_hash, code_hash(code, row.salt)))
            if row is not None and not ok:
                row.attempts += 1
                if row.attempts >= PAIRING_ATTEMPTS or row.expires_at <= now:
                    row.status, row.ended_at = "ended", now
            if ok and row is not None:
                # A display serves one terminal, a terminal has one display.
                s.execute(update(PinpadPairing).where(col(PinpadPairing.status) == "active").where(
                    (col(PinpadPairing.terminal_id) == terminal_id)
                    | (col(PinpadPairing.display_staff_id) == actor.staff_id)).values(status="ended", ended_at=now))
                row.status, row.paired_at, row.display_staff_id = "active", now, actor.staff_id
                row.display_token_hash = _token_hash(token)
            self.audit.append(s, actor, "pinpad_pair", subject=terminal_id, outcome="ok" if ok else "fail")
        if not ok:
            raise AuthenticationFailed(_("That pairing code is not right or has expired. Ask the teller for a "
                                         "new one."), code="pinpad_pair")
        return PadLink(terminal_id, token)

    def _paired(self, s: Session, actor: Actor, link: PadLink) -> PinpadPairing:
        return paired_row(s, actor, link)

    def _open_request(self, s: Session, actor: Actor, link: PadLink, request_id: int) -> ConsentRequest:
        return open_request(s, actor, link, request_id, self.clock.now())

    @guarded("pinpad")
    def prompt(self, actor: Actor, link: PadLink) -> ConsentPrompt | None:
        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            self._paired(s, actor, link)
            row = s.execute(select(ConsentRequest).where(
                col(ConsentRequest.terminal_id) == link.terminal_id, col(ConsentRequest.status) == "pending",
                col(ConsentRequest.expires_at) > self.clock.now()).order_by(col(ConsentRequest.id).desc())
            ).scalars().first()
            if row is None:
                return None
            c = s.get(Customer, row.customer_id)
            summary = json.loads(row.summary_json or "{}")
            return ConsentPrompt(int(row.id or 0), row.kind, row.locale or self.settings.locale,
                                 mask_name(c.full_name if c else ""), summary,
                                 code_needed=bool(c is not None and c.totp_secret_enc is not None
                                                  and self._high_value(row.kind, summary)))

    def _high_value(self, kind: str, summary: dict[str, Any]) -> bool:
        """A cash-out or transfer from its currency's threshold (:func:`code_threshold`): the
        authenticator's code is asked too."""
        if kind not in ("cash_out", "transfer") or summary.get("amount") is None:
            return False
        currency = str(summary.get("currency") or "CNY")
        limit = code_threshold(self.settings, currency)
        if limit is None:  # no threshold for this currency (or a bad one): the code is always asked
            return True
        return limit.currency == currency and int(summary["amount"]) >= limit.minor

    @guarded("pinpad")
    def answer(self, actor: Actor, link: PadLink, request_id: int, pin: str, code: str | None = None) -> None:
        """The customer's PIN (and, for a high-value cash-out or transfer of a customer with an authenticator
        app, its code): the request is granted, or the refusal is raised (wrong PINs and codes count and lock;
        ``CodeRequired`` when the code is missing)."""
        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            row = self._open_request(s, actor, link, request_id)
            if row.kind in CREDENTIAL_KINDS:  # each has its own step (a new PIN, a code, removal)
                raise Conflict(_("This request is not for that."), code="consent_kind")
            customer_id = row.customer_id
            c = s.get(Customer, customer_id)
            stored = c.pin_hash if c else None
            want_code = self._high_value(row.kind, json.loads(row.summary_json or "{}"))
        pin_ok = passwords.verify_pin(stored, pin or "")  # argon2 outside any transaction
        now = self.clock.now()
        # The display's stream, the customer and their own wrong-PIN counter: not the bank-wide key.
        with self.db.write(kiosk_scope(actor, customer_id, self.guard.keys("", customer_id)[1:])) as s:
            row = self._open_request(s, actor, link, request_id)
            c = s.execute(select(Customer).where(col(Customer.id) == customer_id)).scalar_one()
            s.refresh(c)
            # the customer's own counter, shared with the kiosk
            outcome, failures = counted_request_pin(s, row, c, guard=self.guard, box=self.box, outbox=self.outbox,
                                                    stored=stored, pin_ok=pin_ok, now=now, code=code,
                                                    want_code=want_code)
            if outcome == "code_required":
                raise_for_outcome(outcome, lock_minutes=self.settings.kiosk_pin_lock_minutes)  # nothing written
            if outcome == "ok":
                row.status, row.method, row.decided_at = "granted", "pin", now
            self.audit.append(s, actor, "consent_pin", subject=c.customer_no, outcome="ok" if outcome == "ok" else "fail",
                              detail={"consent_id": request_id, "kind": row.kind, "terminal": link.terminal_id,
                                      "reason": outcome, "failed_attempts": failures,
                                      "authenticator": want_code and c.totp_secret_enc is not None})
        if outcome != "ok":
            if outcome in ("locked", "locked_now"):
                raise_for_outcome(outcome, lock_minutes=self.settings.kiosk_pin_lock_minutes)
            if outcome == "code":
                raise AuthenticationFailed(_("PIN or code not right. Please try again."), code="consent_code")
            raise AuthenticationFailed(_("PIN not right. Please try again."), code="consent_pin")

    @guarded("pinpad")
    def decline(self, actor: Actor, link: PadLink, request_id: int) -> None:
        require_role(actor, KIOSK_ROLE)
        with self.db.write(consent_scope(actor, request_id=request_id)) as s:  # the display's stream, the customer
            row = self._open_request(s, actor, link, request_id)
            row.status, row.decided_at = "refused", self.clock.now()
            self.audit.append(s, actor, "consent_decline", subject=str(request_id), outcome="fail")

    @guarded("pinpad")
    def set_new_pin(self, actor: Actor, link: PadLink, request_id: int, pin: str, again: str) -> None:
        """A PIN reset the teller started after an ID check: the customer types the new PIN twice."""
        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            row = self._open_request(s, actor, link, request_id)
            if row.kind != "pin_reset" or row.method != "id_check" or not row.document_last4:
                # only ConsentService.begin_pin_reset makes these, after the teller's ID check
                raise Conflict(_("This request is not a PIN reset."), code="consent_kind")
            c = s.get(Customer, row.customer_id)
            assert c is not None
            validate_pin(pin, birth_date=c.birth_date, phone=c.phone)
        if pin != again:
            raise ValidationError(_("The two PINs are not the same"), code="pin_mismatch")
        new_hash = passwords.hash_pin(pin)
        with self.db.write() as s:
            row = self._open_request(s, actor, link, request_id)
            c = s.execute(select(Customer).where(col(Customer.id) == row.customer_id)).scalar_one()
            c.pin_hash, c.pin_locked, c.pin_failed_attempts = new_hash, False, 0
            numbers = s.execute(select(col(Wallet.number)).where(col(Wallet.customer_id) == c.id)).scalars()
            self.guard.clear_customer(s, int(c.id or 0), [c.phone or "", *numbers], self.clock.now())
            row.status, row.decided_at = "done", self.clock.now()
            self.outbox.tell(s, "pin_reset", key=f"consent:{request_id}", customer_id=int(c.id or 0))
            self.audit.append(s, actor, "customer_pin_reset", subject=c.customer_no,
                              detail={"consent_id": request_id, "terminal": link.terminal_id,
                                      "id_checked_by": row.staff_id})
