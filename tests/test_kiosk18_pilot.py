"""Issue 18, the kiosk on the real app (Pilot): history readable at every size (no amount cut),
arrow keys between buttons, and the idle warning whose countdown a key extends."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import Button, DataTable

from pilot_helpers import settle
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money
from test_kiosk_pilot import _customer, _ready, _sign_in, services  # noqa: F401 - the fixture

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _pay_out(services: Any, wallet_id: int, amount: str) -> None:
    """A large payment out of the wallet (more than the kiosk itself may send)."""
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.ledger.accounts import AccountKind, equity_code
    from teller_tui.models import Wallet

    with services.db.write() as s:
        account_id = s.get(Wallet, wallet_id).account_id
        eq = services.ledger.open_account(s, code=equity_code("B001"), name="Equity", kind=AccountKind.EQUITY,
                                          branch_code="B001")
        services.ledger.post(s, EntryRequest(f"pay-{wallet_id}", "transfer", (
            debit(account_id, Money.of(amount)), credit(eq, Money.of(amount))), None, "T01", "B001"))


@pytest.mark.parametrize("size", [(80, 24), (110, 40)])
async def test_history_amounts_never_cut(services: Any, clock: FakeClock, size: tuple[int, int]) -> None:  # noqa: F811
    from screens.kiosk.app import make_kiosk_app

    _cid, wid = _customer(services, "张三明", "13812345678", fund="31000")
    _pay_out(services, wid, "25000")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=size) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13812345678")
        await pilot.press("1")
        await settle(pilot)
        table = app.screen.query_one("#history-table", DataTable)
        cells = [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]
        assert any(row[2].endswith("25,000.00") and row[2].startswith("-") for row in cells), cells
        for i, column in enumerate(table.ordered_columns):
            widest = max(cell_len(row[i]) for row in cells)
            assert column.get_render_width(table) - 2 * table.cell_padding >= widest, (column.label, widest)
        # The table itself fits the screen: nothing to scroll sideways to read an amount.
        assert table.virtual_size.width <= table.size.width, (table.virtual_size, table.size)


async def test_arrow_keys_move_between_kiosk_buttons(services: Any, clock: FakeClock) -> None:  # noqa: F811
    from screens.kiosk.app import make_kiosk_app

    _customer(services, "王芳", "13900000003")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900000003")
        assert app.screen.focused.id == "history"
        seen = []
        for key in ("right", "right", "right", "left", "down", "up"):
            await pilot.press(key)
            await settle(pilot)
            focused = app.screen.focused
            assert isinstance(focused, Button)
            seen.append(focused.id)
        assert seen == ["transfer", "change_pin", "ask_help", "change_pin", "ask_help", "change_pin"]
        # Every home button is on the 80-column screen (none pushed off the edge).
        for button in app.screen.query(Button):
            assert 0 <= button.region.x and button.region.right <= 80 and button.region.bottom <= 24, (
                button.id, button.region)


async def test_idle_warning_counts_down_and_a_key_extends(services: Any, clock: FakeClock) -> None:  # noqa: F811
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.home import KioskHomeScreen
    from screens.kiosk.idle import WARNING_SECONDS, IdleWarning

    assert WARNING_SECONDS >= 20
    _customer(services, "王芳", "13900000004")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900000004")
        assert isinstance(app.screen, KioskHomeScreen)
        clock.advance(seconds=services.settings.kiosk_idle_seconds + 1)
        app.check_customer_idle()
        await settle(pilot)
        warning = app.screen
        assert isinstance(warning, IdleWarning) and app.session is not None
        text = str(warning.query_one("#idle-countdown").render())
        assert f"{WARNING_SECONDS - 1} s" in text, text
        clock.advance(seconds=10)
        app.check_customer_idle()
        await settle(pilot)
        assert f"{WARNING_SECONDS - 11} s" in str(warning.query_one("#idle-countdown").render())
        await pilot.press("2")  # any key: the session goes on, and the key does nothing else
        await settle(pilot)
        assert isinstance(app.screen, KioskHomeScreen) and app.session is not None
        clock.advance(seconds=WARNING_SECONDS)  # the countdown starts afresh after the next idle period
        app.check_customer_idle()
        await settle(pilot)
        assert isinstance(app.screen, KioskHomeScreen)
