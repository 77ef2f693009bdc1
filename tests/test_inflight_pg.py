"""PostgreSQL stopped mid-submit, then started: the form says "not known yet — checking", never "Refused",
and once the server answers it shows the outcome looked up by the submission's key."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Static

from desk_harness import fill_amount, ids, make_desk, from_customer
from pilot_helpers import settle
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale
from teller_tui.db import schema
from teller_tui.db.engine import make_database


pytestmark = pytest.mark.slow  # a private PostgreSQL server, stopped and started; Pilot


async def wait_until(pilot: Any, condition: Any, what: str, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds (a real server comes and goes: no settle())."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def test_server_stopped_mid_submit_then_started(pg_server_factory: Any, tmp_path: Any) -> None:
    srv = pg_server_factory()
    srv.execute("CREATE DATABASE bank TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    db = make_database(srv.url("bank"), reconnect_seconds=1.0)
    schema.upgrade(db)
    clock = FakeClock()
    desk = make_desk(tmp_path, tmp_path / "unused.db", db, clock)
    before = ids(desk, "cash_in")
    seen: list[str] = []
    try:
        async with desk.signed_in(size=(120, 40)) as pilot:
            await from_customer(pilot, desk, "wang", "f5")
            form = await fill_amount(pilot, "500")
            original = form._set_message

            def spy(text: str, kind: str = "") -> None:
                seen.append(text)
                original(text, kind)

            form._set_message = spy
            await pilot.press("enter")
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "ConfirmScreen"
            srv._signal_stop("fast")  # the server goes away between the confirmation and the posting
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Not known yet — checking…" in seen, "the form to say it is checking")
            assert "reconnecting" in pilot.app.sub_title  # the app's banner started too
            assert not any("Refused" in m for m in seen)
            assert [s.key for s in desk.services.inflight.pending(desk.actor)] == [form.idempotency_key]
            srv._launch(retries=1)  # the server is back (same data directory and port)
            await wait_until(pilot, lambda: any(m.startswith("Not posted") for m in seen) or
                             type(pilot.app.screen).__name__ == "ReceiptScreen", "the outcome")
            if type(pilot.app.screen).__name__ == "ReceiptScreen":  # the COMMIT had reached the server
                assert len(ids(desk, "cash_in")) == len(before) + 1
            else:
                message = str(pilot.app.screen.query_one("#cash-message", Static).render())
                assert message.startswith("Not posted: the database did not answer in time.")
                assert ids(desk, "cash_in") == before
                # The same form posts it now, once, with the same key.
                await pilot.press("enter")
                await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmScreen", "confirm")
                await pilot.press("enter")
                await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ReceiptScreen", "the receipt")
                assert len(ids(desk, "cash_in")) == len(before) + 1
            await wait_until(pilot, lambda: "reconnecting" not in pilot.app.sub_title, "the banner to go")
            await wait_until(pilot, lambda: not desk.services.inflight.pending(desk.actor), "the journal to clear")
            assert not any("Refused" in m for m in seen)
    finally:
        set_locale("en")
        db.dispose()
