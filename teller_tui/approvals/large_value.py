"""Large-value cash reports: the compliance record of a cash transaction at or above the threshold.

A report is a snapshot of the customer's identity data at the time, written inside the posting
transaction (:func:`record_large_value`), with the customer's same-day cumulative cash in that direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from teller_tui.approvals.records import Grant
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.ledger.kinds import CASH_ENTRY_KINDS
from teller_tui.models import Customer, JournalEntry, LargeValueReport, Posting
from teller_tui.models.enums import CashDirection

__all__ = ["LargeValueView", "customer_cash_total", "large_value_reports", "record_large_value"]


@dataclass(frozen=True, slots=True)
class LargeValueView:
    id: int
    txn_at: datetime
    business_date: date
    customer_name: str
    id_type: str
    id_number: str
    nationality: str
    occupation: str
    address: str
    phone: str
    direction: str
    amount: Money
    cumulative: Money
    teller: str
    terminal: str
    reference: str
    source_of_funds: str
    purpose: str


def customer_cash_total(session: Session, customer_id: int, direction: str, business_date: date) -> Money:
    """The customer's posted cash in one direction on a business date (reversed entries excluded)."""
    kinds = [k for k, d in CASH_ENTRY_KINDS.items() if d == direction]
    rev = aliased(JournalEntry)
    total = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .where(col(JournalEntry.customer_id) == customer_id, col(JournalEntry.business_date) == business_date,
               col(JournalEntry.kind).in_(kinds), col(Posting.amount) > 0,
               ~select(col(rev.id)).where(col(rev.reverses_entry_id) == col(JournalEntry.id)).exists())).scalar_one()
    return Money(int(total))


def record_large_value(session: Session, audit: AuditTrail, *, now: datetime, customer_id: int, direction: str,
                       amount: Money, teller: Actor, reference: str, entry_id: int | None, txn_at: datetime,
                       business_date: date, grant: Grant | None = None, cumulative: Money | None = None,
                       source_of_funds: str = "", purpose: str = "") -> int:
    """Create the large-value cash report of a posted transaction (inside the posting transaction).

    ``cumulative`` defaults to the customer's posted total that day in ``direction`` (this one included).
    """
    if direction not in tuple(CashDirection):
        raise ValidationError("direction must be 'in' or 'out'")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(_("No such customer."), code="customer_not_found")
    if cumulative is None:
        cumulative = customer_cash_total(session, customer_id, direction, business_date)
    report = LargeValueReport(
        branch_code=teller.branch_code, business_date=business_date, txn_at=txn_at, customer_id=customer_id,
        customer_name=customer.full_name, id_type=customer.id_type or "", id_number=customer.id_number or "",
        nationality=customer.nationality or "", occupation=customer.occupation or "",
        address=customer.address or "", phone=customer.phone or "", direction=direction,
        currency=amount.currency, amount=amount.minor, cumulative_amount=max(cumulative.minor, amount.minor),
        teller_id=teller.staff_id, teller_username=teller.username, terminal=teller.terminal_id,
        reference=reference, entry_id=entry_id, approval_id=grant.approval_id if grant else None,
        source_of_funds=clean_text(source_of_funds or (grant.source_of_funds if grant else ""), limit=200),
        purpose=clean_text(purpose or (grant.purpose if grant else ""), limit=200), created_at=now)
    session.add(report)
    session.flush()
    assert report.id is not None
    audit.append(session, teller, "large_value_report", subject=f"customer:{customer_id}",
                 detail={"reference": reference, "direction": direction, "amount": amount.minor,
                         "cumulative": report.cumulative_amount})
    return report.id


def large_value_reports(session: Session, branch_code: str, on: date) -> list[LargeValueView]:
    """The branch's reports of one business date, in the order they were made."""
    rows = session.execute(select(LargeValueReport).where(
        col(LargeValueReport.branch_code) == branch_code,
        col(LargeValueReport.business_date) == on).order_by(col(LargeValueReport.id))).scalars().all()
    return [_view(r) for r in rows]


def _view(r: LargeValueReport) -> LargeValueView:
    assert r.id is not None
    return LargeValueView(
        id=r.id, txn_at=r.txn_at, business_date=r.business_date, customer_name=r.customer_name, id_type=r.id_type,
        id_number=r.id_number, nationality=r.nationality, occupation=r.occupation, address=r.address, phone=r.phone,
        direction=r.direction, amount=Money(r.amount, r.currency), cumulative=Money(r.cumulative_amount, r.currency),
        teller=r.teller_username, terminal=r.terminal, reference=r.reference, source_of_funds=r.source_of_funds,
        purpose=r.purpose)
