"""Helpers for Pilot tests on the real ``TellerApp`` (built by ``screens.app.make_app``).

``settle(pilot)`` is the one way a Pilot test waits: for the app's workers to finish and for
every message they posted to be handled, however many rounds that takes (a worker's result can
start another worker). No sleeps, no fixed number of pauses.

``sign_in(pilot, username, password, secret, clock)`` types the credentials into the real
sign-in screen with keys and waits until the person's home screen is up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import unicodedata

import pyotp
from textual import events
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from teller_tui.common.clock import FakeClock

__all__ = ["approve_here", "settle", "settle_until", "sign_in", "teller_app", "type_text", "code_for"]

#: Rounds after which ``settle`` gives up: a screen that keeps starting workers forever is a bug.
MAX_ROUNDS = 200


def _busy(pilot: Pilot[Any]) -> bool:
    app = pilot.app
    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
        return True
    if getattr(app, "held_keys", None) or getattr(app, "_key_in_flight", False):
        return True  # keys still waiting to be routed (screens.keyroute)
    nodes = [app, *app.screen_stack]
    nodes += list(app.screen.walk_children(with_self=False))
    return any(node.message_queue_size for node in nodes)


def teller_app(services: Any, clock: FakeClock) -> Any:
    """The real ``TellerApp`` on ``services`` (their settings) and ``clock``; ``run_test`` starts it."""
    from screens.app import make_app

    return make_app(services.settings, services=services, clock=clock)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker is running and no message is pending on the app or its screen."""
    for _ in range(MAX_ROUNDS):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerFailed, WorkerCancelled):
            # A failure is reported by the app's own handler (``report_worker_error``; tests assert on
            # that); a cancelled worker was replaced by a newer exclusive one (a poll, a search): both
            # are over, so wait for whatever is still running.
            pass
        await pilot.pause()
        if not _busy(pilot):
            return
    raise AssertionError(f"the app did not settle in {MAX_ROUNDS} rounds: "
                         f"{[w.name for w in pilot.app.workers if not w.is_finished]}")


async def settle_until(pilot: Pilot[Any], check: Callable[[], Any], tries: int = 6) -> None:
    """Settle, up to ``tries`` times 1.2 s apart, until ``check()`` is true: for what another app
    (a customer display polling the database) does on its own time. The caller asserts afterwards."""
    for _ in range(tries):
        await pilot.pause(1.2)
        await settle(pilot)
        if check():
            return


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` key by key into the focused widget."""
    await pilot.press(*text)


#: Key names of characters a terminal reports by name (the rest: their Unicode name, lower case).
_KEY_NAMES = {" ": "space", "-": "minus", "+": "plus", ".": "full_stop", ",": "comma", "/": "slash"}
#: Named keys a burst may hold: ``<tab>`` style tokens.
_NAMED = {"tab": "\t", "enter": "\r", "backspace": "\x7f", "escape": "\x1b", "down": None, "up": None,
          "left": None, "right": None, "shift+tab": None}


def _key(token: str) -> events.Key:
    if len(token) == 1:
        name = token if token.isalnum() else _KEY_NAMES.get(
            token, unicodedata.name(token, token).lower().replace("-", "_").replace(" ", "_"))
        return events.Key(name, token)
    return events.Key(token, _NAMED.get(token))


def burst_keys(text: str) -> list[str]:
    """``"wang<tab>secret<enter>"`` -> the key tokens, one per character or ``<name>``."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "<" and ">" in text[i:]:
            end = text.index(">", i)
            tokens.append(text[i + 1:end])
            i = end + 1
        else:
            tokens.append(text[i])
            i += 1
    return tokens


async def burst(pilot: Pilot[Any], text: str) -> None:
    """Deliver keys the way a terminal does when they arrive in one read (``tmux send-keys``, a fast
    typist, a password manager): every key is queued on the app before the first is handled.
    ``text`` holds characters and ``<tab>``/``<enter>``/``<ctrl+n>``… tokens. ``pilot.press`` cannot
    show the burst bug: it waits for the app to go idle after each key."""
    for token in burst_keys(text):
        pilot.app.post_message(_key(token).set_sender(pilot.app))
    await settle(pilot)


def code_for(secret: str, clock: FakeClock, offset_steps: int = 0) -> str:
    """The TOTP code an authenticator shows at the fake clock's time."""
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * offset_steps)


async def sign_in(pilot: Pilot[Any], username: str, password: str, secret: str, clock: FakeClock) -> None:
    """Sign ``username`` in at the real sign-in screen (keys only) and wait for the home screen."""
    from screens.signin import SignInScreen

    app: Any = pilot.app
    await settle(pilot)  # the startup worker: services open, the sign-in button enabled
    assert app.services_ready, "the app's services did not start"
    assert isinstance(app.screen, SignInScreen), app.screen
    app.screen.query_one("#username").focus()
    await type_text(pilot, username)
    await pilot.press("enter")  # to the password
    await type_text(pilot, password)
    await pilot.press("enter")  # to the code
    await type_text(pilot, code_for(secret, clock))
    await pilot.press("enter")  # submit
    await settle(pilot)
    assert app.session is not None and app.session.staff.username == username, \
        str(app.screen.query("#status").first().render()) if app.screen.query("#status") else app.screen


async def approve_here(pilot: Pilot[Any], username: str, password: str, secret: str, clock: FakeClock) -> Any:
    """At the approval dialog (``screens.approval.ApprovalScreen``): a supervisor present types user
    name, password and a fresh code (the clock moves one step: sign-ins used the current one), then
    Enter approves. Returns the dialog's request (``spec``)."""
    from screens.approval import ApprovalScreen

    app: Any = pilot.app
    await settle(pilot)
    assert isinstance(app.screen, ApprovalScreen), app.screen
    spec = app.screen.spec
    clock.advance(seconds=31)
    app.screen.query_one("#approval-user").focus()
    await type_text(pilot, username)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await type_text(pilot, code_for(secret, clock))
    await pilot.press("enter")
    await settle(pilot)
    assert not isinstance(app.screen, ApprovalScreen), str(app.screen.query_one("#approval-message").render())
    return spec
