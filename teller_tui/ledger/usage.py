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
(:func:`usage_between`), however many postings the wallet ever had. The rows are a cache
(invariant 5): ``teller ledger verify`` recomputes them from the postings (:data:`REBUILD_SQL`, the
rule the migration's fill also follows) and reports any row that differs
(:func:`usage_mismatches`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, bindparam, text

from teller_tui.db import lean
from teller_tui.ledger.accounts import AccountKind

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["REBUILD_SQL", "track_usage", "usage_between", "usage_mismatches"]

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
    "SELECT p.account_id AS account_id, e.business_date AS business_date, "
    "coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0) AS dr, "
    "coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0) AS cr "
    "FROM posting p JOIN journal_entry e ON e.id = p.entry_id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE a.kind = 'wallet' AND e.reverses_entry_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) "
    "GROUP BY p.account_id, e.business_date"
)


#: Kept rows that differ from the postings, and postings with no kept row (invariant 5: a cache). The
#: rebuild once (a CTE named twice is materialized by SQLite and PostgreSQL): ~35% less than naming
#: the subquery twice.
_MISMATCH_SQL = (
    f"WITH r AS ({REBUILD_SQL}) "
    "SELECT k.account_id, k.business_date, k.debits, k.credits, r.dr, r.cr FROM wallet_usage_day k "
    "LEFT JOIN r ON r.account_id = k.account_id AND r.business_date = k.business_date "
    "WHERE (k.debits <> 0 OR k.credits <> 0) AND (r.account_id IS NULL OR r.dr <> k.debits OR r.cr <> k.credits) "
    "UNION ALL SELECT r.account_id, r.business_date, NULL, NULL, r.dr, r.cr FROM r "
    "WHERE (r.dr <> 0 OR r.cr <> 0) AND NOT EXISTS (SELECT 1 FROM wallet_usage_day k "
    "WHERE k.account_id = r.account_id AND k.business_date = r.business_date)"
)


def usage_mismatches(session: Session, limit: int = 10) -> tuple[int, list[str]]:
    """(how many, the first ``limit`` described) of the day rows that are not what the postings say."""
    rows = session.connection().execute(text(_MISMATCH_SQL)).all()
    return len(rows), [f"account {r[0]} on {r[1]}: kept {r[2]}/{r[3]}, postings say {r[4]}/{r[5]} (debits/credits)"
                       for r in rows[:limit]]


def track_usage(session: Session, accounts: Mapping[int, Any], per_account: Mapping[int, Sequence[int]],
                business_date: date, reverses_entry_id: int | None) -> None:
    """Keep ``wallet_usage_day`` for an entry being posted: ``accounts`` the locked rows (with
    ``kind``), ``per_account`` each account's (debits, credits) in this entry."""
    wallets = [(a, int(dr), int(cr)) for a, (dr, cr) in sorted(per_account.items())
               if accounts[a].kind == AccountKind.WALLET]
    if not wallets:
        return
    if reverses_entry_id is None:
        lean.run_many(session, _UPSERT, [{"a": a, "d": business_date, "dr": dr, "cr": cr} for a, dr, cr in wallets])
    else:
        session.connection().execute(_TAKE_OFF, [{"a": a, "r": reverses_entry_id, "dr": cr, "cr": dr}
                                                 for a, dr, cr in wallets])


def usage_between(session: Session, account_id: int, first: date, on: date) -> tuple[int, int, int]:
    """(debits on ``on``, debits from ``first`` to ``on``, credits on ``on``) of a wallet account."""
    row = session.connection().execute(_BETWEEN, {"a": account_id, "d": on, "y": first}).one()
    return int(row[0]), int(row[1]), int(row[2])
