"""The desk at 80x24 in Chinese (the smallest terminal a branch has): sign-in with a refusal in
view, home with every area's key, lookup with wallet and match columns, the customer view with
available and balance-after columns, the cash-in form (with its live check), its confirmation, the lock
screen, the supervisor's approval dialog with every field in view, and the denomination grid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Input

from desk_harness import make_desk
from pilot_helpers import settle

pytestmark = pytest.mark.slow  # snapshots (Pilot)

SIZE = (80, 24)
TARGETS = ["signin-refused", "home", "lookup", "customer", "cash_in", "confirm", "lock", "approval", "count_notes"]


def _runner(desk: Any, target: str) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        if target == "signin-refused":
            await settle(pilot)
            screen = app.screen
            screen.query_one("#username", Input).value = "nobody"
            screen.query_one("#password", Input).value = "wrong password"
            screen.query_one("#code", Input).focus()
            await pilot.press(*"123456", "enter")
            await settle(pilot)
        else:
            await desk.start(pilot)
        if target in ("lookup", "customer", "cash_in", "confirm", "approval", "count_notes"):
            await pilot.press("f2")
            await settle(pilot)
            await pilot.press(*"13800138000")
            await settle(pilot)
        if target in ("customer", "cash_in", "confirm", "approval", "count_notes"):
            await pilot.press("enter")
            await settle(pilot)
        if target in ("cash_in", "confirm", "approval", "count_notes"):
            await pilot.press("f5")
            await settle(pilot)
            app.screen.query_one("#cash-memo", Input).value = "counter deposit"
            app.screen.query_one("#cash-amount", Input).focus()
            await pilot.press(*("60000" if target == "approval" else "1234.5"))
            await settle(pilot)
        if target in ("confirm", "approval"):
            await pilot.press("enter")
            await settle(pilot)
        if target == "approval":  # large cash: the supervisor's dialog with source of funds and purpose
            await pilot.press("f10")
            await settle(pilot)
        if target == "count_notes":  # the denomination grid: count and amount side by side
            await pilot.press("f4")
            await settle(pilot)
            await pilot.press(*"12", "down", "down", "3")
            await settle(pilot)
        if target == "lock":
            await pilot.press("f11")
            await settle(pilot)
        app.screen.set_focus(None)  # no cursor in the picture
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("target", TARGETS)
def test_desk_at_80x24_in_chinese(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                  target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from screens.cash import CashForm

    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)  # the live check drawn before the picture, every time
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    assert snap_compare(desk.app, terminal_size=SIZE, run_before=_runner(desk, target))
