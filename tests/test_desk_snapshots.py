"""Snapshots of the key desk screens in both languages (fixed clock, data, theme and size)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Input


from desk_harness import make_desk
from pilot_helpers import settle

pytestmark = pytest.mark.slow  # snapshots (Pilot)

SIZE = (120, 40)


async def _to_customer(pilot: Any, desk: Any) -> None:
    await desk.start(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*"13800138000")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def _runner(desk: Any, target: str) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        if target == "home":
            await desk.start(pilot)
            return
        await _to_customer(pilot, desk)
        if target == "confirm":
            await pilot.press("f5")
            await settle(pilot)
            pilot.app.screen.query_one("#cash-memo", Input).value = "counter deposit"
            pilot.app.screen.query_one("#cash-amount", Input).focus()
            await pilot.press(*"1234.5", "enter")
            await settle(pilot)
        pilot.app.screen.set_focus(None)  # no cursor in the picture
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("target", ["home", "customer", "confirm"])
def test_desk_screen_snapshot(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                              target: str, locale: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from screens.cash import CashForm

    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)  # the form's live check drawn before the picture
    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    assert snap_compare(desk.app, terminal_size=SIZE, run_before=_runner(desk, target))
