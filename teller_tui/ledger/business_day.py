"""Which business date an entry belongs to: the branch's open business day.

The ledger owns dating (RELIABILITY invariant 14): every entry is dated by its branch's open
business day, on every path (cash, kiosk, approved holds, funding, lifecycle, onboarding,
reversals, the drawers and the vault). These lookups live here, below every service that posts,
so wallets and approvals can use them without importing the branch package (which opens and
closes the days: :mod:`teller_tui.branch.business_day`).

* :func:`open_business_date` — the open day's date, or None when no day is open.
* :func:`current_business_date` — the open day's date, else today's local date. Limits ("today",
  "this year") and same-day rules use it: a day kept open past midnight still counts as its own.
* :func:`require_open_business_date` — the open day's date, or :class:`Conflict`
  ``no_business_day``: for paths that must not post while the branch is closed.
* :func:`find_open_business_day` — the open :class:`BusinessDay` row itself (branch package).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.models.drawers import BusinessDay
from teller_tui.models.enums import BusinessDayStatus

__all__ = ["current_business_date", "find_open_business_day", "open_business_date", "require_open_business_date"]


def find_open_business_day(session: Session, branch_code: str) -> BusinessDay | None:
    """The branch's open business day (at most one is open; the latest wins if data says otherwise)."""
    return session.exec(select(BusinessDay).where(BusinessDay.branch_code == branch_code,
                                                  BusinessDay.status == BusinessDayStatus.OPEN)
                        .order_by(col(BusinessDay.business_date).desc())).first()


def open_business_date(session: Session, branch_code: str) -> date | None:
    """The branch's open business date (for ledger entries), or None."""
    return session.exec(select(col(BusinessDay.business_date)).where(BusinessDay.branch_code == branch_code,
                                                                BusinessDay.status == BusinessDayStatus.OPEN)
                        .order_by(col(BusinessDay.business_date).desc())).first()


def current_business_date(session: Session, branch_code: str, clock: Clock) -> date:
    """The date a posting belongs to: the branch's open business day, else today's local date.

    Limits ("today", "this year") and same-day rules must use this, not the calendar: a
    business day kept open past midnight still books its entries on its own date.
    """
    return open_business_date(session, branch_code) or local_date(clock.now())


def require_open_business_date(session: Session, branch_code: str) -> date:
    """The branch's open business date, or a Conflict (``no_business_day``): a closed day takes no entry."""
    found = open_business_date(session, branch_code)
    if found is None:
        raise Conflict(_("No business day is open at this branch."), code="no_business_day")
    return found
