"""Issue 15: one approval path. Every kind of approval through the same dialog on the real app (``make_app``
with the test's services and clock, signed in with keys): at the counter (a supervisor present types
user name, password and a fresh code) and from the branch queue (the supervisor's own app decides), and
a supervisor sees what waits (the footer's count, a notice for a new request).

Reversal at the counter is ``tests/test_desk_pilot.py::test_reversal_with_counter_approval``; the drawer's
opening float and its over/short are ``tests/test_drawer_pilot.py::test_full_day``; the day's close is
``tests/test_demo_day_close_pilot.py``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from textual.widgets import DataTable, Input, OptionList, Select

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, ids, open_customer
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import approve_here, code_for, settle, sign_in, type_text
from screens.app import make_app
from screens.approval import ApprovalScreen, WaitingScreen
from screens.approvals_queue import ApprovalsQueueScreen, DecideScreen
from screens.lifecycle import LifecycleDialog, WalletActionsScreen
from teller_tui.approvals.policy import ApprovalPolicy, PolicyRule
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from teller_tui.models import Wallet
from test_desk_pilot import _answer_reason_or_confirm

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def wallet_row(desk: Desk, key: str) -> Wallet:
    with desk.services.db.read() as s:
        row = s.get(Wallet, desk.wallets[key].wallet_id)
        assert row is not None
        s.expunge(row)
        return row


def with_rules(desk: Desk, *rule_ids: str) -> None:
    """The shipped policy plus ``always`` rules a site may add (class change, wallet close)."""
    approvals = desk.services.approvals
    extra = [PolicyRule(id=r, actions=(r,), when="always", effective_from=date(2020, 1, 1)) for r in rule_ids]
    approvals.policy = ApprovalPolicy([*approvals.policy.rules, *extra], approvals.policy.approver_roles,
                                      approvals.policy.approvers)


async def wallet_action(pilot: Any, desk: Desk, key: str, action: str) -> LifecycleDialog:
    """From home: the customer, F4 (wallet actions), the action, Enter: the action's dialog."""
    await open_customer(pilot, desk, key)
    await pilot.press("f4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WalletActionsScreen), screen
    options = screen.query_one("#wa-actions", OptionList)
    index = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == action)
    assert not options.get_option_at_index(index).disabled
    options.highlighted = index
    await pilot.press("enter")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, LifecycleDialog) and dialog.action == action, dialog
    return dialog


async def confirm_with_reason(pilot: Any, dialog: LifecycleDialog, reason: str) -> None:
    dialog.query_one("#lc-reason", Input).focus()
    await type_text(pilot, reason)
    await pilot.press("f10")
    await settle(pilot)


async def approve_as_chen(pilot: Any, desk: Desk, kind: str) -> None:
    spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
    assert spec.kind == kind, spec


# -- at the counter ------------------------------------------------------------------------------------
async def test_unfreeze_at_the_counter(desk: Desk) -> None:
    desk.services.lifecycle.freeze(desk.actor, desk.wallets["zhang"].wallet_id, "customer reported a lost phone")
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "zhang", "unfreeze")
        await confirm_with_reason(pilot, dialog, "phone found")
        assert isinstance(pilot.app.screen, ApprovalScreen)  # not a toast: the approval dialog
        assert pilot.app.screen.spec.rules == ("unfreeze",)
        assert wallet_row(desk, "zhang").status == "frozen"
        await approve_as_chen(pilot, desk, "unfreeze")
        assert type(pilot.app.screen).__name__ == "CustomerScreen", pilot.app.screen
    assert wallet_row(desk, "zhang").status == "active"


