"""A teller's full day through the drawer screens of the real app (Pilot, ``make_app`` with the test's
services and clock, signed in with keys): open with a float, three transactions, a blind count ¥10
short, the supervisor approves, the report shows it; and counting the notes of a cash-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from auth_fixtures import SECRETS, SUP_PW, TELLER_PW, cheap_hashing, code_for, make_test_services, seed_staff  # noqa: F401
from pilot_helpers import approve_here, settle, sign_in, teller_app, type_text
from screens.cash import CashInForm
from screens.drawer import BlindCountScreen, CountNotesDialog, DrawerScreen, OpenDrawerScreen, _input_id
from screens.eod_report import EodReportScreen
from teller_tui.auth.secretbox import SecretBox
from teller_tui.branch.setup import open_drawer_for_setup
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.ledger.accounts import drawer_code, over_short_code
from teller_tui.models import Customer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

FLOAT = {"note:100": 15, "note:50": 6, "note:20": 5, "note:10": 5, "note:5": 4, "note:1": 10, "coin:1": 10,
         "coin:0.5": 10, "coin:0.1": 50}  # 2,000.00
STOCK = {k: n * 3 for k, n in FLOAT.items()}


def services_for(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock, **settings: Any) -> Any:
    return make_test_services(tmp_path / "home", db_path, clock, database=db, box=SecretBox.ephemeral(),
                              locale="en", **settings)


def customer_wallet(services: Any, clock: FakeClock, teller: Any) -> Any:
    with services.db.write() as s:
        c = Customer(customer_no="P000000001", full_name="王芳", name_latin="wang fang", phone="13900000001",
                     branch_code="B001", created_at=clock.now())
        s.add(c)
        s.flush()
        cid = c.id
    return services.wallets.open_wallet_now(teller, cid, 1)


def fill(app: Any, values: dict[str, str]) -> None:
    from textual.widgets import Input

    for selector, value in values.items():
        app.screen.query_one(selector, Input).value = value


def grid_values(counts: dict[str, int]) -> dict[str, str]:
    return {"#" + _input_id(k): str(n) for k, n in counts.items()}


async def test_full_day(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock, over_short_tolerance="5.00")
    staff = seed_staff(services)
    sup_actor = staff["li"].actor("T09")
    services.drawers.receive_into_vault(sup_actor, STOCK, source="equity")
    teller = staff["wang"].actor(services.settings.terminal_id)

    app = teller_app(services, clock)
    async with app.run_test(size=(120, 44)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, DrawerScreen)
        assert app.screen.status.state == "no_business_day"

        # -- open with a float, countersigned by the supervisor -------------------------------
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, OpenDrawerScreen)
        fill(app, grid_values(FLOAT))
        await settle(pilot)
        assert "2,000.00" in str(app.screen.query_one("#denom-total").render())
        await pilot.press("f10")  # the approval dialog: the supervisor countersigns here
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.kind == "drawer_open" and spec.amount == Money.of("2000")
        assert isinstance(app.screen, DrawerScreen), app.screen
        assert app.screen.status.state == "open"
        assert app.screen.status.opening_float == Money.of("2000")

        # -- three transactions (another window of the same teller: the services) -------------
        wallet = customer_wallet(services, clock, teller).wallet_id
        services.cash.cash_in(teller, wallet, Money.of("500"), idempotency_key=new_idempotency_key())
        services.cash.cash_in(teller, wallet, Money.of("87.50"), idempotency_key=new_idempotency_key())
        services.cash.cash_out(teller, wallet, Money.of("120"), idempotency_key=new_idempotency_key())
        expected = Money.of("2467.50")

        # -- blind count, ¥10 short -------------------------------------------------------------
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, BlindCountScreen)
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "2,467.50" not in shown  # blind: the expected figure is not on the screen
        counted = {"note:100": 24, "note:50": 1, "note:5": 1, "note:1": 2, "coin:0.5": 1}  # 2,457.50
        fill(app, grid_values(counted))
        await settle(pilot)
        await pilot.press("f10")  # submit -> confirmation dialog
        await settle(pilot)
        await pilot.press("f10")  # confirm
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BlindCountScreen) and screen.result is not None
        assert screen.result.expected == expected
        assert screen.result.difference == Money.of("-10") and screen.result.needs_approval
        result_text = str(screen.query_one("#count-result").render())
        assert "2,467.50" in result_text and "Short" in result_text

        # Without the supervisor nothing closes: F10 opens the approval dialog, Esc leaves it.
        await pilot.press("f10")
        await settle(pilot)
        assert type(app.screen).__name__ == "ApprovalScreen"
        assert app.screen.spec.kind == "over_short" and "over_short" in app.screen.spec.rules
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BlindCountScreen)
        assert services.drawers.status(teller).state == "counting"

        await pilot.press("f10")
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.rules == ("drawer_close", "over_short") and spec.amount == Money.of("10")

        # -- the report ----------------------------------------------------------------------------
        assert isinstance(app.screen, EodReportScreen), app.screen
        text = str(app.screen.query_one("#eod-text").render())
        assert "Short" in text and "-CN¥10.00" in text and "approved by li" in text
        assert "Opening float" in text and "CN¥2,000.00" in text
        assert app.screen.report.path is not None and app.screen.report.path.exists()
        assert services.drawers.status(teller).state == "closed"

    with services.db.read() as s:
        os_bal = services.ledger.balance(s, services.ledger.account_id(s, over_short_code("B001")))
        dr_bal = services.ledger.balance(s, services.ledger.account_id(s, drawer_code("B001", "wang")))
    assert os_bal.debits_posted - os_bal.credits_posted == 1000
    assert dr_bal.debits_posted == dr_bal.credits_posted


async def test_count_notes_dialog_gives_change(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    """Cash in 87.50 with F4 "Count notes": not enough is refused, a 100 note gives 12.50 change, and the
    pieces are kept with the posted entry."""
    services = services_for(tmp_path, db_path, db, clock)
    staff = seed_staff(services)
    teller = staff["wang"].actor(services.settings.terminal_id)
    open_drawer_for_setup(services, teller, Money.of("2000"))
    wallet = customer_wallet(services, clock, teller)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 44)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        await pilot.press("f2")
        await settle(pilot)
        await type_text(pilot, wallet.number)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CashInForm)
        form.query_one("#cash-amount", Input).focus()
        await type_text(pilot, "87.50")
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, CountNotesDialog)
        fill(app, grid_values({"note:50": 1}))
        await settle(pilot)
        await pilot.press("f10")  # not enough: refused, dialog stays
        await settle(pilot)
        assert isinstance(app.screen, CountNotesDialog)
        fill(app, {**grid_values({"note:100": 1}), "#count-note-50": ""})
        await settle(pilot)
        assert "12.50" in str(app.screen.query_one("#notes-summary").render())
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is form
        assert form.tender_counted is not None and form.tender_counted.change_due == Money.of("12.50")
        await pilot.press("enter")  # preview
        await settle(pilot)
        await pilot.press("enter")  # confirm: posted, the pieces recorded with it
        await settle(pilot)
        assert type(app.screen).__name__ == "ReceiptScreen"
    assert services.customers.get_customer(wallet.customer_id).wallets[0].balance == Money.of("87.50")
    assert "cash_pieces" in [r.action for r in audit_records(services)]


def audit_records(services: Any) -> list[Any]:
    with services.db.read() as s:
        return services.audit.recent(s)
