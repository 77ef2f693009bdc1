"""Building the end-of-day report from the database (one read transaction, no writes).

For each drawer of the business day: opening float, cash in and out by entry kind, transfers
with the vault, counted against expected, the over/short and who approved it. For the branch:
vault receipts and holdings, the large-value cash records, the branch trial balance, the
branch's audit stream head (``AuditTrail.head(session, branch)``) and the branch's ledger chain
head, which a supervisor keeps outside the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from teller_tui.audit.trail import AuditTrail
from teller_tui.branch.cashbook import vault_view
from teller_tui.branch.eod import DrawerReport, EodReport, LargeValueLine, TransferLine
from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.ledger import Ledger, trial_balance
from teller_tui.ledger.chain import GENESIS, branch_heads
from teller_tui.ledger.kinds import DRAWER_ENTRY_KINDS
from teller_tui.models.approvals import LargeValueReport
from teller_tui.models.drawers import BusinessDay, Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind, DrawerStatus as DrawerState
from teller_tui.models.ledger import JournalEntry, Posting

__all__ = ["build_report"]


def build_report(session: Session, ledger: Ledger, *, branch_code: str, business_date: date | None,
                 username: str | None, generated_at: datetime) -> EodReport:
    """The report of ``business_date`` (default: the branch's latest day), for one drawer when
    ``username`` is given. Raises NotFound for an unknown day or a teller without a drawer that day."""
    stmt = select(BusinessDay).where(BusinessDay.branch_code == branch_code)
    if business_date is not None:
        stmt = stmt.where(BusinessDay.business_date == business_date)
    day = session.exec(stmt.order_by(col(BusinessDay.business_date).desc())).first()
    if day is None:
        raise NotFound(_("No business day {date} at branch {branch}").format(
            date=business_date.isoformat() if business_date else "", branch=branch_code), code="no_business_day")
    dstmt = select(Drawer).where(Drawer.business_day_id == day.id).order_by(col(Drawer.username))
    if username is not None:
        dstmt = dstmt.where(Drawer.username == username)
    drawers = session.exec(dstmt).all()
    if username is not None and not drawers:
        raise NotFound(_("No drawer of {name} on {date}").format(name=username, date=day.business_date),
                       code="no_drawer")
    reports = [_drawer_report(session, ledger, d) for d in drawers]
    over_short = sum(r.difference.minor for r in reports if r.difference is not None and r.status == DrawerState.CLOSED)
    receipts = sum(int(a) for a in session.exec(
        select(DrawerEvent.amount_minor).where(DrawerEvent.branch_code == branch_code,
                                               DrawerEvent.business_date == day.business_date,
                                               DrawerEvent.kind == DrawerEventKind.VAULT_RECEIVE)))
    large = _large_value(session, branch_code, day.business_date)
    head = AuditTrail.head(session, branch_code)  # the branch's audit stream
    ledger_head = next(((h.last_seq, h.hash) for h in branch_heads(session) if h.branch_code == branch_code),
                       (0, GENESIS))
    tb = trial_balance(session, branch_code=branch_code)
    vault = vault_view(session, ledger, branch_code)
    return EodReport(branch_code, day.business_date, day.status, generated_at, reports, vault.balance,
                     vault.holdings, Money(receipts), large, tb, head, username, None, Money(over_short),
                     ledger_head)


def _drawer_report(session: Session, ledger: Ledger, d: Drawer) -> DrawerReport:
    cur = d.currency
    rows = session.exec(
        select(JournalEntry.kind, Posting.amount)
        .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
        .where(Posting.account_id == d.account_id, JournalEntry.business_date == d.business_date,
               col(JournalEntry.kind).not_in(DRAWER_ENTRY_KINDS))).all()
    cin: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cout: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, amount in rows:
        bucket = cin if amount > 0 else cout
        bucket[kind][0] += 1
        bucket[kind][1] += abs(int(amount))
    events = session.exec(select(DrawerEvent).where(DrawerEvent.drawer_id == d.id,
                                                    col(DrawerEvent.kind).in_((DrawerEventKind.VAULT_TO_DRAWER,
                                                                               DrawerEventKind.DRAWER_TO_VAULT)))
                          .order_by(col(DrawerEvent.id))).all()
    transfers = [TransferLine(e.at, "from_vault" if e.kind == DrawerEventKind.VAULT_TO_DRAWER else "to_vault",
                              Money(e.amount_minor, cur), e.approver) for e in events]
    handover = dict(session.exec(select(DrawerEvent.kind, DrawerEvent.memo).where(
        DrawerEvent.drawer_id == d.id,
        col(DrawerEvent.kind).in_((DrawerEventKind.HANDOVER_IN, DrawerEventKind.HANDOVER_OUT)))).all())
    bal = ledger.balance(session, d.account_id)
    counted = Money(d.counted_minor, cur) if d.counted_minor is not None else None
    expected = Money(d.expected_minor, cur) if d.expected_minor is not None else None
    diff = counted - expected if counted is not None and expected is not None else None
    return DrawerReport(
        d.username, d.status, d.opened_at, d.closed_at, Money(d.float_minor, cur), d.opened_approver,
        {k: (v[0], Money(v[1], cur)) for k, v in cin.items()},
        {k: (v[0], Money(v[1], cur)) for k, v in cout.items()},
        transfers, expected, counted, diff, d.close_approver,
        Money(bal.debits_posted - bal.credits_posted, cur), handover.get(DrawerEventKind.HANDOVER_IN, ""),
        handover.get(DrawerEventKind.HANDOVER_OUT, ""))


def _large_value(session: Session, branch_code: str, business_date: date) -> list[LargeValueLine]:
    rows: Sequence[LargeValueReport] = session.exec(
        select(LargeValueReport).where(LargeValueReport.branch_code == branch_code,
                                       LargeValueReport.business_date == business_date)
        .order_by(col(LargeValueReport.id))).all()
    return [LargeValueLine(r.reference, r.customer_name, r.direction, Money(r.amount, r.currency), r.teller_username)
            for r in rows]
