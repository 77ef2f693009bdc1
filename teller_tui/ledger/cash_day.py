"""Cash handled per business day by each teller and each customer: kept by the ledger, read by the
approval policy's day totals (``teller_day_total``, ``customer_day_total``).

``cash_day`` holds one row per (subject, id, business date), standing entries only (a reversed
entry and the reversal itself do not count, the rule the day totals always had):

* ``teller_out`` (staff id): the cash a teller paid out, the drawer legs of its ``cash_out`` entries;
* ``customer_in`` / ``customer_out`` (customer id): the customer's cash in or out over any drawer,
  the drawer legs of the ``cash_in`` / ``cash_out`` entries made for that customer.

:meth:`teller_tui.ledger.core.Ledger.post` calls :func:`track_cash_day` inside the posting
transaction (after the entry's business date is known), so a row is exact when the transaction
commits: an ordinary cash entry adds its drawer legs (one upsert, ``executemany``); a reversal of a
cash entry takes them off the day, teller and customer of the entry it reverses. Reading a day total
is then one primary-key row (:func:`cash_today`), however many entries the teller, the customer,
the branch or the bank posted that day; before, the read walked the teller's (or customer's)
entries of the day and their postings.

The rows are a cache (invariant 5): ``teller ledger verify`` recomputes them from the postings
(:data:`REBUILD_SQL`, the rule the migration's fill and the bench's bulk loader also follow) and
reports any row that differs (:func:`cash_day_mismatches`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, bindparam, text

from teller_tui.db import lean
from teller_tui.ledger.accounts import AccountKind
from teller_tui.ledger.kinds import EntryKind

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["REBUILD_SQL", "TELLER_OUT", "cash_day_mismatches", "cash_today", "subject_for", "track_cash_day"]

TELLER_OUT = "teller_out"
_CASH = {str(EntryKind.CASH_IN.value): "customer_in", str(EntryKind.CASH_OUT.value): "customer_out"}

_UPSERT = text(
    "INSERT INTO cash_day (subject, subject_id, business_date, amount) VALUES (:s, :i, :d, :x) "
    "ON CONFLICT (subject, subject_id, business_date) DO UPDATE SET amount = cash_day.amount + excluded.amount"
).bindparams(bindparam("d", type_=Date))
_TAKE_OFF = text(  # :d as the reversed entry's row gave it (SQLite: its text)
    "UPDATE cash_day SET amount = amount - :x WHERE subject = :s AND subject_id = :i AND business_date = :d")
_REVERSED = text("SELECT kind, actor_id, customer_id, business_date FROM journal_entry WHERE id = :r")
_TODAY = text(
    "SELECT (SELECT amount FROM cash_day WHERE subject = :cs AND subject_id = :c AND business_date = :d), "
    "(SELECT amount FROM cash_day WHERE subject = 'teller_out' AND subject_id = :t AND business_date = :d)"
).bindparams(bindparam("d", type_=Date))

_STANDING_CASH = (
    "FROM journal_entry e JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE a.kind = 'drawer' AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) "
)
#: The rows of ``cash_day`` recomputed from the postings (what the ledger keeps, see above).
REBUILD_SQL = (
    "SELECT 'teller_out' AS subject, e.actor_id AS subject_id, e.business_date AS business_date, "
    f"sum(-p.amount) AS amount {_STANDING_CASH}AND e.kind = 'cash_out' AND e.actor_id IS NOT NULL "
    "GROUP BY e.actor_id, e.business_date "
    "UNION ALL SELECT CASE e.kind WHEN 'cash_in' THEN 'customer_in' ELSE 'customer_out' END AS subject, "
    f"e.customer_id AS subject_id, e.business_date AS business_date, sum(abs(p.amount)) AS amount {_STANDING_CASH}"
    "AND e.kind IN ('cash_in', 'cash_out') AND e.customer_id IS NOT NULL "
    "GROUP BY e.kind, e.customer_id, e.business_date"
)
#: Kept rows that differ from the postings, and postings with no kept row: the rebuild once (a CTE
#: named twice is materialized by SQLite and PostgreSQL), ~40% less than naming the subquery twice.
_MISMATCH_SQL = (
    f"WITH r AS ({REBUILD_SQL}) "
    "SELECT k.subject, k.subject_id, k.business_date, k.amount, r.amount FROM cash_day k "
    "LEFT JOIN r ON r.subject = k.subject AND r.subject_id = k.subject_id "
    "AND r.business_date = k.business_date WHERE k.amount <> 0 AND (r.subject IS NULL OR r.amount <> k.amount) "
    "UNION ALL SELECT r.subject, r.subject_id, r.business_date, NULL, r.amount FROM r "
    "WHERE r.amount <> 0 AND NOT EXISTS (SELECT 1 FROM cash_day k WHERE k.subject = r.subject "
    "AND k.subject_id = r.subject_id AND k.business_date = r.business_date)"
)


def subject_for(kind: str) -> str:
    """The customer's subject of a cash kind (``cash_in`` -> ``customer_in``)."""
    return _CASH[_plain(kind)]


