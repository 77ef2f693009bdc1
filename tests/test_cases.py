"""Service cases: every legal and illegal status move (table and service), deadlines counted in
working hours from data/service_levels.toml, escalation of overdue cases with a fake clock, reopening,
who may do what, and the ``teller cases list`` command."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.audit.trail import Actor
from teller_tui.cases.flow import TRANSITIONS, check_transition
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.common.clock import BRANCH_TZ
from teller_tui.common.errors import Conflict, PermissionDenied, ValidationError
from teller_tui.common.reference import ReferenceDataError
from teller_tui.models import AuditRecord
from teller_tui.models.cases import (
    CaseEvent, CaseStatus, CaseType, Channel, FollowUpCall, FollowUpKind, HelpRequest, HelpRequestStatus,
    RefusedAttempt, ServiceCase, CaseEventKind,
)

S = CaseStatus
#: Written out by hand (not derived from TRANSITIONS), so a change to the table must change this too.
LEGAL = {
    (S.OPEN, S.IN_PROGRESS), (S.OPEN, S.WAITING_FOR_CUSTOMER), (S.OPEN, S.RESOLVED),
    (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER), (S.IN_PROGRESS, S.RESOLVED),
    (S.WAITING_FOR_CUSTOMER, S.IN_PROGRESS), (S.WAITING_FOR_CUSTOMER, S.RESOLVED),
    (S.RESOLVED, S.CLOSED), (S.RESOLVED, S.IN_PROGRESS),
    (S.CLOSED, S.IN_PROGRESS),
}
KIOSK = Actor(None, "kiosk-k01", "K01", "kiosk", "B001")


def _local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BRANCH_TZ).astimezone(UTC)


# -- the table -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("current", "target"), list(product(CaseStatus, CaseStatus)))
def test_transition_table(current: CaseStatus, target: CaseStatus) -> None:
    assert (target in TRANSITIONS[current]) == ((current, target) in LEGAL)
    if (current, target) in LEGAL:
        check_transition(current, target)
    else:
        with pytest.raises(Conflict) as err:
            check_transition(current, target)
        assert err.value.code == "case_transition"


def _drive(desk: Desk, case: str, status: CaseStatus) -> None:
    """Bring a fresh (open) case to ``status`` along legal moves."""
    cases = desk.services.cases
    if status == S.IN_PROGRESS:
        cases.move(desk.teller, case, S.IN_PROGRESS)
    elif status == S.WAITING_FOR_CUSTOMER:
        cases.move(desk.teller, case, S.WAITING_FOR_CUSTOMER)
    elif status in (S.RESOLVED, S.CLOSED):
        cases.resolve(desk.teller, case, "answered")
        if status == S.CLOSED:
            cases.close(desk.teller, case)


def _apply(desk: Desk, case: str, current: CaseStatus, target: CaseStatus) -> None:
    cases = desk.services.cases
    if target == S.IN_PROGRESS and current in (S.RESOLVED, S.CLOSED):
        cases.reopen(desk.teller, case, "customer came back")
    elif target in (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER):
        cases.move(desk.teller, case, target)
    elif target == S.RESOLVED:
        cases.resolve(desk.teller, case, "answered")
    elif target == S.CLOSED:
        cases.close(desk.teller, case)
    else:
        raise AssertionError(f"no operation leads to {target}")


def test_every_move_through_the_service(desk: Desk) -> None:  # noqa: F811
    cid = desk.customer()
    for current, target in product(CaseStatus, CaseStatus):
        if target == S.OPEN:
            continue  # nothing leads back to open (the table test covers it)
        case = desk.services.cases.open_case(desk.teller, cid, CaseType.QUESTION, f"{current}->{target}").number
        _drive(desk, case, current)
        assert desk.services.cases.get(desk.teller, case).case.status == current
        if (current, target) in LEGAL:
            _apply(desk, case, current, target)
            assert desk.services.cases.get(desk.teller, case).case.status == target
        else:
            with pytest.raises(Conflict):
                _apply(desk, case, current, target)
            assert desk.services.cases.get(desk.teller, case).case.status == current


# -- deadlines --------------------------------------------------------------------------------------
def test_deadlines_count_working_hours_or_every_hour() -> None:
    levels = ServiceLevels.load()
    friday_four_pm = _local(2026, 11, 27, 16)
    # A fault (16 working hours = two working days): 1 h on Friday, 8 h Monday, 7 h Tuesday.
    assert levels.deadline(CaseType.FAULT, friday_four_pm) == _local(2026, 12, 1, 16)
    # A question (8 h) opened on Saturday starts counting on Monday at 09:00.
    assert levels.deadline(CaseType.QUESTION, _local(2026, 11, 28, 10)) == _local(2026, 11, 30, 17)
    # Opened before opening time: counted from 09:00 the same day.
    assert levels.deadline(CaseType.QUESTION, _local(2026, 11, 30, 7, 30)) == _local(2026, 11, 30, 17)
    # Suspected fraud and lost devices run on the calendar clock, weekend or not.
    assert levels.deadline(CaseType.SUSPECTED_FRAUD, friday_four_pm) == friday_four_pm + timedelta(hours=1)
    assert levels.deadline(CaseType.LOST_DEVICE, _local(2026, 11, 28, 23)) == _local(2026, 11, 29, 1)


def _data(question_hours: int, effective_from: str) -> dict[str, Any]:
    import tomllib

    types = {t.value: {"hours": 8, "clock": "working"} for t in CaseType}
    types["question"] = {"hours": question_hours, "clock": "working"}
    fu = {"new_wallet_days": 7, "window_days": 30, "resolved_case_days": 3, "assistance_every_days": 30,
          "retry_hours": 24}
    eff = tomllib.loads(f"d = {effective_from}")["d"]
    return {"effective_from": eff, "types": types, "follow_up": fu}


def test_levels_are_effective_dated_and_validated() -> None:
    levels = ServiceLevels.from_dict({"level_set": [_data(8, "2020-01-01"), _data(4, "2026-12-01")]})
    before, after = _local(2026, 11, 30, 9), _local(2026, 12, 1, 9)
    assert levels.deadline(CaseType.QUESTION, before) == _local(2026, 11, 30, 17)
    assert levels.deadline(CaseType.QUESTION, after) == _local(2026, 12, 1, 13)
    broken = _data(8, "2020-01-01")
    del broken["types"]["complaint"]
    with pytest.raises(ReferenceDataError, match="complaint"):
        ServiceLevels.from_dict({"level_set": [broken]})
    with pytest.raises(ReferenceDataError, match="same day"):
        ServiceLevels.from_dict({"level_set": [_data(8, "2020-01-01"), _data(4, "2020-01-01")]})


# -- escalation -------------------------------------------------------------------------------------
def test_overdue_cases_escalate_once_to_the_supervisors(desk: Desk) -> None:  # noqa: F811
    cases = desk.services.cases
    desk.clock.set(_local(2026, 11, 30, 10))  # a Monday morning
    cid = desk.customer()
    complaint = cases.open_case(desk.teller, cid, CaseType.COMPLAINT, "queue too long")  # 24 working hours
    assert complaint.due_at == _local(2026, 12, 3, 10)
    fraud = cases.open_case(desk.teller, cid, CaseType.SUSPECTED_FRAUD, "strange transfers")  # 1 hour
    waiting = cases.open_case(desk.teller, cid, CaseType.QUESTION, "needs a document")  # 8 working hours
    cases.move(desk.teller, waiting.number, S.WAITING_FOR_CUSTOMER)

    desk.clock.set(_local(2026, 11, 30, 10, 59))
    assert cases.escalate_overdue(desk.teller) == []
    desk.clock.set(_local(2026, 11, 30, 11, 1))
    assert cases.escalate_overdue(desk.teller) == [fraud.case_id]
    assert cases.escalate_overdue(desk.teller) == []  # once
    assert [v.number for v in cases.escalated(desk.supervisor)] == [fraud.number]
    with pytest.raises(PermissionDenied):
        cases.escalated(desk.teller)
    thread = cases.get(desk.teller, fraud.number).events
    assert thread[-1].kind == CaseEventKind.ESCALATED and "super1" in thread[-1].text and "super2" in thread[-1].text
    assert [v.number for v in cases.list_cases(desk.teller, due=True)] == [fraud.number]

    # Two days later the question is still waiting for the customer: paused, not escalated.
    desk.clock.set(_local(2026, 12, 2, 10))
    assert cases.escalate_overdue(desk.teller) == []
    cases.move(desk.teller, waiting.number, S.IN_PROGRESS)  # the customer brought the document
    resumed = cases.get(desk.teller, waiting.number).case
    # 8 working hours were left when it started waiting (Monday 10:00, due Tuesday 10:00): now from Wednesday.
    assert waiting.due_at == _local(2026, 12, 1, 10) and resumed.due_at == _local(2026, 12, 3, 10)
    assert not resumed.overdue

    desk.clock.set(_local(2026, 12, 3, 10, 1))
    assert cases.escalate_overdue(desk.teller) == [complaint.case_id, waiting.case_id]
    with desk.db.read() as s:
        audited = s.execute(select(AuditRecord.subject).where(AuditRecord.action == "case_escalate")).scalars().all()
    assert sorted(audited) == sorted([fraud.number, complaint.number, waiting.number])

    # Resolved cases leave the supervisors' list; a reopened one gets a fresh deadline.
    cases.resolve(desk.teller, fraud.number, "card blocked, customer informed")
    assert [v.number for v in cases.escalated(desk.supervisor)] == [complaint.number, waiting.number]
    reopened = cases.reopen(desk.teller, fraud.number, "more transfers").case
    assert reopened.status == S.IN_PROGRESS and reopened.reopened == 1 and reopened.escalated_at is None
    assert reopened.due_at == desk.clock.now() + timedelta(hours=1)


def test_case_thread_links_and_validation(desk: Desk) -> None:  # noqa: F811
    from teller_tui.common.money import Money
    from teller_tui.desk.cash_types import new_idempotency_key

    cases = desk.services.cases
    cid = desk.customer()
    wid = desk.wallet(cid)
    ref = desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=new_idempotency_key()).reference
    v = cases.open_case(desk.teller, cid, "transaction_dispute", "money not there", wallet_id=wid,
                        entry_references=[ref], note="customer shows a screenshot")
    cases.add_note(desk.teller2, v.number, "called the payee's bank")
    cases.assign(desk.teller, v.number, "teller2")
    detail = cases.get(desk.teller, v.case_id)
    assert detail.entry_references == (ref,)
    assert detail.case.owner == "teller2"
    assert detail.disputed_total == Money.of("100")
    assert [e.kind for e in detail.events] == ["opened", "note", "linked", "note", "assigned"]
    with pytest.raises(ValidationError):
        cases.open_case(desk.teller, cid, "gossip", "x")
    with pytest.raises(ValidationError):
        cases.open_case(desk.teller, cid, CaseType.QUESTION, "   ")
    other = desk.customer("李雷")
    with pytest.raises(ValidationError):
        cases.open_case(desk.teller, other, CaseType.QUESTION, "not my wallet", wallet_id=wid)
    with pytest.raises(PermissionDenied):  # another branch's staff
        cases.get(Actor(desk.teller.staff_id, "teller1", "T01", "teller", "B002"), v.number)


def test_kiosk_may_only_ask_for_help(desk: Desk) -> None:  # noqa: F811
    svc = desk.services
    cid = desk.customer()
    denied = [
        lambda: svc.cases.open_case(KIOSK, cid, CaseType.QUESTION, "x"),
        lambda: svc.cases.list_cases(KIOSK),
        lambda: svc.cases.escalate_overdue(KIOSK),
        lambda: svc.explain.refusals(KIOSK),
        lambda: svc.follow_up.call_list(KIOSK),
        lambda: svc.crm.notes(KIOSK, cid),
        lambda: svc.crm.needs(KIOSK, cid),
        lambda: svc.help_requests.open_count(KIOSK),
        lambda: svc.help_requests.open_requests(KIOSK),
    ]
    for call in denied:
        with pytest.raises(PermissionDenied):
            call()
    assert svc.help_requests.ask(KIOSK, "transfer", customer_id=cid).status == HelpRequestStatus.OPEN


def _allowed(model: type, name: str) -> set[str]:
    for c in model.__table__.constraints:  # type: ignore[attr-defined]
        if isinstance(c, CheckConstraint) and c.name == name:
            return set(re.findall(r"'([^']*)'", str(c.sqltext)))
    raise AssertionError(name)


@pytest.mark.parametrize(("model", "name", "enum"), [
    (ServiceCase, "ck_case_type", CaseType), (ServiceCase, "ck_case_status", CaseStatus),
    (CaseEvent, "ck_case_event_kind", CaseEventKind), (RefusedAttempt, "ck_refused_channel", Channel),
    (FollowUpCall, "ck_follow_up_kind", FollowUpKind), (HelpRequest, "ck_help_request_status", HelpRequestStatus),
])
def test_enums_match_check_constraints(model: type, name: str, enum: type) -> None:
    assert _allowed(model, name) == {str(v) for v in enum}  # type: ignore[attr-defined]


def test_cli_lists_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.auth.staff import system_actor
    from teller_tui.cli import main
    from teller_tui.common.settings import load_settings
    from teller_tui.models import Customer
    from teller_tui.services import make_services

    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_LOCALE", "en")
    assert main(["db", "upgrade"]) == 0
    services = make_services(load_settings())
    try:
        with services.db.write() as s:
            c = Customer(customer_no="C000000001", full_name="王芳", phone="13900000001", branch_code="B001",
                         created_at=services.clock.now())
            s.add(c)
            s.flush()
            cid = c.id
        actor = system_actor(services.settings)
        first = services.cases.open_case(actor, cid, CaseType.COMPLAINT, "rude\x1b[31m answer")
        second = services.cases.open_case(actor, cid, CaseType.QUESTION, "fees")
        services.cases.resolve(actor, second.number, "explained the fees")
    finally:
        services.close()
    capsys.readouterr()
    assert main(["cases", "list"]) == 0
    out = capsys.readouterr().out
    assert first.number in out and second.number in out and "\x1b" not in out
    assert main(["cases", "list", "--status", "resolved"]) == 0
    out = capsys.readouterr().out
    assert second.number in out and first.number not in out
    assert main(["cases", "list", "--due"]) == 0
    assert "No cases." in capsys.readouterr().out
