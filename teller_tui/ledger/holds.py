"""Holds past their time (RELIABILITY invariant 17): an expired hold releases its funds without
anyone looking at it.

* Writers resolve overdue holds inside their own write transaction before they spend or count:
  :meth:`teller_tui.ledger.core.Ledger.release_overdue_holds` (the ledger also does it for every
  account a posting or a new hold touches).
* Readers that show or judge an available balance leave out what overdue holds still reserve:
  :meth:`Ledger.balance` / :meth:`Ledger.balances` / :func:`teller_tui.ledger.core.live_balance`
  subtract :func:`overdue_reserved`, so a hold past its time never shows as held, whether or not
  a sweep (``teller approvals sweep``, the app's periodic sweep) has run yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from teller_tui.models import Hold

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["overdue_reserved"]

_STATEMENT: dict[str, Any] = {}


def _overdue_stmt() -> Any:
    stmt = _STATEMENT.get("overdue")
    if stmt is None:
        h = Hold.__table__  # type: ignore[attr-defined]
        stmt = _STATEMENT["overdue"] = select(h.c.debit_account_id, h.c.credit_account_id, h.c.amount).where(
            h.c.status == "pending", h.c.expires_at.is_not(None), h.c.expires_at <= bindparam("now"),
            h.c.debit_account_id.in_(bindparam("ids", expanding=True))
            | h.c.credit_account_id.in_(bindparam("ids", expanding=True)))
    return stmt


def overdue_reserved(session: Session, account_ids: Iterable[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per account: (debits, credits) still reserved by pending holds whose time has passed.

    Accounts without any are left out (the usual case: one indexed probe, no rows)."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for dr, cr, amount in session.execute(_overdue_stmt(), {"now": now, "ids": ids}).all():
        if dr in ids:
            out[int(dr)][0] += int(amount)
        if cr in ids:
            out[int(cr)][1] += int(amount)
    return {k: (v[0], v[1]) for k, v in out.items()}
