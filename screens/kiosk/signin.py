"""Customer sign-in: phone or wallet number, wallet PIN, and the authenticator code where enrolled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

from .base import KioskScreen
from ..refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.kiosk.views import KioskSession

__all__ = ["KioskSignInScreen"]


class KioskSignInScreen(KioskScreen):
    KIOSK_ACTIONS = frozenset({"cancel"})
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="kiosk.signin.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.need_code = False
        self.busy = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="signin-box", classes="kiosk-box"):
            yield Static(Content(_("Sign in")), classes="kiosk-title")
            yield Label(_("Phone number or wallet number"), classes="kiosk-label")
            yield Input(id="identifier", max_length=24, restrict=r"[0-9+ ]*", classes="kiosk-input")
            yield Label(_("Wallet PIN (6 digits)"), classes="kiosk-label")
            yield Input(id="pin", password=True, max_length=6, restrict=r"[0-9]*", classes="kiosk-input")
            yield Label(_("Code from your authenticator app"), id="code-label", classes="kiosk-label")
            yield Input(id="code", max_length=6, restrict=r"[0-9]*", classes="kiosk-input")
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Sign in"), id="submit", variant="primary", classes="kiosk-button")
                yield Button(_("Cancel"), id="cancel", classes="kiosk-button")
            yield Static("", id="signin-status", classes="kiosk-status")

    def on_mount(self) -> None:
        self._show_code(False)
        self.query_one("#identifier", Input).focus()

    def _show_code(self, show: bool) -> None:
        self.need_code = show
        self.query_one("#code-label").display = show
        self.query_one("#code").display = show

    @on(Input.Submitted, "#identifier")
    def _to_pin(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        if self.busy:
            return
        ident = self.query_one("#identifier", Input).value
        pin = self.query_one("#pin", Input).value
        code = self.query_one("#code", Input).value if self.need_code else None
        if not ident.strip() or len(pin) != 6:
            self.status(_("Enter your phone or wallet number and your 6-digit PIN."))
            return
        self.busy = True
        self.status(_("Checking…"), error=False)
        self._sign_in(ident, pin, code)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.app.reset_to_welcome()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-signin")
    def _sign_in(self, ident: str, pin: str, code: str | None) -> None:
        from teller_tui.kiosk.pins import CodeRequired

        app: Any = self.app
        try:
            session = app.services.kiosk.sign_in(app.actor, ident, pin, code)
        except CodeRequired as exc:
            app.call_from_thread(self._code_needed, refusal_text(exc))
            return
        except DomainError as exc:
            app.call_from_thread(self._failed, refusal_text(exc), exc.code)
            return
        app.call_from_thread(self._succeeded, session)

    def _succeeded(self, session: KioskSession) -> None:
        self.busy = False
        self.query_one("#pin", Input).value = ""
        self.query_one("#code", Input).value = ""
        self.app.start_customer(session)

    def _code_needed(self, text: str) -> None:
        self.busy = False
        self._show_code(True)
        self.status(text, error=False)
        self.query_one("#code", Input).focus()

    def _failed(self, text: str, code: str | None = None) -> None:
        self.busy = False
        self.help_refusal = code
        self.query_one("#pin", Input).value = ""
        self.query_one("#code", Input).value = ""
        self.status(text + ("  " + _("F1: help") if code else ""))
        self.query_one("#pin", Input).focus()

    def status(self, text: str, *, error: bool = True) -> None:
        widget = self.query_one("#signin-status", Static)
        widget.update(Content(text))
        widget.set_class(error, "error")
