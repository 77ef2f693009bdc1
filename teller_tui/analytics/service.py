"""AnalyticsService: the promotion report for the supervisor's screen and ``teller report promotion``."""

from __future__ import annotations

from datetime import date, timedelta

from teller_tui.analytics.periods import By
from teller_tui.analytics.queries import local_bounds
from teller_tui.analytics.report import PromotionReport, build_report
from teller_tui.audit.trail import Actor
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock
from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.ledger.business_day import current_business_date
from teller_tui.training.results import TrainingResults

__all__ = ["MAX_DAYS", "AnalyticsService", "last_month"]

#: The longest range one report covers (a year and a day: a year to date plus its last day).
MAX_DAYS = 367


def last_month(today: date) -> tuple[date, date]:
    """The whole calendar month of business dates before the one ``today`` is in."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


class AnalyticsService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, training: TrainingResults) -> None:
        self.db, self.clock, self.settings, self.training = db, clock, settings, training

    @guarded("analytics")
    def business_date(self, actor: Actor, branch_code: str | None = None) -> date:
        """The branch's current business date (the open day, else the next one)."""
        with self.db.read() as s:
            return current_business_date(s, branch_code or self.settings.branch_code, self.clock)

    @guarded("analytics")
    def promotion(self, actor: Actor, first: date, last: date, by: By | str = By.TELLER,
                  branch_code: str | None = None) -> PromotionReport:
        """Every measure of issue 24 for business dates [first, last], grouped by teller, branch, day,
        week or month; ``branch_code`` None is every branch. Read in one snapshot."""
        try:
            by = By(by)
        except ValueError:
            raise ValidationError(_("Group by teller, branch, day, week or month"), code="group_by") from None
        if last < first:
            raise ValidationError(_("The range ends before it starts"), code="date_range")
        if (last - first).days >= MAX_DAYS:
            raise ValidationError(_("A report covers at most {days} days").format(days=MAX_DAYS), code="date_range")
        scores = self.training.between(*local_bounds(first, last))
        with self.db.read() as s:
            return build_report(s, first, last, by, branch_code, scores)
