"""A snapshot of the supervisor dashboard on fixed data (FakeClock, fixed staff, fixed amounts)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import approvals_fixtures
import pytest
from approvals_fixtures import SUP_PW, Env, build_env
from test_approvals_pilot import _App, settle

from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money


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
    from screens.dashboard import DashboardScreen

    # The fixtures number customers, phones and ID numbers from a module-level counter; start
    # it afresh so the picture does not depend on which tests ran earlier in this process.
    monkeypatch.setattr(approvals_fixtures, "_seq", itertools.count(1))
    env = build_env(tmp_path / "home", db_path, clock, database=db)
    _day(env)
    app = _App(env.services, env.services.auth.get_staff("li"), "T02")

    async def run_before(pilot: Any) -> None:
        from textual.widgets import DataTable

        await app.push_screen(DashboardScreen(live=False))
        # Wait for the data to be on screen (the load runs in a worker; on a busy machine it
        # can land after a fixed number of pauses): the day has one pending request.
        for _ in range(200):
            await settle(pilot)
            if app.screen.query_one("#dash-pending", DataTable).row_count:
                break
        # Focus decides borders and the cursor row; make it explicit rather than whatever
        # auto-focus reached by the time the picture is taken.
        app.screen.query_one("#dash-pending", DataTable).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(150, 44), run_before=run_before)
