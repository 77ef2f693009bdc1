"""Issue 18 on the real app (Pilot): problems shown as the teller types, the approval dialog at
80x24, denomination grids by arrow keys. (The kiosk's part: tests/test_kiosk18_pilot.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Footer, Input, Static

from desk_harness import Desk, make_desk
from pilot_helpers import settle
from screens.approval import ApprovalScreen
from screens.cash import CashForm
from screens.confirm import ConfirmScreen
from screens.drawer import CountNotesDialog, DenominationGrid
from teller_tui.common.i18n import set_locale

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Desk:
    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)  # the live check runs at once (no wall-clock wait)
    return make_desk(tmp_path, db_path, db, clock)


async def back_home(pilot: Any) -> None:
    for _ in range(5):
        if type(pilot.app.screen).__name__ == "HomeScreen":
            return
        await pilot.press("escape")
        await settle(pilot)
    raise AssertionError(pilot.app.screen)


async def open_form(pilot: Any, phone: str, key: str) -> Any:
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*phone)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, CashForm), form
    return form


async def type_amount(pilot: Any, form: Any, amount: str) -> str:
    """Type the amount (no Enter: nothing is confirmed) and return the live line."""
    form.query_one("#cash-amount", Input).focus()
    await pilot.press(*amount)
    await settle(pilot)
    await pilot.pause()
    await settle(pilot)
    assert pilot.app.screen is form  # no dialog: this is before any confirmation
    return str(form.query_one("#cash-live", Static).render())


# -- problems shown as the teller types ------------------------------------------------------------------
def fund_from_equity(desk: Desk, key: str, amount: str) -> None:
    """Money in the wallet that never went through the drawer (so the drawer can be short of it)."""
    from teller_tui.common.money import Money
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.ledger.accounts import AccountKind, equity_code

    from teller_tui.models import Wallet

    with desk.services.db.write() as s:
        account_id = s.get(Wallet, desk.wallets[key].wallet_id).account_id
        eq = desk.services.ledger.open_account(s, code=equity_code("B001"), name="Equity", kind=AccountKind.EQUITY,
                                               branch_code="B001")
        desk.services.ledger.post(s, EntryRequest(f"fund-{key}", "opening", (
            debit(eq, Money.of(amount)), credit(account_id, Money.of(amount))), None, "T01", "B001"))


async def test_drawer_short_of_cash_shown_while_typing(desk: Desk) -> None:
    fund_from_equity(desk, "wang", "30000")
    async with desk.signed_in(size=(80, 24)) as pilot:
        form = await open_form(pilot, "13800138000", "f6")  # cash out
        text = await type_amount(pilot, form, "20000")
        assert "drawer" in text.lower() and form.query_one("#cash-live", Static).has_class("-error"), text
        assert desk.entries("cash_out") == []


async def test_limits_left_shown_as_amounts(desk: Desk) -> None:
    async with desk.signed_in(size=(80, 24)) as pilot:
        form = await open_form(pilot, "13800138000", "f6")
        await settle(pilot)
        text = str(form.query_one("#cash-live", Static).render())  # on opening, before any amount
        assert "One payment: up to CN¥50,000.00" in text, text  # class 1: no daily limit, a per-payment one
        await back_home(pilot)
        form = await open_form(pilot, "13912345678", "f6")  # class 2: a daily limit, 300.00 paid in
        text = str(form.query_one("#cash-live", Static).render())
        assert "Left today: CN¥100,000.00" in text, text
        await back_home(pilot)
        form = await open_form(pilot, "13700001111", "f5")  # cash in: room to the balance limit
        assert "Room to the balance limit:" in str(form.query_one("#cash-live", Static).render())


async def test_frozen_wallet_shown_while_typing(desk: Desk) -> None:
    desk.services.wallets.freeze(desk.actor, desk.wallets["zhang"].wallet_id, "lost phone")
    async with desk.signed_in(size=(80, 24)) as pilot:
        form = await open_form(pilot, "13912345678", "f6")
        text = await type_amount(pilot, form, "10")
        assert "frozen" in text.lower(), text


async def test_drawer_being_counted_shown_on_opening_the_form(desk: Desk) -> None:
    """A drawer in its end-of-day count takes no cash: the form says so before an amount is typed."""
    async with desk.signed_in(size=(80, 24)) as pilot:
        desk.services.drawers.submit_blind_count(desk.actor, {"note:100": 1})
        form = await open_form(pilot, "13800138000", "f5")
        await settle(pilot)
        live = form.query_one("#cash-live", Static)
        assert live.has_class("-error") and "counted" in str(live.render()), str(live.render())


async def test_refusal_in_chinese_at_the_edge(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A core refusal written in English with an f-string (a reversal of a reversed entry) shows in
    Chinese, by its code, with its details."""
    from teller_tui.common.errors import Conflict
    from screens.refusal_text import refusal_text

    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    try:
        error = Conflict("Entry R1 has already been reversed", code="already_reversed", reference="R1")
        assert refusal_text(error) == "交易 R1 已冲正。"
        assert refusal_text(Conflict("This wallet is closed", code="wallet_closed")) == "该钱包已销户。"
        del desk
    finally:
        set_locale("en")


# -- the approval dialog at 80x24 ----------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_approval_dialog_shows_every_field_at_80x24(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                          monkeypatch: pytest.MonkeyPatch, locale: str) -> None:
    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)
    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            form = await open_form(pilot, "13800138000", "f5")
            await type_amount(pilot, form, "60000")  # large cash: source of funds and purpose too
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(pilot.app.screen, ConfirmScreen)
            await pilot.press("f10")
            await settle(pilot)
            dialog = pilot.app.screen
            assert isinstance(dialog, ApprovalScreen), dialog
            fields = list(dialog.query(Input))
            assert [f.id for f in fields] == ["approval-source", "approval-purpose", "approval-user",
                                              "approval-password", "approval-code"]
            footer_top = 24 - dialog.query_one(Footer).outer_size.height
            for field in fields:
                region = field.region
                assert region.height == 3 and field.styles.border_top[0], field.id  # a visible border
                assert region.x >= 0 and region.right <= 80 and region.bottom <= footer_top, (field.id, region)
            assert dialog.focused is fields[0]
    finally:
        set_locale("en")


# -- denomination grids by arrow keys ----------------------------------------------------------------------
async def test_denominations_move_by_arrows(desk: Desk) -> None:
    async with desk.signed_in(size=(80, 24)) as pilot:
        form = await open_form(pilot, "13800138000", "f5")
        await type_amount(pilot, form, "13310")
        await pilot.press("f4")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, CountNotesDialog), dialog
        grid = dialog.query_one(DenominationGrid)
        keys = [d.key for d in grid.denoms]
        await pilot.press(*"133", "down", "down", "down", "1", "up", "2")
        await settle(pilot)
        assert grid.counts == {keys[0]: 133, keys[2]: 2, keys[3]: 1}, grid.counts
        # Count and amount side by side, under their headings.
        heads = [str(w.render()) for w in grid.query(".denom-head Label")]
        assert heads == ["Note / coin", "Count", "Amount"]
        first_sub = str(grid.query_one(f"#{grid.query(Input).first().id}-sub", Static).render())
        assert first_sub.endswith("13,300.00"), first_sub
