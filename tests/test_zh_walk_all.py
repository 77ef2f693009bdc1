"""Issue 18: every other screen of the real app at 80x24 in zh_CN, walked with keys (the desk's
cash screens are walked by tests/test_zh_walk.py): onboarding's steps, drafts, journal search,
statements, customer service, a case, the drawer's break and hand-over, the end-of-day report,
the lock screen and F1 help as a teller; then as a supervisor the dashboard, analytics, the
approvals queue and its decision dialog, risk alerts and the case queue. Each stop fails on
untranslated English (the same reader as the desk walk) and on a screen wider than the terminal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rich.cells import cell_len
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, make_desk
from pilot_helpers import settle, sign_in, type_text
from screens.cash import CashForm
from screens.customer import TXN_KINDS
from teller_tui.models.cases import CaseType
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.i18n import _, set_locale
from teller_tui.models import RiskAlert
from teller_tui.models.risk import AlertStatus
from teller_tui.common.money import Money
from test_kiosk_pilot import PIN as PIN_KIOSK
from test_kiosk_pilot import _customer, _ready, _settle, services  # noqa: F401 - the fixture
from test_onboarding_keys_pilot import NEW_CARD, NEW_ID, PIN
from test_zh_walk import ALLOWED, english, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

DUMP = os.environ.get("ZH_WALK_DUMP")  # a folder: each stop's text written there (to read the walk)


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)
    world = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    yield world
    set_locale("en")


def cut(app: Any) -> list[str]:
    """A visible field or button that reaches past the terminal's edge, or a dialog wider than it."""
    width, height = app.size
    found = []
    for widget in app.screen.query("Input, Button, Checkbox, Select, #approval-box, .kiosk-box"):
        region = widget.region
        if not widget.display or region.width == 0 or widget.has_class("-textual-command-palette"):
            continue
        scrolls = any(getattr(a, "allow_vertical_scroll", False) for a in widget.ancestors)
        if region.right > width or (region.bottom > height and not scrolls):
            found.append(f"cut: {widget!r} at {region}")
    return found


class Walk:
    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.seen: dict[str, list[str]] = {}
        self.screens: dict[str, str] = {}

    async def keys(self, *ks: str) -> None:
        await self.pilot.press(*ks)
        await settle(self.pilot)

    async def look(self, name: str) -> None:
        await settle(self.pilot)
        app = self.pilot.app
        self.seen[name] = english(app) + cut(app)
        self.screens[name] = type(app.screen).__name__
        if DUMP:
            Path(DUMP, f"{name}.txt").write_text("\n".join(screen_text(app)) + "\n", encoding="utf-8")

    async def back_to(self, name: str) -> None:
        for _ in range(6):
            if type(self.pilot.app.screen).__name__ == name:
                return
            await self.keys("escape")
        raise AssertionError(f"{self.pilot.app.screen} is not {name}")


async def _teller(w: Walk, desk: Desk) -> None:
    app = w.pilot.app
    await desk.start(w.pilot)
    # Onboarding, step by step.
    await w.keys("f4")
    await w.look("onb_identity")
    box = app.screen.query_one("#identity-in_person")  # seen in person: in view without scrolling
    assert box.region.bottom <= app.size.height - 2, box.region
    await w.pilot.press(*NEW_ID)
    await w.keys("f10")
    await w.look("onb_personal")
    await type_text(w.pilot, "赵敏")
    await w.keys("enter")
    await w.look("onb_contact")
    await w.pilot.press(*"13912340000")
    await w.keys("f10")
    await w.look("onb_risk")
    await w.keys("ctrl+n")
    await w.look("onb_tier")
    await w.keys("2")
    await w.look("onb_funding")
    await w.pilot.press(*NEW_CARD)
    await w.keys("enter")
    await w.look("onb_security")
    await w.pilot.press(*PIN)
    await w.keys("tab")
    await w.pilot.press(*PIN)
    await w.keys("enter")
    await w.look("onb_explanations")
    await w.keys("f10")
    await w.look("onb_review")
    await w.keys("escape")
    await w.look("onb_leave")
    await w.keys("ctrl+s")
    await w.back_to("HomeScreen")
    await w.keys("f9")
    await w.look("drafts")
    await w.back_to("HomeScreen")
    await w.keys("j")
    await w.look("journal")
    await w.keys("f10")
    await w.look("journal_found")
    await w.back_to("HomeScreen")
    # The customer: service, a case, the statement.
    await w.keys("f2", *"13912345678")
    await w.keys("enter")
    await w.look("customer_history")
    history = app.screen.query_one("#customer-history", DataTable)
    kind = history.columns[ColumnKey("kind")]
    longest = max(cell_len(f"{_(label)} {_('(reversed)')}") for label in TXN_KINDS.values())
    assert kind.get_render_width(history) - 2 * history.cell_padding >= longest, (kind.width, longest)
    await w.keys("f5")
    app.screen.query_one("#cash-amount").focus()
    await w.keys(*"1234.5")
    await w.keys("f4")
    await w.look("count_notes")
    await w.back_to("CustomerScreen")
    await w.keys("f8")
    await w.look("service")
    await w.keys("n")
    await w.look("new_case")
    await w.back_to("CustomerServiceScreen")
    await w.back_to("CustomerScreen")
    await w.keys("s")
    await w.look("statement_prompt")
    await w.keys("f10")
    await w.look("statement")
    await w.back_to("HomeScreen")
    # The drawer: break, hand-over, the end-of-day report.
    await w.keys("f10")
    await w.keys("f7")
    await w.look("break_confirm")
    await w.keys("enter")
    await w.look("break")
    await w.back_to("DrawerScreen")
    await w.keys("f8")
    await w.look("handover")
    await w.back_to("DrawerScreen")
    await w.keys("f5")
    await w.look("eod_report")
    await w.back_to("HomeScreen")
    await w.keys("f1")
    await w.look("help")
    await w.back_to("HomeScreen")
    await w.keys("f11")
    await w.look("lock")
    assert app.screen is not None


