"""The database goes away while a cash-in form is open, at 80x24 in Chinese (real TellerApp on a real
PostgreSQL server, stopped): one notice for the outage (not a second "Not done" from the form), the banner,
the form and every footer key on screen; the notice stands above the keys, never over them."""

from __future__ import annotations

from typing import Any

import pytest

from desk_harness import fill_amount, make_desk, from_customer
from pilot_helpers import settle
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale
from teller_tui.db import schema
from teller_tui.db.engine import make_database
from test_offline_pg import wait_until
from test_zh_walk import screen_text

pytestmark = pytest.mark.slow  # a private PostgreSQL server, stopped; Pilot


async def test_outage_at_the_counter_fits_80x24_in_chinese(pg_server_factory: Any, tmp_path: Any) -> None:
    srv = pg_server_factory()
    srv.execute("CREATE DATABASE bank TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    db = make_database(srv.url("bank"), reconnect_seconds=1.0)
    schema.upgrade(db)
    desk = make_desk(tmp_path, tmp_path / "unused.db", db, FakeClock(), locale="zh_CN")
    try:
        async with desk.app.run_test(size=(80, 24), notifications=True) as pilot:
            app = pilot.app
            await desk.start(pilot)
            await from_customer(pilot, desk, "wang", "f5")
            await fill_amount(pilot, "300")
            srv._signal_stop("fast")  # the database goes away mid-day
            try:
                await pilot.press("f10")
                await wait_until(pilot, lambda: app.database_down, "the app to see the outage")
                await wait_until(pilot, lambda: bool(app.screen.query("#outage-banner")), "the banner")
                await pilot.pause(1.0)  # (no settle: the reconnect worker runs until the server is back)
                notices = [n for n in app._notifications if n.severity == "error"]
                assert len(notices) == 1, [(n.title, n.message) for n in notices]  # one notice per outage
                assert type(app.screen).__name__ == "CashInForm"
                lines = screen_text(app)
                assert "数据库无法连接" in lines[0] and "Ctrl+O" in lines[0], lines  # the banner
                footer = app.screen.query_one("KeyFooter")
                rack = app.screen.get_child_by_id("textual-toastrack")
                assert rack.region.bottom <= footer.region.y, (rack.region, footer.region)  # above the keys
                keys = "\n".join(lines[-footer.region.height:])
                for key in ("f10", "f12", "^o"):
                    assert key in keys, keys
                assert any("300" in line for line in lines)  # the form kept what was typed
            finally:
                srv._launch(retries=1)  # back, so that the app's reconnect worker ends with the test
                await wait_until(pilot, lambda: not app.database_down, "the reconnect", timeout=60)
    finally:
        set_locale("en")
        db.dispose()
