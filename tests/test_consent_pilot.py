"""Issue 16 on the real apps: a teller's cash-out waits for the customer's PIN on a paired customer
display (a second real app, ``teller pinpad``, in the same test) and posts only after the right PIN."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from textual.widgets import Input, Static

from desk_harness import Desk, make_desk
from pilot_helpers import settle
from screens.pinpad.app import make_pinpad_app
from teller_tui.auth import passwords
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.models import Customer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
PIN = "135790"


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("TELLER_COUNTER_CONSENT", "1")
    world = make_desk(tmp_path, db_path, db, clock)
    with db.write() as s:
        s.execute(update(Customer).where(Customer.id == world.customers["wang"]).values(
            pin_hash=passwords.hash_pin(PIN)))
    yield world
    set_locale("en")


async def test_cash_out_waits_for_the_pin_on_the_paired_display(desk: Desk, tmp_path: Any) -> None:
    from test_desk_pilot import fill_amount, ids, open_customer, static_text

    pad_settings = load_settings(home=tmp_path / "pad", locale="en", terminal_id="PAD-T01")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        pad_app = make_pinpad_app(pad_settings, pair_terminal="T01", services=desk.app.services,
                                  clock=desk.app.clock)
        await open_customer(pilot, desk, "wang")
        await pilot.press("f6")
        await settle(pilot)
        await fill_amount(pilot, "200")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")  # confirm the figures: the core asks for the customer's consent
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConsentScreen"
        title = static_text(pilot.app, "#consent-title")  # the teller's terms, not the customer's
        assert "cash-out" in title and "200.00" in title and "your wallet" not in title, title
        await pilot.press("f2")  # pair a display: the code shows on the teller's screen
        await settle(pilot)
        text = static_text(pilot.app, "#consent-status")
        code = "".join(ch for ch in text.split(":")[1] if ch.isdigit())[:6]
        async with pad_app.run_test(size=(100, 30)) as pad:
            await settle(pad)
            await pad.press(*code, "enter")
            await settle(pad)
            for _ in range(5):
                await pad.pause(1.2)
                await settle(pad)
                if pad.app.screen.query_one("#pad-amount").display:
                    break
            assert "Cash withdrawal" in str(pad.app.screen.query_one("#pad-title", Static).render())
            assert ids(desk, "cash_out") == []
            await pad.press(*"000000", "enter")  # a wrong PIN: nothing posts
            await settle(pad)
            await pilot.pause(1.2)
            await settle(pilot)
            assert ids(desk, "cash_out") == []
            assert type(pilot.app.screen).__name__ == "ConsentScreen"
            pad.app.screen.query_one("#pad-input", Input).value = PIN
            await pad.press("enter")
            await settle(pad)
        for _ in range(5):
            await pilot.pause(1.2)
            await settle(pilot)
            if type(pilot.app.screen).__name__ == "ReceiptScreen":
                break
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
    assert len(ids(desk, "cash_out")) == 1
    assert desk.balance("wang") == Money.of("800.00")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_id_recheck_asks_what_the_screen_hides_and_fits_80x24(desk: Desk, locale: str) -> None:
    """F3 in the consent dialog: the last 4 of the document number (on the teller's screen) are refused;
    the hidden part (a resident ID's birth-date digits) records the consent and the cash-out posts. The
    dialog, with its prompt, fits 80x24 in both languages."""
    from test_desk_pilot import fill_amount, ids, open_customer, static_text
    from test_zh_walk import screen_text
    from teller_tui.common.masks import hidden_document_part

    with desk.services.db.read() as s:
        number = s.get(Customer, desk.customers["wang"]).id_number  # type: ignore[union-attr]
    assert number and hidden_document_part(number) not in number[-4:]
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await desk.start(pilot)
        desk.app.set_language(locale)
        await open_customer(pilot, desk, "wang")
        await pilot.press("f6")
        await settle(pilot)
        await fill_amount(pilot, "200")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        consent = pilot.app.screen
        assert type(consent).__name__ == "ConsentScreen"
        await pilot.press("f3")
        await settle(pilot)
        lines = screen_text(pilot.app)
        assert all(len(line.rstrip()) <= 80 for line in lines)
        prompt = "出生日期" if locale == "zh_CN" else "birth-date digits"
        assert any(prompt in line for line in lines), lines  # the instruction and the field's placeholder
        assert sum(prompt in line for line in lines) >= 2, lines
        await pilot.press("space", "tab", *number[-4:], "enter")  # the seen box, then the shown last 4
        await settle(pilot)
        assert pilot.app.screen is consent and ids(desk, "cash_out") == []
        refused = "不符" if locale == "zh_CN" else "do not match"
        assert refused in static_text(pilot.app, "#consent-status")
        consent.query_one("#consent-id-digits", Input).value = ""
        await pilot.press(*hidden_document_part(number), "enter")
        await settle(pilot)
        for _ in range(5):
            if type(pilot.app.screen).__name__ == "ReceiptScreen":
                break
            await pilot.pause(0.5)
            await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
    assert len(ids(desk, "cash_out")) == 1
