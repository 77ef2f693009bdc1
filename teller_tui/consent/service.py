"""The teller's side of the customer's consent, of customer-display pairing and of a PIN reset.

Public API::

    svc = ConsentService(db, clock, audit, approvals=gate)        # services.consent
    code = svc.start_pairing(actor)              # a one-time code to type on the customer display
    svc.display_paired(actor)                    # True when a display serves this terminal now
    svc.unpair(actor)
    ticket = svc.request(actor, what)             # ConsentTicket: the display shows it and takes the PIN
    st = svc.status(actor, ticket.request_id)    # ConsentStatus (pending, granted, refused ...)
    svc.record_id_check(actor, request_id, document_seen=True, id_digits="19900307")   # the other path
    svc.cancel(actor, request_id)
    ticket = svc.begin_pin_reset(actor, customer_id, document_seen=True, id_digits="19900307",
                                 approval_id=None)  # the hidden part of the number; a supervisor approves
    svc.set_policy(actor, pin_required=True, reason="...")       # supervisor; svc.policy(actor)
    view = svc.policy_view(actor)                # PolicyView: required?, why, by whom, when

The ID re-check: the teller has seen the customer's document and types the characters of its number
that the teller's screens star (a resident ID's 8 birth-date digits:
:func:`~teller_tui.common.masks.hidden_document_part`), read off the document; the last 4, which every
masked number shows, do not count. It is the PIN reset's check (:mod:`teller_tui.consent.id_check`):
a wrong number is refused and audited, and after :data:`~teller_tui.consent.id_check.ID_CHECK_LIMIT`
failures in a day every ID check of the customer is refused. The PIN itself is only ever typed on the
display (:mod:`teller_tui.kiosk.pinpad`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlmodel import col

from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES, require_role
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.text import clean_text
from teller_tui.consent.gate import pin_required
from teller_tui.consent.id_check import CredentialApprovals, credential_id_check
from teller_tui.consent.scopes import consent_scope
from teller_tui.consent.spec import CONSENT_KINDS, CREDENTIAL_KINDS, ConsentSpec, ConsentStatus, ConsentTicket, PolicyView
from teller_tui.models import ConsentPolicy, ConsentRequest, Customer, PinpadPairing, Staff
from teller_tui.models.cases import CustomerNeeds

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database

__all__ = ["PAIRING_MINUTES", "REQUEST_MINUTES", "ConsentService", "active_pairing", "code_hash", "last4_of",
           "new_request"]

PAIRING_MINUTES = 5
REQUEST_MINUTES = 5


def code_hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code.strip()}".encode()).hexdigest()


def last4_of(document_number: str | None) -> str:
    clean = "".join(ch for ch in (document_number or "") if ch.isalnum()).upper()
    return clean[-4:]


def active_pairing(s: Session, terminal_id: str) -> PinpadPairing | None:
    return s.execute(select(PinpadPairing).where(col(PinpadPairing.terminal_id) == terminal_id,
                                                 col(PinpadPairing.status) == "active")).scalars().first()



def new_request(s: Session, actor: Actor, spec: ConsentSpec, now: datetime) -> ConsentRequest:
    """A new pending request at the actor's terminal (an older pending one there is cancelled: one at a time)."""
    s.execute(update(ConsentRequest).where(col(ConsentRequest.terminal_id) == actor.terminal_id,
                                           col(ConsentRequest.status) == "pending")
              .values(status="cancelled", decided_at=now))
    lang = s.execute(select(col(CustomerNeeds.preferred_language)).where(
        col(CustomerNeeds.customer_id) == spec.customer_id)).scalar() or ""
    locale = "zh_CN" if lang.lower().startswith("zh") else ("en" if lang.lower().startswith("en") else "")
    row = ConsentRequest(terminal_id=actor.terminal_id, branch_code=actor.branch_code, staff_id=actor.staff_id,
                         customer_id=spec.customer_id, wallet_id=spec.wallet_id, kind=spec.kind,
                         request_hash=spec.digest(), summary_json=json.dumps(spec.summary(), ensure_ascii=False),
                         locale=locale, created_at=now, expires_at=now + timedelta(minutes=REQUEST_MINUTES))
    s.add(row)
    s.flush()
    return row


