"""Top-up from and withdrawal to the linked bank account, on the real app (Pilot) and in the core:
keys t / w on the customer screen, confirmation naming the account, ledger rows, the receipt
(printed to a loopback ESC/POS printer in Chinese), refusals that post nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from desk_harness import (
    SUPERVISOR_PW,
    SUPERVISOR_SECRET,
    Desk,
    find,
    from_customer,
    make_desk,
    open_customer,
    static_text,
)
from onboarding_fixtures import card_number
from pilot_helpers import settle
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.common.printing.escpos import decode_escpos
from teller_tui.models import JournalEntry
from test_print_pilot import _printer, wait_printed
from test_printing import Listener

CARD = card_number()


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


def link(desk: Desk, key: str = "wang") -> str:
    view = desk.services.funding.link_now(desk.actor, desk.customers[key], desk.wallets[key].wallet_id, "card",
                                          CARD, "王芳")
    return view.masked


def kinds(desk: Desk) -> list[str]:
    with desk.services.db.read() as s:
        return [k for (k,) in s.execute(select(JournalEntry.kind).order_by(JournalEntry.seq))]


async def fill(pilot: Any, key: str, amount: str) -> Any:
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert type(form).__name__ in ("LinkedTopUpForm", "LinkedWithdrawForm")
    await pilot.press(*amount)
    await pilot.press("enter")
    await settle(pilot)
    return form


@pytest.mark.asyncio
@pytest.mark.slow
async def test_top_up_from_linked_account_zh_80x24_printed(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                           listener: Listener) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN", **_printer(listener.port))
    masked = link(desk)
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            await open_customer(pilot, desk, "wang")
            form = await fill(pilot, "t", "1000")
            assert masked in str(form.query_one("#linked-account").render())
            assert type(pilot.app.screen).__name__ == "ConfirmScreen"
            facts = static_text(pilot.app, "#confirm-facts")
            assert masked in facts and "壹仟元整" in facts and "2,000.00" in facts
            assert "linked_top_up" not in kinds(desk)  # nothing before confirming
            await pilot.press("enter")
            await settle(pilot)
            receipt = pilot.app.screen
            assert type(receipt).__name__ == "ReceiptScreen", receipt
            assert "银行账户兑换至钱包" in static_text(pilot.app, "#receipt-text")
            await pilot.press("p")
            await wait_printed(pilot)
            assert listener.done.wait(5)
            job = decode_escpos(listener.jobs[0])
            assert "银行账户兑换至钱包" in job.text and receipt.reference in job.text and "壹仟元整" in job.text
            assert form.posted is not None
        assert kinds(desk).count("linked_top_up") == 1
        assert desk.balance("wang") == Money.of("2000.00")
    finally:
        set_locale("en")


@pytest.mark.asyncio
@pytest.mark.slow
async def test_withdraw_and_refusals(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    masked = link(desk)
    async with desk.signed_in(size=(80, 24)) as pilot:
        await open_customer(pilot, desk, "wang")
        await fill(pilot, "w", "5000")  # more than the wallet holds
        assert type(pilot.app.screen).__name__ == "LinkedWithdrawForm"
        assert "Refused" in static_text(pilot.app, "#cash-message")
        await pilot.press("escape")
        await settle(pilot)
        await fill(pilot, "w", "300")
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        assert masked in static_text(pilot.app, "#confirm-facts")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert "WITHDRAWAL TO LINKED BANK ACCOUNT" in static_text(pilot.app, "#receipt-text")
        for _ in range(3):
            if type(pilot.app.screen).__name__ == "HomeScreen":
                break
            await pilot.press("escape")
            await settle(pilot)
        # A customer with no linked account: refused at the preview, nothing posted.
        await open_customer(pilot, desk, "zhang")
        await fill(pilot, "t", "10")
        assert "no linked card or account" in static_text(pilot.app, "#cash-message")
    assert kinds(desk).count("linked_withdraw") == 1 and "linked_top_up" not in kinds(desk)
    assert desk.balance("wang") == Money.of("700.00")


def test_core_preview_and_receipt(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    link(desk)
    svc, wallet = desk.services.linked_desk, desk.wallets["wang"].wallet_id
    preview = svc.preview_withdraw(desk.actor, wallet, Money.of("250.00"))
    assert preview.allowed and preview.balance_after == Money.of("750.00") and preview.counterparty_wallet
    assert svc.preview_withdraw(desk.actor, wallet, Money.of("5000.00")).refusal_code == "insufficient_funds"
    txn = svc.withdraw(desk.actor, wallet, Money.of("250.00"), idempotency_key="k-linked-1")
    again = svc.withdraw(desk.actor, wallet, Money.of("250.00"), idempotency_key="k-linked-1")
    assert again.replayed and again.reference == txn.reference and not txn.replayed
    assert txn.reference in txn.receipt_text and "250.00" in desk.services.cash.receipt_for(txn.reference)
    assert "WITHDRAWAL TO LINKED BANK ACCOUNT" in txn.receipt_text and "250.00" in txn.receipt_text
    assert desk.balance("wang") == Money.of("750.00")
    zhang = desk.wallets["zhang"].wallet_id
    assert svc.preview_top_up(desk.actor, zhang, Money.of("1.00")).refusal_code == "no_linked"


@pytest.mark.asyncio
@pytest.mark.slow
async def test_find_by_last_four_digits_of_phone_zh(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    from screens.widgets.results import ResultList

    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            screen = await find(pilot, "8000")
            rows = [list(row) for row in screen.query_one(ResultList).rows]
            assert any("王芳" in row and "手机尾号" in row for row in rows), rows
            await pilot.press("enter")
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "CustomerScreen"
            assert pilot.app.screen.customer_id == desk.customers["wang"]
    finally:
        set_locale("en")


@pytest.mark.asyncio
@pytest.mark.slow
async def test_link_and_unlink_after_onboarding(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    from textual.widgets import Input, OptionList

    desk = make_desk(tmp_path, db_path, db, clock)
    second = card_number("622202123456780")
    async with desk.signed_in(size=(80, 24)) as pilot:
        await from_customer(pilot, desk, "wang", "l")
        screen = pilot.app.screen
        assert type(screen).__name__ == "LinkedAccountsScreen"
        await pilot.press(*"1234")  # not a card number: refused in one sentence, nothing linked
        await pilot.press("f10")
        await settle(pilot)
        assert "Linked" not in static_text(pilot.app, "#linked-message")
        assert screen.query_one("#linked-message").has_class("-error")
        screen.query_one("#linked-number", Input).value = CARD
        await pilot.press("f10")
        await settle(pilot)
        assert static_text(pilot.app, "#linked-message").startswith("Linked:")
        assert len(screen.links) == 1
        # The only own account of a class 1 wallet: unlinking is refused.
        screen.query_one(OptionList).focus()
        await pilot.press("f9")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await pilot.press("enter")
        await settle(pilot)
        assert "change the wallet's class first" in static_text(pilot.app, "#linked-message")
        assert len(screen.links) == 1
        # With a second own card, the first can go.
        screen.query_one("#linked-number", Input).value = second
        await pilot.press("f10")
        await settle(pilot)
        assert len(screen.links) == 2
        screen.query_one(OptionList).focus()
        screen.query_one(OptionList).highlighted = 0
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert static_text(pilot.app, "#linked-message").startswith("Unlinked:")
        assert len(screen.links) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
    with desk.services.db.read() as s:
        actions = [a for (a,) in s.execute(text(
            "SELECT action FROM audit_record WHERE action LIKE 'linked_account_%'"))]
    assert actions.count("linked_account_add") == 2 and actions.count("linked_account_remove") == 1


def test_unlink_rule_follows_the_wallet_class(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    from teller_tui.common.errors import Conflict

    desk = make_desk(tmp_path, db_path, db, clock)
    funding = desk.services.funding
    # 李娜 holds a class 3 wallet, which needs no own bank account: her only card may go.
    li = funding.link_now(desk.actor, desk.customers["li"], desk.wallets["li"].wallet_id, "card", CARD, "李娜")
    funding.unlink(desk.actor, li.linked_id)
    # 王芳's class 1 wallet needs one: refused while it is her only own account...
    own = funding.link_now(desk.actor, desk.customers["wang"], desk.wallets["wang"].wallet_id, "card",
                           card_number("622202123456780"), "王芳")
    with pytest.raises(Conflict) as refused:
        funding.unlink(desk.actor, own.linked_id)
    assert refused.value.code == "last_own_account"
    # ...and someone else's account never counts as hers, so it can always go.
    other = funding.link_now(desk.actor, desk.customers["wang"], desk.wallets["wang"].wallet_id, "card",
                             card_number("622202123456781"), "张三")
    funding.unlink(desk.actor, other.linked_id)
    assert funding.linked_for_wallet(desk.wallets["wang"].wallet_id).linked_id == own.linked_id


@pytest.mark.asyncio
@pytest.mark.slow
async def test_large_withdrawal_needs_approval_at_the_counter(tmp_path: Any, db_path: Any, db: Any,
                                                              clock: Any) -> None:
    """A withdrawal of 20,000.00 or more to the linked account (rule linked_withdraw_large): the
    confirmation says why, posting opens the approval dialog, the supervisor approves at the counter
    and the withdrawal posts with the approval (one entry, the approval consumed)."""
    from pilot_helpers import approve_here

    desk = make_desk(tmp_path, db_path, db, clock)
    link(desk)
    desk.services.funding.top_up_from_linked(desk.actor, desk.wallets["wang"].wallet_id, Money.of("30000"),
                                             idempotency_key="k-fund")
    async with desk.signed_in(size=(80, 24)) as pilot:
        await open_customer(pilot, desk, "wang")
        await fill(pilot, "w", "25000")
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        assert "20,000.00" in static_text(pilot.app, "#confirm-warning")
        await pilot.press("enter")
        await settle(pilot)
        assert "linked_withdraw" not in kinds(desk)  # nothing before the approval
        spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, clock)
        assert spec.rules == ("linked_withdraw_large",) and spec.amount == Money.of("25000")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen", pilot.app.screen
        assert "WITHDRAWAL TO LINKED BANK ACCOUNT" in static_text(pilot.app, "#receipt-text")
    assert kinds(desk).count("linked_withdraw") == 1
    assert desk.balance("wang") == Money.of("6000.00")
    with desk.services.db.read() as s:
        status = s.execute(text("SELECT status FROM approval_request WHERE kind = 'linked_withdraw'")).scalars().all()
    assert status == ["consumed"]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_large_withdrawal_refused_approval_posts_nothing(tmp_path: Any, db_path: Any, db: Any,
                                                                clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    link(desk)
    desk.services.funding.top_up_from_linked(desk.actor, desk.wallets["wang"].wallet_id, Money.of("30000"),
                                             idempotency_key="k-fund")
    async with desk.signed_in(size=(80, 24)) as pilot:
        await open_customer(pilot, desk, "wang")
        await fill(pilot, "w", "20000")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ApprovalScreen"
        await pilot.press("escape")  # nobody approves
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LinkedWithdrawForm"
        assert "no approval" in static_text(pilot.app, "#cash-message").lower()
    assert "linked_withdraw" not in kinds(desk)
