"""The signed-in customer changes their wallet PIN (key 3 on the kiosk home): old PIN, new PIN twice.

The core (:class:`teller_tui.kiosk.pin_change.KioskPinChange`) checks the old PIN with the kiosk's
lockout and the new one with onboarding's rules. A wrong old PIN can be tried again until the lock;
the try that locks ends the session and, after a few seconds, the kiosk goes back to the welcome.
Dismisses with True when the PIN was changed.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

from .base import KioskModal
from ..refusal_text import refusal_text

__all__ = ["KioskPinChangeScreen", "LOCKED_BACK_SECONDS"]

#: How long the "PIN locked" sentence stays before the kiosk goes back to the welcome.
LOCKED_BACK_SECONDS = 6.0


class KioskPinChangeScreen(KioskModal):
    KIOSK_ACTIONS = frozenset({"cancel"})
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="kiosk.pin_change.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="pin-change-box", classes="kiosk-box"):
            yield Static(Content(_("Change your wallet PIN")), classes="kiosk-title")
            yield Label(_("Your current PIN"), classes="kiosk-label")
            yield Input(id="old-pin", password=True, max_length=6, restrict=r"[0-9]*", classes="kiosk-input")
            yield Label(_("New PIN (6 digits, not easy to guess)"), classes="kiosk-label")
            yield Input(id="new-pin", password=True, max_length=6, restrict=r"[0-9]*", classes="kiosk-input")
            yield Label(_("New PIN again"), classes="kiosk-label")
            yield Input(id="new-again", password=True, max_length=6, restrict=r"[0-9]*", classes="kiosk-input")
            yield Static("", id="pin-change-status", classes="kiosk-status")  # above the buttons: seen at 80x24
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Change PIN"), id="submit", variant="primary", classes="kiosk-button")
                yield Button(_("Cancel"), id="cancel", classes="kiosk-button")

    def on_mount(self) -> None:
        self.query_one("#old-pin", Input).focus()

    @on(Input.Submitted, "#old-pin")
    def _to_new(self) -> None:
        self.query_one("#new-pin", Input).focus()

    @on(Input.Submitted, "#new-pin")
    def _to_again(self) -> None:
        self.query_one("#new-again", Input).focus()

    @on(Input.Submitted, "#new-again")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        if self.busy:
            return
        old, new, again = (self.query_one(f"#{name}", Input).value for name in ("old-pin", "new-pin", "new-again"))
        if len(old) != 6 or len(new) != 6 or len(again) != 6:
            self.status(_("Enter your current PIN and the new 6-digit PIN twice."))
            return
        self.busy = True
        self.status(_("Checking…"), error=False)
        self._change(old, new, again)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-pin-change")
    def _change(self, old: str, new: str, again: str) -> None:
        from teller_tui.kiosk.pins import PinLocked

        app: Any = self.app
        try:
            app.services.kiosk_pin_change.change_pin(app.actor, app.session, old, new, again)
        except PinLocked as exc:
            app.call_from_thread(self._locked, refusal_text(exc))
            return
        except DomainError as exc:
            app.call_from_thread(self._failed, refusal_text(exc), exc.code == "kiosk_old_pin")
            return
        app.call_from_thread(self.dismiss, True)

    def _failed(self, text: str, old_wrong: bool) -> None:
        self.busy = False
        for name in ("old-pin", "new-pin", "new-again"):
            if old_wrong or name != "old-pin":
                self.query_one(f"#{name}", Input).value = ""
        self.status(text)
        self.query_one("#old-pin" if old_wrong else "#new-pin", Input).focus()

    def _locked(self, text: str) -> None:
        for widget in self.query(Input):
            widget.disabled = True
        self.query_one("#submit", Button).disabled = True
        self.status(text)
        self.set_timer(LOCKED_BACK_SECONDS, self.app.reset_to_welcome)  # the core ended the session

    def status(self, text: str, *, error: bool = True) -> None:
        widget = self.query_one("#pin-change-status", Static)
        widget.update(Content(text))
        widget.set_class(error, "error")
