"""Pilot journeys for supervisor approval, at the counter and through the branch queue, on the real
``TellerApp`` (``make_app`` with the test's services and clock): the teller or the supervisor signs
in at the sign-in screen and everything after that is keys."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Input

from approvals_fixtures import SUP_PW, Env, env  # noqa: F401
from auth_fixtures import SECRETS, TELLER_PW
from pilot_helpers import settle, sign_in, type_text
from screens.app import TellerApp, make_app
from screens.approval import ApprovalScreen, WaitingScreen
from screens.approvals_queue import ApprovalsQueueScreen, DecideScreen
from screens.cash import CashInForm, CashOutForm
from screens.receipt import ReceiptScreen
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from test_approvals import _low_limit_policy

pytestmark = pytest.mark.slow  # Pilot


def real_app(env: Env) -> TellerApp:
    return make_app(env.services.settings, services=env.services, clock=env.clock)


async def as_teller(pilot: Any, env: Env) -> None:
    await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], env.clock)
    assert type(pilot.app.screen).__name__ == "HomeScreen"


async def as_supervisor(pilot: Any, env: Env) -> None:
    await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
    assert type(pilot.app.screen).__name__ == "HomeScreen"
    env.next_step()  # li's sign-in used this step's code; approvals need a fresh one


async def open_form(pilot: Any, env: Env, key: str) -> Any:
    """From home: F2, the customer's wallet number, Enter, then F5 (cash in) or F6 (cash out)."""
    await pilot.press("f2")
    await settle(pilot)
    await type_text(pilot, env.wallet_number)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert pilot.app.screen.customer_id == env.customer_id
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, CashInForm if key == "f5" else CashOutForm), form
    return form


async def to_approval(pilot: Any, amount: str) -> None:
    """Amount, F10 (preview), F10 (confirm the figures): the approval dialog."""
    await type_text(pilot, amount)
    await pilot.press("f10")
    await settle(pilot)
    await pilot.press("f10")
    await settle(pilot)


async def test_counter_approval_from_the_cash_form(env: Env) -> None:
    app = real_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await as_teller(pilot, env)
        await open_form(pilot, env, "f5")
        await type_text(pilot, "50000")
        await pilot.press("f10")
        await settle(pilot)
        # The teller sees why before asking: the confirmation carries the reasons.
        assert "50,000.00 or more" in str(app.screen.query_one("#confirm-warning").render())
        await pilot.press("f10")  # confirm the figures
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        assert "large_cash" in app.screen.spec.rules
        await type_text(pilot, "salary")
        await pilot.press("enter")
        await type_text(pilot, "deposit")
        await pilot.press("enter")
        await type_text(pilot, "li")
        await pilot.press("enter")
        await type_text(pilot, SUP_PW)
        await pilot.press("enter")
        await type_text(pilot, env.li_code())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    assert env.wallet_balance().posted == Money.of("50000")
    [report] = env.approvals.large_value_reports()
    assert (report.source_of_funds, report.purpose) == ("salary", "deposit")


async def test_counter_approval_refuses_wrong_code_and_stays_open(env: Env) -> None:
    app = real_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await as_teller(pilot, env)
        form = await open_form(pilot, env, "f5")
        await to_approval(pilot, "50000")
        assert isinstance(app.screen, ApprovalScreen)
        await type_text(pilot, "salary")
        await pilot.press("enter")
        await type_text(pilot, "deposit")
        await pilot.press("enter")
        await type_text(pilot, "li")
        await pilot.press("enter")
        await type_text(pilot, SUP_PW)
        await pilot.press("enter")
        await type_text(pilot, "000000")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        assert "Sign-in failed" in str(app.screen.query_one("#approval-message").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form  # back at the form, nothing posted
    assert env.wallet_balance().posted == Money(0)
    assert env.approvals.large_value_reports() == []


async def test_remote_approval_teller_screen_moves_on(env: Env) -> None:
    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    app = real_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await as_teller(pilot, env)
        await open_form(pilot, env, "f6")
        await to_approval(pilot, "1500")
        await pilot.press("f8")  # send to the supervisors
        await settle(pilot)
        waiting = app.screen
        assert isinstance(waiting, WaitingScreen)
        assert waiting.view is not None and waiting.view.status == "pending"
        assert env.wallet_balance().held == Money.of("1500")
        # The supervisor (another terminal) approves; the teller's poll picks it up by itself.
        [pending] = env.approvals.pending()
        env.approvals.decide(env.supervisor, pending.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="known customer")
        waiting._poll()  # what the 1-second timer does
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    bal = env.wallet_balance()
    assert bal.posted == Money.of("8500") and bal.held == Money(0)


async def test_remote_request_cancelled_by_the_teller(env: Env) -> None:
    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    app = real_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await as_teller(pilot, env)
        form = await open_form(pilot, env, "f6")
        await to_approval(pilot, "1500")
        await pilot.press("f8")  # send to the supervisors
        await settle(pilot)
        assert isinstance(app.screen, WaitingScreen)
        await pilot.press("f9")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WaitingScreen) and screen.view is not None
        assert screen.view.status == "cancelled"
        await pilot.press("escape")  # back to the approval dialog (the teller may still ask at the counter)
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
    bal = env.wallet_balance()
    assert bal.posted == Money.of("10000") and bal.held == Money(0)
    assert env.approvals.pending() == []


async def test_supervisor_queue_shows_and_decides(env: Env) -> None:
    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    app = real_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await as_supervisor(pilot, env)
        await pilot.press("ctrl+a")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, ApprovalsQueueScreen)
        assert queue.query_one("#queue-table", DataTable).row_count == 0
        # The teller (another terminal, here the service) asks.
        with pytest.raises(ApprovalRequired) as caught:
            env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key="pilot-q-1")
        env.approvals.request(env.teller, caught.value.details["spec"])
        queue.refresh_queue()  # what the 1-second timer does
        await settle(pilot)
        assert queue.query_one("#queue-table", DataTable).row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DecideScreen)
        assert app.screen.query_one("#decide-password", Input).has_focus
        await type_text(pilot, SUP_PW)
        await pilot.press("enter")
        await type_text(pilot, env.li_code())
        await pilot.press("enter")
        await type_text(pilot, "known customer")
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is queue
        assert queue.query_one("#queue-table", DataTable).row_count == 0
    assert env.wallet_balance().posted == Money.of("8500")
