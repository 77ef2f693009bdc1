"""The terminal on a lost database: a plain banner, the screen kept, a reconnect by itself."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from auth_fixtures import services  # noqa: F401  (the fixture)

from pilot_helpers import settle, teller_app
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import DatabaseUnavailable

pytestmark = pytest.mark.slow  # Pilot


async def test_database_unavailable_banner_keeps_screen_and_reconnects(services: Any, clock: FakeClock) -> None:
    app = teller_app(services, clock)
    back = threading.Event()
    probes: list[float | None] = []

    def fake_wait_available(timeout: float | None = None) -> bool:
        probes.append(timeout)
        return back.wait(0.01)

    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        app.sub_title = "B001 · T01"
        services.db.wait_available = fake_wait_available
        error = DatabaseUnavailable("The database cannot be reached. Your work is kept; the terminal will reconnect.")
        app.report_worker_error(SimpleNamespace(error=error, name="post"))  # as a failed posting worker
        await pilot.pause()  # not settle(): the reconnect worker runs until the database is back
        assert "reconnecting" in app.sub_title
        assert app.screen is screen  # the form in progress stays
        messages = [n.message for n in app._notifications]
        assert any("cannot be reached" in m for m in messages)
        back.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "B001 · T01"
        assert any("database is back" in n.message for n in app._notifications)
        assert probes
