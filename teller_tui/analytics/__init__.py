"""Promotion and branch analytics (issue 24): openings, activation, active wallets, transactions by
kind and channel, rewards, cases and satisfaction, busiest hours, over any range of business dates.

* :mod:`.periods` — teller, branch, day, week, month: the grouping keys;
* :mod:`.queries` — the SQL aggregates (one per measure) and the indexes they use;
* :mod:`.report` — :func:`build_report` assembles a :class:`PromotionReport`;
* :mod:`.render` — the report as a table, CSV or JSON (``teller report promotion``);
* :mod:`.service` — :class:`AnalyticsService` for the screen and the command line.

The activation rule itself is the wallets package's (:mod:`teller_tui.wallets.activation`).
"""

from teller_tui.analytics.periods import By
from teller_tui.analytics.report import GroupRow, PromotionReport
from teller_tui.analytics.service import AnalyticsService

__all__ = ["AnalyticsService", "By", "GroupRow", "PromotionReport"]
