"""Drawer custody and staff unlock through the real app (Pilot, ``make_app`` with the test's services and
clock, signed in with keys): a drawer handed to another teller and countersigned; a break and the
return; a colleague's lockout lifted with a supervisor's approval at the counter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from auth_fixtures import SECRETS, SUP_PW, TELLER_PW, cheap_hashing, code_for  # noqa: F401
from pilot_helpers import approve_here, settle, sign_in, teller_app, type_text
from screens.custody import BreakScreen, HandOverScreen, StaffUnlockScreen, TakeOverScreen
from screens.drawer import DrawerScreen
from teller_tui.auth.service import system_actor
from teller_tui.branch.setup import open_drawer_for_setup
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import Conflict
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.models import Customer, Staff
from test_drawer_pilot import fill, grid_values, services_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

ZHOU_PW = "zhou takes the drawer over"
ZHOU_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"


def _setup(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> tuple[Any, dict[str, Any], int]:
    from auth_fixtures import seed_staff

    services = services_for(tmp_path, db_path, db, clock)
    staff = seed_staff(services)
    view, _otp = services.auth.create_staff(system_actor(services.settings), "zhou", "Zhou", "teller",
                                            password=ZHOU_PW, totp_secret=ZHOU_SECRET)
    staff["zhou"] = view
    wang = staff["wang"].actor(services.settings.terminal_id)
    open_drawer_for_setup(services, wang, Money.of("2000"))
    with services.db.write() as s:
        c = Customer(customer_no="P000000001", full_name="王芳", name_latin="wang fang", phone="13900000001",
                     branch_code="B001", created_at=clock.now())
        s.add(c)
        s.flush()
        cid = c.id
    wallet = services.wallets.open_wallet_now(wang, cid, 1).wallet_id
    services.cash.cash_in(wang, wallet, Money.of("500"), idempotency_key=new_idempotency_key())
    return services, staff, wallet


async def _drawer(pilot: Any) -> Any:
    await pilot.press("f10")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DrawerScreen), pilot.app.screen
    return pilot.app.screen


async def test_hand_over_countersigned(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    services, staff, wallet = _setup(tmp_path, db_path, db, clock)
    wang = staff["wang"].actor(services.settings.terminal_id)
    # -- the giver offers the drawer to zhou (F8 on the drawer screen) ------------------------------------
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        screen = await _drawer(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, HandOverScreen)
        await type_text(pilot, "zhou")
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is screen and screen.custody.offered_to == "zhou"
        assert "zhou" in str(screen.query_one("#drawer-facts").render())
    with pytest.raises(Conflict) as locked:  # the offered drawer takes no cash
        services.cash.cash_in(wang, wallet, Money.of("1"), idempotency_key=new_idempotency_key())
    assert locked.value.code == "drawer_handover_pending"
    # -- the receiver signs in, counts blind (¥10 short), li countersigns at the counter ------------------
    clock.advance(seconds=31)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "zhou", ZHOU_PW, ZHOU_SECRET, clock)
        screen = await _drawer(pilot)
        assert screen.status.state == "not_opened" and screen.custody.offers[0].giver == "wang"
        await pilot.press("f8")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TakeOverScreen)
        shown = " ".join(str(w.render()) for w in form.query("Static"))
        assert "2,500.00" not in shown  # blind
        fill(app, grid_values({"note:100": 24, "note:50": 1, "note:20": 2}))  # 2,490.00
        await settle(pilot)
        await pilot.press("f10")  # submit -> confirm
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is form and form.result is not None
        assert form.result.expected == Money.of("2500") and form.result.difference == Money.of("-10")
        assert "2,500.00" in str(form.query_one("#count-result").render())
        await pilot.press("f10")  # take over -> the approval dialog
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.kind == "drawer_handover" and spec.rules == ("drawer_handover",)  # within the tolerance
        await settle(pilot)
        assert isinstance(app.screen, DrawerScreen), app.screen
        assert app.screen.status.state == "open" and app.screen.status.opening_float == Money.of("2490")
    zhou = staff["zhou"].actor(services.settings.terminal_id)
    services.cash.cash_in(zhou, wallet, Money.of("1"), idempotency_key=new_idempotency_key())
    assert services.drawers.status(wang).state == "closed"


async def test_break_then_return(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    services, staff, wallet = _setup(tmp_path, db_path, db, clock)
    wang = staff["wang"].actor(services.settings.terminal_id)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        screen = await _drawer(pilot)
        await pilot.press("f7")  # -> confirm
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, BreakScreen)
        with pytest.raises(Conflict) as locked:
            services.cash.cash_in(wang, wallet, Money.of("1"), idempotency_key=new_idempotency_key())
        assert locked.value.code == "drawer_on_break"
        # Esc leaves the form, the drawer stays locked; F7 brings the return form back.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.custody.on_break
        assert "F7" in str(screen.query_one("#drawer-facts").render())
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, BreakScreen)
        await type_text(pilot, "wrong password")
        await pilot.press("tab")
        clock.advance(seconds=31)
        await type_text(pilot, code_for(SECRETS["wang"], clock))
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, BreakScreen)  # refused: still locked
        assert services.custody.on_break(wang)
        app.screen.query_one("#break-password").focus()
        await type_text(pilot, TELLER_PW)
        await pilot.press("tab")
        clock.advance(seconds=31)
        await type_text(pilot, code_for(SECRETS["wang"], clock))
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is screen and not screen.custody.on_break
    services.cash.cash_in(wang, wallet, Money.of("1"), idempotency_key=new_idempotency_key())


async def test_staff_unlock_approved_by_a_supervisor(tmp_path: Path, db_path: Path, db: Any,
                                                     clock: FakeClock) -> None:
    services, staff, _wallet = _setup(tmp_path, db_path, db, clock)
    with services.db.write() as s:  # zhou typed ten wrong passwords
        s.execute(update(Staff).where(Staff.username == "zhou").values(
            failed_attempts=10, locked_until=clock.now() + timedelta(minutes=30)))
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        # The palette offers it to the counter ...
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "unlock a colleague")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StaffUnlockScreen), app.screen
        await type_text(pilot, "zhou")
        await pilot.press("tab")
        await type_text(pilot, "forgot password, seen in person")
        await pilot.press("f10")  # -> the approval dialog: li approves in person
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.kind == "staff_unlock" and spec.subject == "staff:zhou"
        await settle(pilot)
        assert not isinstance(app.screen, StaffUnlockScreen)
    with services.db.read() as s:
        row = s.get(Staff, staff["zhou"].id)
        assert row is not None and row.locked_until is None and row.failed_attempts == 0
    # ... and the supervisor's dashboard has it on F6.
    clock.advance(seconds=31)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], clock)
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, StaffUnlockScreen)
