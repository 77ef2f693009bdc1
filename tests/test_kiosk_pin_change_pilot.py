"""Issue 16: a customer changes their wallet PIN at the kiosk (key 3 on the home screen): the old PIN,
the new one twice, onboarding's strength rules; wrong old PINs count toward the kiosk's lockout (the same
counter as sign-in); audited, and the customer is told. Core checks first, then the real kiosk app."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from pilot_helpers import settle
from teller_tui.auth import passwords
from teller_tui.common.errors import AuthenticationFailed, PermissionDenied, ValidationError
from teller_tui.common.clock import FakeClock
from teller_tui.kiosk.pins import PinLocked
from teller_tui.models import AuditRecord, Customer
from teller_tui.models.notify import OutboxMessage
from test_kiosk_pilot import PIN, SIZE, _customer, _ready, _settle, _sign_in, _text, services  # noqa: F401

NEW = "975318"


def _audit(services: Any) -> list[tuple[str, dict[str, Any]]]:
    with services.db.read() as s:
        rows = s.execute(select(AuditRecord.outcome, AuditRecord.detail_json).where(
            AuditRecord.action == "kiosk_pin_change").order_by(AuditRecord.seq)).all()  # type: ignore[attr-defined]
    return [(o, json.loads(d or "{}")) for o, d in rows]


def _events(services: Any, cid: int, event: str) -> int:
    with services.db.read() as s:
        return len(s.execute(select(OutboxMessage.id).where(OutboxMessage.customer_id == cid,
                                                            OutboxMessage.event == event)).all())


def test_change_pin_core_rules_and_lockout(services: Any) -> None:  # noqa: F811
    cid, _wid = _customer(services, "王芳", "13900000011")
    actor = services.kiosk.ensure_identity("K01")
    session = services.kiosk.sign_in(actor, "13900000011", PIN)
    change = services.kiosk_pin_change
    # The new PIN's refusals are not counted (and name no PIN).
    for new, again, code in (("975318", "975319", "pin_mismatch"), ("111111", "111111", "pin_same"),
                             ("123456", "123456", "pin_sequence"), ("000011", "000011", "pin_phone"),
                             (PIN, PIN, "pin_unchanged")):
        with pytest.raises(ValidationError) as err:
            change.change_pin(actor, session, PIN, new, again)
        assert err.value.code == code
    assert _audit(services) == []
    # Another kiosk's actor cannot use this session.
    other = services.kiosk.ensure_identity("K02")
    with pytest.raises(PermissionDenied):
        change.change_pin(other, session, PIN, NEW, NEW)
    # Wrong old PINs count on the customer's own counter, shared with sign-in.
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as wrong:
            change.change_pin(actor, session, "000000", NEW, NEW)
        assert wrong.value.code == "kiosk_old_pin"
    with services.db.read() as s:
        assert s.get(Customer, cid).pin_failed_attempts == 2
    change.change_pin(actor, session, PIN, NEW, NEW)
    with services.db.read() as s:
        c = s.get(Customer, cid)
        assert passwords.verify_pin(c.pin_hash, NEW) and c.pin_failed_attempts == 0 and not c.pin_locked
    assert [o for o, _d in _audit(services)] == ["fail", "fail", "ok"]
    assert _events(services, cid, "pin_change") >= 1
    # The old PIN no longer signs in; the new one does.
    with pytest.raises(AuthenticationFailed):
        services.kiosk.sign_in(actor, "13900000011", PIN)
    session = services.kiosk.sign_in(actor, "13900000011", NEW)
    # Sign-in failures and wrong old PINs add up: the fifth wrong try locks and ends the session.
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as wrong:
            change.change_pin(actor, session, "000000", PIN, PIN)
        assert not isinstance(wrong.value, PinLocked)
    with pytest.raises(PinLocked):
        change.change_pin(actor, session, "000000", PIN, PIN)
    with services.db.read() as s:
        assert s.get(Customer, cid).pin_locked
    assert _events(services, cid, "pin_lock") == 1
    with pytest.raises(PermissionDenied):  # the session ended with the lock
        change.change_pin(actor, session, NEW, PIN, PIN)
    with pytest.raises(PinLocked):  # and the right PIN does not sign in while locked
        services.kiosk.sign_in(actor, "13900000011", NEW)


@pytest.mark.slow  # Pilot
@pytest.mark.asyncio
async def test_change_pin_on_the_kiosk_app(services: Any, clock: FakeClock) -> None:  # noqa: F811
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.home import KioskHomeScreen
    from screens.kiosk.pin_change import KioskPinChangeScreen
    from screens.kiosk.welcome import WelcomeScreen

    cid, _wid = _customer(services, "王芳", "13900000012")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900000012")
        assert isinstance(app.screen, KioskHomeScreen)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, KioskPinChangeScreen)
        # A weak new PIN: refused with onboarding's sentence, the old PIN kept in its field.
        await pilot.press(*PIN, "enter", *"121212", "enter", *"121212", "enter")
        await _settle(app, pilot)
        assert "repeated pattern" in _text(app)
        assert app.screen.query_one("#old-pin").value == PIN
        # A wrong old PIN: counted.
        app.screen.query_one("#old-pin").value = "000000"
        app.screen.query_one("#old-pin").focus()
        await pilot.press("enter", *NEW, "enter", *NEW, "enter")
        await _settle(app, pilot)
        assert "old PIN is not right" in _text(app)
        with services.db.read() as s:
            assert s.get(Customer, cid).pin_failed_attempts == 1
        await pilot.press(*PIN, "enter", *NEW, "enter", *NEW, "enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, KioskHomeScreen)
        assert "Your PIN is changed" in _text(app)
        with services.db.read() as s:
            assert passwords.verify_pin(s.get(Customer, cid).pin_hash, NEW)
        # Four more wrong old PINs and the fifth locks: the session ends and the kiosk goes back.
        await pilot.press("3")
        await settle(pilot)
        for _ in range(5):
            screen = app.screen
            assert isinstance(screen, KioskPinChangeScreen)
            for name, value in (("old-pin", "000000"), ("new-pin", PIN), ("new-again", PIN)):
                screen.query_one(f"#{name}").value = value
            screen.submit()
            await settle(pilot)  # the locking try leaves the form busy (nothing more to do on it)
        assert "teller at the counter can lift it" in _text(app)
        assert app.screen.query_one("#submit").disabled
        await pilot.pause(6.5)
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen) and app.session is None
    assert [o for o, _d in _audit(services)] == ["fail", "ok", "fail", "fail", "fail", "fail", "fail"]
    assert _audit(services)[-1][1]["reason"] == "locked_now"
    assert NEW not in json.dumps(_audit(services)) and PIN not in json.dumps(_audit(services))


@pytest.mark.slow  # Pilot
@pytest.mark.asyncio
async def test_home_buttons_fit_80x24_in_chinese(services: Any, clock: FakeClock) -> None:  # noqa: F811
    from textual.widgets import Button

    from screens.kiosk.app import make_kiosk_app
    from teller_tui.common.i18n import set_locale

    _customer(services, "王芳", "13900000013")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(app, pilot)
            await pilot.click("#lang-zh")
            await settle(pilot)
            app.screen.query_one("#identifier").value = "13900000013"
            app.screen.query_one("#pin").value = PIN
            await pilot.click("#submit")
            await _settle(app, pilot)
            assert "3 修改密码" in _text(app)
            for button in app.screen.query(Button):
                region = button.region
                assert 0 <= region.x and region.right <= 80 and region.bottom <= 24, (button.id, region)
    finally:
        set_locale("en")
