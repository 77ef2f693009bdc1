"""The supervisor dashboard's read model: the branch's day per teller, drawer and hour, with the queue.

:func:`read_dashboard` reads everything but the pending queue in one session (one snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from teller_tui.approvals.large_value import LargeValueView, large_value_reports
from teller_tui.approvals.records import ApprovalView
from teller_tui.common.clock import BRANCH_TZ
from teller_tui.common.money import Money
from teller_tui.ledger.accounts import AccountKind
from teller_tui.ledger.kinds import CASH_ENTRY_KINDS, CUSTOMER_ENTRY_KINDS, EntryKind
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Staff, Wallet

__all__ = ["DashboardData", "DrawerPosition", "TellerActivity", "read_dashboard"]


@dataclass(frozen=True, slots=True)
class TellerActivity:
    staff_id: int | None
    username: str
    display_name: str
    cash_in: Money
    cash_out: Money
    transactions: int  # customer transactions (CUSTOMER_ENTRY_KINDS): not the drawer's float or vault transfers
    wallets_opened: int


@dataclass(frozen=True, slots=True)
class DrawerPosition:
    code: str
    name: str
    balance: Money


@dataclass(frozen=True, slots=True)
class DashboardData:
    on: date
    branch_code: str
    pending: list[ApprovalView]
    tellers: list[TellerActivity]
    drawers: list[DrawerPosition]
    large_value: list[LargeValueView]
    hourly_in: list[int]  # 24 counts of cash-in entries per local hour
    hourly_out: list[int]
    hourly_other: list[int]


def read_dashboard(s: Session, day: date, branch: str, pending: list[ApprovalView]) -> DashboardData:
    """Everything the supervisor dashboard shows for ``branch`` on business date ``day``."""
    start = datetime.combine(day, time(0), tzinfo=BRANCH_TZ).astimezone(UTC)
    end = start + timedelta(days=1)
    staff = {r.id: (r.username, r.display_name) for r in s.execute(
        select(col(Staff.id), col(Staff.username), col(Staff.display_name))).all()}
    amounts = s.execute(
        select(col(JournalEntry.actor_id), col(JournalEntry.kind), func.count(func.distinct(col(JournalEntry.id))),
               func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
        .where(col(JournalEntry.business_date) == day, col(JournalEntry.branch_code) == branch,
               col(Posting.amount) > 0)
        .group_by(col(JournalEntry.actor_id), col(JournalEntry.kind))).all()
    per: dict[int | None, dict[str, int]] = {}
    for actor_id, kind, count, total in amounts:
        d = per.setdefault(actor_id, {"in": 0, "out": 0, "n": 0, "wallets": 0})
        if kind in CUSTOMER_ENTRY_KINDS:  # a drawer's float or a vault transfer is not a transaction
            d["n"] += int(count)
        if kind in CASH_ENTRY_KINDS:
            d[CASH_ENTRY_KINDS[EntryKind(kind)]] += int(total)
    for opened_by, count in s.execute(select(col(Wallet.opened_by), func.count()).where(
            col(Wallet.opened_at) >= start, col(Wallet.opened_at) < end).group_by(col(Wallet.opened_by))).all():
        per.setdefault(opened_by, {"in": 0, "out": 0, "n": 0, "wallets": 0})["wallets"] = int(count)
    tellers = []
    for staff_id, d in per.items():
        if staff_id is None:
            continue  # vault deliveries and other system entries
        name, display = staff.get(staff_id, ("system", ""))  # an entry by a staff row no longer there
        tellers.append(TellerActivity(staff_id, name, display, Money(d["in"]), Money(d["out"]), d["n"],
                                      d["wallets"]))
    tellers.sort(key=lambda t: t.username)
    drawers = [DrawerPosition(r.code, r.name, Money(r.debits_posted - r.credits_posted, r.currency))
               for r in s.execute(select(LedgerAccount).where(
                   col(LedgerAccount.kind) == AccountKind.DRAWER.value, col(LedgerAccount.branch_code) == branch)
                   .order_by(col(LedgerAccount.code))).scalars()]
    hourly_in, hourly_out, hourly_other = [0] * 24, [0] * 24, [0] * 24
    for kind, posted_at in s.execute(select(col(JournalEntry.kind), col(JournalEntry.posted_at)).where(
            col(JournalEntry.business_date) == day, col(JournalEntry.branch_code) == branch)).all():
        hour = posted_at.astimezone(BRANCH_TZ).hour
        bucket = hourly_in if kind == EntryKind.CASH_IN else hourly_out if kind == EntryKind.CASH_OUT else hourly_other
        bucket[hour] += 1
    return DashboardData(day, branch, pending, tellers, drawers, large_value_reports(s, branch, day),
                         hourly_in, hourly_out, hourly_other)