async def test_device_replacement_at_the_counter(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "wang", "replace_device")
        dialog.query_one("#lc-pin", Input).value = "582913"
        dialog.query_one("#lc-pin-again", Input).value = "582913"
        await confirm_with_reason(pilot, dialog, "new phone")
        assert isinstance(pilot.app.screen, ApprovalScreen)
        assert pilot.app.screen.spec.kind == "device_replacement"
        await approve_as_chen(pilot, desk, "device_replacement")
        assert type(pilot.app.screen).__name__ == "CustomerScreen", pilot.app.screen
    from teller_tui.models import Customer

    with desk.services.db.read() as s:
        customer = s.get(Customer, desk.customers["wang"])
        assert customer is not None and customer.pin_hash  # the customer's new PIN is set
    assert any(a == "device_replace" for a in _audit_actions(desk))


async def test_class_change_at_the_counter_where_the_policy_says(desk: Desk) -> None:
    with_rules(desk, "class_change")
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "zhang", "change_tier")
        dialog.query_one("#lc-tier", Select).value = 3
        await confirm_with_reason(pilot, dialog, "customer asked for a lower class")
        assert isinstance(pilot.app.screen, ApprovalScreen)
        assert pilot.app.screen.spec.subject.startswith(f"wallet:{desk.wallets['zhang'].number}:class:3")
        assert wallet_row(desk, "zhang").tier == 2
        await approve_as_chen(pilot, desk, "class_change")
    assert wallet_row(desk, "zhang").tier == 3


async def test_wallet_close_at_the_counter_where_the_policy_says(desk: Desk) -> None:
    with_rules(desk, "wallet_close")
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "li", "close")  # li's wallet holds nothing
        await confirm_with_reason(pilot, dialog, "customer leaves the bank")
        assert isinstance(pilot.app.screen, ApprovalScreen)
        assert pilot.app.screen.spec.kind == "wallet_close"
        # Esc: nothing approved, nothing closed, the dialog says so.
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is dialog and wallet_row(desk, "li").status == "active"
        assert "Nothing was approved" in str(dialog.query_one("#lc-status").render())
        await pilot.press("f10")
        await settle(pilot)
        await approve_as_chen(pilot, desk, "wallet_close")
    assert wallet_row(desk, "li").status == "closed"


# -- from the branch queue: the supervisor's own app decides ---------------------------------------------
async def decide_in_queue(desk: Desk, *, approve: bool = True) -> None:
    """The supervisor signs in on another terminal's app, opens the queue (ctrl+a) and decides the one
    pending request with keys."""
    sup_app = make_app(desk.services.settings, services=desk.services, clock=desk.clock)
    async with sup_app.run_test(size=(120, 40)) as sp:
        await sign_in(sp, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        assert sup_app.pending_approvals == 1  # the footer's count, before opening the queue
        assert "Approvals (1)" in sup_app.screen.active_bindings["ctrl+a"].binding.description
        await sp.press("ctrl+a")
        await settle(sp)
        queue = sup_app.screen
        assert isinstance(queue, ApprovalsQueueScreen)
        assert queue.query_one("#queue-table", DataTable).row_count == 1
        await sp.press("enter")
        await settle(sp)
        assert isinstance(sup_app.screen, DecideScreen)
        desk.clock.advance(seconds=31)  # a fresh code (the sign-in used this step's)
        await type_text(sp, SUPERVISOR_PW)
        await sp.press("enter")
        await type_text(sp, code_for(SUPERVISOR_SECRET, desk.clock))
        await sp.press("enter")
        await type_text(sp, "checked with the customer")
        await sp.press("f10" if approve else "f9")
        await settle(sp)
        assert sup_app.screen is queue, str(sup_app.screen.query_one("#approval-message").render())


async def send_and_wait(pilot: Any) -> WaitingScreen:
    assert isinstance(pilot.app.screen, ApprovalScreen), pilot.app.screen
    await pilot.press("f8")  # send to the supervisors
    await settle(pilot)
    waiting = pilot.app.screen
    assert isinstance(waiting, WaitingScreen) and waiting.view is not None and waiting.view.status == "pending"
    return waiting


async def test_reversal_from_the_queue(desk: Desk) -> None:
    before = ids(desk, "reversal")
    async with desk.signed_in(size=(120, 40)) as pilot:
        customer = await open_customer(pilot, desk, "zhang")
        customer.query_one("#customer-history", DataTable).focus()
        await pilot.press("f9")
        await settle(pilot)
        await _answer_reason_or_confirm(pilot)
        waiting = await send_and_wait(pilot)
        await decide_in_queue(desk)
        waiting._poll()  # what the teller's 1-second timer does
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen", pilot.app.screen
    assert len(ids(desk, "reversal")) == len(before) + 1
    assert desk.balance("zhang") == Money.of("0.00")


async def test_unfreeze_from_the_queue(desk: Desk) -> None:
    desk.services.lifecycle.freeze(desk.actor, desk.wallets["zhang"].wallet_id, "customer reported a lost phone")
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "zhang", "unfreeze")
        await confirm_with_reason(pilot, dialog, "phone found")
        waiting = await send_and_wait(pilot)
        await decide_in_queue(desk)
        waiting._poll()
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen", pilot.app.screen
    assert wallet_row(desk, "zhang").status == "active"


