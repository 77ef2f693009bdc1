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

Read once per transaction: the open day found by any of these lookups (or by the drawer lookup,
:func:`teller_tui.branch.drawer_lookup.require_open_drawer`, through :func:`remember_open_day`)
is remembered for the rest of the same transaction, so a posting reads the day once rather than
once for the drawer, once for the limits and once for dating. A locked lookup is served from
memory only when the remembered read was locked too. The one writer of the days
(:mod:`teller_tui.branch.business_day`) calls :func:`forget_open_days` when it opens or closes one.
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
    "Dating", "current_business_date", "find_open_business_day", "forget_open_days", "next_business_date",
    "open_business_date", "remember_open_day", "require_open_business_date",
]

_MEMO = "teller_tui.ledger.business_day.open"


class Dating(StrEnum):
    """How an entry is dated when the branch has no open business day (see the module docstring)."""

    COUNTER = "counter"  # refused: a person at the counter needs an open day
    AFTER_HOURS = "after_hours"  # self-service and automatic postings: the next business day


def remember_open_day(session: Session, branch_code: str, business_date: date | None, *, locked: bool) -> None:
    """Remember, for the rest of this transaction, the branch's open business date (None: no day
    open) as just read, and whether that read locked the day's row."""
    txn = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not txn:
        memo = session.info[_MEMO] = (txn, {})
    days: dict[str, tuple[date | None, bool]] = memo[1]
    days[branch_code] = (business_date, locked)


def forget_open_days(session: Session) -> None:
    """Forget the remembered open days (a day was opened or closed in this transaction)."""
    session.info.pop(_MEMO, None)


def _remembered(session: Session, branch_code: str, lock: bool) -> tuple[bool, date | None]:
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not session.get_transaction() or branch_code not in memo[1]:
        return False, None
    found, locked = memo[1][branch_code]
    return (locked or not lock), found


def find_open_business_day(session: Session, branch_code: str, *, lock: bool = False) -> BusinessDay | None:
    """The branch's open business day (at most one is open; the latest wins if data says otherwise)."""
    stmt = select(BusinessDay).where(BusinessDay.branch_code == branch_code,
                                     BusinessDay.status == BusinessDayStatus.OPEN
                                     ).order_by(col(BusinessDay.business_date).desc())
    if lock:
        stmt = stmt.with_for_update()
    day = session.exec(stmt).first()
    remember_open_day(session, branch_code, day.business_date if day is not None else None, locked=lock)
    return day


def open_business_date(session: Session, branch_code: str, *, lock: bool = False) -> date | None:
    """The branch's open business date, or None. ``lock`` takes the day's row ``FOR SHARE`` on
    PostgreSQL (SQLite's write transaction already excludes a concurrent close), so the day
    cannot close between reading its date and committing an entry dated into it."""
    known, found = _remembered(session, branch_code, lock)
    if known:
        return found
    stmt = select(col(BusinessDay.business_date)).where(BusinessDay.branch_code == branch_code,
                                                        BusinessDay.status == BusinessDayStatus.OPEN
                                                        ).order_by(col(BusinessDay.business_date).desc())
    if lock:
        stmt = stmt.with_for_update(read=True)
    found = session.exec(stmt).first()
    remember_open_day(session, branch_code, found, locked=lock)
    return found


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