class ConsentService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, approvals: CredentialApprovals) -> None:
        self.db, self.clock, self.audit, self.approvals = db, clock, audit, approvals

    # -- pairing a customer display ---------------------------------------------------------------
    @guarded("consent")
    def start_pairing(self, actor: Actor) -> str:
        require_role(actor, *COUNTER_ROLES)
        code, salt, now = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(8), self.clock.now()
        with self.db.write() as s:
            s.execute(update(PinpadPairing).where(col(PinpadPairing.terminal_id) == actor.terminal_id,
                                                  col(PinpadPairing.status) == "pending")
                      .values(status="ended", ended_at=now))
            s.add(PinpadPairing(terminal_id=actor.terminal_id, code_hash=code_hash(code, salt), salt=salt,
                                created_by=actor.staff_id, created_at=now,
                                expires_at=now + timedelta(minutes=PAIRING_MINUTES)))
            self.audit.append(s, actor, "pinpad_pairing_start", subject=actor.terminal_id)
        return code

    @guarded("consent")
    def display_paired(self, actor: Actor) -> bool:
        with self.db.read() as s:
            return active_pairing(s, actor.terminal_id) is not None

    @guarded("consent")
    def unpair(self, actor: Actor) -> bool:
        with self.db.write() as s:
            row = active_pairing(s, actor.terminal_id)
            if row is None:
                return False
            row.status, row.ended_at = "ended", self.clock.now()
            self.audit.append(s, actor, "pinpad_unpair", subject=actor.terminal_id)
            return True

    # -- consent requests ---------------------------------------------------------------------------
    def _new(self, s: Session, actor: Actor, spec: ConsentSpec) -> ConsentRequest:
        return new_request(s, actor, spec, self.clock.now())

    @guarded("consent")
    def request(self, actor: Actor, what: ConsentSpec) -> ConsentTicket:
        require_role(actor, *COUNTER_ROLES)
        if what.kind not in CONSENT_KINDS or what.kind in CREDENTIAL_KINDS:  # these have their own start
            raise ValidationError(_("This consent cannot be asked for here."), code="consent_kind")
        with self.db.write(consent_scope(actor, customer_id=what.customer_id)) as s:
            row = self._new(s, actor, what)
            self.audit.append(s, actor, "consent_request", subject=what.wallet or str(what.customer_id),
                              detail={"consent_id": row.id, "kind": what.kind})
            return ConsentTicket(int(row.id or 0), active_pairing(s, actor.terminal_id) is not None,
                                 pin_required(s, actor.branch_code))

    def _own(self, s: Session, actor: Actor, request_id: int) -> ConsentRequest:
        row = s.get(ConsentRequest, request_id)
        if row is None or row.terminal_id != actor.terminal_id or row.staff_id != actor.staff_id:
            raise NotFound(_("No such consent request at this terminal"), code="no_consent")
        s.refresh(row)
        return row

    @guarded("consent")
    def status(self, actor: Actor, request_id: int) -> ConsentStatus:
        with self.db.read() as s:
            row = self._own(s, actor, request_id)
            state = row.status
            if state == "pending" and row.expires_at <= self.clock.now():
                state = "expired"
            return ConsentStatus(int(row.id or 0), state, row.method, row.pin_failures, row.decided_at)

    @guarded("consent")
    def cancel(self, actor: Actor, request_id: int) -> None:
        with self.db.write(consent_scope(actor, request_id=request_id)) as s:
            row = self._own(s, actor, request_id)
            if row.status == "pending":
                row.status, row.decided_at = "cancelled", self.clock.now()
                self.audit.append(s, actor, "consent_cancel", subject=str(row.id))

    @guarded("consent")
    def record_id_check(self, actor: Actor, request_id: int, *, document_seen: bool,
                        id_digits: str) -> ConsentStatus:
        """The customer's consent by an ID re-check instead of the PIN on the display: the document seen
        and the characters of its number the teller's screens hide typed (the PIN reset's check, with
        its limit on failures). Refused where the branch requires the PIN."""
        require_role(actor, *COUNTER_ROLES)
        now = self.clock.now()
        with self.db.write(consent_scope(actor, request_id=request_id)) as s:
            row = self._own(s, actor, request_id)
            if row.status != "pending" or row.expires_at <= self.clock.now():
                raise Conflict(_("This consent request is no longer open"), code="consent_closed")
            if row.kind in CREDENTIAL_KINDS or pin_required(s, actor.branch_code):
                raise PermissionDenied(_("This branch requires the customer's PIN on the customer display"),
                                       code="consent_pin_required")
            c = s.get(Customer, row.customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            failed = credential_id_check(s, self.audit, actor, c, document_seen=document_seen, typed=id_digits,
                                         purpose="consent", now=now)
            if failed is None:  # the row names the document by its shown last 4, never by what was typed
                row.status, row.method, row.document_last4, row.decided_at = "granted", "id_check", \
                    last4_of(c.id_number), now
            self.audit.append(s, actor, "consent_id_check", subject=c.customer_no if c else "",
                              outcome="fail" if failed else "ok",
                              detail={"consent_id": row.id, "kind": row.kind, "document_seen": bool(document_seen),
                                      "reason": failed.code if failed else ""})
        if failed is not None:
            raise failed
        return self.status(actor, request_id)

    @guarded("consent")
    def begin_pin_reset(self, actor: Actor, customer_id: int, *, document_seen: bool, id_digits: str,
                        approval_id: int | None = None) -> ConsentTicket:
        """After the ID check (the characters of the document number the screens star:
        :mod:`teller_tui.consent.id_check`) and a supervisor's approval (policy rule ``pin_reset``), the
        display asks the customer for a new PIN (twice); the teller never types it. ApprovalRequired
        once the ID check passed and no approval is given."""
        require_role(actor, *COUNTER_ROLES)
        now = self.clock.now()
        with self.db.write() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            failed = credential_id_check(s, self.audit, actor, c, document_seen=document_seen, typed=id_digits,
                                         purpose="pin_reset", now=now)
            if failed is not None:
                self.audit.append(s, actor, "customer_pin_reset_start", subject=c.customer_no,
                                  outcome="fail", detail={"reason": failed.code})
        if failed is not None:
            raise failed
        with self.db.write() as s:
            if active_pairing(s, actor.terminal_id) is None:
                raise Conflict(_("Pair a customer display first: the customer types the new PIN there"),
                               code="no_display")
            c = s.get(Customer, customer_id)
            assert c is not None
            self.approvals.require(s, actor, action="pin_reset", customer=c,
                                   summary=message(N_("Reset the customer's wallet PIN (ID checked)")),
                                   approval_id=approval_id)
            row = self._new(s, actor, ConsentSpec("pin_reset", customer_id, None, binding=secrets.token_hex(8)))
            row.method, row.document_last4 = "id_check", last4_of(c.id_number)
            self.audit.append(s, actor, "customer_pin_reset_start", subject=c.customer_no,
                              detail={"consent_id": row.id, "approval_id": approval_id})
            return ConsentTicket(int(row.id or 0), True, False)

    # -- the branch's policy ------------------------------------------------------------------------------
    @guarded("consent")
    def policy(self, actor: Actor) -> bool:
        with self.db.read() as s:
            return pin_required(s, actor.branch_code)

    @guarded("consent")
    def policy_view(self, actor: Actor) -> PolicyView:
        with self.db.read() as s:
            row = s.get(ConsentPolicy, actor.branch_code)
            if row is None:
                return PolicyView(actor.branch_code, False, "", "", None)
            who = s.get(Staff, row.set_by) if row.set_by is not None else None
            return PolicyView(actor.branch_code, bool(row.pin_required), clean_text(row.reason, limit=200),
                              who.username if who else "", row.set_at)

    @guarded("consent")
    def set_policy(self, actor: Actor, *, pin_required: bool, reason: str) -> None:
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError(_("Give a reason"), code="reason")
        with self.db.write() as s:
            row = s.get(ConsentPolicy, actor.branch_code)
            if row is None:
                row = ConsentPolicy(branch_code=actor.branch_code, set_at=self.clock.now())
                s.add(row)
            row.pin_required, row.reason, row.set_by, row.set_at = pin_required, reason, actor.staff_id, \
                self.clock.now()
            self.audit.append(s, actor, "consent_policy", subject=actor.branch_code,
                              detail={"pin_required": pin_required, "reason": reason})

