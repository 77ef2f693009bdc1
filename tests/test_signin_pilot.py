"""The sign-in journeys driven through the real app (``make_app`` with the test's services and clock)
with Pilot: every journey lands on the real home screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_fixtures import (  # noqa: F401  (fixtures: cheap_hashing is autouse, services)
    ADMIN_PW,
    SECRETS,
    TELLER_PW,
    cheap_hashing,
    code_for,
    make_settings,
    services,
    seed_staff,
)
from pilot_helpers import settle, teller_app
from textual.widgets import Input, Static

from screens.app import TellerApp, make_app
from screens.change_password import ChangePasswordScreen
from screens.enrol_totp import EnrolTotpScreen
from screens.first_admin import FirstAdminScreen
from screens.home import HomeScreen
from screens.lock import LockScreen
from screens.lookup import LookupScreen
from screens.signin import SignInScreen
from teller_tui.auth.service import MAX_FAILED_ATTEMPTS, failure_message
from teller_tui.common.clock import FakeClock


async def start_work(pilot: Any, text: str) -> Any:
    """Half-done work: F2 (find customer) and a query typed into it."""
    await pilot.press("f2")
    await settle(pilot)
    lookup = pilot.app.screen
    assert isinstance(lookup, LookupScreen)
    await pilot.press(*text)
    await settle(pilot)
    return lookup


async def fill_and_submit(app: TellerApp, pilot: Any, username: str, password: str, code: str) -> None:
    screen = app.screen
    screen.query_one("#username", Input).value = username
    screen.query_one("#password", Input).value = password
    screen.query_one("#code", Input).value = code
    screen.query_one("#code", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


def audit(services: Any, action: str | None) -> list[Any]:
    with services.db.read() as s:
        return services.audit.recent(s, action=action)


pytestmark = pytest.mark.slow  # Pilot (one plain test below, marked slow too: it starts a Python process)


async def test_sign_in_with_password_and_totp(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.services_ready and app.session is None
        await fill_and_submit(app, pilot, "wang", TELLER_PW, code_for(SECRETS["wang"], clock))
        assert isinstance(app.screen, HomeScreen)
        assert app.session is not None and app.session.staff.username == "wang"
        assert app.actor is not None and app.actor.terminal_id == services.settings.terminal_id
        # Sign-out is one key and returns to an empty sign-in screen.
        await pilot.press("f12")
        await settle(pilot)
        assert app.session is None and isinstance(app.screen, SignInScreen)
        assert app.screen.query_one("#password", Input).value == ""
    assert [r.outcome for r in audit(services, "sign_in")] == ["ok"]
    assert audit(services, "sign_out")[0].terminal_id == services.settings.terminal_id


async def test_ten_failures_lock_the_account(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for i in range(MAX_FAILED_ATTEMPTS):
            await fill_and_submit(app, pilot, "wang", f"wrong password {i}", "123456")
            status = str(app.screen.query_one("#status", Static).render())
            assert status == failure_message()
        assert services.auth.get_staff("wang").locked(clock.now())
        # Even the right password and code now fail, with the same message.
        clock.advance(seconds=30)
        await fill_and_submit(app, pilot, "wang", TELLER_PW, code_for(SECRETS["wang"], clock))
        assert isinstance(app.screen, SignInScreen) and app.session is None
        assert str(app.screen.query_one("#status", Static).render()) == failure_message()
    assert len(audit(services, "lockout")) == 1


async def test_first_admin_flow(services: Any, clock: FakeClock) -> None:
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstAdminScreen)
        for field, value in (("username", "boss"), ("display_name", "[@click=app.quit]Boss"),
                             ("password", ADMIN_PW), ("password2", ADMIN_PW)):
            app.screen.query_one(f"#{field}", Input).value = value
        app.screen.query_one("#password2", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EnrolTotpScreen)
        enrolment = app.screen.enrolment
        assert enrolment is not None and enrolment.uri.startswith("otpauth://totp/Teller:boss?")
        qr = str(app.screen.query_one("#qr", Static).render())
        assert "▀" in qr or "█" in qr
        # A wrong code first: the screen stays and says so.
        app.screen.query_one("#code", Input).value = "000000"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EnrolTotpScreen)
        app.screen.query_one("#code", Input).value = code_for(enrolment.secret, clock)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen), ([(r.action, r.outcome, r.detail) for r in reversed(audit(services, None))], list(app._notifications))
        assert app.session is not None and app.session.staff.role == "admin"
        # The display name is data: it reaches the screen literally.
        assert app.session.staff.display_name == "[@click=app.quit]Boss"
    assert services.auth.get_staff("boss").totp_active
    assert not services.auth.is_first_run()


async def test_one_time_password_forces_change_then_enrolment(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    admin = services.auth.get_staff("admin").actor("T01")
    _view, otp = services.auth.create_staff(admin, "zhou", "周七", "teller")
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await fill_and_submit(app, pilot, "zhou", otp, "")
        assert isinstance(app.screen, ChangePasswordScreen)
        app.screen.query_one("#new", Input).value = "my own long passphrase"
        app.screen.query_one("#new2", Input).value = "my own long passphrase"
        app.screen.query_one("#new2", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EnrolTotpScreen)
        secret = app.screen.enrolment.secret
        app.screen.query_one("#code", Input).value = code_for(secret, clock)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    view = services.auth.get_staff("zhou")
    assert not view.must_change_password and view.totp_active


async def test_idle_lock_keeps_work_for_same_person(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await fill_and_submit(app, pilot, "wang", TELLER_PW, code_for(SECRETS["wang"], clock))
        assert isinstance(app.screen, HomeScreen)
        work = await start_work(pilot, "13900")
        clock.advance(seconds=services.settings.idle_lock_seconds - 1)
        app.check_idle_lock()
        await settle(pilot)
        assert not isinstance(app.screen, LockScreen)
        clock.advance(seconds=1)
        app.check_idle_lock()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen) and app.locked
        assert app.screen.query_one("#username", Input).value == "wang"
        # Keys meant for the session do nothing while locked.
        assert app.check_action("sign_out", ()) is False
        await fill_and_submit(app, pilot, "wang", TELLER_PW, code_for(SECRETS["wang"], clock, 1))
        assert app.screen is work and not app.locked
        assert work.query_one("#lookup-query", Input).value == "13900"
        assert app.session is not None and app.session.staff.username == "wang"
    assert audit(services, "lock")[0].detail == {"reason": "idle"}
    assert audit(services, "unlock_screen")[0].outcome == "ok"


async def test_other_person_at_locked_terminal_gets_fresh_session(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await fill_and_submit(app, pilot, "wang", TELLER_PW, code_for(SECRETS["wang"], clock))
        first_work = await start_work(pilot, "13900")
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await fill_and_submit(app, pilot, "li", "supervisor passphrase 42", code_for(SECRETS["li"], clock))
        assert isinstance(app.screen, HomeScreen) and first_work not in app.screen_stack
        assert app.session is not None and app.session.staff.username == "li"
        assert len(app.screen_stack) == 2  # sign-in screen + li's home
    assert any(r.detail.get("reason") == "replaced_at_lock" for r in audit(services, "sign_out"))


async def test_language_switch_on_sign_in(services: Any, clock: FakeClock) -> None:
    from teller_tui.common import i18n

    zh = i18n.translations("zh_CN")
    # F1's label is "Help" since F1 opens our own help screen (screens/help.py), no longer "Keys".
    title_zh, keys_zh = zh.gettext("Teller workstation"), zh.gettext("Help")
    assert title_zh != "Teller workstation" and keys_zh != "Help"  # the shipped catalog translates them
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#username", Input).value = "wang"
        await pilot.press("f2")
        await settle(pilot)
        title = str(app.screen.query_one("#signin-title", Static).render())
        assert title == title_zh
        assert app.screen.query_one("#username", Input).value == "wang"
        # Key labels follow the language too.
        labels = {b.binding.description for b in app.screen.active_bindings.values()}
        assert keys_zh in labels
        await pilot.press("f2")
        await settle(pilot)
        assert str(app.screen.query_one("#signin-title", Static).render()) == "Teller workstation"


async def test_out_of_date_database_shows_clear_screen(tmp_path: Path, clock: FakeClock) -> None:
    from screens.startup import StartupErrorScreen

    settings = make_settings(tmp_path / "home", tmp_path / "empty.db", locale="en")
    app = make_app(settings, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
        assert "teller db upgrade" in app.screen.message
        assert not app.services_ready


def test_screens_import_without_sqlalchemy() -> None:
    import subprocess
    import sys

    code = ("import sys, screens.app, screens.signin; "
            "bad=[m for m in ('sqlalchemy','sqlmodel') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
