"""Keys that arrive in one read reach the widget focused when each is processed, in order
(``screens.keyroute``): a whole sign-in in one burst, Enter between fields, a paste holding Tabs,
and a priority binding right after typed digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_fixtures import (  # noqa: F401  (fixtures: cheap_hashing is autouse, services)
    SECRETS,
    TELLER_PW,
    cheap_hashing,
    code_for,
    services,
    seed_staff,
)
from pilot_helpers import burst, settle, teller_app
from textual import events
from textual.widgets import Input

from screens.home import HomeScreen
from screens.keyroute import paste_as_keys, split_alt
from screens.lookup import LookupScreen
from screens.signin import SignInScreen
from screens.widgets.results import ResultList
from teller_tui.common.clock import FakeClock


def test_paste_as_keys() -> None:
    keys = paste_as_keys("ab\tc d\r\nx")
    assert [(k.key, k.character) for k in keys] == [
        ("a", "a"), ("b", "b"), ("tab", "\t"), ("c", "c"), (" ", " "), ("d", "d"), ("enter", "\r"), ("x", "x")]


@pytest.mark.slow
@pytest.mark.parametrize("separator", ["<tab>", "<enter>"])
async def test_sign_in_in_one_burst(services: Any, clock: FakeClock, separator: str) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        code = code_for(SECRETS["wang"], clock)
        await burst(pilot, f"wang{separator}{TELLER_PW}{separator}{code}<enter>")
        assert app.session is not None and app.session.staff.username == "wang"
        assert isinstance(app.screen, HomeScreen)
        # Nothing typed for the password stayed in the user-name field (where it would show in clear).
        assert app.screen_stack[0].query_one("#username", Input).value == ""


@pytest.mark.slow
async def test_password_manager_paste(services: Any, clock: FakeClock) -> None:
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        code = code_for(SECRETS["wang"], clock)
        app.post_message(events.Paste(f"wang\t{TELLER_PW}\t{code}\n").set_sender(app))
        await settle(pilot)
        assert app.session is not None and app.session.staff.username == "wang"


@pytest.mark.slow
async def test_burst_across_screens_and_priority_keys(services: Any, clock: FakeClock) -> None:
    """F2 opens the lookup and the digits after it land in its query field; a priority binding
    (pagedown) sent right after the digits sees them all."""
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter>")
        assert isinstance(app.screen, HomeScreen)
        await burst(pilot, "<f2>13900")
        assert isinstance(app.screen, LookupScreen)
        assert app.screen.query_one("#lookup-query", Input).value == "13900"


@pytest.mark.slow
async def test_ctrl_n_right_after_typing_checks_what_is_on_screen(tmp_path: Path, db_path: Path, db: Any,
                                                                  clock: FakeClock) -> None:
    """ctrl+n (a priority binding) in the same burst as the ID number validates the full number."""
    from datetime import date

    from desk_harness import make_desk

    from teller_tui.wallets.identity import make_prc_id

    desk = make_desk(tmp_path, db_path, db, clock)
    number = make_prc_id("310101", date(1988, 5, 20), 21, "M")
    async with desk.signed_in(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == "OnboardingScreen" and screen.step == "identity"
        screen.query_one("#identity-expiry", Input).value = "2036-01-01"
        screen.query_one("#identity-in_person").value = True
        screen.query_one("#identity-number", Input).focus()
        await burst(pilot, number + "<ctrl+n>")
        assert screen.step == "personal", str(screen.query_one("#onb-status").render())


@pytest.mark.slow
@pytest.mark.parametrize("hold", [True, False])
async def test_keys_before_the_first_focus_wait_for_the_sign_in_field(services: Any, clock: FakeClock,
                                                                       hold: bool) -> None:
    """A browser page sends keys the moment it loads, while the app is still starting: they reach
    the user-name field once the sign-in screen has focused it. Without the hold (the negative
    control) the first of them went to a screen with no field and was lost."""
    seed_staff(services)
    app = teller_app(services, clock)
    app.HOLD_KEYS_UNTIL_FOCUS = hold
    for ch in "wang":  # in the app's queue before it has even mounted its first screen
        app.post_message(events.Key(ch, ch))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)
        await settle(pilot)
        typed = app.screen.query_one("#username", Input).value
    if hold:
        assert typed == "wang", typed
    else:
        assert typed != "wang", typed  # the first key, at least, was lost


@pytest.mark.slow
async def test_keys_after_the_sign_in_reach_the_desk(services: Any, clock: FakeClock) -> None:
    """F2 in the same burst as the sign-in opens the lookup on the desk (not the sign-in screen's
    language switch) and the digits after it land in the lookup's field."""
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter><f2>139")
        assert app.session is not None
        assert isinstance(app.screen, LookupScreen), app.screen
        assert app.screen.query_one("#lookup-query", Input).value == "139"
        assert app.screen_stack[0].query_one("#username", Input).value == ""


@pytest.mark.slow
async def test_escape_then_ctrl_k_in_one_burst(services: Any, clock: FakeClock) -> None:
    """Esc closes the lookup and Ctrl+K, sent with it, opens the case queue from home."""
    from screens.cases import CaseQueueScreen

    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter>")
        assert isinstance(app.screen, HomeScreen)
        await burst(pilot, "<f2>")
        assert isinstance(app.screen, LookupScreen)
        await burst(pilot, "<escape><ctrl+k>")
        assert isinstance(app.screen, CaseQueueScreen), app.screen


def test_split_alt() -> None:
    """Esc then j in one read reaches Textual as alt+j: routed as the two keys typed."""
    keys = split_alt(events.Key("alt+j", "j"))
    assert keys is not None and [(k.key, k.character) for k in keys] == [("escape", "\x1b"), ("j", "j")]
    assert split_alt(events.Key("j", "j")) is None
    assert split_alt(events.Key("ctrl+k", "\x0b")) is None


@pytest.mark.slow
async def test_escape_then_letter_read_as_alt(services: Any, clock: FakeClock) -> None:
    """What a terminal delivers for Esc then j typed fast (alt+j): the lookup closes and j opens the
    journal from home."""
    from screens.journal import JournalScreen

    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter><f2>")
        assert isinstance(app.screen, LookupScreen)
        app.post_message(events.Key("alt+j", "j").set_sender(app))
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen), app.screen
        assert len(app.screen_stack) == 3  # sign-in, home, journal: the lookup was closed


@pytest.mark.slow
async def test_ctrl_k_alone_from_the_lookup(services: Any, clock: FakeClock) -> None:
    """What a terminal delivers for Esc then Ctrl+K typed fast (Ctrl+K alone): the case queue opens."""
    from screens.cases import CaseQueueScreen

    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter><f2>13")
        assert isinstance(app.screen, LookupScreen)
        await burst(pilot, "<ctrl+k>")
        assert isinstance(app.screen, CaseQueueScreen), app.screen


@pytest.mark.slow
async def test_lookup_table_needs_no_horizontal_scroll_at_120(services: Any, clock: FakeClock) -> None:
    """At 120 columns the lookup's table fits its width: a horizontal scrollbar (one cell over) was
    repainted with every keystroke's frame, most of what the lookup cost beyond an empty Input."""
    seed_staff(services)
    app = teller_app(services, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await burst(pilot, f"wang<tab>{TELLER_PW}<tab>{code_for(SECRETS['wang'], clock)}<enter><f2>139")
        table = app.screen.query_one("#lookup-results", ResultList)
        assert table.max_scroll_x == 0 and not table.show_horizontal_scrollbar, table.virtual_size
