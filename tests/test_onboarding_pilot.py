"""Onboarding and lifecycle journeys through the real screens (Pilot), asserting on the database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, Input, Select

from teller_tui.common.errors import Conflict
from teller_tui.wallets.identity import luhn_check_digit, make_prc_id
from teller_tui.common.money import Money
from teller_tui.models import Customer, LinkedAccount, Wallet

from desk_harness import Desk
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import settle

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

NEW_ID = make_prc_id("310101", date(1988, 5, 20), 21, "M")
NEW_CARD = "622202987654321" + luhn_check_digit("622202987654321")
PIN = "470258"


def fill(screen: Any, step: str, **values: Any) -> None:
    for field, value in values.items():
        w = screen.query_one(f"#{step}-{field}")
        if isinstance(w, (Checkbox, Select, Input)):
            w.value = value


async def next_step(pilot: Any, expect: str | None = None) -> Any:
    await pilot.press("ctrl+n")
    await settle(pilot)
    screen = pilot.app.screen
    if expect is not None:
        status = str(screen.query_one("#onb-status").render())
        assert screen.step == expect, status
    return screen


async def start_wizard(pilot: Any, desk: Desk) -> Any:
    await desk.start(pilot)
    await pilot.press("f4")
    await settle(pilot)
    screen = pilot.app.screen
    assert type(screen).__name__ == "OnboardingScreen" and screen.step == "identity"
    return screen


async def first_steps(pilot: Any, screen: Any) -> Any:
    fill(screen, "identity", number=NEW_ID, expiry="2036-01-01", in_person=True)
    screen = await next_step(pilot, "personal")
    fill(screen, "personal", full_name="赵敏", name_latin="zhao min", address="上海市黄浦区1号", occupation="工程师")
    return await next_step(pilot, "contact")


async def remaining_steps(pilot: Any, screen: Any, *, card: bool) -> Any:
    fill(screen, "contact", phone="13912340000", phone_confirmed=True)
    screen = await next_step(pilot, "risk")
    screen = await next_step(pilot, "tier")
    assert screen.value("tier", "tier") == "1"  # class 1 offered first
    screen = await next_step(pilot, "funding")
    if card:
        fill(screen, "funding", kind="card", number=NEW_CARD)
        await settle(pilot)
        assert "Industrial" in str(screen.query_one("#funding-bank").render())
    screen = await next_step(pilot, "security")
    fill(screen, "security", pin="123456", pin_again="123456")
    screen = await next_step(pilot, "security")  # trivial PIN refused
    assert "consecutive" in str(screen.query_one("#onb-status").render())
    fill(screen, "security", pin=PIN, pin_again=PIN)
    screen = await next_step(pilot, "explanations")
    for key in ("setup", "top_up", "withdrawal", "security", "help"):
        fill(screen, "explanations", **{key: True})
    screen = await next_step(pilot, "review")
    fill(screen, "review", consent=True)
    screen = await next_step(pilot, "welcome")  # the consent was the last check: issued at once
    return screen


async def test_complete_onboarding_issues_class1_wallet(desk: Desk) -> None:
    async with desk.app.run_test(size=(120, 40)) as pilot:
        screen = await start_wizard(pilot, desk)
        screen = await first_steps(pilot, screen)
        screen = await remaining_steps(pilot, screen, card=True)
        assert screen.result is not None
        sheet = str(screen.query_one("#welcome-sheet").render())
        assert PIN not in sheet and NEW_CARD[-4:] in sheet
        with desk.services.db.read() as s:
            c = s.execute(select(Customer).where(Customer.id_number == NEW_ID)).scalar_one()
            w = s.execute(select(Wallet).where(Wallet.customer_id == c.id)).scalar_one()
            assert w.tier == 1 and w.status == "active" and c.phone == "13912340000"
            assert s.execute(select(LinkedAccount).where(LinkedAccount.customer_id == c.id)).scalar_one()
        page = desk.services.customers.search("13912340000")
        assert [h.customer_id for h in page.results] == [c.id]
        assert desk.services.onboarding.list_drafts(desk.actor) == []  # autosaved drafts went with issuance
        await pilot.press("ctrl+n")  # leaving the welcome sheet opens the new customer (was: home)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen" and pilot.app.screen.customer_id == c.id


async def test_interrupted_onboarding_resumed_from_home(desk: Desk) -> None:
    async with desk.app.run_test(size=(120, 40)) as pilot:
        screen = await start_wizard(pilot, desk)
        screen = await first_steps(pilot, screen)
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LeaveOnboardingScreen"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
        drafts = desk.services.onboarding.list_drafts(desk.actor)
        assert len(drafts) == 1 and drafts[0].step == "contact"
        await pilot.press("f9")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "DraftsScreen"
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == "OnboardingScreen" and screen.step == "contact"
        assert screen.value("personal", "full_name") == "赵敏"
        # Class 1 is opened with the customer's own card linked (the 2021 classes).
        screen = await remaining_steps(pilot, screen, card=True)
        assert screen.result is not None and screen.result.wallet.tier == 1
        assert desk.services.onboarding.list_drafts(desk.actor) == []


async def test_duplicate_id_redirects_to_the_customer(desk: Desk) -> None:
    with desk.services.db.read() as s:
        existing = s.get(Customer, desk.customers["wang"]).id_number
    async with desk.app.run_test(size=(120, 40)) as pilot:
        screen = await start_wizard(pilot, desk)
        fill(screen, "identity", number=existing, in_person=True)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await pilot.press("f10")
        await settle(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == "CustomerScreen" and screen.customer_id == desk.customers["wang"]


async def test_freeze_then_cash_out_refused(desk: Desk) -> None:
    wallet = desk.wallets["wang"]
    async with desk.signed_in(size=(120, 40)) as pilot:
        await pilot.press("f2")  # lookup: the wallet holder by phone
        await settle(pilot)
        await pilot.press(*"13800138000")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen.customer_id == desk.customers["wang"]
        await pilot.press("f4")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "WalletActionsScreen"
        await pilot.press("enter")  # "Freeze" is the first action
        await settle(pilot)
        dialog = pilot.app.screen
        assert type(dialog).__name__ == "LifecycleDialog" and dialog.action == "freeze"
        dialog.query_one("#lc-reason", Input).value = "phone stolen"
        await pilot.press("f10")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
        assert desk.services.wallets.get_wallet(wallet.wallet_id).status == "frozen"
        preview = desk.services.cash.preview_cash_out(desk.actor, wallet.wallet_id, Money.of("10"))
        assert preview.refusal
        with pytest.raises(Conflict):
            desk.services.cash.cash_out(desk.actor, wallet.wallet_id, Money.of("10"), idempotency_key="frozen-out")
        await pilot.press("f4")  # the actions list now explains why freezing again is refused
        await settle(pilot)
        options = pilot.app.screen.query_one("#wa-actions")
        assert options.get_option("freeze").disabled and not options.get_option("unfreeze").disabled
