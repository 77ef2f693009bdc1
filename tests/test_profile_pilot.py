"""Contact details and identity-document renewal after onboarding: the core rules and audit, and
the forms on the real app (Pilot, e and i on the customer screen), the expired-ID warning going
away once the document is renewed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text, update
from textual.widgets import Input

from desk_harness import make_desk
from pilot_helpers import settle
from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import set_locale
from teller_tui.models import Customer
from test_desk_pilot import open_customer, static_text


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
    change = svc.change_contact(desk.actor, cid, phone="13800138001", address="上海市浦东新区 1 号", occupation="")
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
        async with desk.app.run_test(size=(80, 24)) as pilot:
            await desk.start(pilot)
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
