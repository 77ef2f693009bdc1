"""The sign-in screen shows this terminal's offline queue as it is now (real TellerApp): cash still pending
is in this drawer and matters to the next teller; once settled, the sign-in screen says nothing of it
(it used to keep the last teller's figures after sign-out)."""

from __future__ import annotations

from typing import Any

import pytest

from desk_harness import make_desk
from pilot_helpers import settle
from screens.signin import SignInScreen
from teller_tui.common.money import Money
from teller_tui.offline.types import ItemStatus
from test_offline_counter import offline_call

pytestmark = pytest.mark.slow  # Pilot


def banner(app: Any) -> str:
    found = app.screen.query("#outage-banner")
    return str(found.first().render()) if found else ""


async def test_sign_in_screen_reads_the_queue_afresh(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    off, teller = desk.services.offline, desk.actor
    wang = desk.wallets["wang"]
    off.remember(teller, wang.wallet_id)
    first = offline_call(desk.services.db, off.take_cash_in)(teller, wang.number, Money.of("800"))  # database away
    desk.services.wallets.freeze(teller, wang.wallet_id, "fraud report")  # the books will refuse it
    supervisor = desk.services.auth.get_staff("chen").actor(desk.services.settings.terminal_id)
    async with desk.app.run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await desk.start(pilot)  # the upload at sign-in: refused, an exception in this drawer
        await settle(pilot)
        assert "refused by the books: 1" in banner(app)
        await pilot.press("f12")  # signed out with the exception still pending: the next teller sees it
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "refused by the books: 1" in banner(app) and "800.00" in banner(app)
        assert "Ctrl+E" in banner(app)
        # A supervisor settles it (at another screen of this terminal's queue) while nobody is signed in
        # here; the next time the sign-in screen shows, it says nothing more of it.
        off.refund(supervisor, first.item.key, "cash handed back")
        assert off.terminal_summary().empty
        clock.advance(seconds=31)  # a fresh authenticator code
        await desk.start(pilot)
        await settle(pilot)
        assert banner(app) == ""
        [item] = off.items(teller)
        assert item.status == ItemStatus.REFUNDED
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert banner(app) == "" and app.outage_text == ""

