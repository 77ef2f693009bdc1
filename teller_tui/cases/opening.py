"""Opening a case inside the caller's transaction (shared by CaseService and LostPhoneService).

``insert_case(s, audit, levels, actor, customer_id, case_type, summary, now, ...)`` checks the type,
the summary and the wallet, writes the case row, its first thread lines and links, audits
``case_open`` and returns the case's view. The caller owns the transaction: a lost-phone report
blocks the wallet and opens its case in one commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.cases.records import add_event, case_view
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.cases.views import CaseView, case_number
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.models import Customer, JournalEntry, Wallet
from teller_tui.models.cases import CaseEventKind, CaseLink, CaseStatus, CaseType, RefusedAttempt, ServiceCase

__all__ = ["insert_case", "link_entry", "link_refusal"]


def insert_case(s: Session, audit: AuditTrail, levels: ServiceLevels, actor: Actor, customer_id: int,
                case_type: CaseType | str, summary: str, now: datetime, *, wallet_id: int | None = None,
                entry_references: Sequence[str] = (), refusal_ids: Sequence[int] = (), note: str = "") -> CaseView:
    try:
        kind = CaseType(case_type)
    except ValueError:
        raise ValidationError(_("Unknown case type {type}").format(type=case_type), code="case_type") from None
    summary = clean_text(summary, limit=200)
    if not summary:
        raise ValidationError(_("Say in a few words what the case is about."), code="case_summary")
    if s.get(Customer, customer_id) is None:
        raise NotFound(_("No such customer"), code="no_customer")
    if wallet_id is not None:
        wallet = s.get(Wallet, wallet_id)
        if wallet is None or wallet.customer_id != customer_id:
            raise ValidationError(_("That wallet is not the customer's."), code="case_wallet")
    row = ServiceCase(type=kind, status=CaseStatus.OPEN, customer_id=customer_id, wallet_id=wallet_id,
                      branch_code=actor.branch_code, summary=summary, owner_id=actor.staff_id,
                      opened_by=actor.staff_id, opened_at=now, due_at=levels.deadline(kind, now), updated_at=now)
    s.add(row)
    s.flush()
    assert row.id is not None
    add_event(s, row, actor, CaseEventKind.OPENED, now, summary, to_status=CaseStatus.OPEN)
    if note:
        add_event(s, row, actor, CaseEventKind.NOTE, now, note)
    for ref in entry_references:
        link_entry(s, row, actor, ref, now)
    for refusal_id in refusal_ids:
        link_refusal(s, row, actor, refusal_id, now)
    audit.append(s, actor, "case_open", subject=case_number(row.id), detail={
        "type": kind.value, "customer_id": customer_id, "wallet_id": wallet_id,
        "due_at": row.due_at.isoformat(), "entries": list(entry_references), "refusals": list(refusal_ids)})
    return case_view(s, row, now)


def link_entry(s: Session, row: ServiceCase, actor: Actor, reference: str, now: datetime) -> None:
    ref = clean_text(reference, limit=32).upper()
    entry = s.execute(select(JournalEntry).where(col(JournalEntry.reference) == ref)).scalar_one_or_none()
    if entry is None:
        raise NotFound(_("No transaction with reference {reference}").format(reference=ref), code="no_entry")
    if entry.customer_id is not None and entry.customer_id != row.customer_id and entry.kind != "transfer":
        raise ValidationError(_("That transaction is not the customer's."), code="case_entry_customer")
    exists = s.execute(select(col(CaseLink.id)).where(col(CaseLink.case_id) == row.id,
                                                      col(CaseLink.entry_reference) == ref)).first()
    if exists is None:
        assert row.id is not None
        s.add(CaseLink(case_id=row.id, entry_reference=ref, linked_at=now, linked_by=actor.staff_id))
        add_event(s, row, actor, CaseEventKind.LINKED, now, ref)


def link_refusal(s: Session, row: ServiceCase, actor: Actor, refusal_id: int, now: datetime) -> None:
    found = s.get(RefusedAttempt, refusal_id)
    if found is None:
        raise NotFound(_("No refused attempt {reference}").format(reference=refusal_id), code="no_refusal")
    if found.customer_id is not None and found.customer_id != row.customer_id:
        raise ValidationError(_("That attempt is not the customer's."), code="case_refusal_customer")
    exists = s.execute(select(col(CaseLink.id)).where(col(CaseLink.case_id) == row.id,
                                                      col(CaseLink.refusal_id) == refusal_id)).first()
    if exists is None:
        assert row.id is not None
        s.add(CaseLink(case_id=row.id, refusal_id=refusal_id, linked_at=now, linked_by=actor.staff_id))
        add_event(s, row, actor, CaseEventKind.LINKED, now, f"RF-{refusal_id:06d}")
