"""Issue 18: snapshots of the screens the desk snapshots (tests/test_desk80_snapshots.py) do not
cover, at 80x24 in zh_CN — onboarding's first step, drafts, journal search, a statement, the
drawer and its break and hand-over dialogs, the supervisor's approvals queue and decision dialog,
a risk alert, the kiosk's home and history and the PIN pad — and the key ones at 120x40 in en.
Each is reached with keys from the sign-in screen (the same stops as tests/test_zh_walk_all.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, make_desk
from pilot_helpers import settle, sign_in
from screens.cash import CashForm
from test_kiosk_pilot import PIN as PIN_KIOSK
from test_kiosk_pilot import _customer, _ready, _settle, services  # noqa: F401 - the fixture
from test_zh_walk_all import _world

pytestmark = pytest.mark.slow  # snapshots (Pilot)

ZH = (80, 24)
EN = (120, 40)
#: target -> (who signs in, keys from the home screen). Keys are pressed one at a time, settling between.
DESK: dict[str, tuple[str, tuple[str, ...]]] = {
    "onboarding_identity": ("teller", ("f4",)),
    "drafts": ("teller", ("f9",)),
    "journal": ("teller", ("j", "f10")),
    "statement": ("teller", ("f2", *"13912345678", "enter", "s", "f10")),
    "drawer": ("teller", ("f10",)),
    "break": ("teller", ("f10", "f7")),
    "handover": ("teller", ("f10", "f8")),
    "approvals_queue": ("supervisor", ("ctrl+a",)),
    "decide": ("supervisor", ("ctrl+a", "enter")),
    "alert": ("supervisor", ("ctrl+r", "enter")),
}
#: The key screens at 120x40 in English.
EN_TARGETS = ["onboarding_identity", "decide", "statement"]


def _runner(desk: Desk, target: str) -> Callable[[Any], Any]:
    who, keys = DESK[target]

    async def run_before(pilot: Any) -> None:
        if who == "teller":
            await desk.start(pilot)
        else:
            await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.screen.set_focus(None)  # no cursor in the picture
        await settle(pilot)
        # Focusing a form's first field on mount may scroll it by a row or not, depending on whether
        # the layout had settled first: the picture is taken from the top, every time.
        for scrolled in [pilot.app.screen, *pilot.app.screen.query("*")]:
            if scrolled.scroll_offset.y:
                scrolled.scroll_home(animate=False)
        await settle(pilot)

    return run_before


def _desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, locale: str, monkeypatch: pytest.MonkeyPatch) -> Desk:
    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)
    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    _world(desk)  # a request in the queue, a risk alert, a case
    return desk


@pytest.mark.parametrize("target", list(DESK))
def test_screen_at_80x24_in_chinese(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                    target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = _desk(tmp_path, db_path, db, clock, "zh_CN", monkeypatch)
    assert snap_compare(desk.app, terminal_size=ZH, run_before=_runner(desk, target))


@pytest.mark.parametrize("target", EN_TARGETS)
def test_key_screen_at_120x40_in_english(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                         target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = _desk(tmp_path, db_path, db, clock, "en", monkeypatch)
    assert snap_compare(desk.app, terminal_size=EN, run_before=_runner(desk, target))


@pytest.mark.parametrize("target", ["home", "history"])
def test_kiosk_at_80x24_in_chinese(snap_compare: Any, services: Any, clock: Any, target: str) -> None:  # noqa: F811
    from screens.kiosk.app import make_kiosk_app

    _customer(services, "王芳", "13900000006")
    app = make_kiosk_app(services.settings, services=services, clock=clock)

    async def run_before(pilot: Any) -> None:
        await _ready(app, pilot)
        await pilot.click("#lang-zh")
        await settle(pilot)
        app.screen.query_one("#identifier").value = "13900000006"
        app.screen.query_one("#pin").value = PIN_KIOSK
        await pilot.click("#submit")
        await _settle(app, pilot)
        if target == "history":
            await pilot.press("1")
            await settle(pilot)
        app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=ZH, run_before=run_before)


def test_pinpad_at_80x24_in_chinese(snap_compare: Any, services: Any, clock: Any, tmp_path: Path) -> None:  # noqa: F811
    from screens.pinpad.app import make_pinpad_app
    from teller_tui.common.settings import load_settings

    settings = load_settings(home=tmp_path / "pad", locale="zh_CN", terminal_id="PAD-T01")
    app = make_pinpad_app(settings, pair_terminal="T01", services=services, clock=clock)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=ZH, run_before=run_before)
