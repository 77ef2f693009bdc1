"""Change password: forced after a one-time password, or chosen from the palette."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .widgets import content
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor

__all__ = ["ChangePasswordScreen"]


class ChangePasswordScreen(TellerModal[bool]):
    """Dismisses True once the password changed; False when cancelled (a required change then signs out)."""

    HELP = N_("At least 12 characters, any letters, digits, spaces or symbols, in any language. "
              "A phrase of several words is easy to remember and hard to guess.")
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="change_password_cancel"),
        Binding("ctrl+j", "submit", N_("Save"), id="change_password_submit", show=False),
    ]

    class Done(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, actor: Actor, *, current: str | None, required: bool) -> None:
        super().__init__()
        self.actor = actor
        self._current = current
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="change-password-box", classes="auth-box dialog"):
            yield Static(_("Choose a new password"), classes="auth-title")
            if self.required:
                yield Static(_("You signed in with a one-time password. Choose your own password to continue."),
                             classes="auth-subtitle")
            if self._current is None:
                yield Label(_("Current password"), classes="field-label")
                yield Input(id="current", password=True, max_length=256)
            yield Label(_("New password (at least 12 characters)"), classes="field-label")
            yield Input(id="new", password=True, max_length=256)
            yield Label(_("New password again"), classes="field-label")
            yield Input(id="new2", password=True, max_length=256)
            yield Button(_("Save password"), id="submit", variant="primary")
            yield Static("", id="status", classes="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#current" if self._current is None else "#new", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        order = [i.id for i in self.query(Input)]
        idx = order.index(event.input.id)
        if idx + 1 < len(order):
            self.query_one(f"#{order[idx + 1]}", Input).focus()
        else:
            self.action_submit()

    def _status(self, text: str) -> None:
        status = self.query_one("#status", Static)
        status.update(content(text))
        status.set_class(True, "error")

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        current = self._current if self._current is not None else self.query_one("#current", Input).value
        new, new2 = self.query_one("#new", Input).value, self.query_one("#new2", Input).value
        if new != new2:
            self._status(_("The two new passwords differ; type them again."))
            self.query_one("#new2", Input).value = ""
            self.query_one("#new2", Input).focus()
            return
        self.query_one("#submit", Button).disabled = True
        self.save(current, new)

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-password")
    def save(self, current: str, new: str) -> None:
        app: Any = self.app
        try:
            app.services.auth.change_password(self.actor, current, new)
        except DomainError as exc:
            self.post_message(self.Failed(refusal_text(exc)))
            return
        self.post_message(self.Done())

    def on_change_password_screen_failed(self, message: Failed) -> None:
        self.query_one("#submit", Button).disabled = False
        self._status(message.text)

    def on_change_password_screen_done(self, _message: Done) -> None:
        self._current = None
        if not self.required:
            self.app.notify(_("Password changed."))
        self.dismiss(True)

    def action_cancel(self) -> None:
        self._current = None
        self.dismiss(False)
