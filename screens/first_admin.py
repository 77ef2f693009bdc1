"""First run: the person at the terminal creates the first administrator (then enrols TOTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets import content
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.auth.service import SignedIn

__all__ = ["FirstAdminScreen"]


class FirstAdminScreen(TellerScreen[None]):
    HELP = N_("No staff exist yet. Create the first administrator: choose a user name and a password of "
              "at least 12 characters (a phrase of several words works well). You will then set up an "
              "authenticator app.")
    BINDINGS = [
        Binding("f2", "app.switch_language", N_("中文/English"), id="language"),
        Binding("ctrl+j", "submit", N_("Create"), id="first_admin_submit", show=False),
    ]

    class Created(Message):
        def __init__(self, signed: SignedIn, password: str) -> None:
            super().__init__()
            self.signed = signed
            self.password = password

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="first-admin-box", classes="auth-box"):
            yield Static(_("Set up the first administrator"), classes="auth-title")
            yield Static(_("This database has no staff yet. The person you create here manages "
                           "everyone else."), classes="auth-subtitle")
            yield Label(_("User name (e.g. wang.fang)"), classes="field-label")
            yield Input(id="username", max_length=32)
            yield Label(_("Full name"), classes="field-label")
            yield Input(id="display_name", max_length=80)
            yield Label(_("Password (at least 12 characters)"), classes="field-label")
            yield Input(id="password", password=True, max_length=256)
            yield Label(_("Password again"), classes="field-label")
            yield Input(id="password2", password=True, max_length=256)
            yield Button(_("Create administrator"), id="submit", variant="primary")
            yield Static("", id="status", classes="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        order = ["username", "display_name", "password", "password2"]
        if event.input.id in order[:-1]:
            self.query_one(f"#{order[order.index(event.input.id) + 1]}", Input).focus()
        else:
            self.action_submit()

    def _status(self, text: str, error: bool = True) -> None:
        status = self.query_one("#status", Static)
        status.update(content(text))
        status.set_class(error, "error")

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        get = lambda name: self.query_one(f"#{name}", Input).value  # noqa: E731
        if get("password") != get("password2"):
            self._status(_("The two passwords differ; type them again."))
            self.query_one("#password2", Input).value = ""
            self.query_one("#password2", Input).focus()
            return
        self.query_one("#submit", Button).disabled = True
        self._status(_("Creating…"), error=False)
        self.create(get("username"), get("display_name"), get("password"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="first-admin")
    def create(self, username: str, display_name: str, password: str) -> None:
        app: Any = self.app
        auth = app.services.auth
        terminal = app.settings.terminal_id
        try:
            view = auth.create_first_admin(username, display_name, password, terminal_id=terminal)
            signed = auth.authenticate(view.username, password, "", terminal)
        except DomainError as exc:
            self.post_message(self.Failed(refusal_text(exc)))
            return
        self.post_message(self.Created(signed, password))

    def on_first_admin_screen_failed(self, message: Failed) -> None:
        self.query_one("#submit", Button).disabled = False
        self._status(message.text)

    def on_first_admin_screen_created(self, message: Created) -> None:
        app: Any = self.app
        app.first_run = False
        self.dismiss()
        app.start_session(message.signed, message.password)
