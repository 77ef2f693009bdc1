"""Issue 16 on the real apps: the customer's PIN change and authenticator app at the counter.

The teller (``k`` on the customer view) starts; the customer does their part on the paired customer
display (a second real app in the same test): the current PIN and the new one twice; the QR code /
key, then a code from the app. The removal after an ID check (F3) is done at the teller's screen.
A supervisor changes the branch's consent policy (ctrl+y on the home screen)."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, Input, Static

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, from_customer, paired_display, static_text, with_pin
from desk_harness import consent_desk  # noqa: F401  (the fixture)
from pilot_helpers import approve_here, settle, settle_until, sign_in
from teller_tui.auth import passwords
from teller_tui.common.money import Money
from teller_tui.consent.spec import ConsentSpec
from teller_tui.models import AuditRecord, ConsentPolicy, Customer
from teller_tui.models.notify import OutboxMessage

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
OLD, NEW = "135790", "246813"


@pytest.fixture
def desk(consent_desk: Desk) -> Desk:
    return with_pin(consent_desk, "wang", OLD)


def _pad_text(pad: Any, selector: str) -> str:
    return str(pad.app.screen.query_one(selector, Static).render())


async def test_pin_change_and_authenticator_on_the_display(desk: Desk, tmp_path: Any) -> None:
    with desk.services.db.read() as s:
        id_number = s.get(Customer, desk.customers["wang"]).id_number
    async with desk.signed_in(size=(120, 40)) as pilot:
        pad_app = paired_display(desk, tmp_path)
        await from_customer(pilot, desk, "wang", "k")
        screen = pilot.app.screen
        assert type(screen).__name__ == "CredentialsScreen"
        assert "not set up" in static_text(pilot.app, "#credentials-state")
        await pilot.press("c")  # no display yet
        await settle(pilot)
        assert "Pair a customer display" in static_text(pilot.app, "#credentials-status")
        await pilot.press("f2")
        await settle(pilot)
        text = static_text(pilot.app, "#credentials-status")
        code = "".join(ch for ch in text.split(":")[1] if ch.isdigit())[:6]
        async with pad_app.run_test(size=(100, 30)) as pad:
            await settle(pad)
            await pad.press(*code, "enter")
            await settle(pad)
            # 1. PIN change: the current PIN, the new PIN twice, on the display.
            await pilot.press("c")
            await settle(pilot)
            assert "Waiting for the customer" in static_text(pilot.app, "#credentials-status")
            pad_screen = pad.app.screen
            await settle_until(pad, lambda: pad_screen.query_one("#pad-new").display)
            assert "Change your wallet PIN" in _pad_text(pad, "#pad-title")
            await pad.press(*OLD, "enter", *"123456", "enter", *"123456", "enter")  # too easy: not counted
            await settle(pad)
            assert "consecutive" in _pad_text(pad, "#pad-status")
            await pad.press(*"975310", "enter", *NEW, "enter", *NEW, "enter")  # wrong current PIN: counted
            await settle(pad)
            assert "old PIN is not right" in _pad_text(pad, "#pad-status")
            await settle_until(pilot, lambda: "Wrong PIN on the display (1)" in static_text(pilot.app,
                                                                                      "#credentials-status"))
            await pad.press(*OLD, "enter", *NEW, "enter", *NEW, "enter")
            await settle(pad)
            assert "new PIN is set" in _pad_text(pad, "#pad-status")
            await settle_until(pilot, lambda: "changed their PIN" in static_text(pilot.app, "#credentials-status"))
            assert "changed their PIN" in static_text(pilot.app, "#credentials-status")
            # 2. The authenticator: QR code, key and URI on the display; a code from the app confirms it.
            await pilot.press("a")
            await settle(pilot)
            # The customer's PIN first: nothing is offered before it (the review's takeover chain).
            await settle_until(pad, lambda: type(pad.app.screen).__name__ == "PadAuthenticatorScreen")
            assert not str(pad.app.screen.query_one("#totp-secret", Static).render()).strip()
            await pad.press(*NEW, "enter")
            await settle_until(pad, lambda: type(pad.app.screen).__name__ == "PadAuthenticatorScreen"
                         and bool(str(pad.app.screen.query_one("#totp-secret", Static).render()).strip()))
            totp_screen = pad.app.screen
            assert type(totp_screen).__name__ == "PadAuthenticatorScreen"
            secret = str(totp_screen.query_one("#totp-secret", Static).render()).replace(" ", "").strip()
            uri = str(totp_screen.query_one("#totp-uri", Static).render()).replace("\n", "")
            assert f"secret={secret}" in uri and "▀" in str(totp_screen.query_one("#totp-qr", Static).render())
            assert secret not in str(pilot.app.screen.query_one("#credentials-box").render())  # teller never sees it
            await pad.press(*"000000", "enter")
            await settle(pad)
            assert "not right" in str(totp_screen.query_one("#totp-status", Static).render())
            await pad.press(*pyotp.TOTP(secret).at(desk.clock.now()), "enter")
            await settle(pad)
            assert type(pad.app.screen).__name__ == "PinpadScreen"
            assert "authenticator app is set up" in _pad_text(pad, "#pad-status")
            await settle_until(pilot, lambda: "Authenticator app: set up" in static_text(pilot.app,
                                                                                         "#credentials-state"))
            assert "Authenticator app: set up" in static_text(pilot.app, "#credentials-state")
            # 3. Where it is used: a cash-out from ¥5,000 asks for the app's code after the PIN.
            desk.clock.advance(seconds=60)
            big = desk.services.consent.request(desk.actor, ConsentSpec(
                "cash_out", desk.customers["wang"], None, amount=Money.of("6000"), binding="pilot")).request_id
            await settle_until(pad, lambda: pad_screen.query_one("#pad-new").display)
            assert pad_screen.query_one("#pad-new", Input).placeholder == "6-digit code"
            await pad.press(*NEW, "enter", "enter")  # no code: asked for it, not counted
            await settle(pad)
            assert "6-digit code" in _pad_text(pad, "#pad-status")
            await pad.press(*NEW, "enter", *pyotp.TOTP(secret).at(desk.clock.now()), "enter")
            await settle(pad)
            assert desk.services.consent.status(desk.actor, big).status == "granted"
        # 4. Removal after an ID check at the counter (the phone is lost).
        await pilot.press("f3")
        await settle(pilot)
        screen.query_one("#credentials-seen", Checkbox).value = True
        screen.query_one("#credentials-id-digits", Input).focus()
        await pilot.press(*id_number[-4:], "enter")  # the last 4 are on the teller's screen: not the check
        await settle(pilot)
        assert "do not match" in static_text(pilot.app, "#credentials-status")
        screen.query_one("#credentials-id-digits", Input).value = ""
        await pilot.press(*id_number[6:14], "enter")  # the birth-date digits the mask hides; a supervisor approves
        spec = await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        assert spec.rules == ("customer_totp_remove_id",)
        await settle(pilot)
        assert "removed" in static_text(pilot.app, "#credentials-status")
        await settle(pilot)
        assert "not set up" in static_text(pilot.app, "#credentials-state")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
    with desk.services.db.read() as s:
        c = s.get(Customer, desk.customers["wang"])
        assert passwords.verify_pin(c.pin_hash, NEW) and c.totp_secret_enc is None
        audit = s.execute(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail_json).where(
            AuditRecord.action.in_(["customer_pin_change", "customer_totp_enrol", "customer_totp_remove"]))
            .order_by(AuditRecord.seq)).all()  # type: ignore[attr-defined]
        told = {e for (e,) in s.execute(select(OutboxMessage.event).where(
            OutboxMessage.customer_id == desk.customers["wang"])).all()}
    assert [(a, o) for a, o, _d in audit] == [
        ("customer_pin_change", "fail"), ("customer_pin_change", "ok"), ("customer_totp_enrol", "fail"),
        ("customer_totp_enrol", "ok"), ("customer_totp_remove", "fail"), ("customer_totp_remove", "ok")]
    assert json.loads(audit[-1][2])["method"] == "id_check"
    assert {"pin_change_branch", "totp_enrol", "totp_remove"} <= told
    assert not any(x in "".join(d or "" for _a, _o, d in audit) for x in (OLD, NEW))


async def test_supervisor_sets_the_consent_policy(desk: Desk) -> None:
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConsentPolicyScreen"
        assert "Never changed" in static_text(pilot.app, "#policy-current")
        await pilot.press("space")  # the checkbox has focus
        await pilot.press("ctrl+s")  # no reason: refused
        await settle(pilot)
        assert "reason" in static_text(pilot.app, "#policy-status").lower()
        pilot.app.screen.query_one("#policy-reason", Input).focus()
        await pilot.press(*"fraud wave", "enter")
        await settle(pilot)
        assert "Saved" in static_text(pilot.app, "#policy-status")
        assert "only the customer's PIN" in static_text(pilot.app, "#policy-current")
        assert "chen" in static_text(pilot.app, "#policy-current")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
    with desk.services.db.read() as s:
        row = s.get(ConsentPolicy, desk.services.settings.branch_code)
        assert row is not None and row.pin_required and row.reason == "fraud wave"
        assert s.execute(select(AuditRecord.id).where(AuditRecord.action == "consent_policy")).first()


async def test_a_teller_cannot_open_the_consent_policy(desk: Desk) -> None:
    async with desk.signed_in(size=(120, 40)) as pilot:
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
