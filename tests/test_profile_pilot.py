"""Contact details and identity-document renewal after onboarding: the core rules and audit, and
the forms on the real app (Pilot, e and i on the customer screen), the expired-ID warning going
away once the document is renewed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text, update
from textual.widgets import Input

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, make_desk, from_customer, open_customer, static_text
from pilot_helpers import approve_here, code_for, settle
from teller_tui.common.errors import ApprovalRequired, ValidationError
from teller_tui.common.i18n import set_locale
from teller_tui.models import Customer


def _customer(desk: Any, key: str) -> Any:
    with desk.services.db.read() as s:
        return s.get(Customer, desk.customers[key])


def _audit(desk: Any, action: str) -> list[str]:
    with desk.services.db.read() as s:
        return [r[0] for r in s.execute(text("SELECT detail_json FROM audit_record WHERE action = :a"), {"a": action})]


def test_core_rules(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    svc, cid = desk.services.profile, desk.customers["wang"]
    with pytest.raises(ValidationError) as bad:
        svc.change_contact(desk.actor, cid, phone="12345", address="", occupation="")
    assert bad.value.code == "phone_invalid"
    with pytest.raises(ValidationError):
        svc.change_contact(desk.actor, cid, phone="13800138000", address="", occupation="\x1b[2J")
    with pytest.raises(ApprovalRequired) as asked:  # a new mobile number: a supervisor approves (phone_change)
        svc.change_contact(desk.actor, cid, phone="13800138001", address="上海市浦东新区 1 号", occupation="")
    assert asked.value.rules == ["phone_change"] and _customer(desk, "wang").phone == "13800138000"
    clock.advance(seconds=31)
    approval = desk.services.approvals.approve_at_counter(desk.actor, asked.value.details["spec"], "chen",
                                                          SUPERVISOR_PW, code_for(SUPERVISOR_SECRET, clock))
    change = svc.change_contact(desk.actor, cid, phone="13800138001", address="上海市浦东新区 1 号", occupation="",
                                approval_id=approval.approval_id)
    assert change.fields == ("phone", "address")
    assert _customer(desk, "wang").phone == "13800138001"
    [detail] = _audit(desk, "customer_contact_change")
    assert "138****8001" in detail and "13800138001" not in detail  # masked in the audit trail
    with pytest.raises(ValidationError) as same:
        svc.change_contact(desk.actor, cid, phone="13800138001", address="上海市浦东新区 1 号", occupation="")
    assert same.value.code == "unchanged"
    number = _customer(desk, "wang").id_number
    with pytest.raises(ValidationError) as past:
        svc.renew_document(desk.actor, cid, number=number, expiry=date(2020, 1, 1))
    assert past.value.code == "id_expiry_past"
    other = _customer(desk, "zhang").id_number
    with pytest.raises(ValidationError) as changed:
        svc.renew_document(desk.actor, cid, number=other, expiry=date(2045, 1, 1))
    assert changed.value.code == "id_number_changed"
    assert svc.renew_document(desk.actor, cid, number=number, expiry=date(2045, 1, 1)).fields == ("id_expiry",)
    assert _customer(desk, "wang").id_expiry == date(2045, 1, 1)
    assert len(_audit(desk, "customer_id_renewal")) == 1


@pytest.mark.asyncio
@pytest.mark.slow
async def test_contact_and_renewal_forms_zh_80x24(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    with desk.services.db.write() as s:  # the card expired last year
        s.execute(update(Customer).where(Customer.id == desk.customers["wang"]).values(id_expiry=date(2025, 1, 1)))
    number = _customer(desk, "wang").id_number
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            await open_customer(pilot, desk, "wang")
            assert "证件已过期" in static_text(pilot.app, "#customer-profile")  # the warning
            await pilot.press("e")
            await settle(pilot)
            form = pilot.app.screen
            assert type(form).__name__ == "ContactEditScreen"
            phone = form.query_one("#profile-phone", Input)
            phone.value = "12345"
            await pilot.press("f10")
            await settle(pilot)
            assert form.query_one("#profile-message").has_class("-error")
            phone.value = "13800138009"
            form.query_one("#profile-occupation", Input).value = "教师"
            await pilot.press("f10")
            await settle(pilot)
            # A new mobile number: the approval dialog opens (rule phone_change); nothing saved yet.
            assert type(pilot.app.screen).__name__ == "ApprovalScreen"
            assert _customer(desk, "wang").phone == "13800138000"
            spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, clock)
            assert spec.rules == ("phone_change",) and "138****8009" in spec.display_summary()
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "CustomerScreen"
            await pilot.press("i")
            await settle(pilot)
            form = pilot.app.screen
            assert type(form).__name__ == "IdRenewalScreen"
            form.query_one("#profile-id-number", Input).value = number
            form.query_one("#profile-id-expiry", Input).value = "2045-06-30"
            await pilot.press("enter")
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "CustomerScreen"
            await settle(pilot)
            profile = static_text(pilot.app, "#customer-profile")
            assert "证件已过期" not in profile and "证件有效" in profile and "2045" in profile and "13800138009" in profile
    finally:
        set_locale("en")
    row = _customer(desk, "wang")
    assert (row.phone, row.occupation, row.id_expiry) == ("13800138009", "教师", date(2045, 6, 30))
    assert len(_audit(desk, "customer_contact_change")) == 1 and len(_audit(desk, "customer_id_renewal")) == 1
    assert '"approval_id": null' not in _audit(desk, "customer_contact_change")[0]  # the approval is on record


@pytest.mark.asyncio
@pytest.mark.slow
async def test_passport_renewed_with_a_new_number_needs_approval(tmp_path: Any, db_path: Any, db: Any,
                                                                 clock: Any) -> None:
    """Rule id_number_change: a passport renewed with a new number opens the approval dialog; cancelled,
    nothing is saved and the form says so; approved at the counter, the new number is on record (a
    resident ID with another number is refused outright: tests/test_policy_rules.py)."""
    desk = make_desk(tmp_path, db_path, db, clock)
    with desk.services.db.write() as s:
        s.execute(update(Customer).where(Customer.id == desk.customers["zhang"]).values(
            id_type="passport", id_number="E12345678", nationality="CHN"))
    async with desk.signed_in(size=(80, 24)) as pilot:
        await from_customer(pilot, desk, "zhang", "i")
        form = pilot.app.screen
        form.query_one("#profile-id-number", Input).value = "E87654321"
        form.query_one("#profile-id-expiry", Input).value = "2036-06-30"
        await pilot.press("f10")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ApprovalScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is form and "no approval" in static_text(pilot.app, "#profile-message")
        assert _customer(desk, "zhang").id_number == "E12345678"
        await pilot.press("f10")
        await settle(pilot)
        spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, clock)
        assert spec.rules == ("id_number_change",)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
    row = _customer(desk, "zhang")
    assert (row.id_number, row.id_expiry) == ("E87654321", date(2036, 6, 30))