def _plain(kind: Any) -> str:
    return str(getattr(kind, "value", kind))


def _rows(kind: str, actor_id: int | None, customer_id: int | None, drawer_legs: Sequence[int]) -> list[tuple[str, int, int]]:
    """(subject, id, amount) an entry of ``kind`` adds; ``drawer_legs`` its drawer legs' amounts."""
    subject = _CASH.get(kind)
    if subject is None or not drawer_legs:
        return []
    rows = [(subject, customer_id, sum(abs(x) for x in drawer_legs))] if customer_id is not None else []
    if kind == "cash_out" and actor_id is not None:
        rows.append((TELLER_OUT, actor_id, sum(-x for x in drawer_legs)))
    return rows


def track_cash_day(session: Session, req: Any, accounts: Mapping[int, Any], business_date: date,
                   reverses_entry_id: int | None) -> None:
    """Keep ``cash_day`` for an entry being posted: ``req`` the entry request (kind, actor, customer,
    legs), ``accounts`` the locked rows (with ``kind``)."""
    drawer = [int(leg.amount) for leg in req.legs
              if (row := accounts.get(leg.account_id)) is not None and row.kind == AccountKind.DRAWER]
    if not drawer:
        return
    if reverses_entry_id is None:
        rows = _rows(_plain(req.kind), req.actor_id, req.customer_id, drawer)
        if rows:
            lean.run_many(session, _UPSERT, [{"s": s, "i": i, "d": business_date, "x": x} for s, i, x in rows])
        return
    orig = session.connection().execute(_REVERSED, {"r": reverses_entry_id}).one()  # its day, teller, customer
    rows = _rows(_plain(orig[0]), orig[1], orig[2], [-x for x in drawer])  # the reversal mirrors its legs
    if rows:
        session.connection().execute(_TAKE_OFF, [{"s": s, "i": i, "d": orig[3], "x": x} for s, i, x in rows])


def cash_today(session: Session, *, customer_id: int, kind: str, staff_id: int | None, on: date) -> tuple[int, int]:
    """(the customer's cash of ``kind`` on ``on``, what teller ``staff_id`` paid out on ``on``): two
    primary-key rows in one statement; 0 where there is none (no staff id: 0)."""
    row = lean.one(session, _TODAY, {"cs": subject_for(kind), "c": customer_id, "t": -1 if staff_id is None
                                     else staff_id, "d": on})
    return int(row[0] or 0), int(row[1] or 0)


def cash_day_mismatches(session: Session, limit: int = 10) -> tuple[int, list[str]]:
    """(how many, the first ``limit`` described) of the day rows that are not what the postings say."""
    rows = session.connection().execute(text(_MISMATCH_SQL)).all()
    return len(rows), [f"{r[0]} {r[1]} on {r[2]}: kept {r[3]}, postings say {r[4]}" for r in rows[:limit]]
