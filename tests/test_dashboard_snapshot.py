"""A snapshot of the supervisor dashboard on fixed data (FakeClock, fixed staff, fixed amounts)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import approvals_fixtures
import pytest
from approvals_fixtures import SUP_PW, Env, build_env
from auth_fixtures import SECRETS
from pilot_helpers import settle, sign_in
from textual.widgets import DataTable

from screens.app import make_app
from screens.dashboard import DashboardScreen
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money

pytestmark = pytest.mark.slow  # snapshot (Pilot)


def _day(env: Env) -> None:
    """09:30-12:30 local: deposits and withdrawals, one large-value deposit, one pending request."""
    for amount in ("1000", "2500.50", "800"):
        env.cash.cash_in(env.teller, env.wallet_id, Money.of(amount), idempotency_key=env.key())
        env.clock.advance(minutes=40)
    env.cash.cash_out(env.teller, env.wallet_id, Money.of("300"), idempotency_key=env.key())
    key = env.key()
    try:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key)
    except ApprovalRequired as exc:
        result = env.approvals.approve_at_counter(env.teller, exc.details["spec"], "li", SUP_PW, env.li_code(),
                                                  source_of_funds="business income")
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key,
                         approval_id=result.approval_id)
    env.clock.advance(minutes=60)
    try:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("60000"), idempotency_key=env.key())
    except ApprovalRequired as exc:
        env.approvals.request(env.teller, exc.details["spec"])


def test_dashboard_snapshot(db: Any, db_path: Path, clock: Any, tmp_path: Path, snap_compare: Any,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The fixtures number customers, phones and ID numbers from a module-level counter; start
    # it afresh so the picture does not depend on which tests ran earlier in this process.
    monkeypatch.setattr(approvals_fixtures, "_seq", itertools.count(1))
    env = build_env(tmp_path / "home", db_path, clock, database=db)
    _day(env)
    app = make_app(env.services.settings, services=env.services, clock=env.clock)

    async def run_before(pilot: Any) -> None:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await pilot.press("ctrl+d")  # the supervisor's dashboard
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        # The day has one pending request: its row is on screen once the load has landed.
        assert app.screen.query_one("#dash-pending", DataTable).row_count == 1
        # Focus decides borders and the cursor row; make it explicit rather than whatever
        # auto-focus reached by the time the picture is taken.
        app.screen.query_one("#dash-pending", DataTable).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(150, 44), run_before=run_before)


def _dashboard_app(db: Any, db_path: Path, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(approvals_fixtures, "_seq", itertools.count(1))
    env = build_env(tmp_path / "home", db_path, clock, database=db)
    _day(env)
    return env, make_app(env.services.settings, services=env.services, clock=env.clock)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
async def test_dashboard_tables_fit_80x24(db: Any, db_path: Path, clock: Any, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, locale: str) -> None:
    """At 80x24 every column of every table is inside its panel (the panels stand one under the
    other); PgDn scrolls down to the chart."""
    from teller_tui.common.i18n import set_locale

    env, app = _dashboard_app(db, db_path, clock, tmp_path, monkeypatch)
    set_locale(locale)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
            await pilot.press("ctrl+d")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            for table in screen.query(DataTable):
                needed = sum(column.get_render_width(table) for column in table.columns.values())
                assert needed <= table.content_region.width, (table.id, needed, table.content_region.width)
            body = screen.query_one("#dash-body")
            assert body.scroll_y == 0
            await pilot.press("pagedown", "pagedown", "pagedown")
            await settle(pilot)
            assert body.scroll_y > 0
            chart = screen.query_one("#dash-chart")
            assert chart.region.bottom <= 24 - 2 and chart.region.y >= 0, chart.region  # in view above the footer
    finally:
        set_locale("en")


def test_dashboard_snapshot_80x24_zh(db: Any, db_path: Path, clock: Any, tmp_path: Path, snap_compare: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from teller_tui.common.i18n import set_locale

    env, app = _dashboard_app(db, db_path, clock, tmp_path, monkeypatch)
    set_locale("zh_CN")

    async def run_before(pilot: Any) -> None:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await pilot.press("ctrl+d")
        await settle(pilot)
        app.screen.set_focus(None)
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
    finally:
        set_locale("en")
