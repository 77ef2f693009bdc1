"""The ledger's read-backs: balances (holds past their time left out), stored entries by id or
idempotency key, and the trial balance. Reads only: nothing here changes a row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from teller_tui.db import lean
from teller_tui.common.errors import NotFound
from teller_tui.models import JournalEntry, LedgerAccount
from teller_tui.ledger.base import LedgerBase, _stmt, _table
from teller_tui.ledger.holds import overdue_reserved
from teller_tui.ledger.requests import Balance, EntryResult, Leg

if TYPE_CHECKING:
    from sqlmodel import Session


class LedgerReads(LedgerBase):
    """Balances and stored entries, read in the caller's session."""

    def balance(self, session: Session, account_id: int) -> Balance:
        """The account's balance now: holds past their time no longer count as held (invariant 17)."""
        row = session.get(LedgerAccount, account_id)
        if row is None:
            raise NotFound(f"No ledger account {account_id}", code="no_account")
        return live_balance(session, row, self.clock.now())

    def balances(self, session: Session, account_ids: Iterable[int]) -> dict[int, Balance]:
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        rows = session.execute(select(LedgerAccount).where(col(LedgerAccount.id).in_(ids))).scalars().all()
        overdue = overdue_reserved(session, ids, self.clock.now())
        return {r.id: _balance(r, overdue.get(r.id, (0, 0))) for r in rows if r.id is not None}

    def entry(self, session: Session, entry_id: int) -> EntryResult:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            raise NotFound(f"No journal entry {entry_id}", code="no_entry")
        return self._result_for(session, entry, replayed=False)

    def key_entry(self, session: Session, key: str) -> Any:
        """(id, hold_id) of the entry posted under idempotency key ``key``, or None (one indexed read)."""
        je = _table(JournalEntry)
        return lean.first(session, _stmt("entry_id_by_key", lambda: select(je.c.id, je.c.hold_id).where(
            je.c.idempotency_key == bindparam("key"))), {"key": key})

    def entry_by_key(self, session: Session, key: str) -> EntryResult | None:
        entry = session.execute(select(JournalEntry).where(col(JournalEntry.idempotency_key) == key)).scalar()
        return None if entry is None else self._result_for(session, entry, replayed=True)


def _balance(row: LedgerAccount, overdue: tuple[int, int] = (0, 0)) -> Balance:
    assert row.id is not None
    return Balance(row.id, row.code, row.kind, row.currency, row.status, row.debits_posted, row.credits_posted,
                   row.debits_pending - overdue[0], row.credits_pending - overdue[1])


def live_balance(session: Session, row: LedgerAccount, now: datetime) -> Balance:
    """The balance of a loaded account row as it stands at ``now``: what pending holds past their
    time still reserve is not held any more (:mod:`teller_tui.ledger.holds`)."""
    assert row.id is not None
    if not (row.debits_pending or row.credits_pending):  # nothing held: no hold to read
        return _balance(row)
    return _balance(row, overdue_reserved(session, [row.id], now).get(row.id, (0, 0)))


def trial_balance(session: Session, *, branch_code: str | None = None) -> dict[str, int]:
    """Sum of (debits − credits) over all accounts per currency, from the maintained totals.

    Zero for every currency when the books balance (invariant 6)."""
    stmt = select(col(LedgerAccount.currency),
                  func.sum(col(LedgerAccount.debits_posted) - col(LedgerAccount.credits_posted))
                  ).group_by(col(LedgerAccount.currency))
    if branch_code is not None:
        stmt = stmt.where(col(LedgerAccount.branch_code) == branch_code)
    return {cur: int(total or 0) for cur, total in session.execute(stmt).all()}


def legs_total(legs: Sequence[Leg]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.currency] += leg.amount
    return dict(totals)
