"""Caring for customers after the wallet opens: the follow-up call list (new wallets, resolved cases,
customers who need assistance) with a fake clock, satisfaction per teller and per case type, CRM notes
whose corrections are new versions, needs flags, and the kiosk's "ask for help" queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.audit.trail import Actor
from teller_tui.cases.crm import Needs
from teller_tui.common.errors import Conflict, PermissionDenied, ValidationError
from teller_tui.models import CustomerNote, Wallet
from teller_tui.models.cases import CaseType, FollowUpKind

KIOSK = Actor(None, "kiosk-k01", "K01", "kiosk", "B001")


def _due(desk: Desk) -> list[tuple[str, str]]:
    return [(d.kind, d.subject) for d in desk.services.follow_up.call_list(desk.teller)]


def test_call_list_and_satisfaction(desk: Desk) -> None:  # noqa: F811
    fu, cases = desk.services.follow_up, desk.services.cases
    cid = desk.customer("王芳")
    wid = desk.wallet(cid)  # opened by teller1
    with desk.db.read() as s:
        number = s.get(Wallet, wid).number
    case = cases.open_case(desk.teller2, cid, CaseType.COMPLAINT, "long queue")
    cases.resolve(desk.teller2, case.number, "apologised, opened a second window")
    assert _due(desk) == []

    desk.clock.advance(days=3, minutes=1)
    assert _due(desk) == [(FollowUpKind.RESOLVED_CASE, case.number)]
    fu.record_call(desk.teller, FollowUpKind.RESOLVED_CASE, case.case_id, reached=False, outcome="no answer")
    assert _due(desk) == []  # comes back after retry_hours
    desk.clock.advance(hours=25)
    (again,) = fu.call_list(desk.teller)
    assert again.attempts == 1 and again.phone.startswith("139")
    fu.record_call(desk.teller, FollowUpKind.RESOLVED_CASE, case.case_id, reached=True, outcome="happy now",
                   satisfaction=5)
    assert _due(desk) == []

    desk.clock.advance(days=4)  # the wallet is now 7+ days old
    due = fu.call_list(desk.teller)
    assert [(d.kind, d.subject_id) for d in due] == [(FollowUpKind.NEW_WALLET, wid)]
    assert due[0].subject == number
    fu.record_call(desk.teller2, FollowUpKind.NEW_WALLET, wid, reached=True, outcome="uses it daily",
                   satisfaction=4, comment="asked about\x1b[2J limits")
    assert _due(desk) == []

    with pytest.raises(ValidationError):
        fu.record_call(desk.teller, FollowUpKind.NEW_WALLET, wid, reached=True, satisfaction=6)
    with pytest.raises(ValidationError):
        fu.record_call(desk.teller, FollowUpKind.NEW_WALLET, wid, reached=False, satisfaction=3)

    # Scores count for who served the customer (the case owner, the wallet's opener), not the caller.
    by_teller = {r.key: (r.calls, r.average) for r in fu.satisfaction_by_teller(desk.supervisor)}
    assert by_teller == {"teller1": (1, 4.0), "teller2": (1, 5.0)}
    by_type = {r.key: (r.calls, r.average) for r in fu.satisfaction_by_case_type(desk.supervisor)}
    assert by_type == {"complaint": (1, 5.0)}
    with pytest.raises(PermissionDenied):
        fu.satisfaction_by_teller(desk.teller)

    # Wallets older than the window are not called when the feature is switched on.
    desk.clock.advance(days=40)
    late = desk.wallet(desk.customer("李雷"))
    desk.clock.advance(days=8)
    assert [d.subject_id for d in fu.call_list(desk.teller) if d.kind == FollowUpKind.NEW_WALLET] == [late]


def test_customers_needing_assistance_are_called_every_period(desk: Desk) -> None:  # noqa: F811
    fu, crm = desk.services.follow_up, desk.services.crm
    cid = desk.customer("赵奶奶")
    assert crm.needs(desk.teller, cid) == Needs()
    crm.set_needs(desk.teller, cid, Needs(elderly=True, needs_assistance=True, preferred_language="yue"))
    needs = crm.needs(desk.teller, cid)
    assert needs.flags == ("elderly", "needs_assistance") and needs.preferred_language == "yue"
    assert needs.titles() == ("Elderly", "Needs assistance", "Language: yue")
    assert [d.kind for d in fu.call_list(desk.teller)] == [FollowUpKind.ASSISTANCE]
    fu.record_call(desk.teller, FollowUpKind.ASSISTANCE, cid, reached=True, outcome="fine", satisfaction=3)
    assert fu.call_list(desk.teller) == []
    desk.clock.advance(days=31)
    assert [d.subject_id for d in fu.call_list(desk.teller)] == [cid]
    with pytest.raises(ValidationError):
        crm.set_needs(desk.teller, cid, Needs(preferred_language="<script>"))
    with pytest.raises(PermissionDenied):
        crm.set_needs(KIOSK, cid, Needs())


def test_note_corrections_are_new_versions(desk: Desk) -> None:  # noqa: F811
    crm = desk.services.crm
    cid = desk.customer()
    with desk.db.write() as s:
        s.add(CustomerNote(customer_id=cid, author_id=desk.teller.staff_id, at=desk.clock.now(), text="old note"))
    first = crm.add_note(desk.teller, cid, "prefers calls after 6 pm")
    desk.clock.advance(minutes=5)
    second = crm.correct_note(desk.teller2, first.note_id, "prefers calls after 7 pm")
    assert (second.version, second.supersedes_id) == (2, first.note_id)
    with pytest.raises(Conflict):
        crm.correct_note(desk.teller, first.note_id, "a fork of the history")
    notes = crm.notes(desk.teller, cid)
    assert [(n.text, n.legacy) for n in notes] == [("prefers calls after 7 pm", False), ("old note", True)]
    history = crm.note_history(desk.teller, first.note_id)
    assert [(n.version, n.text, n.current, n.author) for n in history] == [
        (1, "prefers calls after 6 pm", False, "teller1"), (2, "prefers calls after 7 pm", True, "teller2")]
    assert crm.note_history(desk.teller, second.note_id) == history
    with pytest.raises(ValidationError):
        crm.add_note(desk.teller, cid, " \x1b[31m ")


def test_kiosk_help_requests_reach_the_counter(desk: Desk) -> None:  # noqa: F811
    help_ = desk.services.help_requests
    cid = desk.customer("张明")
    asked = help_.ask(KIOSK, "transfer", customer_id=cid, detail="payee not found")
    help_.ask(KIOSK, "sign_in")
    assert help_.open_count(desk.teller) == 2
    queue = help_.open_requests(desk.teller)
    assert [(r.activity_text, r.customer_name, r.terminal_id) for r in queue] == [
        ("Making a transfer", "张*", "K01"), ("Signing in", "", "K01")]
    help_.take(desk.teller, asked.request_id)
    assert help_.open_count(desk.teller) == 1
    with pytest.raises(Conflict):
        help_.take(desk.teller2, asked.request_id)
    help_.done(desk.teller, asked.request_id)
    assert [r.request_id for r in help_.open_requests(desk.teller)] == [queue[1].request_id]
    with pytest.raises(ValidationError):
        help_.ask(KIOSK, "hacking")
    with pytest.raises(PermissionDenied):
        help_.take(KIOSK, queue[1].request_id)
