"""A customer statement from the real app (Pilot, 80x24, zh_CN): s on the customer screen, the
month's range, the statement on screen and saved, printed to a loopback ESC/POS printer laid out
for the roll; a reversed range is refused in one sentence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input

from desk_harness import make_desk, from_customer, static_text
from pilot_helpers import settle
from teller_tui.common.formatting import display_width
from teller_tui.common.i18n import set_locale
from teller_tui.common.printing.escpos import decode_escpos
from test_print_pilot import _printer, wait_printed
from test_printing import Listener

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


async def test_month_statement_shown_saved_printed(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                   listener: Listener) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN", **_printer(listener.port))
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            await from_customer(pilot, desk, "wang", "s")
            prompt = pilot.app.screen
            assert type(prompt).__name__ == "StatementPrompt"
            # A range that ends before it starts: one sentence, nothing issued.
            prompt.query_one("#statement-to", Input).value = "2000-01-01"
            await pilot.press("enter")
            await settle(pilot)
            assert "结束日期早于开始日期" in static_text(pilot.app, "#statement-message")
            today = desk.services.clock.now().date()
            prompt.query_one("#statement-from", Input).value = today.strftime("%Y-%m")
            prompt.query_one("#statement-to", Input).value = ""
            await pilot.press("enter")
            await settle(pilot)
            shown = pilot.app.screen
            assert type(shown).__name__ == "ReceiptScreen"
            body = static_text(pilot.app, "#receipt-text")
            assert "钱包对账单" in body and "期初余额" in body and "期末余额" in body and "¥1,000.00" in body
            saved = list((desk.services.settings.home / "statements").glob("ST-*.txt"))
            assert len(saved) == 1 and saved[0].read_text() == shown.text
            await pilot.press("p")
            await wait_printed(pilot)
            assert listener.done.wait(5)
            job = decode_escpos(listener.jobs[0])
            assert "钱包对账单" in job.text and "期末余额" in job.text
            assert all(display_width(line) <= 48 for line in job.text.splitlines())
            assert "已在 counter" in static_text(pilot.app, "#receipt-status")
    finally:
        set_locale("en")

