"""Issue 20 on the real TellerApp: a customer's refused payment explained, a dispute case opened from
the customer view by keys, escalated, resolved with a correction a supervisor approves at the counter
(the one approval dialog), and closed. Plus the case screens at 80x24 in Chinese (snapshots)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Select, Static

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, make_desk, from_customer
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import approve_here, settle, type_text
from screens.approval import ApprovalScreen
from screens.cases import CaseScreen
from screens.receipt import ReceiptScreen
from screens.service import CustomerServiceScreen, NewCaseDialog
from teller_tui.common.errors import DomainError
from teller_tui.common.money import Money

pytestmark = pytest.mark.slow


def _refuse_a_payment(desk: Desk) -> None:
    """zhang (300.00) asks for 5,000.00: refused and stored, so it can be explained later."""
    with pytest.raises(DomainError):
        desk.services.cash.cash_out(desk.actor, desk.wallets["zhang"].wallet_id, Money.of("5000"),
                                    idempotency_key="too-much")


@pytest.mark.asyncio
async def test_dispute_journey_from_customer_view_to_closed(desk: Desk) -> None:
    _refuse_a_payment(desk)
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "zhang", "f8")
        service = pilot.app.screen
        assert isinstance(service, CustomerServiceScreen)
        assert service.query_one("#service-refusals", DataTable).row_count == 1

        # The refusal explained in plain words (readable, printable from the receipt viewer).
        service.query_one("#service-refusals", DataTable).focus()
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReceiptScreen)
        text = str(pilot.app.screen.query_one("#receipt-text", Static).render())
        assert "not enough money" in text.lower(), text
        await pilot.press("escape")
        await settle(pilot)

        # A dispute case, by keys.
        await pilot.press("n")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, NewCaseDialog)
        dialog.query_one("#nc-type", Select).value = "transaction_dispute"
        dialog.query_one("#nc-summary").focus()
        await type_text(pilot, "cash counted short")
        await pilot.press("f10")
        await settle(pilot)
        case_screen = pilot.app.screen
        assert isinstance(case_screen, CaseScreen) and case_screen.detail is not None
        number = case_screen.detail.case.number
        assert case_screen.detail.case.type == "transaction_dispute"

        # Escalate.
        await pilot.press("s")
        await settle(pilot)
        await type_text(pilot, "customer upset")
        await pilot.press("enter")
        await settle(pilot)
        assert case_screen.detail.case.escalated_at is not None

        # Resolve with a correction: the supervisor approves at the counter.
        before = desk.balance("zhang")
        await pilot.press("m")
        await settle(pilot)
        await type_text(pilot, "50")
        await pilot.press("enter")
        await type_text(pilot, "50 short in the count")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ApprovalScreen), pilot.app.screen
        assert "dispute_correction" in pilot.app.screen.spec.rules
        await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        await settle(pilot)
        assert pilot.app.screen is case_screen
        assert case_screen.detail.case.status == "resolved" and case_screen.detail.case.correction_reference
        assert desk.balance("zhang") == before + Money.of("50")

        # Close.
        await pilot.press("x")
        await settle(pilot)
        assert case_screen.detail.case.status == "closed"
    closed = desk.services.cases.get(desk.actor, number).case
    assert closed.status == "closed" and closed.in_customer_favour is True


SIZE = (80, 24)


def _runner(desk: Desk, target: str) -> Any:
    async def run_before(pilot: Any) -> None:
        await desk.start(pilot)
        if target == "queue":
            await pilot.press("ctrl+k")
        else:
            await from_customer(pilot, desk, "zhang", "f8")
            if target == "case":
                await pilot.press("enter")
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("target", ["service", "case", "queue"])
def test_case_screens_at_80x24_in_chinese(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                          target: str) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    _refuse_a_payment(desk)
    view = desk.services.cases.open_case(desk.actor, desk.customers["zhang"], "transaction_dispute",
                                         "少付了五十元", wallet_id=desk.wallets["zhang"].wallet_id)
    desk.services.cases.add_note(desk.actor, view.number, "客户下午再来")
    desk.services.help_requests.ask(desk.actor, "transfer", customer_id=desk.customers["wang"])
    assert snap_compare(desk.app, terminal_size=SIZE, run_before=_runner(desk, target))
