"""The teller's side of the customer's own credentials at the counter: a PIN change and an
authenticator app set up or removed, the customer's part done on the paired customer display.

Public API::

    creds = CustomerCredentials(db, clock, audit, outbox=outbox, approvals=gate)   # services.credentials
    creds.authenticator_enrolled(actor, customer_id)                    # bool
    ticket = creds.begin(actor, customer_id, "pin_change")   # or "totp_enrol", "totp_remove": the display
                                                             # takes it (teller_tui.kiosk.pad_credentials)
    creds.remove_authenticator(actor, customer_id, document_seen=True, id_digits="19900307",
                               approval_id=None)     # after an ID check and a supervisor's approval

``begin`` needs a customer display paired with the terminal (the teller never sees the PIN or the
authenticator's secret); the teller follows the request with
:meth:`~teller_tui.consent.service.ConsentService.status` and may cancel it. A customer who lost the
phone with the authenticator has the authenticator removed with their PIN on the display, or after
the teller's ID check (the document seen, the characters of its number the screens star typed and
matched, as for a PIN reset: :mod:`teller_tui.consent.id_check`, failures limited per customer) and a
supervisor's approval (policy rule ``customer_totp_remove_id``). Every step is audited (never a PIN,
code or secret); a removal by ID check tells the customer (``totp_remove``).

Where the customer's authenticator is used: at the kiosk, an enrolled customer signs in with the PIN
and the code (:func:`teller_tui.kiosk.pins.check_pin`); on the customer display, a cash-out or transfer
from ``settings.consent_code_from`` (¥5,000 by default; other currencies: ``consent_code_from_currencies``,
in their own units, any amount when unset) needs the code after the PIN
(:meth:`teller_tui.kiosk.pinpad.PinpadService.answer`); smaller ones, wallet close and class change
need the PIN only. Wrong codes count with wrong PINs on the customer's one counter.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES, require_role
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.consent.id_check import credential_id_check
from teller_tui.consent.service import active_pairing, new_request
from teller_tui.consent.spec import ConsentSpec, ConsentTicket
from teller_tui.models import Customer

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.consent.id_check import CredentialApprovals
    from teller_tui.db.engine import Database
    from teller_tui.notify.outbox import Outbox

__all__ = ["BEGIN_KINDS", "CustomerCredentials"]

#: What the teller can start for the display (a PIN reset starts with its own ID check: ConsentService).
BEGIN_KINDS: tuple[str, ...] = ("pin_change", "totp_enrol", "totp_remove")


class CustomerCredentials:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, outbox: Outbox,
                 approvals: CredentialApprovals) -> None:
        self.db, self.clock, self.audit, self.outbox, self.approvals = db, clock, audit, outbox, approvals

    @guarded("credentials")
    def authenticator_enrolled(self, actor: Actor, customer_id: int) -> bool:
        require_role(actor, *COUNTER_ROLES)
        with self.db.read() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            return c.totp_secret_enc is not None

    @guarded("credentials")
    def begin(self, actor: Actor, customer_id: int, kind: str) -> ConsentTicket:
        """Ask the paired display to take the customer's part of ``kind`` (one of :data:`BEGIN_KINDS`)."""
        require_role(actor, *COUNTER_ROLES)
        if kind not in BEGIN_KINDS:
            raise ValidationError(_("This consent cannot be asked for here."), code="consent_kind")
        with self.db.write() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            if active_pairing(s, actor.terminal_id) is None:
                raise Conflict(_("Pair a customer display first: the customer types the new PIN there"),
                               code="no_display")
            if kind == "pin_change" and not c.pin_hash:
                raise Conflict(_("The customer has no wallet PIN yet: reset it instead (p)."), code="no_pin")
            if kind == "totp_enrol" and c.totp_secret_enc is not None:
                raise Conflict(_("The customer already has an authenticator: remove it first."),
                               code="totp_enrolled")
            if kind == "totp_remove" and c.totp_secret_enc is None:
                raise Conflict(_("The customer has no authenticator."), code="no_totp")
            row = new_request(s, actor, ConsentSpec(kind, customer_id, None, binding=secrets.token_hex(8)),
                              self.clock.now())
            self.audit.append(s, actor, "customer_credential_start", subject=c.customer_no,
                              detail={"consent_id": row.id, "kind": kind})
            return ConsentTicket(int(row.id or 0), True, False)

    @guarded("credentials")
    def remove_authenticator(self, actor: Actor, customer_id: int, *, document_seen: bool, id_digits: str,
                             approval_id: int | None = None) -> None:
        """The customer lost the phone: the teller checks the identity document (the characters of its
        number the screens star: :mod:`teller_tui.consent.id_check`) and a supervisor approves
        (``customer_totp_remove_id``); then the authenticator is removed. ApprovalRequired before it."""
        require_role(actor, *COUNTER_ROLES)
        now = self.clock.now()
        with self.db.write() as s:
            c = s.get(Customer, customer_id, with_for_update=True)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            if c.totp_secret_enc is None:
                raise Conflict(_("The customer has no authenticator."), code="no_totp")
            failed = credential_id_check(s, self.audit, actor, c, document_seen=document_seen, typed=id_digits,
                                         purpose="totp_remove", now=now)
            if failed is None:  # ApprovalRequired here rolls nothing back that matters (nothing changed)
                self.approvals.require(s, actor, action="customer_totp_remove_id", customer=c,
                                       summary=message(N_("Remove the customer's authenticator (lost phone)")),
                                       approval_id=approval_id)
                c.totp_secret_enc, c.totp_last_step = None, None
                self.outbox.tell(s, "totp_remove", key=f"{customer_id}:{now.isoformat()}", customer_id=customer_id)
            self.audit.append(s, actor, "customer_totp_remove", subject=c.customer_no,
                              outcome="fail" if failed else "ok",
                              detail={"method": "id_check", "document_seen": bool(document_seen),
                                      "approval_id": approval_id, "reason": failed.code if failed else ""})
        if failed is not None:
            raise failed
