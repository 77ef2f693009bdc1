"""Home F5/F6/F7: find the customer, Enter, and the form opens (not only the customer view)."""

from __future__ import annotations


import pytest

from desk_harness import Desk
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import settle

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.mark.parametrize(("key", "form"), [("f5", "CashInForm"), ("f6", "CashOutForm"), ("f7", "TransferForm")])
async def test_home_key_lands_on_the_form(desk: Desk, key: str, form: str) -> None:
    async with desk.signed_in(size=(80, 24)) as pilot:
        await pilot.press(key)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LookupScreen"
        await pilot.press(*"13800138000")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == form
        assert screen.customer.customer_id == desk.customers["wang"]
        # Escape goes back to the customer's view, the form's natural parent.
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
