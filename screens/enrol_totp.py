"""Authenticator enrolment: QR code and secret, active after one valid code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .widgets import CodeInput, content
from .widgets.qr import QRCode
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.service import TotpEnrolment

__all__ = ["EnrolTotpScreen"]


class EnrolTotpScreen(TellerModal[bool]):
    """Dismisses True once the authenticator is active; False if the person gives up (signs out)."""

    HELP = N_("Scan the QR code with an authenticator app (or type the secret), then type the 6-digit "
              "code it shows. The code changes every 30 seconds.")
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="enrol_cancel"),
        Binding("ctrl+j", "submit", N_("Confirm"), id="enrol_submit", show=False),
    ]

    class Started(Message):
        def __init__(self, enrolment: TotpEnrolment) -> None:
            super().__init__()
            self.enrolment = enrolment

    class Confirmed(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, actor: Actor) -> None:
        super().__init__()
        self.actor = actor
        self.enrolment: TotpEnrolment | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="enrol-box", classes="auth-box dialog"):
            yield Static(_("Set up your authenticator"), classes="auth-title")
            with Horizontal(id="enrol-body"):
                yield QRCode(self.enrolment.uri if self.enrolment else "", id="qr")
                with Vertical(id="enrol-side"):
                    yield Static(_("1. Scan the code with an authenticator app on your phone."), classes="step")
                    yield Static(_("Or type this secret:"), classes="step")
                    yield Static(content(self.enrolment.grouped_secret if self.enrolment else "…"), id="secret")
                    yield Static(_("2. Type the 6-digit code the app shows."), classes="step")
                    yield Label(_("Code"), classes="field-label")
                    yield CodeInput(id="code")
                    yield Button(_("Confirm"), id="submit", variant="primary", disabled=self.enrolment is None)
                    yield Static("", id="status", classes="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#code", Input).focus()
        if self.enrolment is None:
            self.begin()

    @work(thread=True, exclusive=True, exit_on_error=False, group="enrol")
    def begin(self) -> None:
        app: Any = self.app
        self.post_message(self.Started(app.services.auth.begin_totp_enrolment(self.actor)))

    def on_enrol_totp_screen_started(self, message: Started) -> None:
        self.enrolment = message.enrolment
        self.query_one(QRCode).show(message.enrolment.uri)
        self.query_one("#secret", Static).update(content(message.enrolment.grouped_secret))
        self.query_one("#submit", Button).disabled = False

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        if self.enrolment is None:
            return
        self.query_one("#submit", Button).disabled = True
        self.confirm(self.query_one("#code", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="enrol")
    def confirm(self, code: str) -> None:
        app: Any = self.app
        try:
            app.services.auth.confirm_totp_enrolment(self.actor, code)
        except DomainError as exc:
            self.post_message(self.Failed(refusal_text(exc)))
            return
        self.post_message(self.Confirmed())

    def on_enrol_totp_screen_failed(self, message: Failed) -> None:
        self.query_one("#submit", Button).disabled = False
        self.query_one("#code", Input).value = ""
        status = self.query_one("#status", Static)
        status.update(content(message.text))
        status.set_class(True, "error")

    def on_enrol_totp_screen_confirmed(self, _message: Confirmed) -> None:
        self.app.notify(_("Authenticator set up. Use a new code each time you sign in."))
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
