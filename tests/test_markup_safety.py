"""User text is data: hostile names and memos render literally everywhere and do nothing."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from screens.widgets.results import ResultList
from screens.widgets.safe import clean, content, literal
from teller_tui.common.text import clean_text
from teller_tui.common.money import Money

from desk_harness import CLICK_NAME, ESC_NAME, MARKUP_NAME, Desk
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import settle

MEMO = "[@click=app.quit]memo[/] [b]bold[/b]"


def screen_text(app: Any) -> str:
    """Everything on the screen as plain text (what a person would read)."""
    from rich.console import Console

    lines = app.screen._compositor.render_update(full=True)
    console = Console(width=400, record=True, file=open("/dev/null", "w"), color_system=None, legacy_windows=False)
    console.print(lines)
    return console.export_text()


@pytest.mark.parametrize("text", [MARKUP_NAME, CLICK_NAME, "[red]x", "\\[b]"])
def test_helpers_keep_markup_literal(text: str) -> None:
    assert literal(text).plain == text
    assert content(text).plain == text


def test_helpers_strip_control_characters() -> None:
    # clean() is clean_text: a whole escape sequence goes (it used to leave "[31m" behind),
    # and whitespace runs collapse.
    assert clean(ESC_NAME) == clean_text(ESC_NAME) == "Red"
    assert clean("a\x07b\x00c\u202ed\r\ne") == "abcd e"
    assert clean("\x1b]52;c;aGVsbG8=\x07x\x1b[2J") == "x"
    assert clean("line1\nline2", multiline=True) == "line1\nline2"
    assert "\x1b" not in literal(ESC_NAME).plain


@pytest.mark.slow  # Pilot
async def test_hostile_names_and_memos_are_literal_and_inert(desk: Desk) -> None:
    desk.services.cash.cash_in(desk.actor, desk.wallets["markup"].wallet_id, Money.of("1"), memo=MEMO,
                               idempotency_key="memo-1")
    async with desk.signed_in(size=(160, 40)) as pilot:
        # Lookup results.
        await pilot.press("f2")
        await settle(pilot)
        lookup = pilot.app.screen
        await pilot.press(*"1360000")
        await settle(pilot)
        row = lookup.query_one("#lookup-results", ResultList).row(0)
        assert row[1] == MARKUP_NAME and row[2] == CLICK_NAME
        text = screen_text(pilot.app)
        assert MARKUP_NAME in text and CLICK_NAME[:16] in text  # the pinyin column may cut it
        await pilot.click("#lookup-results", offset=(40, 2))  # click on the would-be link: inert
        await settle(pilot)
        assert pilot.app.is_running
        # Customer view: profile and history memo.
        if type(pilot.app.screen).__name__ != "CustomerScreen":
            await pilot.press("enter")
            await settle(pilot)
        customer = pilot.app.screen
        assert type(customer).__name__ == "CustomerScreen"
        text = screen_text(pilot.app)
        assert MARKUP_NAME in text and CLICK_NAME in text and MEMO[:27] in text  # the memo column cuts
        memo_cell = customer.query_one("#customer-history", DataTable).get_row_at(0)[5]
        assert memo_cell.plain == MEMO
        # Confirmation dialog restating the name, with a hostile memo.
        await pilot.press("f5")
        await settle(pilot)
        form = pilot.app.screen
        await pilot.press(*"5")
        form.query_one("#cash-memo", Input).value = ESC_NAME + MEMO
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        text = screen_text(pilot.app)
        # The escape sequence goes as a whole (it used to leave "[31m…[0m" behind); the markup stays literal.
        assert MARKUP_NAME in text and "Red" + MEMO in text and "\x1b" not in text and "[31m" not in text
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert "\x1b" not in str(pilot.app.screen.query_one("#receipt-text", Static).render())
        assert pilot.app.is_running


@pytest.mark.slow  # Pilot
async def test_escape_sequences_in_names_do_nothing(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"1350000")
        await settle(pilot)
        text = screen_text(pilot.app)
        assert "Red" in text and "[31m" not in text and "\x1b" not in text
        await pilot.press("enter")
        await settle(pilot)
        profile = str(pilot.app.screen.query_one("#customer-profile", Static).render())
        assert "Red" in profile and "[31m" not in profile and "\x1b" not in profile
        assert pilot.app.is_running
