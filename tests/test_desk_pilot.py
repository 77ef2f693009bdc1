"""Teller desk journeys through the real app (Pilot): ``TellerApp`` from ``make_app`` with the test's
services and clock, signed in at the sign-in screen, driven by keys, asserting on the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from desk_harness import (
    SUPERVISOR_PW,
    SUPERVISOR_SECRET,
    Desk,
    fill_amount,
    find,
    from_customer,
    ids,
    open_customer,
    static_text,
)
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import code_for, settle, type_text
from screens.approval import ApprovalScreen
from screens.confirm import ConfirmScreen
from screens.widgets.results import ResultList
from teller_tui.approvals.policy import ApprovalPolicy
from teller_tui.common.money import Money
from teller_tui.models import Customer, JournalEntry

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


# -- lookup ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "key", "kind"), [
    ("13800138000", "wang", "phone"),  # full mobile number
    ("13912", "zhang", None),  # phone prefix
    ("王芳", "wang", "name"),  # CJK name
    ("张", "zhang", "name"),  # one CJK character
    ("zhang wei", "zhang", "latin"),  # pinyin
    ("wangfang", "wang", "latin"),  # pinyin without the space
])
async def test_find_by_phone_name_pinyin(desk: Desk, query: str, key: str, kind: str | None) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        screen = await find(pilot, query)
        assert screen.page is not None
        if kind:
            assert screen.page.query_kind == kind
        assert screen.page.results[0].customer_id == desk.customers[key]
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen.customer_id == desk.customers[key]


async def test_find_by_id_part_and_wallet_number(desk: Desk) -> None:
    view = desk.services.customers.get_customer(desk.customers["zhang"])
    async with desk.signed_in(size=(120, 40)) as pilot:
        with desk.services.db.read() as s:
            id_number = s.get(Customer, desk.customers["li"]).id_number
        screen = await find(pilot, id_number[6:14])  # the birth date part, from the middle
        assert desk.customers["li"] in [h.customer_id for h in screen.page.results]
        field = screen.query_one("#lookup-query", Input)
        field.value = view.wallets[0].number
        await settle(pilot)
        assert screen.page.results[0].customer_id == desk.customers["zhang"]
        assert screen.page.results[0].match_kind == "wallet"


async def test_lookup_pages_and_drops_stale_results(desk: Desk) -> None:
    with desk.services.db.write() as s:
        for i in range(27):
            s.add(Customer(customer_no=f"P{i:08d}", full_name=f"测试{i:02d}", name_latin=f"ce shi {i}",
                           phone=f"1590000{i:04d}", branch_code="B001", created_at=desk.clock.now()))
    async with desk.signed_in(size=(120, 40)) as pilot:
        screen = await find(pilot, "1590000")
        table = screen.query_one("#lookup-results", ResultList)
        assert table.row_count == 20 and screen.page.has_more
        await pilot.press("pagedown")
        await settle(pilot)
        assert screen.page.offset == 20 and table.row_count == 7 and not screen.page.has_more
        await pilot.press("pageup")
        await settle(pilot)
        assert screen.page.offset == 0 and table.row_count == 20
        # A late answer to an earlier query never replaces the current one.
        stale = desk.services.customers.search("13800138000")
        screen.post_message(screen.Results(screen._token - 1, stale))
        await settle(pilot)
        assert table.row_count == 20 and screen.page.query == "1590000"


async def test_lookup_rows_follow_each_answer_in_place(desk: Desk) -> None:
    """The table is updated in place per answer (cells that differ, rows added or removed): what it
    shows and what Enter opens are always the current page, in its order."""
    with desk.services.db.write() as s:
        for i in range(27):
            s.add(Customer(customer_no=f"Q{i:08d}", full_name=f"测试{i:02d}", name_latin=f"ce shi {i}",
                           phone=f"1590000{i:04d}", branch_code="B001", created_at=desk.clock.now()))
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        screen = await find(pilot, "1590000")
        table = screen.query_one("#lookup-results", ResultList)

        def shown() -> list[str]:
            return [row[0] for row in table.rows]

        assert shown() == [h.customer_no for h in screen.page.results] and table.row_count == 20
        for more, count in (("0", 20), ("0", 20), ("2", 7), ("5", 1), ("backspace", 7), ("backspace", 20)):
            await pilot.press(more)
            await settle(pilot)
            assert table.row_count == count, more
            assert shown() == [h.customer_no for h in screen.page.results], more
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert pilot.app.screen.customer_id == screen.page.results[2].customer_id


# -- cash ------------------------------------------------------------------------------------------
async def test_cash_in_confirm_and_receipt(desk: Desk) -> None:
    before = ids(desk, "cash_in")
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f5")
        await fill_amount(pilot, "500", memo="counter deposit")
        await pilot.press("enter")
        await settle(pilot)
        dialog = pilot.app.screen
        assert type(dialog).__name__ == "ConfirmScreen"
        facts = static_text(pilot.app, "#confirm-facts")
        assert "CN¥500.00" in facts
        assert "five hundred yuan" in facts
        assert "1,500.00 CR" in facts  # the new balance
        assert ids(desk, "cash_in") == before  # nothing posted before confirming
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert pilot.app.screen.reference in static_text(pilot.app, "#receipt-text")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
    assert len(ids(desk, "cash_in")) == len(before) + 1
    assert desk.balance("wang") == Money.of("1500.00")


async def test_cash_out(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f6")
        await fill_amount(pilot, "200")
        await pilot.press("f10")
        await settle(pilot)
        assert "800.00 CR" in static_text(pilot.app, "#confirm-facts")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
    assert len(ids(desk, "cash_out")) == 1
    assert desk.balance("wang") == Money.of("800.00")


async def test_transfer_to_wallet_number(desk: Desk) -> None:
    to_number = desk.wallets["zhang"].number
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f7")
        form = pilot.app.screen
        await pilot.press(*to_number)
        await settle(pilot)
        assert form.to_wallet_id == desk.wallets["zhang"].wallet_id
        assert "张伟" in static_text(pilot.app, "#cash-to-name")
        await fill_amount(pilot, "50")
        await pilot.press("ctrl+j")
        await settle(pilot)
        assert "张伟" in static_text(pilot.app, "#confirm-facts")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
    assert len(ids(desk, "transfer")) == 1
    assert desk.balance("wang") == Money.of("950.00")
    assert desk.balance("zhang") == Money.of("350.00")


async def test_limit_refusal_posts_nothing(desk: Desk) -> None:
    view = desk.services.customers.get_customer(desk.customers["li"])
    cap = view.wallets[0].limits.balance_cap
    over = (cap + Money.of("1")).plain()
    before = desk.entries()
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "li", "f5")
        form = await fill_amount(pilot, over)
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is form  # no confirmation dialog
        message = form.query_one("#cash-message", Static)
        assert message.has_class("-error")
        assert str(message.render()).startswith("Refused:")
        assert not form.busy
    assert desk.entries() == before


async def test_minus_sign_is_refused_with_a_message_not_dropped(desk: Desk) -> None:
    """Typing -50 used to give 50 (the field filtered the sign out); now the form says why not."""
    before = desk.entries()
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f5")
        form = await fill_amount(pilot, "-50")
        field = form.query_one("#cash-amount", Input)
        assert field.value == "-50" and field.money is None
        assert "negative" in field.error_message()
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is form  # no confirmation of 50
    assert desk.entries() == before


async def test_frozen_wallet_refusal(desk: Desk) -> None:
    desk.services.wallets.freeze(desk.actor, desk.wallets["zhang"].wallet_id, "lost phone")
    before = desk.entries()
    async with desk.signed_in(size=(120, 40)) as pilot:
        customer = await open_customer(pilot, desk, "zhang")
        assert "FROZEN" in customer.query_one("#customer-wallets", DataTable).get_row_at(0)[2].plain
        await pilot.press("f6")
        await settle(pilot)
        form = await fill_amount(pilot, "10")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is form
        text = str(form.query_one("#cash-message", Static).render())
        assert text.startswith("Refused:") and "frozen" in text.lower()
    assert desk.entries() == before


async def test_approval_required_is_shown_distinctly(desk: Desk) -> None:
    before = desk.entries()
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f5")
        form = await fill_amount(pilot, "60000")
        calls: list[tuple[list[str], list[str]]] = []
        original = form.approval_required
        form.approval_required = lambda reasons, rules: (calls.append((reasons, rules)), original(reasons, rules))
        await pilot.press("enter")
        await settle(pilot)
        # The approval flow (screens/approval.py) first restates the figures with the reasons.
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert "Needs supervisor approval" in str(pilot.app.screen.query_one("#confirm-warning").render())
        message = form.query_one("#cash-message", Static)
        assert message.has_class("-approval") and not message.has_class("-error")
        assert str(message.render()).startswith("Needs supervisor approval: ")
        assert calls and "large_cash" in calls[0][1]
    assert desk.entries() == before


async def test_double_submit_and_retry_post_once(desk: Desk) -> None:
    before = ids(desk, "cash_in")
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f5")
        form = await fill_amount(pilot, "500")
        key = form.idempotency_key
        # An impatient teller: Enter (preview), Enter (confirm), then more submits and a confirm
        # key while the posting runs. The form's key makes every one of them the same posting.
        await pilot.press("enter", "enter", "ctrl+j", "f10", "enter")
        form.action_submit()
        form.post()  # a programmatic retry with the same key
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert not [s for s in pilot.app.screen_stack if type(s).__name__ == "ConfirmScreen"]
    new = [e for e in desk.entries("cash_in") if e[0] not in before]
    assert len(new) == 1 and new[0][3] == key
    # A retry with the form's key (e.g. after a lost answer) replays, posting nothing more.
    again = desk.services.cash.cash_in(desk.actor, desk.wallets["wang"].wallet_id, Money.of("500"),
                                       idempotency_key=key)
    assert again.replayed
    assert len(ids(desk, "cash_in")) == len(before) + 1
    assert desk.balance("wang") == Money.of("1500.00")


async def test_escape_backs_out_without_posting(desk: Desk) -> None:
    before = desk.entries()
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f6")
        await fill_amount(pilot, "10")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")  # cancel the dialog
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CashOutForm"
        for _ in range(4):
            await pilot.press("escape")
            await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
    assert desk.entries() == before


# -- receipts and reversal -------------------------------------------------------------------------
async def test_reprint_from_history_and_from_home(desk: Desk) -> None:
    seeded = desk.entries("cash_in")[0]
    async with desk.signed_in(size=(120, 40)) as pilot:
        customer = await open_customer(pilot, desk, "wang")
        customer.query_one("#customer-history", DataTable).focus()
        await pilot.press("r")
        await settle(pilot)
        receipt = pilot.app.screen
        assert type(receipt).__name__ == "ReceiptScreen" and receipt.reprint
        assert seeded[2] in static_text(pilot.app, "#receipt-text")
        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press(*seeded[2], "enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert seeded[2] in static_text(pilot.app, "#receipt-text")
        await pilot.press("d")  # save a copy (terminal: into the receipts folder)
        await settle(pilot)
    assert (desk.services.settings.receipts_dir / f"{seeded[2]}-copy.txt").exists()


async def test_reversal_with_counter_approval(desk: Desk) -> None:
    """Reversals need a supervisor (approval policy): F9 leads to the same counter approval dialog as the
    cash form; the supervisor approves there and the reversal is posted."""
    before = ids(desk, "reversal")
    async with desk.signed_in(size=(120, 40)) as pilot:
        customer = await open_customer(pilot, desk, "zhang")
        customer.query_one("#customer-history", DataTable).focus()
        await pilot.press("f9")
        await settle(pilot)
        reason_given = await _answer_reason_or_confirm(pilot)
        assert isinstance(pilot.app.screen, ApprovalScreen), pilot.app.screen
        assert "reversal" in pilot.app.screen.spec.rules
        desk.clock.advance(seconds=31)  # a fresh authenticator step for the supervisor
        pilot.app.screen.query_one("#approval-user", Input).focus()
        await type_text(pilot, "chen")
        await pilot.press("enter")
        await type_text(pilot, SUPERVISOR_PW)
        await pilot.press("enter")
        await type_text(pilot, code_for(SUPERVISOR_SECRET, desk.clock))
        await pilot.press("enter")
        await settle(pilot)
        if not reason_given:
            await _answer_reason_or_confirm(pilot)
    assert len(ids(desk, "reversal")) == len(before) + 1
    assert desk.balance("zhang") == Money.of("0.00")


async def _answer_reason_or_confirm(pilot: Any) -> bool:
    """Give the reversal's reason and confirm the figures, in whichever order the flow asks.
    True when a reason was given."""
    reason_given = False
    for _ in range(3):
        name = type(pilot.app.screen).__name__
        if name == "ReasonScreen":
            await type_text(pilot, "wrong wallet")
            await pilot.press("enter")
            reason_given = True
        elif name == "ConfirmScreen":
            await pilot.press("f10")
        else:
            break
        await settle(pilot)
    return reason_given


async def test_reversal_dialog_asks_for_a_reason(desk: Desk) -> None:
    """Under a policy without the reversal rule (a site may ship one), F9 asks for a reason and posts."""
    approvals = desk.services.approvals
    approvals.policy = ApprovalPolicy([r for r in approvals.policy.rules if r.id != "reversal"],
                                      approvals.policy.approver_roles)
    zhang_in = [e for e in desk.entries("cash_in") if e[3] == "seed-zhang"][0]
    async with desk.signed_in(size=(120, 40)) as pilot:
        customer = await open_customer(pilot, desk, "zhang")
        customer.query_one("#customer-history", DataTable).focus()
        await pilot.press("f9")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReasonScreen"
        await pilot.press("enter")  # no reason yet: nothing happens
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReasonScreen" and not desk.entries("reversal")
        await type_text(pilot, "wrong wallet")
        await pilot.press("enter")
        await settle(pilot)
    [reversal] = desk.entries("reversal")
    with desk.services.db.read() as s:
        entry = s.get(JournalEntry, reversal[0])
        assert entry.reverses_entry_id == zhang_in[0] and "wrong wallet" in (entry.memo or "")
    assert desk.balance("zhang") == Money.of("0.00")


async def test_home_shows_session_and_count(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        facts = static_text(pilot.app, "#home-facts")
        assert "王小明 (wang)" in facts and "T01" in facts
        assert "4 cash transactions" in facts  # the four seeded cash-ins
        assert "Nov 23, 2026" in facts
        keys = {b.binding.key for b in pilot.app.screen.active_bindings.values()}
        assert {"f2", "f5", "f6", "f7", "f8"} <= keys


async def test_a_dialog_shows_its_own_keys_in_place_of_the_screen_beneath(desk: Desk) -> None:
    """Over a dialog the screen beneath's keys do nothing (a modal screen's bindings end at the
    dialog), so its footer gives way to the dialog's: F8's reprint prompt lists Esc and F1, not F5;
    closed, the home footer is back. At 80×24, where the home footer takes four rows."""
    from screens.widgets.footer import KeyFooter

    def keys_shown(footer: KeyFooter) -> set[str]:
        return {str(key.key) for key in footer.query("FooterKey")}

    async with desk.signed_in(size=(80, 24)) as pilot:
        home = pilot.app.screen
        home_footer = home.query_one(KeyFooter)
        assert home_footer.styles.visibility == "visible" and {"f5", "f8"} <= keys_shown(home_footer)
        await pilot.press("f8")
        await settle(pilot)
        dialog = pilot.app.screen
        assert type(dialog).__name__ == "ReprintPrompt"
        assert home_footer.styles.visibility == "hidden"  # under the dialog (its rows kept: nothing shifts)
        own = dialog.query_one(KeyFooter)
        assert own.display and keys_shown(own) >= {"escape", "f1"} and "f5" not in keys_shown(own)
        await pilot.press("f5")  # the home's key does nothing here
        await settle(pilot)
        assert pilot.app.screen is dialog
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is home and home_footer.styles.visibility == "visible"
