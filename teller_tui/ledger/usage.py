"""What each wallet moved per business day: kept by the ledger, read by the class limits.

``wallet_usage_day`` holds, per wallet account and business date, the debits (money out) and
credits (money in) of the entries that still stand: a reversed entry and the reversal itself do
not count (the rule of :mod:`teller_tui.wallets.limits`). :meth:`teller_tui.ledger.core.Ledger.post`
calls :func:`track_usage` inside the posting transaction, under the accounts' locks, so the day's
row is exact when the transaction commits:

* an ordinary entry adds each wallet leg to its day (one upsert, ``executemany``);
* a reversal adds nothing of its own and takes the reversed entry's amounts off the day that
  entry was dated (its debits are the original's credits and the other way round).

Reading a year of usage is then an index range of at most 366 rows per wallet
(:func:`usage_between`), however many postings the wallet ever had. ``teller ledger verify``'s
rebuild (:data:`REBUILD_SQL`, also what the migration and the benchmark's bulk loader run) gives
the same rows from the postings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, bindparam, text

from teller_tui.ledger.accounts import AccountKind

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["REBUILD_SQL", "track_usage", "usage_between"]

_UPSERT = text(
    "INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) VALUES (:a, :d, :dr, :cr) "
    "ON CONFLICT (account_id, business_date) DO UPDATE SET debits = wallet_usage_day.debits + excluded.debits, "
    "credits = wallet_usage_day.credits + excluded.credits").bindparams(bindparam("d", type_=Date))
_TAKE_OFF = text(
    "UPDATE wallet_usage_day SET debits = debits - :dr, credits = credits - :cr "
    "WHERE account_id = :a AND business_date = (SELECT business_date FROM journal_entry WHERE id = :r)")
_BETWEEN = text(
    "SELECT coalesce(sum(CASE WHEN business_date = :d THEN debits END), 0), coalesce(sum(debits), 0), "
    "coalesce(sum(CASE WHEN business_date = :d THEN credits END), 0) FROM wallet_usage_day "
    "WHERE account_id = :a AND business_date >= :y AND business_date <= :d"
).bindparams(bindparam("d", type_=Date), bindparam("y", type_=Date))

#: The rows of ``wallet_usage_day`` recomputed from the postings (what the ledger keeps, see above).
REBUILD_SQL = (
    "SELECT p.account_id, e.business_date, "
    "coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0), "
    "coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0) "
    "FROM posting p JOIN journal_entry e ON e.id = p.entry_id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE a.kind = 'wallet' AND e.reverses_entry_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) "
    "GROUP BY p.account_id, e.business_date"
)


def track_usage(session: Session, accounts: Mapping[int, Any], per_account: Mapping[int, Sequence[int]],
                business_date: date, reverses_entry_id: int | None) -> None:
    """Keep ``wallet_usage_day`` for an entry being posted: ``accounts`` the locked rows (with
    ``kind``), ``per_account`` each account's (debits, credits) in this entry."""
    wallets = [(a, int(dr), int(cr)) for a, (dr, cr) in sorted(per_account.items())
               if accounts[a].kind == AccountKind.WALLET]
    if not wallets:
        return
    if reverses_entry_id is None:
        session.connection().execute(_UPSERT, [{"a": a, "d": business_date, "dr": dr, "cr": cr} for a, dr, cr in wallets])
    else:
        session.connection().execute(_TAKE_OFF, [{"a": a, "r": reverses_entry_id, "dr": cr, "cr": dr} for a, dr, cr in wallets])


def usage_between(session: Session, account_id: int, first: date, on: date) -> tuple[int, int, int]:
    """(debits on ``on``, debits from ``first`` to ``on``, credits on ``on``) of a wallet account."""
    row = session.connection().execute(_BETWEEN, {"a": account_id, "d": on, "y": first}).one()
    return int(row[0]), int(row[1]), int(row[2])
