"""The kiosk's idle warning: before a customer's session ends for lack of input, a countdown that
any key (or a touch) extends.

After ``kiosk_idle_seconds`` without input the warning covers the screen and counts down
:data:`WARNING_SECONDS` (never fewer than 20); a key or a click closes it and the session goes on
(the key only extends: it does nothing on the screen beneath). At zero the app ends the session
and returns to the welcome screen (``KioskApp.check_customer_idle``).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from teller_tui.common.i18n import _

from .base import KioskModal

__all__ = ["WARNING_SECONDS", "IdleWarning"]

#: How long the warning counts down before the session ends (at least 20 s: time to notice and react).
WARNING_SECONDS = 30


class IdleWarning(KioskModal):
    """"Are you still there?" with the seconds left; any key or click dismisses it."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__()
        self.seconds_left = seconds_left

    def compose(self) -> ComposeResult:
        with Vertical(id="idle-box", classes="kiosk-box"):
            yield Static(Content(_("Are you still there?")), classes="kiosk-title")
            yield Static(self._text(), id="idle-countdown", classes="kiosk-subtitle")
            yield Static(Content(_("Press any key or touch the screen to continue.")), classes="kiosk-hint")

    def _text(self) -> Content:
        return Content(_("For your security this session ends in {seconds} s.").format(seconds=self.seconds_left))

    def count(self, seconds_left: int) -> None:
        self.seconds_left = max(seconds_left, 0)
        if self.is_mounted:
            self.query_one("#idle-countdown", Static).update(self._text())

    def on_key(self, event: events.Key) -> None:
        event.stop()  # extends the session; does nothing else
        event.prevent_default()
        self.dismiss(None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        self.dismiss(None)
