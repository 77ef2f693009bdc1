"""Issue 16 on the real app: closing a wallet at the counter asks for the customer's consent first (here
the ID re-check, F3 on the consent dialog), then the supervisor's approval where the policy says; the wallet
closes only after both, and the audit record names the consent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, Input

from desk_harness import Desk, make_desk
from pilot_helpers import settle
from screens.approval import ApprovalScreen
from teller_tui.common.i18n import set_locale
from teller_tui.common.masks import hidden_document_part
from teller_tui.models import AuditRecord, Customer
from test_approval_paths_pilot import approve_as_chen, confirm_with_reason, wallet_action, wallet_row, with_rules

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("TELLER_COUNTER_CONSENT", "1")
    world = make_desk(tmp_path, db_path, db, clock)
    yield world
    set_locale("en")


async def test_wallet_close_asks_the_customer_then_the_supervisor(desk: Desk) -> None:
    from test_desk_pilot import static_text

    with_rules(desk, "wallet_close")
    with desk.services.db.read() as s:
        id_number = s.get(Customer, desk.customers["li"]).id_number
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        dialog = await wallet_action(pilot, desk, "li", "close")  # li's wallet holds nothing
        await confirm_with_reason(pilot, dialog, "customer leaves the bank")
        consent = pilot.app.screen
        assert type(consent).__name__ == "ConsentScreen"
        assert "closing wallet" in static_text(pilot.app, "#consent-title")  # the teller's terms (was the customer's)
        # The customer says no (Esc): nothing closes, the dialog says so.
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is dialog and wallet_row(desk, "li").status == "active"
        assert "did not agree" in str(dialog.query_one("#lc-status").render())
        await pilot.press("f10")
        await settle(pilot)
        consent = pilot.app.screen
        assert type(consent).__name__ == "ConsentScreen"
        await pilot.press("f3")  # the ID re-check instead of a display
        await settle(pilot)
        consent.query_one("#consent-seen", Checkbox).value = True
        consent.query_one("#consent-id-digits", Input).focus()
        await pilot.press(*hidden_document_part(id_number), "enter")  # what the screen stars
        await settle(pilot)
        assert isinstance(pilot.app.screen, ApprovalScreen)  # then the supervisor
        assert wallet_row(desk, "li").status == "active"
        await approve_as_chen(pilot, desk, "wallet_close")
    assert wallet_row(desk, "li").status == "closed"
    with desk.services.db.read() as s:
        detail = s.execute(select(AuditRecord.detail_json).where(AuditRecord.action == "wallet_close")).scalar_one()
    facts = json.loads(detail)
    assert facts["consent"] == "id_check" and facts["approval_id"]
