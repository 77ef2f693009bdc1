"""Which business date an entry belongs to: the ledger dates every entry itself.

RELIABILITY invariant 14: every entry is dated by its branch's open business day, on every
path (cash, kiosk, approved holds, funding, lifecycle, onboarding, reversals, the drawers and
the vault); the calendar date never dates an entry, and a closed day takes no new entry.
:meth:`teller_tui.ledger.core.Ledger.post` resolves the date inside the posting's own write
transaction (callers cannot pass one; the open day's row is read ``FOR SHARE``), following one
of two rules named by the request's :class:`Dating`:

* ``Dating.COUNTER`` — postings a person makes at the counter (cash in/out, desk transfers,
  reversals, drawer and vault movements, funding, wallet life cycle, onboarding): the branch's
  open business day. With no day open the posting is refused with
  :class:`~teller_tui.common.errors.Conflict` ``no_business_day`` ("No business day is open
  at this branch.").
* ``Dating.AFTER_HOURS`` — self-service (the kiosk) and automatic postings (a remotely
  approved hold posted when the supervisor decides, sweeps): the open business day when one
  is open; otherwise **the next business day**, which is the later of today's local date and
  the day after the branch's last closed business day. So the kiosk keeps working after the
  close (its entries belong to the day that opens next) and nothing is ever dated into a
  closed day. A branch that never opened a day dates by the local date.

The same rule answers "which day is it" for limits: :func:`current_business_date` is the
date a posting made now would carry, so daily limits ("today", "this year") count exactly
the entries dated like the one being checked; a day kept open past midnight still counts as
its own.

Lookups (they live here, below every service that posts, so wallets and approvals can use them
without importing the branch package, which opens and closes the days:
:mod:`teller_tui.branch.business_day`):

* :func:`open_business_date` — the open day's date, or None when no day is open.
* :func:`next_business_date` — the date after-hours postings get while no day is open.
* :func:`current_business_date` — the open day's date, else the next business date.
* :func:`require_open_business_date` — the open day's date, or ``no_business_day``.
* :func:`find_open_business_day` — the open :class:`BusinessDay` row itself (branch package);
  ``lock=True`` takes it ``FOR UPDATE`` (closing the day waits for postings dated into it).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from sqlmodel import Session, col, func, select

from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.models.drawers import BusinessDay
from teller_tui.models.enums import BusinessDayStatus

__all__ = [
    "Dating", "current_business_date", "find_open_business_day", "next_business_date",
    "open_business_date", "require_open_business_date",
]


class Dating(StrEnum):
    """How an entry is dated when the branch has no open business day (see the module docstring)."""

    COUNTER = "counter"  # refused: a person at the counter needs an open day
    AFTER_HOURS = "after_hours"  # self-service and automatic postings: the next business day


def find_open_business_day(session: Session, branch_code: str, *, lock: bool = False) -> BusinessDay | None:
    """The branch's open business day (at most one is open; the latest wins if data says otherwise)."""
    stmt = select(BusinessDay).where(BusinessDay.branch_code == branch_code,
                                     BusinessDay.status == BusinessDayStatus.OPEN
                                     ).order_by(col(BusinessDay.business_date).desc())
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def open_business_date(session: Session, branch_code: str, *, lock: bool = False) -> date | None:
    """The branch's open business date, or None. ``lock`` takes the day's row ``FOR SHARE`` on
    PostgreSQL (SQLite's write transaction already excludes a concurrent close), so the day
    cannot close between reading its date and committing an entry dated into it."""
    stmt = select(col(BusinessDay.business_date)).where(BusinessDay.branch_code == branch_code,
                                                        BusinessDay.status == BusinessDayStatus.OPEN
                                                        ).order_by(col(BusinessDay.business_date).desc())
    if lock:
        stmt = stmt.with_for_update(read=True)
    return session.exec(stmt).first()


def next_business_date(session: Session, branch_code: str, clock: Clock) -> date:
    """While no day is open: the later of today's local date and the day after the last closed day."""
    today = local_date(clock.now())
    last = session.exec(select(func.max(BusinessDay.business_date))
                        .where(BusinessDay.branch_code == branch_code)).first()
    if last is None:
        return today
    return max(today, last + timedelta(days=1))


def current_business_date(session: Session, branch_code: str, clock: Clock) -> date:
    """The date a posting made now belongs to: the open business day, else the next business day.

    Limits ("today", "this year") and same-day rules must use this, not the calendar: a
    business day kept open past midnight still books its entries on its own date.
    """
    return open_business_date(session, branch_code) or next_business_date(session, branch_code, clock)


def require_open_business_date(session: Session, branch_code: str) -> date:
    """The branch's open business date, or a Conflict (``no_business_day``): a closed day takes no entry."""
    found = open_business_date(session, branch_code)
    if found is None:
        raise Conflict(_("No business day is open at this branch."), code="no_business_day")
    return found

