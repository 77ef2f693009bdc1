"""Issue 16 on the real apps: a wallet PIN reset at the counter. The teller (``p`` on the customer view)
checks the identity document (the birth-date digits the screen hides), a supervisor approves; the
customer types the new PIN twice on the paired customer display (a second real app in the same test); the teller never types it. Audited, and the customer is told."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, Input, Static

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, from_customer, paired_display, static_text, with_pin
from desk_harness import consent_desk  # noqa: F401  (the fixture)
from pilot_helpers import approve_here, settle, settle_until
from teller_tui.auth import passwords
from teller_tui.models import AuditRecord, Customer
from teller_tui.models.notify import OutboxMessage

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
OLD, NEW = "135790", "246813"


@pytest.fixture
def desk(consent_desk: Desk) -> Desk:
    return with_pin(consent_desk, "wang", OLD, pin_locked=True, pin_failed_attempts=5)


async def test_pin_reset_at_the_counter_new_pin_typed_on_the_display(desk: Desk, tmp_path: Any) -> None:
    with desk.services.db.read() as s:
        id_number = s.get(Customer, desk.customers["wang"]).id_number
    async with desk.signed_in(size=(120, 40)) as pilot:
        pad_app = paired_display(desk, tmp_path)
        await from_customer(pilot, desk, "wang", "p")
        screen = pilot.app.screen
        assert type(screen).__name__ == "PinResetScreen"
        # Without a look at the document nothing starts (and the failed check is audited).
        screen.query_one("#pin-reset-id-digits", Input).focus()
        await pilot.press(*id_number[6:14], "enter")  # the birth-date digits the screen does not show
        await settle(pilot)
        assert "identity document" in static_text(pilot.app, "#pin-reset-status")
        # No display yet: the teller is told to pair one.
        screen.query_one("#pin-reset-seen", Checkbox).value = True
        screen.query_one("#pin-reset-id-digits", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "Pair a customer display" in static_text(pilot.app, "#pin-reset-status")
        await pilot.press("f2")
        await settle(pilot)
        text = static_text(pilot.app, "#pin-reset-status")
        code = "".join(ch for ch in text.split(":")[1] if ch.isdigit())[:6]
        async with pad_app.run_test(size=(100, 30)) as pad:
            await settle(pad)
            await pad.press(*code, "enter")
            await settle(pad)
            screen.query_one("#pin-reset-id-digits", Input).focus()
            await pilot.press("enter")  # the ID check again, now with a display: a supervisor approves
            spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
            assert spec.kind == "pin_reset" and spec.rules == ("pin_reset",)
            await settle(pilot)
            assert "Waiting for the customer" in static_text(pilot.app, "#pin-reset-status")
            pad_screen = pad.app.screen
            await settle_until(pad, lambda: pad_screen.query_one("#pad-again").display)
            assert "new wallet PIN" in str(pad_screen.query_one("#pad-title", Static).render())
            # A weak PIN is refused on the display (onboarding's rules) and the request stays open.
            await pad.press(*"123456", "enter", *"123456", "enter")
            await settle(pad)
            assert "consecutive" in str(pad_screen.query_one("#pad-status", Static).render())
            # Two different PINs are refused too.
            await pad.press(*NEW, "enter", *"975312", "enter")
            await settle(pad)
            assert "not the same" in str(pad_screen.query_one("#pad-status", Static).render())
            await pad.press(*NEW, "enter", *NEW, "enter")
            await settle(pad)
            assert "new PIN is set" in str(pad_screen.query_one("#pad-status", Static).render())
        await settle_until(pilot, lambda: "new PIN is set" in static_text(pilot.app, "#pin-reset-status"))
        assert "new PIN is set" in static_text(pilot.app, "#pin-reset-status")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
    with desk.services.db.read() as s:
        c = s.get(Customer, desk.customers["wang"])
        assert passwords.verify_pin(c.pin_hash, NEW) and not passwords.verify_pin(c.pin_hash, OLD)
        assert not c.pin_locked and c.pin_failed_attempts == 0
        audit = s.execute(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail_json)
                          .where(AuditRecord.action.in_(["customer_pin_reset_start", "customer_pin_reset"]))
                          .order_by(AuditRecord.seq)).all()  # type: ignore[attr-defined]
        told = s.execute(select(OutboxMessage.event).where(
            OutboxMessage.customer_id == desk.customers["wang"], OutboxMessage.event == "pin_reset")).all()
    assert [(a, o) for a, o, _d in audit] == [("customer_pin_reset_start", "fail"),
                                             ("customer_pin_reset_start", "ok"), ("customer_pin_reset", "ok")]
    assert json.loads(audit[0][2])["reason"] == "id_not_seen"
    assert told  # the customer hears of it (one row per channel they consented to)
    assert NEW not in "".join(d or "" for _a, _o, d in audit)  # the PIN is never written down
