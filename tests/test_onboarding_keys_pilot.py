"""A class-2 customer onboarded at 80x24 in Chinese with the fewest keys, on the real app.

Every key the teller presses beyond the data typed (the ID number, name, mobile, card number and
the customer's PIN) is counted, from F4 on the home screen to the new customer's view: at most 12.
The customer is then found by the pinyin the app generated, has a ``C`` + 9-digit number, and the
review page shows the birth date read from the ID (snapshot at 80x24 zh_CN).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from rich.cells import cell_len
from sqlalchemy import select

from desk_harness import Desk, make_desk
from pilot_helpers import settle
from teller_tui.common.i18n import set_locale
from teller_tui.models import Customer, Wallet
from teller_tui.wallets.identity import luhn_check_digit, make_prc_id

pytestmark = pytest.mark.slow  # Pilot

NEW_ID = make_prc_id("310101", date(1988, 5, 20), 21, "M")
NEW_CARD = "622202987654321" + luhn_check_digit("622202987654321")
PIN = "470258"
SIZE = (80, 24)
KEY_BUDGET = 12


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Iterator[Desk]:
    world = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    yield world
    set_locale("en")


class Keys:
    """Presses keys on the pilot, counting those that are not the customer's data."""

    def __init__(self, pilot: Any) -> None:
        self.pilot, self.count, self.log = pilot, 0, []  # type: tuple[Any, int, list[str]]

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.count += 1
            self.log.append(key)
            await self.pilot.press(key)
            await settle(self.pilot)

    async def type(self, data: str) -> None:
        await self.pilot.press(*data)
        await settle(self.pilot)


def step_of(pilot: Any) -> str:
    screen = pilot.app.screen
    return str(getattr(screen, "step", type(screen).__name__))


async def to_review(pilot: Any, desk: Desk, keys: Keys) -> None:
    await desk.start(pilot)
    await keys.press("f4")
    assert step_of(pilot) == "identity"
    await keys.type(NEW_ID)
    await keys.press("f10")  # seen in person, go on
    assert step_of(pilot) == "personal", pilot.app.screen.query_one("#onb-status").render()
    await keys.type("赵敏")
    await keys.press("enter")
    assert step_of(pilot) == "contact", pilot.app.screen.query_one("#onb-status").render()
    await keys.type("13912340000")
    await keys.press("f10")  # number read back, go on
    assert step_of(pilot) == "risk"
    await keys.press("ctrl+n")  # everyday payments, under 5,000 a month
    assert step_of(pilot) == "tier"
    await keys.press("2")  # class 2
    assert step_of(pilot) == "funding", pilot.app.screen.query_one("#onb-status").render()
    await keys.type(NEW_CARD)  # class 2 needs the customer's own card: the step starts on "card"
    await keys.press("enter")
    assert step_of(pilot) == "security", pilot.app.screen.query_one("#onb-status").render()
    await keys.type(PIN)  # typed by the customer
    await keys.press("tab")
    await keys.type(PIN)
    await keys.press("enter")
    assert step_of(pilot) == "explanations", pilot.app.screen.query_one("#onb-status").render()
    await keys.press("f10")  # all explained
    assert step_of(pilot) == "review"


@pytest.mark.asyncio
async def test_class2_onboarding_in_twelve_keys_ends_on_the_customer(desk: Desk) -> None:
    async with desk.app.run_test(size=SIZE) as pilot:
        keys = Keys(pilot)
        await to_review(pilot, desk, keys)
        review = str(pilot.app.screen.query_one("#review-summary").render())
        assert "1988-05-20" in review and "zhao min" in review and "二类钱包" in review
        await keys.press("f10")  # the customer agrees: the wallet is issued
        screen = pilot.app.screen
        assert step_of(pilot) == "welcome", screen.query_one("#onb-status").render()
        sheet = str(screen.query_one("#welcome-sheet").render())
        assert "客服热线（24小时）" in sheet and "400-000-0000" in sheet and "…" not in sheet
        pane = screen.query_one("#welcome-sheet").size.width  # drawn at the pane's width: no line wraps
        assert all(cell_len(line) <= pane for line in sheet.splitlines()), (pane, sheet)
        await keys.press("enter")  # open the new customer
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
        assert keys.count <= KEY_BUDGET, keys.log
        customer_id = pilot.app.screen.customer_id

    with desk.services.db.read() as s:
        c = s.execute(select(Customer).where(Customer.id_number == NEW_ID)).scalar_one()
        w = s.execute(select(Wallet).where(Wallet.customer_id == c.id)).scalar_one()
    assert c.id == customer_id and w.tier == 2
    assert c.name_latin == "zhao min" and c.birth_date == date(1988, 5, 20) and c.sex == "M"
    assert re.fullmatch(r"C\d{9}", c.customer_no), c.customer_no
    for query in ("zhao min", "zhaomin", "zhao"):
        page = desk.services.customers.search(query)
        assert c.id in [h.customer_id for h in page.results], query
    assert desk.services.customers.search(c.customer_no).results[0].customer_id == c.id


def test_review_page_at_80x24_in_chinese(snap_compare: Any, desk: Desk) -> None:
    async def run_before(pilot: Any) -> None:
        await to_review(pilot, desk, Keys(pilot))
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(desk.app, terminal_size=SIZE, run_before=run_before)
