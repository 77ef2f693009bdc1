"""Training reports: attempts, scores, passes and common mistakes (from the training audit trail),
and the effect of training: the same tellers' live error signals before and after their training.

``attempts(training_session)`` reads every ``training_result`` record; ``summarize`` groups them per
trainee and scenario; ``live_signals(live_session, username, since, until)`` counts, in the live
database, refusals at the counter, reversals, over/short postings and complaint or dispute cases
linked to the teller's own entries; ``effect`` compares the ``days`` before the trainee's first
training result with the ``days`` after it (per 30 days, so unequal windows still compare).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import col

from teller_tui.models import AuditRecord, JournalEntry, Staff
from teller_tui.models.cases import CaseLink, RefusedAttempt, ServiceCase

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["Attempt", "Effect", "Signals", "TraineeSummary", "archive_lines", "archive_path", "archived", "attempts",
           "effect", "live_signals", "summarize"]

COMPLAINT_TYPES = ("complaint", "transaction_dispute")


@dataclass(frozen=True, slots=True)
class Attempt:
    trainee: str
    scenario: str
    at: datetime
    score: int
    passed: bool
    missed: tuple[str, ...]
    seconds: int
    keys: int


@dataclass
class TraineeSummary:
    trainee: str
    attempts: int = 0
    passes: int = 0
    scenarios: dict[str, list[int]] = field(default_factory=dict)  # scenario -> scores in time order
    mistakes: Counter[str] = field(default_factory=Counter)  # "scenario/step" -> times missed
    first_at: datetime | None = None

    @property
    def mean_score(self) -> int:
        scores = [x for xs in self.scenarios.values() for x in xs]
        return round(sum(scores) / len(scores)) if scores else 0


@dataclass(frozen=True, slots=True)
class Signals:
    refusals: int
    reversals: int
    over_short: int
    complaints: int

    @property
    def total(self) -> int:
        return self.refusals + self.reversals + self.over_short + self.complaints


@dataclass(frozen=True, slots=True)
class Effect:
    trainee: str
    trained_at: datetime
    before: Signals
    after: Signals
    days_before: float
    days_after: float

    def per_30_days(self, which: str) -> float | None:
        """Signals per 30 days in the window; None when the window is under a day (too short to say)."""
        sig, days = (self.before, self.days_before) if which == "before" else (self.after, self.days_after)
        return round(sig.total * 30 / days, 2) if days >= 1 else None


def attempts(session: Session, *, trainee: str | None = None, since: datetime | None = None,
             until: datetime | None = None) -> list[Attempt]:
    """Every scored run, oldest first; only ``trainee``'s, and only those scored in [since, until), when given."""
    stmt = select(AuditRecord).where(col(AuditRecord.action) == "training_result").order_by(col(AuditRecord.seq))
    if trainee:
        stmt = stmt.where(col(AuditRecord.actor) == trainee)
    if since is not None:
        stmt = stmt.where(col(AuditRecord.at) >= since)
    if until is not None:
        stmt = stmt.where(col(AuditRecord.at) < until)
    out = []
    for rec in session.execute(stmt).scalars():
        d: dict[str, Any] = json.loads(rec.detail_json)
        out.append(Attempt(rec.actor, str(d.get("scenario", "")), rec.at, int(d.get("score", 0)),
                           bool(d.get("passed")), tuple(d.get("missed", ())), int(d.get("seconds", 0)),
                           int(d.get("keys", 0))))
    return out


def archive_path(training_home: Path) -> Path:
    """Results of training databases that were rebuilt (`teller training setup --force` keeps them here)."""
    return training_home / "results-archive.jsonl"


def archive_lines(found: Iterable[Attempt]) -> str:
    return "".join(json.dumps({"trainee": a.trainee, "scenario": a.scenario, "at": a.at.isoformat(), "score": a.score,
                               "passed": a.passed, "missed": list(a.missed), "seconds": a.seconds, "keys": a.keys},
                              ensure_ascii=False) + "\n" for a in found)


def archived(path: Path, *, trainee: str | None = None) -> list[Attempt]:
    """Attempts kept from rebuilt training databases (oldest first); none when there is no archive."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        if trainee and d["trainee"] != trainee:
            continue
        out.append(Attempt(str(d["trainee"]), str(d["scenario"]), datetime.fromisoformat(d["at"]), int(d["score"]),
                           bool(d["passed"]), tuple(d.get("missed", ())), int(d.get("seconds", 0)),
                           int(d.get("keys", 0))))
    return out


def summarize(found: Iterable[Attempt]) -> list[TraineeSummary]:
    by: dict[str, TraineeSummary] = {}
    for a in found:
        t = by.setdefault(a.trainee, TraineeSummary(a.trainee))
        t.attempts += 1
        t.passes += int(a.passed)
        t.scenarios.setdefault(a.scenario, []).append(a.score)
        t.mistakes.update(f"{a.scenario}/{m}" for m in a.missed)
        t.first_at = a.at if t.first_at is None else min(t.first_at, a.at)
    return sorted(by.values(), key=lambda t: t.trainee)


def live_signals(session: Session, username: str, since: datetime, until: datetime) -> Signals:
    """The teller's error signals in the live database, in [since, until)."""
    staff_id = session.execute(select(col(Staff.id)).where(col(Staff.username) == username)).scalar()
    refusals = session.execute(select(func.count()).select_from(RefusedAttempt).where(
        col(RefusedAttempt.actor_name) == username, col(RefusedAttempt.at) >= since,
        col(RefusedAttempt.at) < until)).scalar_one()
    if staff_id is None:
        return Signals(int(refusals), 0, 0, 0)

    def entries(kind: str) -> int:
        return int(session.execute(select(func.count()).select_from(JournalEntry).where(
            col(JournalEntry.kind) == kind, col(JournalEntry.actor_id) == staff_id,
            col(JournalEntry.posted_at) >= since, col(JournalEntry.posted_at) < until)).scalar_one())

    complaints = session.execute(select(func.count(func.distinct(ServiceCase.id))).select_from(ServiceCase)
                                 .join(CaseLink, col(CaseLink.case_id) == col(ServiceCase.id))
                                 .join(JournalEntry, col(JournalEntry.reference) == col(CaseLink.entry_reference))
                                 .where(col(ServiceCase.type).in_(COMPLAINT_TYPES),
                                        col(JournalEntry.actor_id) == staff_id,
                                        col(ServiceCase.opened_at) >= since,
                                        col(ServiceCase.opened_at) < until)).scalar_one()
    return Signals(int(refusals), entries("reversal"), entries("over_short"), int(complaints))


def effect(live: Session, summary: TraineeSummary, now: datetime, *, days: int = 30) -> Effect | None:
    """Live error signals in the ``days`` before the first training result and since (up to ``days``)."""
    if summary.first_at is None:
        return None
    trained = summary.first_at
    after_until = min(now, trained + timedelta(days=days))
    days_after = max(0.0, (after_until - trained).total_seconds() / 86400)
    return Effect(summary.trainee, trained, live_signals(live, summary.trainee, trained - timedelta(days=days), trained),
                  live_signals(live, summary.trainee, trained, after_until), float(days), days_after)


def common_mistakes(summaries: Sequence[TraineeSummary], top: int = 5) -> list[tuple[str, int]]:
    total: Counter[str] = Counter()
    for s in summaries:
        total.update(s.mistakes)
    return total.most_common(top)
