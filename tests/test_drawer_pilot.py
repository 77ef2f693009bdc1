"""A teller's full day through the drawer screens (Pilot): open with a float, three transactions,
a blind count ¥10 short, the supervisor approves, the report shows it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auth_fixtures import SECRETS, SUP_PW, cheap_hashing, code_for, make_test_services, seed_staff  # noqa: F401
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money

pytestmark = pytest.mark.asyncio

FLOAT = {"note:100": 15, "note:50": 6, "note:20": 5, "note:10": 5, "note:5": 4, "note:1": 10, "coin:1": 10,
         "coin:0.5": 10, "coin:0.1": 50}  # 2,000.00
STOCK = {k: n * 3 for k, n in FLOAT.items()}


def _app_class() -> type:
    from textual.app import App

    from screens.commands import TellerCommands

    class DrawerTestApp(App[int]):
        COMMANDS = App.COMMANDS | {TellerCommands}

        def __init__(self, services: Any, session: Any) -> None:
            super().__init__()
            self.services = services
            self.session = session
            self.locked = False
            self.theme = "textual-dark"

        @property
        def actor(self) -> Any:
            return self.session.actor

        def get_theme_variable_defaults(self) -> dict[str, str]:
            return {"credit": "#4EBF71", "debit": "#E0645C"}

        def on_mount(self) -> None:
            from screens.home import HomeScreen

            self.push_screen(HomeScreen())

    return DrawerTestApp


async def settle(app: Any, pilot: Any) -> None:
    for _ in range(4):
        await app.workers.wait_for_complete()
        await pilot.pause()


def fill(app: Any, values: dict[str, str]) -> None:
    from textual.widgets import Input

    for selector, value in values.items():
        app.screen.query_one(selector, Input).value = value


def grid_values(counts: dict[str, int]) -> dict[str, str]:
    from screens.drawer import _input_id

    return {"#" + _input_id(k): str(n) for k, n in counts.items()}


async def test_full_day(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    from teller_tui.auth.service import SignedIn

    services = make_test_services(tmp_path / "home", db_path, clock, database=db, locale="en",
                                  over_short_tolerance="5.00")
    staff = seed_staff(services)
    sup_actor = staff["li"].actor("T09")
    services.drawers.receive_into_vault(sup_actor, STOCK, source="equity")
    session = SignedIn(staff=staff["wang"], terminal_id="T01", at=clock.now(), must_change_password=False,
                       needs_totp_enrolment=False)
    teller = session.actor
    from screens.drawer import BlindCountScreen, DrawerScreen, OpenDrawerScreen
    from screens.eod_report import EodReportScreen

    app = _app_class()(services, session)
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(app, pilot)
        await pilot.press("f10")
        await settle(app, pilot)
        assert isinstance(app.screen, DrawerScreen)
        assert app.screen.status.state == "no_business_day"

        # -- open with a float, countersigned by the supervisor -------------------------------
        await pilot.press("f2")
        await settle(app, pilot)
        assert isinstance(app.screen, OpenDrawerScreen)
        fill(app, grid_values(FLOAT))
        await pilot.pause()
        assert "2,000.00" in str(app.screen.query_one("#denom-total").render())
        clock.advance(timedelta(seconds=31))
        fill(app, {"#sup-user": "li", "#sup-password": SUP_PW, "#sup-code": code_for(SECRETS["li"], clock)})
        await pilot.press("f10")
        await settle(app, pilot)
        assert isinstance(app.screen, DrawerScreen), app.screen
        assert app.screen.status.state == "open"
        assert app.screen.status.opening_float == Money.of("2000")

        # -- three transactions -----------------------------------------------------------------
        from teller_tui.desk.cash_types import new_idempotency_key
        from teller_tui.models import Customer

        with services.db.write() as s:
            c = Customer(customer_no="P000000001", full_name="王芳", name_latin="wang fang", phone="13900000001",
                         branch_code="B001", created_at=clock.now())
            s.add(c)
            s.flush()
            cid = c.id
        wallet = services.wallets.open_wallet_now(teller, cid, 1).wallet_id
        services.cash.cash_in(teller, wallet, Money.of("500"), idempotency_key=new_idempotency_key())
        services.cash.cash_in(teller, wallet, Money.of("87.50"), idempotency_key=new_idempotency_key())
        services.cash.cash_out(teller, wallet, Money.of("120"), idempotency_key=new_idempotency_key())
        expected = Money.of("2467.50")

        # -- blind count, ¥10 short -------------------------------------------------------------
        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, BlindCountScreen)
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "2,467.50" not in shown  # blind: the expected figure is not on the screen
        counted = {"note:100": 24, "note:50": 1, "note:5": 1, "note:1": 2, "coin:0.5": 1}  # 2,457.50
        fill(app, grid_values(counted))
        await pilot.pause()
        await pilot.press("f10")  # submit -> confirmation dialog
        await settle(app, pilot)
        await pilot.press("f10")  # confirm
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BlindCountScreen) and screen.result is not None
        assert screen.result.expected == expected
        assert screen.result.difference == Money.of("-10") and screen.result.needs_approval
        result_text = str(screen.query_one("#count-result").render())
        assert "2,467.50" in result_text and "Short" in result_text

        # Without the supervisor nothing closes.
        await pilot.press("f10")
        await settle(app, pilot)
        assert isinstance(app.screen, BlindCountScreen)
        assert services.drawers.status(teller).state == "counting"

        clock.advance(timedelta(seconds=31))
        fill(app, {"#sup-user": "li", "#sup-password": SUP_PW, "#sup-code": code_for(SECRETS["li"], clock)})
        await pilot.press("f10")
        await settle(app, pilot)

        # -- the report ----------------------------------------------------------------------------
        assert isinstance(app.screen, EodReportScreen), app.screen
        text = str(app.screen.query_one("#eod-text").render())
        assert "Short" in text and "-CN¥10.00" in text and "approved by li" in text
        assert "Opening float" in text and "CN¥2,000.00" in text
        assert app.screen.report.path is not None and app.screen.report.path.exists()
        assert services.drawers.status(teller).state == "closed"

    from teller_tui.ledger.accounts import drawer_code, over_short_code

    with services.db.read() as s:
        os_bal = services.ledger.balance(s, services.ledger.account_id(s, over_short_code("B001")))
        dr_bal = services.ledger.balance(s, services.ledger.account_id(s, drawer_code("B001", "wang")))
    assert os_bal.debits_posted - os_bal.credits_posted == 1000
    assert dr_bal.debits_posted == dr_bal.credits_posted


async def test_count_notes_dialog_gives_change(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    from screens.drawer import CountNotesDialog
    from teller_tui.auth.service import SignedIn

    services = make_test_services(tmp_path / "home", db_path, clock, database=db, locale="en")
    staff = seed_staff(services)
    session = SignedIn(staff=staff["wang"], terminal_id="T01", at=clock.now(), must_change_password=False,
                       needs_totp_enrolment=False)
    app = _app_class()(services, session)
    results: list[Any] = []
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(app, pilot)
        app.push_screen(CountNotesDialog(Money.of("87.50")), results.append)
        await pilot.pause()
        fill(app, grid_values({"note:50": 1}))
        await pilot.pause()
        await pilot.press("f10")  # not enough: refused, dialog stays
        await pilot.pause()
        assert isinstance(app.screen, CountNotesDialog)
        fill(app, {**grid_values({"note:100": 1}), "#count-note-50": ""})
        await pilot.pause()
        assert "12.50" in str(app.screen.query_one("#notes-summary").render())
        await pilot.press("f10")
        await pilot.pause()
    assert results and results[0].change_due == Money.of("12.50")