async def test_rejected_in_the_queue_changes_nothing(desk: Desk) -> None:
    desk.services.lifecycle.freeze(desk.actor, desk.wallets["zhang"].wallet_id, "customer reported a lost phone")
    async with desk.signed_in(size=(120, 40)) as pilot:
        dialog = await wallet_action(pilot, desk, "zhang", "unfreeze")
        await confirm_with_reason(pilot, dialog, "phone found")
        waiting = await send_and_wait(pilot)
        await decide_in_queue(desk, approve=False)
        waiting._poll()
        await settle(pilot)
        assert waiting.view is not None and waiting.view.status == "rejected"
        await pilot.press("escape")  # back to the approval dialog, then to the action's dialog
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is dialog
    assert wallet_row(desk, "zhang").status == "frozen"


# -- supervisors see the queue ---------------------------------------------------------------------------
async def test_supervisor_sees_the_count_and_a_notice_on_every_screen(desk: Desk) -> None:
    app = make_app(desk.services.settings, services=desk.services, clock=desk.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        assert app.pending_approvals == 0
        assert app.screen.active_bindings["ctrl+a"].binding.description == "Approvals"
        await pilot.press("f10")  # the drawer screen: another screen a supervisor uses
        await settle(pilot)
        assert type(app.screen).__name__ == "DrawerScreen"
        # A teller on another terminal asks (the core, as that terminal's app would).
        with pytest.raises(ApprovalRequired) as caught:
            desk.services.lifecycle.freeze(desk.actor, desk.wallets["wang"].wallet_id, "lost phone")
            desk.services.lifecycle.unfreeze(desk.actor, desk.wallets["wang"].wallet_id, "found it")
        view = desk.services.approvals.request(desk.actor, caught.value.details["spec"])
        app.poll_approvals()  # what the app's timer does every few seconds
        await settle(pilot)
        assert app.pending_approvals == 1
        assert app.screen.active_bindings["ctrl+a"].binding.description == "Approvals (1)"
        notices = [n for n in app._notifications if n.title == "Approval requested"]
        assert len(notices) == 1 and f"Request {view.id}" in notices[0].message
        app.poll_approvals()  # the same request again: no second notice
        await settle(pilot)
        assert len([n for n in app._notifications if n.title == "Approval requested"]) == 1
        desk.services.approvals.cancel(desk.actor, view.id, "customer left")
        app.poll_approvals()
        await settle(pilot)
        assert app.pending_approvals == 0


async def test_a_teller_sees_no_queue(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        assert "ctrl+a" not in pilot.app.screen.active_bindings
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"


def _audit_actions(desk: Desk) -> list[str]:
    from sqlalchemy import select

    from teller_tui.models import AuditRecord

    with desk.services.db.read() as s:
        return list(s.execute(select(AuditRecord.action)).scalars())
