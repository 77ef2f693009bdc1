"""The offline exception list on the real TellerApp (issue 26): a cash-in taken offline that the books
refused on upload (the wallet was frozen meanwhile) stays the drawer's cash: the banner says so, the
drawer shows it and refuses the end-of-day count; a supervisor refunds it with Ctrl+E and R."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Static

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, make_desk
from pilot_helpers import settle, sign_in
from teller_tui.audit.trail import Actor
from teller_tui.common.money import Money
from teller_tui.offline.types import ItemStatus
from test_offline_counter import offline_call

pytestmark = pytest.mark.slow  # Pilot


async def test_refused_upload_reaches_the_supervisor_and_is_refunded(tmp_path: Any, db_path: Any, db: Any,
                                                                     clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock)
    off, teller = desk.services.offline, desk.actor
    wang = desk.wallets["wang"]
    off.remember(teller, wang.wallet_id)
    taken = offline_call(desk.services.db, off.take_cash_in)(teller, wang.number, Money.of("800"))  # db away
    desk.services.wallets.freeze(teller, wang.wallet_id, "fraud report")  # meanwhile, elsewhere
    async with desk.app.run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await desk.start(pilot)  # signing in uploads the queue: the books now refuse it
        await settle(pilot)
        [item] = off.items(teller)
        assert item.status == ItemStatus.EXCEPTION and item.reason_code == "offline_wallet_frozen"
        await settle(pilot)
        assert "refused by the books: 1" in app.outage_text and "800.00" in app.outage_text
        assert "refused by the books" in str(app.screen.query_one("#outage-banner").render())
        await pilot.press("f10")  # the drawer: the offline cash is in it, the count waits
        await settle(pilot)
        assert "Offline, not posted" in str(app.screen.query_one("#drawer-facts", Static).render())
        await pilot.press("f4")
        await settle(pilot)
        assert type(app.screen).__name__ == "DrawerScreen"
        assert any("not in the books yet" in n.message for n in app._notifications)
        await pilot.press("ctrl+e")  # a teller has no exception list
        await settle(pilot)
        assert type(app.screen).__name__ == "DrawerScreen"
        await pilot.press("escape")
        await pilot.press("f12")  # the supervisor comes to this terminal
        await settle(pilot)
        clock.advance(seconds=31)
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, clock)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert type(app.screen).__name__ == "OfflineExceptionsScreen"
        table = app.screen.query_one("#offx-table", DataTable)
        assert table.row_count == 1
        assert "frozen" in str(app.screen.query_one("#offx-reason", Static).render())
        await pilot.press("r")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 0
        assert off.items(teller)[0].status == ItemStatus.REFUNDED
        await settle(pilot)
        assert app.outage_text == ""
        sup: Actor = app.actor
        assert off.exceptions(sup) == [] and sup.username == "chen"
        assert taken.item.reference in {n.message.split(":")[0] for n in app._notifications}
