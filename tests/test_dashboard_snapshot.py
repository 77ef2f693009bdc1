"""A snapshot of the supervisor dashboard on fixed data (FakeClock, fixed staff, fixed amounts)."""

from __future__ import annotations

from typing import Any

from approvals_fixtures import SUP_PW, Env, env  # noqa: F401
from test_approvals_pilot import _App, settle

from teller_tui.errors import ApprovalRequired
from teller_tui.money import Money


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


def test_dashboard_snapshot(env: Env, snap_compare: Any) -> None:
    from screens.dashboard import DashboardScreen

    _day(env)
    app = _App(env.services, env.services.auth.get_staff("li"), "T02")

    async def run_before(pilot: Any) -> None:
        app.push_screen(DashboardScreen(live=False))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(150, 44), run_before=run_before)