def _world(desk: Desk) -> None:
    """Something on each supervisor screen: a request waiting, a risk alert, a case."""
    with pytest.raises(ApprovalRequired) as caught:
        desk.services.cash.cash_in(desk.actor, desk.wallets["zhang"].wallet_id, Money.of("60000"),
                                   idempotency_key="walk-large")
    desk.services.approvals.request(desk.actor, caught.value.details["spec"])
    now = desk.clock.now()
    with desk.services.db.write() as s:
        s.add(RiskAlert(rule="structuring", subject="customer:x", window="2026-w1", branch_code="B001",
                        customer_id=desk.customers["zhang"], wallet_id=desk.wallets["zhang"].wallet_id,
                        amount=13_900_000, first_at=now, last_at=now, created_at=now, kb_article="large-cash",
                        status=AlertStatus.OPEN,
                        facts_json='{"count": 3, "entries": ["R-1", "R-2", "R-3"], "threshold": "50000.00"}'))
    desk.services.cases.open_case(desk.actor, desk.customers["zhang"], CaseType.COMPLAINT, "排队太久")


async def _supervisor(w: Walk, desk: Desk) -> None:
    await sign_in(w.pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
    desk.clock.advance(seconds=30)  # the sign-in spent this step's code
    await w.look("sup_home")
    await w.keys("ctrl+d")
    await w.look("dashboard")
    await w.keys("f4")
    await w.look("analytics")
    await w.back_to("HomeScreen")
    await w.keys("ctrl+a")
    await w.look("queue")
    await w.keys("enter")
    await w.look("decide")
    await type_text(w.pilot, SUPERVISOR_PW)
    await w.keys("enter")
    await type_text(w.pilot, "123456")
    await w.keys("f9")
    await w.look("decide_refused")
    await w.back_to("HomeScreen")
    await w.keys("ctrl+r")
    await w.look("alerts")
    await w.keys("enter")
    await w.look("alert")
    await w.back_to("HomeScreen")
    await w.keys("ctrl+k")
    await w.look("case_queue")
    await w.keys("enter")
    await w.look("case")
    await w.back_to("HomeScreen")


def _verdict(w: Walk) -> None:
    bad = {name: words for name, words in w.seen.items() if words}
    assert not bad, bad


async def test_teller_screens_speak_chinese(desk: Desk) -> None:
    async with desk.app.run_test(size=(80, 24)) as pilot:
        w = Walk(pilot)
        await _teller(w, desk)
    assert w.screens["onb_identity"] == "OnboardingScreen" and w.screens["lock"] == "LockScreen", w.screens
    assert w.screens["break"] == "BreakScreen" and w.screens["handover"] == "HandOverScreen", w.screens
    _verdict(w)


async def test_supervisor_screens_speak_chinese(desk: Desk) -> None:
    _world(desk)
    async with desk.app.run_test(size=(80, 24)) as pilot:
        w = Walk(pilot)
        await _supervisor(w, desk)
    assert w.screens == {
        "sup_home": "HomeScreen", "dashboard": "DashboardScreen", "analytics": "AnalyticsScreen",
        "queue": "ApprovalsQueueScreen", "decide": "DecideScreen", "decide_refused": "DecideScreen",
        "alerts": "RiskAlertsScreen", "alert": "AlertScreen", "case_queue": "CaseQueueScreen",
        "case": "CaseScreen"}, w.screens
    _verdict(w)


async def test_kiosk_and_pinpad_speak_chinese(services: Any, clock: Any, tmp_path: Path) -> None:  # noqa: F811
    """The kiosk after the customer picks 中文 (its welcome is bilingual by design), and the PIN pad."""
    from screens.kiosk.app import make_kiosk_app
    from screens.pinpad.app import make_pinpad_app
    from teller_tui.common.settings import load_settings

    _customer(services, "王芳", "13900000005")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            w = Walk(pilot)
            await _ready(app, pilot)
            await pilot.click("#lang-zh")
            await settle(pilot)
            await w.look("kiosk_signin")
            app.screen.query_one("#identifier").value = "13900000005"
            app.screen.query_one("#pin").value = PIN_KIOSK
            await pilot.click("#submit")
            await _settle(app, pilot)
            await w.look("kiosk_home")
            await w.keys("1")
            await w.look("kiosk_history")
            await w.back_to("KioskHomeScreen")
            await w.keys("2")
            await w.look("kiosk_transfer")
            await w.back_to("KioskHomeScreen")
            clock.advance(seconds=services.settings.kiosk_idle_seconds + 1)
            app.check_customer_idle()
            await w.look("kiosk_idle")
        assert w.screens == {"kiosk_signin": "KioskSignInScreen", "kiosk_home": "KioskHomeScreen",
                             "kiosk_history": "KioskHistoryScreen", "kiosk_transfer": "KioskTransferScreen",
                             "kiosk_idle": "IdleWarning"}, w.screens
        pad_settings = load_settings(home=tmp_path / "pad", locale="zh_CN", terminal_id="PAD-T01")
        pad_app = make_pinpad_app(pad_settings, pair_terminal="T01", services=services, clock=clock)
        async with pad_app.run_test(size=(80, 24)) as pad:
            pw = Walk(pad)
            await pw.look("pinpad_pair")
        _verdict(w)
        _verdict(pw)
    finally:
        set_locale("en")
