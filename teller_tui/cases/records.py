"""Case rows inside the caller's transaction: find and lock one, append to its thread, build its views.

Shared by :class:`~teller_tui.cases.service.CaseService` and
:class:`~teller_tui.cases.disputes.DisputeService`, so that both change a case the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor
from teller_tui.cases.flow import DONE, check_transition
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.cases.views import CaseDetail, CaseEventView, CaseView, case_number
from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.models import Customer, JournalEntry, LedgerAccount, Posting, Staff, Wallet
from teller_tui.models.cases import CaseEvent, CaseEventKind, CaseLink, CaseStatus, ServiceCase

__all__ = ["add_event", "case_detail", "case_view", "disputed_total", "load_case", "parse_case_id", "set_status"]


def parse_case_id(case: int | str) -> int:
    """``42``, ``"42"`` or ``"CS-000042"`` -> 42."""
    if isinstance(case, int) and not isinstance(case, bool):
        return case
    text = clean_text(str(case), limit=20).upper().removeprefix("CS-")
    if not text.isdigit():
        raise ValidationError(_("A case number looks like CS-000042"), code="case_number")
    return int(text)


def load_case(s: Session, actor: Actor, case: int | str, *, for_update: bool = False) -> ServiceCase:
    """The case row, refused (NotFound) if it does not exist or belongs to another branch."""
    case_id = parse_case_id(case)
    stmt = select(ServiceCase).where(col(ServiceCase.id) == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    row: ServiceCase | None = s.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No case {number}").format(number=case_number(case_id)), code="case_not_found")
    if row.branch_code != actor.branch_code:
        raise PermissionDenied(_("This case belongs to another branch."), code="case_branch")
    return row


def add_event(s: Session, row: ServiceCase, actor: Actor, kind: CaseEventKind, now: datetime, text: str = "", *,
              from_status: str | None = None, to_status: str | None = None) -> None:
    assert row.id is not None
    s.add(CaseEvent(case_id=row.id, at=now, actor_id=actor.staff_id, actor_name=actor.username[:64], kind=kind,
                    from_status=from_status, to_status=to_status, text=clean_text(text, multiline=True, limit=2000)))
    row.updated_at = now


def set_status(s: Session, row: ServiceCase, actor: Actor, target: CaseStatus, now: datetime, text: str = "",
               *, levels: ServiceLevels) -> str:
    """Move the case (the transition table decides); keep the deadline paused while waiting for
    the customer. Returns the previous status. Reopening is the caller's to finish (deadline)."""
    current = row.status
    check_transition(current, target)
    if current == CaseStatus.WAITING_FOR_CUSTOMER and row.waiting_since is not None:
        row.due_at = levels.resume(row.type, row.due_at, row.waiting_since, now)
        row.waiting_since = None
    if target == CaseStatus.WAITING_FOR_CUSTOMER:
        row.waiting_since = now
    row.status = target
    add_event(s, row, actor, CaseEventKind.STATUS, now, text, from_status=current, to_status=target)
    return current


def _username(s: Session, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    row = s.get(Staff, staff_id)
    return row.username if row is not None else None


def case_view(s: Session, row: ServiceCase, now: datetime) -> CaseView:
    assert row.id is not None
    customer = s.get(Customer, row.customer_id)
    wallet = s.get(Wallet, row.wallet_id) if row.wallet_id is not None else None
    correction = s.get(JournalEntry, row.correction_entry_id) if row.correction_entry_id is not None else None
    overdue = (row.status not in DONE and row.status != CaseStatus.WAITING_FOR_CUSTOMER and row.due_at <= now)
    return CaseView(
        case_id=row.id, number=case_number(row.id), type=row.type, status=row.status, customer_id=row.customer_id,
        customer_no=customer.customer_no if customer else "", customer_name=clean_text(
            customer.full_name if customer else "", limit=80), wallet_id=row.wallet_id,
        wallet_number=wallet.number if wallet else None, branch_code=row.branch_code,
        summary=clean_text(row.summary, limit=200), owner=_username(s, row.owner_id),
        opened_by=_username(s, row.opened_by), opened_at=row.opened_at, due_at=row.due_at, overdue=overdue,
        escalated_at=row.escalated_at, resolution=clean_text(row.resolution, multiline=True, limit=1000),
        in_customer_favour=row.in_customer_favour, resolved_at=row.resolved_at, closed_at=row.closed_at,
        reopened=row.reopened, correction_reference=correction.reference if correction else None)


def disputed_total(s: Session, row: ServiceCase, references: tuple[str, ...]) -> Money | None:
    """The sum of the linked entries' amounts on the case's wallet (None without wallet or links)."""
    if row.wallet_id is None or not references:
        return None
    wallet = s.get(Wallet, row.wallet_id)
    if wallet is None:
        return None
    amounts = s.execute(select(col(Posting.amount)).join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
                        .join(LedgerAccount, col(LedgerAccount.id) == col(Posting.account_id))
                        .where(col(JournalEntry.reference).in_(references),
                               col(Posting.account_id) == wallet.account_id)).scalars().all()
    return Money(sum(abs(int(a)) for a in amounts), wallet.currency)


def case_detail(s: Session, row: ServiceCase, now: datetime) -> CaseDetail:
    events = s.execute(select(CaseEvent).where(col(CaseEvent.case_id) == row.id)
                       .order_by(col(CaseEvent.id))).scalars().all()
    links = s.execute(select(CaseLink).where(col(CaseLink.case_id) == row.id)
                      .order_by(col(CaseLink.id))).scalars().all()
    refs = tuple(link.entry_reference for link in links if link.entry_reference is not None)
    return CaseDetail(
        case=case_view(s, row, now),
        events=tuple(CaseEventView(e.at, clean_text(e.actor_name, limit=64), e.kind, e.from_status, e.to_status,
                                   clean_text(e.text, multiline=True, limit=2000)) for e in events),
        entry_references=refs,
        refusal_ids=tuple(link.refusal_id for link in links if link.refusal_id is not None),
        disputed_total=disputed_total(s, row, refs))
