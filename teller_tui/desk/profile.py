"""Changes to a customer's record after onboarding: contact details, and renewal of the identity
document, each audited with what changed (masked).

Public API::

    svc = ProfileService(db, clock, audit, approvals=approvals)            # services.profile
    change = svc.change_contact(actor, customer_id, phone=..., address=..., occupation=..., approval_id=None)
    change = svc.renew_document(actor, customer_id, number=..., expiry=date(...), approval_id=None)
    change.fields                                                           # what changed

The same validators as onboarding (``wallets.identity``): a mobile that can receive text
messages, text with no control character, the document's own number rules. A resident ID keeps
its number for life, so its renewal only moves the expiry date; a passport or permit may come
with a new number, which must not be another customer's. The new expiry must be after today.

Approval where the policy says (``data/approval_policy.toml``): a changed mobile number is action
``phone_change`` (shipped: always, the number receives the wallet's codes), address or occupation
alone ``contact_change``; a renewal with a new document number ``id_number_change`` (shipped:
always), with the same number ``id_renewal``. The validity rules refuse first; then, inside the
change's transaction, :meth:`ApprovalService.check` raises ``ApprovalRequired`` with a spec whose
subject binds a digest of the new values (an approval for one number cannot save another); the
retry with ``approval_id`` consumes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.masks import mask_document_number, mask_name, mask_phone
from teller_tui.ledger.business_day import current_business_date
from teller_tui.db.engine import Database
from teller_tui.models import Customer
from teller_tui.wallets.identity.contact import validate_mobile
from teller_tui.wallets.identity.documents import DocumentType, validate_document
from teller_tui.wallets.identity.text import clean_field

__all__ = ["ProfileChange", "ProfileService"]


@dataclass(frozen=True, slots=True)
class ProfileChange:
    customer_id: int
    fields: tuple[str, ...]  # phone | address | occupation | id_number | id_expiry


class ProfileService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, approvals: ApprovalService) -> None:
        self.db, self.clock, self.audit, self.approvals = db, clock, audit, approvals

    def _approve(self, s: Session, actor: Actor, c: Customer, actions: tuple[str, ...], after: dict[str, str],
                 summary: str, approval_id: int | None) -> None:
        """Raise ApprovalRequired when a rule for ``actions`` is in force, or consume the approval.
        The spec's kind is the first action; its subject binds a digest of the new values."""
        on = current_business_date(s, actor.branch_code, self.clock)
        hits = [h for action in actions for h in self.approvals.evaluate(Facts(action, on=on, role=actor.role))]
        body = json.dumps({"customer": c.id, **after}, sort_keys=True, ensure_ascii=False).encode()
        spec = ApprovalSpec(kind=actions[0], requester_id=actor.staff_id, branch_code=actor.branch_code,
                            customer_id=c.id, subject=f"customer:{c.customer_no}:{hashlib.sha256(body).hexdigest()[:24]}",
                            rules=tuple(dict.fromkeys(h.rule for h in hits)), reasons=tuple(h.reason for h in hits),
                            summary=summary, customer_name=mask_name(c.full_name))
        self.approvals.check(s, spec, approval_id=approval_id)

    @guarded("profile")
    def change_contact(self, actor: Actor, customer_id: int, *, phone: str, address: str,
                       occupation: str, approval_id: int | None = None) -> ProfileChange:
        new_phone = validate_mobile(phone)
        new_address = clean_field(address, _("Address"))
        new_occupation = clean_field(occupation, _("Occupation"))
        if len(new_address) > 200 or len(new_occupation) > 80:
            raise ValidationError(_("Address up to 200 characters, occupation up to 80"), code="too_long")

        def work(s: Session) -> ProfileChange:
            c = _customer(s, customer_id)
            before = {"phone": c.phone, "address": c.address, "occupation": c.occupation}
            after = {"phone": new_phone, "address": new_address, "occupation": new_occupation}
            changed = tuple(k for k in before if before[k] != after[k])
            if not changed:
                raise ValidationError(_("Nothing was changed"), code="unchanged")
            actions = (("phone_change",) if "phone" in changed else ()) + (
                ("contact_change",) if set(changed) - {"phone"} else ())
            # The dialog names the action and the customer already: the summary says what changes.
            summary = (f"{mask_phone(c.phone)} → {mask_phone(new_phone)}" if "phone" in changed
                       else message(N_("Change contact details")))
            self._approve(s, actor, c, actions, after, summary, approval_id)
            c.phone, c.address, c.occupation = new_phone, new_address, new_occupation
            detail: dict[str, object] = {"fields": list(changed), "approval_id": approval_id}
            if "phone" in changed:
                detail["phone"] = {"old": mask_phone(before["phone"]), "new": mask_phone(new_phone)}
            self.audit.append(s, actor, "customer_contact_change", subject=c.customer_no, detail=detail)
            return ProfileChange(customer_id, changed)

        return self.db.write_retrying(work)

    @guarded("profile")
    def renew_document(self, actor: Actor, customer_id: int, *, number: str, expiry: date,
                       approval_id: int | None = None) -> ProfileChange:
        today = local_date(self.clock.now())  # documents expire by the calendar
        if expiry <= today:
            raise ValidationError(_("The new expiry date must be after today"), code="id_expiry_past")

        def work(s: Session) -> ProfileChange:
            c = _customer(s, customer_id)
            if not c.id_type or not c.id_number:
                raise Conflict(_("This customer has no identity document on record"), code="no_document")
            doc = validate_document(c.id_type, number, today=today, expiry=expiry, country=c.nationality or "CHN")
            if c.id_type == DocumentType.PRC_ID and doc.number != c.id_number:
                raise ValidationError(_("A resident ID card keeps its number when renewed: check the number"),
                                      code="id_number_changed")
            if doc.number != c.id_number:
                taken = s.exec(select(Customer.id).where(Customer.id_type == c.id_type,
                                                         Customer.id_number == doc.number,
                                                         col(Customer.id) != c.id)).first()
                if taken is not None:
                    raise Conflict(_("This document is on another customer's record"), code="document_taken")
            changed = tuple(k for k, old, new in (("id_number", c.id_number, doc.number),
                                                  ("id_expiry", c.id_expiry, expiry)) if old != new)
            if not changed:
                raise ValidationError(_("Nothing was changed"), code="unchanged")
            new_masked = mask_document_number(doc.number, c.id_type)
            summary = f"{mask_document_number(c.id_number, c.id_type)} → {new_masked} · {expiry.isoformat()}"
            self._approve(s, actor, c, ("id_number_change",) if "id_number" in changed else ("id_renewal",),
                          {"number": doc.number, "expiry": expiry.isoformat()}, summary, approval_id)
            detail = {"approval_id": approval_id, "fields": list(changed), "old_expiry": c.id_expiry.isoformat() if c.id_expiry else None,
                      "new_expiry": expiry.isoformat(),
                      "old_number": mask_document_number(c.id_number, c.id_type),
                      "new_number": mask_document_number(doc.number, c.id_type)}
            c.id_number, c.id_expiry = doc.number, expiry
            self.audit.append(s, actor, "customer_id_renewal", subject=c.customer_no, detail=detail)
            return ProfileChange(customer_id, changed)

        return self.db.write_retrying(work)


def _customer(s: Session, customer_id: int) -> Customer:
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound(_("No such customer"), code="no_customer")
    return c
