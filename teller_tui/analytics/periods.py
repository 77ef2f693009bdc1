"""Grouping keys for the promotion report: teller, branch, or a period of business dates.

Periods are of BUSINESS dates (the date the ledger gave an entry, the day a wallet was opened on),
never calendar dates: a day kept open past midnight counts as its own. Weeks start on Monday
(ISO); months on the 1st. A period at the edge of the range is clipped to the range.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

__all__ = ["By", "period_end", "period_start", "periods"]


class By(StrEnum):
    TELLER = "teller"
    BRANCH = "branch"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def is_period(self) -> bool:
        return self in (By.DAY, By.WEEK, By.MONTH)


def period_start(day: date, by: By) -> date:
    if by == By.WEEK:
        return day - timedelta(days=day.weekday())
    if by == By.MONTH:
        return day.replace(day=1)
    return day


def period_end(start: date, by: By) -> date:
    if by == By.WEEK:
        return start + timedelta(days=6)
    if by == By.MONTH:
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return nxt - timedelta(days=1)
    return start


def periods(first: date, last: date, by: By) -> list[tuple[date, date]]:
    """The periods covering [first, last], each (start, end) clipped to the range."""
    out: list[tuple[date, date]] = []
    start = period_start(first, by)
    while start <= last:
        end = period_end(start, by)
        out.append((max(start, first), min(end, last)))
        start = end + timedelta(days=1)
    return out
