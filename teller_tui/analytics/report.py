"""The promotion report (issue 24): what the counter achieved over a range of business dates.

:func:`build_report` reads every measure in one read snapshot (:mod:`teller_tui.analytics.queries`)
and returns a :class:`PromotionReport`: one :class:`GroupRow` per teller, branch, day, week or
month, a total, the activation cohorts by opening week and the busiest hours by weekday.

Groups: openings, activation and active wallets belong to the teller who OPENED the wallet (the
campaign's question: whose customers use their wallets) and to the wallet's branch; transactions,
rewards and cases to the person who POSTED or OPENED them and to their branch; satisfaction to the
person who SERVED the customer. Per period, each measure is counted on its own business date; a
period's active wallets are counted in the 30 days to the period's last day (clipped to the range).

Training scores come from the training database (:class:`teller_tui.training.results.TrainingResults`,
read by the service and passed in): runs scored on a local date in the range, grouped by the live
teller of the same user name, their branch, or the run's date. ``training_available`` is False when
that database could not be read; the measures are then absent, not zero.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, col, select

from teller_tui.analytics import queries as q
from teller_tui.analytics.periods import By, periods
from teller_tui.common.text import clean_text
from teller_tui.models import Staff
from teller_tui.training.results import TrainingScores

__all__ = ["GroupRow", "PromotionReport", "build_report", "ratio"]


def ratio(num: int, den: int, places: int = 1) -> Decimal | None:
    """num/den rounded half up (percentages and averages are shown, never summed); None for 0/0."""
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: Hashable  # staff id, branch code, or a period's first date (None: the total / no teller)
    label: str  # clean text, shown as is
    m: q.Measures

    @property
    def activation_7_pct(self) -> Decimal | None:
        return ratio(100 * self.m.activated_7, self.m.opened)

    @property
    def activation_30_pct(self) -> Decimal | None:
        return ratio(100 * self.m.activated_30, self.m.opened)

    @property
    def txns_per_active(self) -> Decimal | None:
        return ratio(self.m.active_txns, self.m.active)

    @property
    def satisfaction(self) -> Decimal | None:
        return ratio(self.m.satisfaction_sum, self.m.satisfaction_n, 2)

    @property
    def training_mean(self) -> Decimal | None:
        """Mean score (0-100) of the group's scored training runs."""
        return ratio(self.m.training_score_sum, self.m.training_runs)


@dataclass(frozen=True, slots=True)
class PromotionReport:
    first: date
    last: date
    by: By
    branch: str | None
    rows: list[GroupRow]
    total: GroupRow
    cohorts: list[q.Cohort]
    heatmap: list[list[int]]  # [weekday 0=Monday][local hour]
    training_available: bool = True


def _add(d: dict[str, list[int]], name: str, n: int, minor: int) -> None:
    cell = d.setdefault(name, [0, 0])
    cell[0] += n
    cell[1] += minor


def build_report(s: Session, first: date, last: date, by: By, branch: str | None = None,
                 training: TrainingScores | None = None) -> PromotionReport:
    """Every measure for [first, last] (business dates, inclusive), grouped ``by``; ``training``:
    the runs scored in the range's local days (none given: no training measure)."""
    groups: dict[Hashable, q.Measures] = {}
    total = q.Measures()
    if by.is_period:  # every period gets a row, even an empty one
        for start, _end in periods(first, last, by):
            groups[start] = q.Measures()

    def g(key: Hashable) -> q.Measures:
        return groups.setdefault(key, q.Measures())

    opened = q.openings(s, first, last, branch)
    for w in opened:
        key = q.key_of(by, first, day=w.opened_on, staff_id=w.opened_by, branch=w.branch_code)
        for m in (g(key), total):
            m.opened += 1
            m.by_class[w.tier - 1] += 1
            m.activated_7 += q.activated_within(w, 7)
            m.activated_30 += q.activated_within(w, 30)
    for key, kind, channel, n, minor in q.activity(s, first, last, by, branch):
        for m in (g(key), total):
            m.txns += n
            m.amount += minor
            _add(m.by_kind, kind, n, minor)
            _add(m.by_channel, channel, n, minor)
    for key, n, points in q.rewards(s, first, last, by, branch):
        for m in (g(key), total):
            m.rewards += n
            m.reward_points += points
    for key, complaint in q.cases(s, first, last, by, branch):
        for m in (g(key), total):
            m.cases += 1
            m.complaints += complaint
    for key, score in q.satisfaction(s, first, last, by, branch):
        for m in (g(key), total):
            m.satisfaction_n += 1
            m.satisfaction_sum += score
    for key, run in q.training(s, training.attempts if training else (), first, by, branch):
        for m in (g(key), total):
            m.training_runs += 1
            m.training_passes += run.passed
            m.training_score_sum += run.score
    # Active wallets: a wallet falls in exactly one teller (who opened it) or branch group, so the
    # total is the groups' sum; for periods it is the last period's (its window ends on ``last`` too).
    if by.is_period:
        for start, end in periods(first, last, by):
            n, t = q.active_wallets(s, end, by, branch).get(0, (0, 0))
            groups[start].active, groups[start].active_txns = n, t
            total.active, total.active_txns = n, t
    else:
        for key, (n, t) in q.active_wallets(s, last, by, branch).items():
            g(key).active, g(key).active_txns = n, t
            total.active += n
            total.active_txns += t

    names = _labels(s, by, groups)
    rows = [GroupRow(k, names[k], m) for k, m in groups.items()]
    rows.sort(key=lambda r: (r.key is None, str(r.key) if by.is_period else r.label))
    return PromotionReport(first, last, by, branch, rows, GroupRow(None, "", total), q.cohorts(opened),
                           q.heatmap(s, first, last, branch),
                           training_available=training is None or training.available)


def _labels(s: Session, by: By, groups: dict[Hashable, q.Measures]) -> dict[Hashable, str]:
    if by == By.TELLER:
        ids = [k for k in groups if isinstance(k, int)]
        found = {int(i): str(u) for i, u in s.execute(select(col(Staff.id), col(Staff.username))
                                                       .where(col(Staff.id).in_(ids))).all()} if ids else {}
        return {k: clean_text(found.get(k, "?"), limit=64) if isinstance(k, int) else "-" for k in groups}
    return {k: clean_text(str(k), limit=64) for k in groups}
