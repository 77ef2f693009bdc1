"""Issue 15: the demo branch closes its own day with its own staff, on the real app.

The demo has one supervisor (super1), who also holds a drawer: a supervisor's own drawer is
countersigned by the administrator (admin1), as the approval policy's ``drawer_close`` rule allows, and
the day's close (rule ``day_close``) is approved by admin1 too, both through the same approval dialog
as every other approval. The tellers' drawers are closed with super1's countersignature (the core, as
their own terminals would)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input

from pilot_helpers import approve_here, code_for, settle, sign_in
from screens.app import make_app
from screens.confirm import ConfirmScreen
from screens.drawer import BlindCountScreen, DrawerScreen, _input_id
from screens.eod_report import EodReportScreen
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.common.reference import make_change
from teller_tui.common.settings import load_settings
from teller_tui.demo.build import build_demo
from teller_tui.demo.staff import DEMO_STAFF
from teller_tui.services import make_services

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

STAFF = {st.username: st for st in DEMO_STAFF}


async def test_demo_branch_closes_its_own_day(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    settings = load_settings(home=home, database_url=f"sqlite:///{home / 'teller.db'}", locale="en",
                             terminal_id="T01")
    now = datetime.now(UTC)
    build_demo(settings, customers=5, seed=3, progress=False, now=now)
    clock = FakeClock(now)
    services = make_services(settings, clock=clock)  # the demo's own key file (its staff's secrets)
    drawers = services.drawers

    def fresh(username: str) -> SupervisorCredentials:
        clock.advance(seconds=31)
        st = STAFF[username]
        return SupervisorCredentials(username, st.password, code_for(st.totp_secret, clock))

    def counted(username: str) -> dict[str, int]:
        actor = services.auth.get_staff(username).actor("T01")
        balance = drawers.status(actor, include_balance=True).balance
        assert balance is not None
        return make_change(balance)

    for teller in ("teller1", "teller2"):  # their own terminals: count, super1 countersigns
        actor = services.auth.get_staff(teller).actor(f"T-{teller}")
        drawers.submit_blind_count(actor, counted(teller))
        drawers.close_drawer(actor, fresh("super1"), write_report=False)
    super1 = services.auth.get_staff("super1").actor("T01")
    pieces = counted("super1")
    assert pieces  # the demo gave super1 a float

    app = make_app(settings, services=services, clock=clock)
    try:
        async with app.run_test(size=(120, 44)) as pilot:
            clock.advance(seconds=31)
            await sign_in(pilot, "super1", STAFF["super1"].password, STAFF["super1"].totp_secret, clock)
            await pilot.press("f10")
            await settle(pilot)
            assert isinstance(app.screen, DrawerScreen) and app.screen.status.state == "open"

            # -- super1's own drawer: blind count, then the close countersigned by admin1 ------------------
            await pilot.press("f4")
            await settle(pilot)
            assert isinstance(app.screen, BlindCountScreen)
            for key, n in pieces.items():
                app.screen.query_one("#" + _input_id(key), Input).value = str(n)
            await settle(pilot)
            await pilot.press("f10")  # submit the count -> confirmation
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("f10")
            await settle(pilot)
            assert isinstance(app.screen, BlindCountScreen) and app.screen.result is not None
            assert app.screen.result.difference == Money(0)
            await pilot.press("f10")  # close: the approval dialog
            spec = await approve_here(pilot, "admin1", STAFF["admin1"].password, STAFF["admin1"].totp_secret,
                                      clock)
            assert spec.kind == "drawer_close" and spec.requester_id == super1.staff_id
            assert isinstance(app.screen, EodReportScreen), app.screen
            assert drawers.status(super1).state == "closed"

            # -- the business day, approved by admin1 ------------------------------------------------------
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DrawerScreen)
            await pilot.press("f6")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("f10")
            spec = await approve_here(pilot, "admin1", STAFF["admin1"].password, STAFF["admin1"].totp_secret,
                                      clock)
            assert spec.kind == "day_close"
            assert isinstance(app.screen, EodReportScreen), app.screen
    finally:
        set_locale("en")
    assert services.business_days.current(settings.branch_code) is None  # the day is closed
    with services.db.read() as s:
        from sqlalchemy import select

        from teller_tui.models import BusinessDay

        day = s.execute(select(BusinessDay).order_by(BusinessDay.id.desc())).scalars().first()  # type: ignore[union-attr]
        assert day is not None and day.status == "closed" and day.closed_by == "super1"
    services.close()
