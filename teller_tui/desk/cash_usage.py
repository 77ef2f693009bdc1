"""Cash already handled today: what the approval policy compares a new cash transaction against."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import text

from teller_tui.db import lean
from teller_tui.desk.statements import cached_statement

if TYPE_CHECKING:
    from sqlmodel import Session


#: An entry's drawer legs, read per entry found (by ``posting.entry_id``): a join let PostgreSQL's planner,
#: whose statistics said ``posting`` was small, hash every posting of the bank against the customer's
#: few entries (9.7 ms a cash-in at 8 branches posting on a new database, issue 25); a correlated
#: subquery (legs by ``entry_id``, each leg's account by its key) is looked up by index on any plan.
_DRAWER_LEGS = ("(SELECT sum({amount}) FROM posting p WHERE p.entry_id = e.id "
                "AND (SELECT a.kind FROM ledger_account a WHERE a.id = p.account_id) = 'drawer')")


def unindexed(dialect: str, column: str) -> str:
    """``column`` as an expression SQLite's planner will not drive an index with.

    Without statistics SQLite picks ix_entry_date_kind for "business_date = ? AND kind = ?",
    which walks every entry of that kind today (thousands at a busy branch) instead of the
    few of one customer or teller (ix_entry_customer_date / ix_entry_actor_date). Unary ``+``
    is SQLite's documented way to keep a term out of index selection; PostgreSQL plans by
    statistics and gets the column as is."""
    return f"+{column}" if dialect == "sqlite" else column


def cash_today_for_customer(session: Session, dialect: str, customer_id: int, kind: str, on: date) -> int:
    """The customer's cash of ``kind`` (cash_in / cash_out) over any drawer on ``on``, unreversed."""
    total = lean.scalar_one(session, cached_statement(f"customer_cash_today:{dialect}", lambda: text(
        f"SELECT coalesce(sum({_DRAWER_LEGS.format(amount='abs(p.amount)')}), 0) FROM journal_entry e "
        f"WHERE e.customer_id = :c AND e.business_date = :d AND {unindexed(dialect, 'e.kind')} = :k "
        "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")),
        {"c": customer_id, "d": on, "k": kind})
    return int(total)


def cash_out_today_for_actor(session: Session, dialect: str, staff_id: int | None, on: date) -> int:
    """What the teller paid out in cash on ``on`` (unreversed); 0 for no staff id."""
    if staff_id is None:
        return 0
    total = lean.scalar_one(session, cached_statement(f"actor_cash_out_today:{dialect}", lambda: text(
        f"SELECT coalesce(sum({_DRAWER_LEGS.format(amount='-p.amount')}), 0) FROM journal_entry e "
        f"WHERE e.actor_id = :s AND e.business_date = :d AND {unindexed(dialect, 'e.kind')} = 'cash_out' "
        "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")),
        {"s": staff_id, "d": on})
    return int(total)
