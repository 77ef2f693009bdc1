"""Pilot journey on the real TellerApp (make_app, the test's services and clock): an alert raised
while a supervisor works appears with a count and a notice, the supervisor opens it from the
keyboard (ctrl+r, Enter), reads what triggered it and takes it (F2); the teller serving that
customer then sees the risk warning, in words, on the customer view and on the cash form."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import DataTable

from approvals_fixtures import SUP_PW, Env, env  # noqa: F401
from auth_fixtures import SECRETS, TELLER_PW
from pilot_helpers import settle, sign_in, type_text
from screens.app import make_app
from screens.cash import CashInForm
from screens.customer import CustomerScreen
from screens.risk_alerts import AlertScreen, RiskAlertsScreen
from screens.widgets.risk_banner import RiskBanner
from teller_tui.models import AuditRecord, RiskAlert
from teller_tui.models.risk import AlertStatus

pytestmark = pytest.mark.slow  # Pilot


def raise_alert(env: Env) -> int:
    """What `teller risk scan` on another terminal stores for a structuring pattern."""
    now = env.clock.now()
    with env.services.db.write() as s:
        row = RiskAlert(rule="structuring", subject="customer:x", window="2026-w1", branch_code="B001",
                        customer_id=env.customer_id, wallet_id=env.wallet_id, amount=13_900_000, first_at=now,
                        last_at=now, created_at=now, kb_article="large-cash", status=AlertStatus.OPEN,
                        facts_json='{"count": 3, "entries": ["R-1", "R-2", "R-3"], "threshold": "50000.00"}')
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def footer_text(app: Any) -> str:
    return " ".join(str(b.binding.description) for b in app.screen.active_bindings.values())


async def test_supervisor_takes_a_new_alert_and_the_teller_is_warned(env: Env) -> None:  # noqa: F811
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    notices: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await settle(pilot)
        assert app.open_alerts == 0 and "Risk alerts" in footer_text(app)
        alert_id = raise_alert(env)
        app.poll_alerts()  # what the app's timer runs every ALERTS_POLL_SECONDS
        await settle(pilot)
        notices = [str(n.message) for n in app._notifications]
        assert app.open_alerts == 1 and "Risk alerts (1)" in footer_text(app)
        assert any(f"Risk alert {alert_id}" in n for n in notices), notices
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RiskAlertsScreen)
        table = app.screen.query_one("#alerts-table", DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AlertScreen)
        facts = str(dialog.query_one("#alert-facts").render())
        trigger = str(dialog.query_one("#alert-trigger").render())
        assert "Cash amounts just under the large-value threshold" in facts and "¥139,000.00" in facts
        assert "Number of times: 3" in trigger and "R-1, R-2, R-3" in trigger
        await pilot.press("f2")
        await settle(pilot)
        assert "Taken" in str(dialog.query_one("#alert-message").render())
        with env.services.db.read() as s:
            row = s.get(RiskAlert, alert_id)
            assert row is not None and row.status == "open" and row.acked_by == env.supervisor.staff_id
            assert s.execute(select(AuditRecord.subject).where(AuditRecord.action == "risk_alert_ack")
                             ).scalar_one() == f"alert:{alert_id}"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RiskAlertsScreen)
        assert "*" in str(app.screen.query_one("#alerts-table", DataTable).get_row_at(0)[1])
        await pilot.press("f12")  # sign out: the teller comes to the counter
        await settle(pilot)

        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], env.clock)
        assert app.open_alerts == 0  # a teller has no queue
        await pilot.press("f2")
        await settle(pilot)
        await type_text(pilot, env.wallet_number)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        banner = app.screen.query_one("#customer-risk", RiskBanner)
        text = str(banner.render())
        assert banner.display and text.startswith("⚠Risk warning: ") and "just under the large-value" in text
        # The customer's notifications and whether each went out (none yet here: only the alert).
        assert str(app.screen.query_one("#customer-notices").render()).startswith("Notices")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, CashInForm)
        form_banner = app.screen.query_one("#cash-risk", RiskBanner)
        assert form_banner.display and "Risk warning" in str(form_banner.render())
