"""The supervisor's analytics screen on the real TellerApp: reached from the dashboard by F4 and
from the palette, range and grouping changed by keys, the report saved as CSV; and its picture at
80x24 in Chinese."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import approvals_fixtures
import pytest
from approvals_fixtures import SUP_PW, Env, build_env, make_customer
from auth_fixtures import SECRETS
from pilot_helpers import settle, sign_in
from textual.widgets import DataTable, Static

from screens.analytics import AnalyticsScreen, range_for
from screens.app import make_app
from screens.dashboard import DashboardScreen
from teller_tui.common.money import Money
from datetime import date

pytestmark = pytest.mark.slow  # Pilot, snapshot


def _month(env: Env) -> None:
    """A second and third wallet, deposits, one payment (the activation and its first-use reward)."""
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("500"), idempotency_key=env.key())
    env.cash.cash_out(env.teller, env.wallet_id, Money.of("120"), idempotency_key=env.key())
    for _ in range(2):
        _cid, wid, _n = make_customer(env.services, env.clock, env.teller)
        env.cash.cash_in(env.teller, wid, Money.of("200"), idempotency_key=env.key())


def _env(tmp_path: Path, db_path: Path, clock: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setattr(approvals_fixtures, "_seq", itertools.count(1))
    env = build_env(tmp_path / "home", db_path, clock, database=db)
    _month(env)
    return env


def test_range_presets() -> None:
    today = date(2026, 11, 23)
    assert range_for("last_month", today) == (date(2026, 10, 1), date(2026, 10, 31))
    assert range_for("last_month", today, -1) == (date(2026, 9, 1), date(2026, 9, 30))
    assert range_for("this_month", today) == (date(2026, 11, 1), today)
    assert range_for("7", today) == (date(2026, 11, 17), today)
    assert range_for("7", today, -1) == (date(2026, 11, 10), date(2026, 11, 16))
    assert range_for("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))


async def test_supervisor_reads_activation_and_saves_csv(tmp_path: Path, db_path: Path, clock: Any, db: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path, db_path, clock, db, monkeypatch)
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("f4")  # the dashboard's key to analytics
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.report is not None and screen.report.first == date(2026, 10, 1)  # last month: empty
        assert screen.report.total.m.opened == 0
        await pilot.press("f2")  # this month
        await app.workers.wait_for_complete()
        await settle(pilot)
        r = screen.report
        assert r is not None and r.first == date(2026, 11, 1) and r.by == "teller"
        assert r.total.m.opened == 3 and r.total.m.activated_7 == 1 and r.total.m.rewards == 1
        table = screen.query_one("#an-table", DataTable)
        for column in table.columns.values():  # no heading cut ("New wallets" showed as "New wall")
            assert column.width >= len(str(column.label)), column.label
        assert table.fixed_columns == 1  # the teller stays in view while ←/→ scroll the figures
        assert table.row_count == len(r.rows) + 1  # the groups and the total
        assert "3 new wallets" in str(screen.query_one("#an-status", Static).render())
        await pilot.press("f3")  # by branch
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.report is not None and screen.report.by == "branch"
        await pilot.press("f3", "f3", "f3", "f3")  # day, week, month, back to teller
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.report is not None and screen.report.by == "teller"
        await pilot.press("f4")  # the chart
        await settle(pilot)
        await pilot.press("f6")  # save as CSV
        await app.workers.wait_for_complete()
        await settle(pilot)
        saved = env.services.settings.reports_dir / "promotion-teller-2026-11-01-2026-11-23.csv"
        assert saved.exists() and (saved.stat().st_mode & 0o777) == 0o600
        rows = list(csv.DictReader(saved.open(encoding="utf-8")))
        total = rows[-1]
        assert total["group"] == "total" and total["opened"] == "3" and total["activated_7d"] == "1"
        wang = next(row for row in rows if row["group"] == "wang")
        assert wang["opened"] == "3" and wang["activation_7d_pct"] == "33.3"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_palette_opens_analytics(tmp_path: Path, db_path: Path, clock: Any, db: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path, db_path, clock, db, monkeypatch)
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        app.action_command_palette()
        await settle(pilot)
        await pilot.press(*"analytics")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AnalyticsScreen)


def test_analytics_snapshot_80x24_zh(tmp_path: Path, db_path: Path, clock: Any, db: Any, snap_compare: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(tmp_path, db_path, clock, db, monkeypatch)
    app = make_app(env.services.settings, services=env.services, clock=env.clock)

    async def run_before(pilot: Any) -> None:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        app.set_language("zh_CN")
        await settle(pilot)
        app.action_open_analytics()
        await settle(pilot)
        await pilot.press("f2")  # this month
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, AnalyticsScreen) and app.screen.report is not None
        app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
async def test_analytics_headers_whole_at_120_columns(tmp_path: Path, db_path: Path, clock: Any, db: Any,
                                                      monkeypatch: pytest.MonkeyPatch, locale: str) -> None:
    """At 120 columns every heading of the table and the cohorts is whole ("New wallets" was cut
    to "New wall") and the table needs no horizontal scrolling."""
    from rich.cells import cell_len

    env = _env(tmp_path, db_path, clock, db, monkeypatch)
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        app.set_language(locale)
        await settle(pilot)
        app.action_open_analytics()
        await settle(pilot)
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        for table_id in ("#an-table", "#an-cohorts"):
            table = screen.query_one(table_id, DataTable)
            for column in table.columns.values():
                assert column.width >= cell_len(column.label.plain), (table_id, column.label.plain, column.width)
        table = screen.query_one("#an-table", DataTable)
        needed = sum(column.get_render_width(table) for column in table.columns.values())
        assert needed <= table.content_region.width, (needed, table.content_region.width)
