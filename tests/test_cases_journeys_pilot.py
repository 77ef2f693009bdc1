"""Issue 20's remaining journeys on the real apps (``make_app`` / ``make_kiosk_app`` on one database):

* a customer at a kiosk presses "9 Ask for help": the teller's queue (Ctrl+K) shows the request; the
  teller takes it (h) and marks it done (d); a customer recorded as needing assistance gets a person
  called by the kiosk itself;
* the needs dialog (d) on customer service, a note corrected (c) with its versions readable (y), and
  the follow-up call for a customer needing assistance recorded with satisfaction;
* a dispute correction sent to the supervisors' queue (F8 in the approval dialog), approved in the
  supervisor's own app, and the resolved case's follow-up call recorded with satisfaction 4.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Static

from desk_harness import Desk, make_desk, from_customer, open_customer
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import settle, type_text
from screens.approval import WaitingScreen
from screens.cases import CaseQueueScreen, CaseScreen, PromptScreen
from screens.receipt import ReceiptScreen
from screens.service import CustomerServiceScreen, FollowUpScreen, NeedsDialog
from screens.widgets.tickbox import TickBox
from teller_tui.auth.passwords import hash_pin
from teller_tui.auth.secretbox import SecretBox
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.models import Customer
from teller_tui.models.cases import FollowUpCall
from teller_tui.services import make_services
from test_approval_paths_pilot import decide_in_queue

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
PIN = "246810"


def _kiosk_app(desk: Desk, tmp_path: Any, db_path: Any) -> Any:
    """The kiosk's own app and services (terminal K01) on the branch's database."""
    from screens.kiosk.app import make_kiosk_app

    settings = load_settings(home=tmp_path / "kiosk-home", database_url=f"sqlite:///{db_path}", locale="en",
                             terminal_id="K01", branch_code="B001", kiosk_min_response_seconds=0)
    services = make_services(settings, clock=desk.clock, database=desk.services.db, box=SecretBox.ephemeral())
    return make_kiosk_app(settings, services=services, clock=desk.clock)


def _set_pin(desk: Desk, key: str) -> None:
    with desk.services.db.write() as s:
        c = s.get(Customer, desk.customers[key])
        assert c is not None
        c.pin_hash = hash_pin(PIN)


async def _kiosk_sign_in(app: Any, pilot: Any, phone: str) -> None:
    from screens.kiosk.home import KioskHomeScreen

    await settle(pilot)
    await pilot.click("#lang-en")
    await settle(pilot)
    app.screen.query_one("#identifier").value = phone
    app.screen.query_one("#pin").value = PIN
    await pilot.click("#submit")
    await settle(pilot)
    await app.workers.wait_for_complete()
    await settle(pilot)
    assert isinstance(app.screen, KioskHomeScreen), app.screen


async def test_kiosk_help_reaches_the_queue_taken_and_done(desk: Desk, tmp_path: Any, db_path: Any) -> None:
    from teller_tui.cases.crm import Needs

    _set_pin(desk, "zhang")
    _set_pin(desk, "wang")
    desk.services.crm.set_needs(desk.actor, desk.customers["wang"], Needs(needs_assistance=True))
    helps = desk.services.help_requests
    kiosk = _kiosk_app(desk, tmp_path, db_path)
    async with kiosk.run_test(size=(110, 40)) as kp:
        # zhang presses 9: one request, and the customer is told someone will come.
        await _kiosk_sign_in(kiosk, kp, "13912345678")
        assert helps.open_count(desk.actor) == 0  # nothing recorded: no automatic call
        await kp.press("9")
        await kiosk.workers.wait_for_complete()
        await settle(kp)
        assert "will come" in str(kiosk.screen.query_one("#home-help", Static).render())
        assert helps.open_count(desk.actor) == 1
        # wang needs assistance (recorded): the kiosk calls a person at sign-in, unasked.
        await kp.press("0")
        await settle(kp)
        await _kiosk_sign_in(kiosk, kp, "13800138000")
        await kiosk.workers.wait_for_complete()
        await settle(kp)
        assert "on the way" in str(kiosk.screen.query_one("#home-help", Static).render())
    rows = helps.open_requests(desk.actor)
    assert [(r.activity, r.terminal_id) for r in rows] == [("balance", "K01"), ("assisted", "K01")]

    async with desk.signed_in(size=(80, 24)) as pilot:
        await pilot.press("ctrl+k")
        await settle(pilot)
        queue = pilot.app.screen
        assert isinstance(queue, CaseQueueScreen)
        assert "2 waiting" in str(queue.query_one("#queue-help-title", Static).render())
        table = queue.query_one("#queue-help", DataTable)
        assert table.row_count == 2
        table.focus()
        await pilot.press("h")  # take zhang's request (the first row)
        await settle(pilot)
        assert [r.status for r in helps.open_requests(desk.actor)] == ["taken", "open"]
        assert "1 waiting" in str(queue.query_one("#queue-help-title", Static).render())
        table.focus()
        await pilot.press("d")  # done: it leaves the queue
        await settle(pilot)
        assert table.row_count == 1 and [r.activity for r in helps.open_requests(desk.actor)] == ["assisted"]


async def test_needs_notes_with_versions_and_assistance_call(desk: Desk) -> None:
    cid = desk.customers["zhang"]
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "zhang", "f8")
        service = pilot.app.screen
        assert isinstance(service, CustomerServiceScreen)

        # Needs, by keys: tick "needs assistance" and "low vision", language en.
        await pilot.press("d")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, NeedsDialog)
        for name in ("needs_assistance", "low_vision"):
            dialog.query_one(f"#need-{name}", TickBox).focus()
            await pilot.press("space")
        dialog.query_one("#need-language", Input).focus()
        await type_text(pilot, "en")
        await pilot.press("f10")
        await settle(pilot)
        assert pilot.app.screen is service
        needs = desk.services.crm.needs(desk.actor, cid)
        assert needs.needs_assistance and needs.low_vision and needs.preferred_language == "en"
        shown = str(service.query_one("#service-needs", Static).render())
        assert "Needs assistance" in shown and "large print" in shown

        # A note, corrected: a new version; the old one stays readable.
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PromptScreen)
        await type_text(pilot, "prefers mornings")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "prefers afternoons")
        await pilot.press("enter")
        await settle(pilot)
        assert "prefers afternoons" in str(service.query_one("#service-notes", Static).render())
        await pilot.press("y")
        await settle(pilot)
        versions = pilot.app.screen
        assert isinstance(versions, ReceiptScreen)
        text = str(versions.query_one("#receipt-text", Static).render())
        assert "v1" in text and "prefers mornings" in text and "v2" in text and "prefers afternoons" in text
        await pilot.press("escape")
        await settle(pilot)

        # The customer needing assistance is on the call list at once; the call is recorded.
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        calls = pilot.app.screen
        assert isinstance(calls, FollowUpScreen)
        assert [r.kind for r in calls.rows] == ["assistance"]
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "y")
        await pilot.press("tab")
        await type_text(pilot, "all fine")
        await pilot.press("tab")
        await type_text(pilot, "5")
        await pilot.press("f10")
        await settle(pilot)
        assert calls.rows == []
    with desk.services.db.read() as s:
        call = s.execute(select(FollowUpCall)).scalars().one()
        assert call.reached and call.satisfaction == 5 and call.subject_kind == "assistance"


async def test_dispute_correction_approved_from_the_queue_then_the_follow_up(desk: Desk) -> None:
    view = desk.services.cases.open_case(desk.actor, desk.customers["zhang"], "transaction_dispute",
                                         "cash counted short", wallet_id=desk.wallets["zhang"].wallet_id)
    before = desk.balance("zhang")
    async with desk.signed_in(size=(120, 40)) as pilot:
        await pilot.press("ctrl+k")
        await settle(pilot)
        await pilot.press("enter")  # the case, from the queue
        await settle(pilot)
        case_screen = pilot.app.screen
        assert isinstance(case_screen, CaseScreen) and case_screen.detail is not None
        assert "m correction" in str(case_screen.query_one("#case-keys", Static).render())
        await pilot.press("m")
        await settle(pilot)
        await type_text(pilot, "50")
        await pilot.press("enter")
        await type_text(pilot, "50 short in the count")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f8")  # no supervisor at the counter: send it to the queue
        await settle(pilot)
        waiting = pilot.app.screen
        assert isinstance(waiting, WaitingScreen), waiting
        assert desk.balance("zhang") == before  # nothing moves before the decision
        await decide_in_queue(desk)
        waiting._poll()  # what the teller's 1-second timer does
        await settle(pilot)
        assert pilot.app.screen is case_screen, pilot.app.screen
        assert case_screen.detail.case.status == "resolved" and case_screen.detail.case.correction_reference
        assert desk.balance("zhang") == before + Money.of("50")

        # Three days later the customer is called back: reached, satisfaction 4.
        desk.clock.advance(days=3, hours=1)
        # The teller is at the desk that day (the idle lock, checked every second, would otherwise see
        # three days without a key and lock before the next key: by timing, under load it did).
        pilot.app.idle.touch()
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        calls = pilot.app.screen
        assert isinstance(calls, FollowUpScreen)
        assert [(r.kind, r.subject) for r in calls.rows] == [("resolved_case", view.number)]
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "y")
        await pilot.press("tab")
        await type_text(pilot, "refund received")
        await pilot.press("tab")
        await type_text(pilot, "4")
        await pilot.press("f10")
        await settle(pilot)
    with desk.services.db.read() as s:
        call = s.execute(select(FollowUpCall)).scalars().one()
        assert call.reached and call.satisfaction == 4 and call.subject_kind == "resolved_case"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
async def test_every_footer_key_is_whole_on_screen_at_80x24(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                           locale: str) -> None:
    """The customer view has more keys than four footer rows hold at 80 columns: the footer goes
    compact and uses the whole width; the case screen's keys all show (body line + footer)."""
    from rich.cells import cell_len
    from textual.widgets._footer import FooterKey

    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    view = desk.services.cases.open_case(desk.actor, desk.customers["zhang"], "transaction_dispute", "short",
                                         wallet_id=desk.wallets["zhang"].wallet_id)

    def whole(app: Any) -> list[str]:
        keys = [k for k in app.screen.query(FooterKey) if not k.has_class("-command-palette")]
        assert keys
        for k in keys:
            needed = cell_len(k.key_display) + cell_len(k.description) + 1
            r = k.region
            assert r.right <= 80 and r.bottom <= 24 and r.width >= needed and r.height == 1, (k.description, r)
        return [k.key for k in keys]

    async with desk.signed_in(size=(80, 24)) as pilot:
        customer = await open_customer(pilot, desk, "zhang")
        shown = whole(pilot.app)
        expected = {b.key for b in (customer.active_bindings[k].binding for k in customer.active_bindings)
                    if b.show and b.key != "ctrl+p"}
        assert expected <= set(shown), expected - set(shown)
        assert "f8" in shown  # customer service, the way into cases
        pilot.app.push_screen(CaseScreen(view.number))
        await settle(pilot)
        shown = whole(pilot.app)
        line = str(pilot.app.screen.query_one("#case-keys", Static).render())
        for key in ("t", "p", "w", "a", "s", "v", "m"):
            assert f"{key} " in line and key in shown + ["w", "a"]
