"""Pilot journeys for supervisor approval: at the counter, and through the branch queue."""

from __future__ import annotations

from typing import Any

import pytest
from approvals_fixtures import SUP_PW, Env, env  # noqa: F401
from textual.app import App

from teller_tui.common.money import Money


class _App(App[None]):
    """The parts of TellerApp the screens use: ``services``, ``session``, ``actor``."""

    def __init__(self, services: Any, staff: Any, terminal: str) -> None:
        super().__init__()
        from teller_tui.auth.service import SignedIn

        self.services = services
        self.session = SignedIn(staff=staff, terminal_id=terminal, at=services.clock.now(),
                                must_change_password=False, needs_totp_enrolment=False)
        self.locked = False
        self.theme = "textual-dark"

    @property
    def actor(self) -> Any:
        return self.session.actor

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {"credit": "#4EBF71", "debit": "#E0645C"}


async def settle(pilot: Any) -> None:
    for _ in range(5):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _form(env: Env, kind: str) -> Any:
    from screens.cash import CashInForm, CashOutForm

    view = env.services.customers.get_customer(env.customer_id)
    cls = CashInForm if kind == "cash_in" else CashOutForm
    return cls(view, view.wallets[0])


def _staff(env: Env, username: str) -> Any:
    return env.services.auth.get_staff(username)


async def _type(pilot: Any, text: str) -> None:
    await pilot.press(*text)


async def test_counter_approval_from_the_cash_form(env: Env) -> None:
    from screens.approval import ApprovalScreen
    from screens.receipt import ReceiptScreen

    app = _App(env.services, _staff(env, "wang"), "T01")
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(_form(env, "cash_in"))
        await settle(pilot)
        await _type(pilot, "50000")
        await pilot.press("f10")
        await settle(pilot)
        # The teller sees why before asking: the confirmation carries the reasons.
        assert "50,000.00 or more" in str(app.screen.query_one("#confirm-warning").render())
        await pilot.press("f10")  # confirm the figures
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        assert "large_cash" in app.screen.spec.rules
        await _type(pilot, "salary")
        await pilot.press("enter")
        await _type(pilot, "deposit")
        await pilot.press("enter")
        await _type(pilot, "li")
        await pilot.press("enter")
        await _type(pilot, SUP_PW)
        await pilot.press("enter")
        await _type(pilot, env.li_code())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    assert env.wallet_balance().posted == Money.of("50000")
    [report] = env.approvals.large_value_reports()
    assert (report.source_of_funds, report.purpose) == ("salary", "deposit")


async def test_counter_approval_refuses_wrong_code_and_stays_open(env: Env) -> None:
    from screens.approval import ApprovalScreen

    app = _App(env.services, _staff(env, "wang"), "T01")
    results: list[Any] = []
    async with app.run_test(size=(120, 40)) as pilot:
        from teller_tui.approvals.spec import ApprovalSpec

        spec = ApprovalSpec(kind="reversal", requester_id=env.teller.staff_id, branch_code="B001",
                            subject="entry:1", rules=("reversal",), reasons=("A reversal needs approval.",))
        app.push_screen(ApprovalScreen(env.services, env.teller, spec), results.append)
        await settle(pilot)
        await _type(pilot, "li")
        await pilot.press("enter")
        await _type(pilot, SUP_PW)
        await pilot.press("enter")
        await _type(pilot, "000000")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        assert "Sign-in failed" in str(app.screen.query_one("#approval-message").render())
        assert results == []
        await pilot.press("escape")
        await settle(pilot)
    assert results == [None]


async def test_remote_approval_teller_screen_moves_on(env: Env) -> None:
    from screens.approval import WaitingScreen
    from screens.receipt import ReceiptScreen
    from test_approvals import _low_limit_policy

    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    app = _App(env.services, _staff(env, "wang"), "T01")
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(_form(env, "cash_out"))
        await settle(pilot)
        await _type(pilot, "1500")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("f10")  # confirm the figures
        await settle(pilot)
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
    from screens.approval import WaitingScreen
    from teller_tui.approvals.spec import ApprovalSpec

    app = _App(env.services, _staff(env, "wang"), "T01")
    results: list[Any] = []
    async with app.run_test(size=(120, 40)) as pilot:
        spec = ApprovalSpec(kind="unfreeze", requester_id=env.teller.staff_id, branch_code="B001",
                            subject="wallet:x", rules=("unfreeze",), reasons=("Unfreezing needs approval.",))
        app.push_screen(WaitingScreen(env.services, env.teller, spec), results.append)
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WaitingScreen) and screen.view is not None
        assert screen.view.status == "cancelled"
        await pilot.press("escape")
        await settle(pilot)
    assert results == [None]


async def test_supervisor_queue_shows_and_decides(env: Env) -> None:
    from screens.approvals_queue import ApprovalsQueueScreen, DecideScreen
    from test_approvals import _low_limit_policy
    from textual.widgets import DataTable

    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    app = _App(env.services, _staff(env, "li"), "T02")
    async with app.run_test(size=(120, 40)) as pilot:
        queue = ApprovalsQueueScreen()
        app.push_screen(queue)
        await settle(pilot)
        assert queue.query_one("#queue-table", DataTable).row_count == 0
        # The teller (another terminal, here the service) asks.
        from teller_tui.common.errors import ApprovalRequired

        with pytest.raises(ApprovalRequired) as caught:
            env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key="pilot-q-1")
        env.approvals.request(env.teller, caught.value.details["spec"])
        queue.refresh_queue()  # what the 1-second timer does
        await settle(pilot)
        assert queue.query_one("#queue-table", DataTable).row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DecideScreen)
        await _type(pilot, SUP_PW)
        await pilot.press("enter")
        await _type(pilot, env.li_code())
        await pilot.press("enter")
        await _type(pilot, "known customer")
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is queue
        assert queue.query_one("#queue-table", DataTable).row_count == 0
    assert env.wallet_balance().posted == Money.of("8500")
