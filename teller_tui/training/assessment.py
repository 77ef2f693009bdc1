"""Score a training run from what the trainee actually did: the training audit trail.

Every step of a scenario names a check (:data:`teller_tui.training.scenarios.CHECKS`) read from
the audit records the trainee's own actions wrote between the start and the end of the run:
postings (``cash_in``/``cash_out``/``transfer`` with amount, wallet and approval), denomination
counts (``cash_pieces``), cases opened (``case_open``), wallets blocked (``wallet_block``) and
customers onboarded (``customer_onboard``). Nothing the trainee says they did counts; only what
the training books show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from teller_tui.models import AuditRecord, Customer
from teller_tui.models.approvals import ApprovalRequest
from teller_tui.training.copies import fill
from teller_tui.training.scenarios import Question, Scenario, Step

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["Assessment", "StepResult", "assess", "grade_quiz"]

POSTINGS = ("cash_in", "cash_out", "transfer", "reversal")


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    done: bool
    points: int  # earned
    of: int
    compliance: bool
    critical: bool
    kb: str
    title_zh: str
    title_en: str
    feedback_zh: str  # empty when done
    feedback_en: str

    def title(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") else self.title_en

    def feedback(self, locale: str) -> str:
        return self.feedback_zh if locale.startswith("zh") else self.feedback_en


@dataclass(frozen=True, slots=True)
class Assessment:
    scenario: str
    trainee: str
    score: int  # 0-100
    passed: bool
    pass_mark: int
    steps: tuple[StepResult, ...]
    wrong_postings: int
    compliance_skipped: tuple[str, ...]
    seconds: int
    keys: int
    quiz_right: int = 0
    quiz_asked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "trainee": self.trainee, "score": self.score, "passed": self.passed,
                "pass_mark": self.pass_mark, "wrong_postings": self.wrong_postings,
                "compliance_skipped": list(self.compliance_skipped), "seconds": self.seconds, "keys": self.keys,
                "quiz_right": self.quiz_right, "quiz_asked": self.quiz_asked,
                "missed": [r.step for r in self.steps if not r.done]}


@dataclass(frozen=True, slots=True)
class _Did:
    action: str
    subject: str
    detail: dict[str, Any]


def _records(session: Session, trainee: str, after_seq: int) -> list[_Did]:
    """The trainee's records after the run's start record (by sequence: the chain's own order)."""
    rows = session.execute(select(col(AuditRecord.action), col(AuditRecord.subject), col(AuditRecord.detail_json))
                           .where(col(AuditRecord.actor) == trainee, col(AuditRecord.seq) > after_seq)
                           .order_by(col(AuditRecord.seq))).all()
    return [_Did(str(a), str(s), json.loads(d or "{}")) for a, s, d in rows]


def _touches(did: _Did, wallets: Sequence[str]) -> bool:
    return did.subject in wallets or did.detail.get("to_wallet") in wallets


def _amount_is(did: _Did, amount: Any) -> bool:
    return amount is None or Decimal(str(did.detail.get("amount", "0"))) == Decimal(str(amount))


def _queued_and_posted(session: Session, did: list[_Did], p: dict[str, Any]) -> int:
    """Requests the trainee sent to the approval queue that were approved and posted (the posting is
    the approver's automatic one, so the trainee's own record is the request)."""
    ids = [int(d.subject.removeprefix("approval:")) for d in did if d.action == "approval_request"
           and d.detail.get("kind") == p["kind"] and (p.get("amount") is None or d.detail.get("amount") ==
                                                       int(Decimal(str(p["amount"])) * 100))]
    if not ids:
        return 0
    return len(session.execute(select(col(ApprovalRequest.id)).where(
        col(ApprovalRequest.id).in_(ids), col(ApprovalRequest.status) == "consumed",
        col(ApprovalRequest.entry_id).is_not(None))).all())


def _check(step: Step, did: list[_Did], *, session: Session, customer_id: int | None, wallets: Sequence[str],
           seconds: int, values: dict[str, str]) -> bool:
    p = {k: fill(v, values) if isinstance(v, str) else v for k, v in step.params.items()}
    if step.check == "posted":
        hits = [d for d in did if d.action == p["kind"] and _touches(d, wallets) and _amount_is(d, p.get("amount"))
                and (not p.get("with_approval") or d.detail.get("approval_id"))]
        return len(hits) + _queued_and_posted(session, did, p) >= int(p.get("min_count", 1))
    if step.check == "not_posted":
        kinds = p.get("kinds", POSTINGS)
        return not any(d.action in kinds and _touches(d, wallets) for d in did)
    if step.check == "at_most":
        return sum(1 for d in did if d.action == p["kind"] and _touches(d, wallets)) <= int(p["count"])
    if step.check == "counted":
        return any(d.action == "cash_pieces" for d in did)
    if step.check == "case_opened":
        types = p.get("types", ())
        return any(d.action == "case_open" and d.detail.get("customer_id") == customer_id
                   and (not types or d.detail.get("type") in types) for d in did)
    if step.check == "wallet_blocked":
        return any(d.action == "wallet_block" and d.subject in wallets for d in did)
    if step.check in ("customer_onboarded", "no_wallet_issued"):
        onboarded = [d for d in did if d.action == "customer_onboard"]
        numbers = {str(n) for n in session.execute(select(col(Customer.id_number)).where(
            col(Customer.customer_no).in_([d.subject for d in onboarded]))).scalars()} if onboarded else set()
        if step.check == "no_wallet_issued":
            return str(p["id_number"]) not in numbers
        ok = str(p["id_number"]) in numbers
        if ok and p.get("class_number_at_least"):  # class 4 has the lowest limits
            ok = all(int(d.detail.get("tier", 0)) >= int(p["class_number_at_least"]) for d in onboarded)
        return ok
    if step.check == "within_minutes":
        return seconds <= int(p["minutes"]) * 60
    raise AssertionError(step.check)  # CHECKS is validated when the scenario loads


def assess(session: Session, scenario: Scenario, *, trainee: str, start_seq: int, since: datetime,
           until: datetime, customer_id: int | None, wallets: Sequence[str], keys: int = 0,
           values: dict[str, str] | None = None) -> Assessment:
    """Score one run: each step checked against the trainee's audit records after the run's start
    record ``start_seq`` (written at ``since``); ``until`` is now (the time taken)."""
    did = _records(session, trainee, start_seq)
    seconds = max(0, int((until - since).total_seconds()))
    results: list[StepResult] = []
    for step in scenario.steps:
        done = _check(step, did, session=session, customer_id=customer_id, wallets=wallets, seconds=seconds,
                      values=values or {})
        results.append(StepResult(step.id, done, step.points if done else 0, step.points, step.compliance,
                                  step.critical, step.kb, step.title.zh_CN, step.title.en,
                                  "" if done else step.missed.zh_CN, "" if done else step.missed.en))
    total = scenario.total_points or 1
    score = round(100 * sum(r.points for r in results) / total)
    critical_missed = any(r.critical and not r.done for r in results)
    wrong = sum(1 for r, s in zip(results, scenario.steps, strict=True)
                if not r.done and s.check in ("not_posted", "at_most"))
    return Assessment(scenario.id, trainee, score, score >= scenario.pass_mark and not critical_missed,
                      scenario.pass_mark, tuple(results), wrong,
                      tuple(r.step for r in results if r.compliance and not r.done), seconds, keys)


def grade_quiz(questions: Sequence[Question], answers: dict[str, int]) -> tuple[int, int]:
    """(right, asked) for the answers given by question id."""
    asked = [q for q in questions if q.id in answers]
    return sum(1 for q in asked if answers[q.id] == q.answer), len(asked)
