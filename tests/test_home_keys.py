"""Home F5/F6/F7: find the customer, Enter, and the form opens (not only the customer view)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from desk_harness import Desk, make_desk
from pilot_helpers import settle
from teller_tui.common.i18n import set_locale

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Iterator[Desk]:
    world = make_desk(tmp_path, db_path, db, clock)
    yield world
    set_locale("en")


@pytest.mark.parametrize(("key", "form"), [("f5", "CashInForm"), ("f6", "CashOutForm"), ("f7", "TransferForm")])
async def test_home_key_lands_on_the_form(desk: Desk, key: str, form: str) -> None:
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await desk.start(pilot)
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
