"""The progressive start (issue 25) through the real app opening its own database (``make_app(settings)``,
no services given): the sign-in is usable once the database is open and checked, the core (models,
services) loads after it in the same worker, and a sign-in submitted before the core is ready waits
for it and lands on the desk. Storage faults still stop the start on the startup error screen, and a
database without staff still reaches the first administrator's screen.

The core's build is held back with a gate (``make_services`` runs for real, only later) so that
"before the core is ready" is a fact of the test, not a race it usually wins."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from auth_fixtures import (  # noqa: F401  (cheap_hashing is an autouse fixture)
    SECRETS,
    TELLER_PW,
    cheap_hashing,
    code_for,
    make_settings,
    make_test_services,
    seed_staff,
)
from pilot_helpers import _key, burst_keys, settle
from textual.widgets import Button, Input, Static

import teller_tui.services as services_module
from screens.app import make_app
from screens.first_admin import FirstAdminScreen
from screens.home import HomeScreen
from screens.signin import SignInScreen
from screens.startup import StartupErrorScreen
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale

pytestmark = pytest.mark.slow  # Pilot


@pytest.fixture(autouse=True)
def english() -> Any:
    set_locale("en")
    yield
    set_locale("en")


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """``make_services`` (the real one) waits in the app's worker until the test opens the gate."""
    opened = threading.Event()
    real = services_module.make_services
    seen: dict[str, Any] = {}

    def held(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            return real(*args, **kwargs)  # the test's own seeding
        seen["database"] = kwargs.get("database")
        assert opened.wait(30), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(services_module, "make_services", held)
    opened.seen = seen  # type: ignore[attr-defined]
    return opened


async def wait_for(pilot: Any, condition: Any, what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def post_burst(app: Any, text: str) -> None:
    """Every key queued on the app at once, as a terminal delivers one read (tmux send-keys)."""
    for token in burst_keys(text):
        app.post_message(_key(token).set_sender(app))


async def test_burst_sign_in_before_the_core_is_ready_lands_on_the_desk(
        tmp_path: Path, db_path: Path, clock: FakeClock, gate: threading.Event) -> None:
    home = tmp_path / "home"
    seeding = make_test_services(home, db_path, clock, locale="en")
    seed_staff(seeding)
    seeding.close()
    app = make_app(make_settings(home, db_path, locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        # Typed in one burst at the first frame, before the database is even open.
        post_burst(app, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter>")
        await wait_for(pilot, lambda: app.database_ready, "the database to open")
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        await wait_for(pilot, lambda: getattr(screen, "_submit_when_ready", False), "the queued Enter")
        # Usable sign-in, core still loading: the submit waits and says so.
        assert not app.services_ready and app.services is None
        assert screen.query_one("#username", Input).value == "wang"
        assert str(screen.query_one("#status", Static).render()) == "Loading…"
        assert screen.query_one("#submit", Button).disabled
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen), app.screen
        assert app.session is not None and app.session.staff.username == "wang"
        # The engines opened for the sign-in are the services' own: the database was opened once.
        database = gate.seen["database"]  # type: ignore[attr-defined]
        assert database is not None and app.services is not None and app.services.db is database


async def test_sign_in_is_usable_before_the_core_loads(tmp_path: Path, db_path: Path, clock: FakeClock,
                                                       gate: threading.Event) -> None:
    home = tmp_path / "home"
    seeding = make_test_services(home, db_path, clock, locale="en")
    seed_staff(seeding)
    seeding.close()
    app = make_app(make_settings(home, db_path, locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.database_ready, "the database to open")
        screen = app.screen
        assert isinstance(screen, SignInScreen) and not app.services_ready
        assert not screen.query_one("#submit", Button).disabled  # usable: the person may type and submit
        assert str(screen.query_one("#status", Static).render()) == ""
        await pilot.press(*"wang")
        assert screen.query_one("#username", Input).value == "wang"
        gate.set()
        await settle(pilot)
        assert app.services_ready and isinstance(app.screen, SignInScreen)


async def test_a_storage_fault_at_start_shows_the_startup_error_screen(tmp_path: Path, clock: FakeClock) -> None:
    broken = tmp_path / "teller.db"
    broken.write_bytes(b"this is not a database file, whatever its name says" * 100)
    app = make_app(make_settings(tmp_path / "home", broken, locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen), app.screen
        assert "Reference" in app.screen.message
        assert not app.database_ready and not app.services_ready
        # The sign-in underneath was never usable.
        sign_in = app.screen_stack[0]
        assert isinstance(sign_in, SignInScreen) and sign_in.query_one("#submit", Button).disabled


async def test_an_out_of_date_schema_stops_before_the_sign_in_is_usable(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(make_settings(tmp_path / "home", tmp_path / "empty.db", locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
        assert "teller db upgrade" in app.screen.message and app.screen.upgrade_hint
        assert not app.database_ready


async def test_first_run_reaches_the_first_admin_screen_even_after_an_early_enter(
        tmp_path: Path, db_path: Path, clock: FakeClock, gate: threading.Event) -> None:
    app = make_app(make_settings(tmp_path / "home", db_path, locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        post_burst(app, "boss<tab>x<enter>")  # no staff yet, but someone typed ahead
        await wait_for(pilot, lambda: app.database_ready, "the database to open")
        await asyncio.sleep(0.05)
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, FirstAdminScreen), app.screen
        assert app.first_run
        # The keys held behind the queued Enter are released: the first administrator can type.
        field = app.screen.query_one("#username", Input)
        field.focus()
        await pilot.press(*"boss")
        await settle(pilot)
        assert field.value == "boss"


async def test_kiosk_language_chosen_before_the_core_is_ready_goes_on_when_it_is(
        tmp_path: Path, db_path: Path, clock: FakeClock, gate: threading.Event) -> None:
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.signin import KioskSignInScreen
    from screens.kiosk.welcome import WelcomeScreen

    app = make_kiosk_app(make_settings(tmp_path / "home", db_path, locale="zh_CN"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.database_ready, "the database to open")
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen) and not app.ready
        assert not welcome.query_one("#lang-en", Button).disabled  # usable while the core loads
        await pilot.click("#lang-en")
        await pilot.pause()
        assert app.waiting_for_core and isinstance(app.screen, WelcomeScreen)
        assert "Starting" in str(welcome.query_one("#welcome-status", Static).render())
        assert welcome.query_one("#lang-en", Button).disabled
        gate.set()
        await settle(pilot)
        assert app.ready and isinstance(app.screen, KioskSignInScreen), app.screen
        assert not app.waiting_for_core


async def test_kiosk_storage_fault_at_start_is_out_of_service(tmp_path: Path, clock: FakeClock) -> None:
    from screens.kiosk.app import make_kiosk_app

    broken = tmp_path / "teller.db"
    broken.write_bytes(b"this is not a database file, whatever its name says" * 100)
    app = make_kiosk_app(make_settings(tmp_path / "home", broken, locale="zh_CN"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        welcome = app.screen
        status = str(welcome.query_one("#welcome-status", Static).render())
        assert "暂停服务" in status and "损坏" in status  # out of service: the database file is damaged
        assert not app.usable and welcome.query_one("#lang-zh", Button).disabled


async def test_a_core_failure_after_an_early_sign_in_shows_the_error_screen_and_frees_the_keys(
        tmp_path: Path, db_path: Path, clock: FakeClock, gate: threading.Event) -> None:
    home = tmp_path / "home"
    seeding = make_test_services(home, db_path, clock, locale="en")
    seed_staff(seeding)
    seeding.close()
    app = make_app(make_settings(home, db_path, locale="en"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        post_burst(app, f"wang<tab>{TELLER_PW}<tab>000000<enter>")
        await wait_for(pilot, lambda: app.database_ready, "the database to open")
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "_submit_when_ready", False), "the queued Enter")
        assert app.keys_on_hold
        # The database file is damaged while the core loads: the core's first read fails.
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{db_path}{suffix}")
            if path.exists():
                path.write_bytes(b"\0garbage, not a database" * 4096)
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen), app.screen
        assert not app.services_ready and app.session is None
        assert not app.keys_on_hold  # the error screen gets the keys
