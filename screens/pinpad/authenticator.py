"""The customer sets up an authenticator app on the customer display (the teller started it).

The customer first types the wallet PIN (counted with wrong PINs everywhere); the display then shows
the QR code (dark modules on a light ground, whatever the theme), the secret in
groups of four (to type instead of scanning) and the ``otpauth://`` URI; the customer types the
6-digit code the app then shows, Enter. The secret is the one the service made for this request;
nothing is stored on the customer until that code is right
(:meth:`teller_tui.kiosk.pad_credentials.PadCredentials.enrol_authenticator`). Escape says no.
Dismisses with the text the waiting screen shows next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import _
from teller_tui.consent.spec import KIND_TITLES

from ..kiosk.base import KioskModal

if TYPE_CHECKING:
    from teller_tui.kiosk.pad_credentials import AuthenticatorOffer
    from teller_tui.kiosk.pinpad import ConsentPrompt

__all__ = ["PadAuthenticatorScreen", "grouped"]

#: Refusals after which the customer may simply type the code again.
RETRY_CODES = frozenset({"totp_code", "totp_code_invalid", "totp_format"})


def grouped(secret: str) -> str:
    """``JBSW Y3DP EHPK …``: the secret in groups of four, easier to type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


class PadAuthenticatorScreen(KioskModal):
    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "decline", show=False, id="pinpad.totp_decline")]
    KIOSK_ACTIONS = frozenset({"decline"})
    DEFAULT_CSS = """
    PadAuthenticatorScreen { align: center middle; background: $background; }
    #totp-box { width: 100%; height: auto; max-height: 100%; }
    #totp-qr { width: auto; height: auto; color: black; background: white; margin: 0 1 0 0; }
    #totp-side { width: 1fr; height: auto; }
    #totp-title { text-style: bold; color: $primary; padding: 0 0 1 0; }
    #totp-secret { text-style: bold; padding: 1 0 0 0; }
    #totp-uri { color: $text-muted; padding: 1 0 0 0; }
    #totp-code { width: 24; margin: 1 0 0 0; }
    #totp-status { text-style: bold; padding: 1 0 0 0; }
    """

    class Offered(Message):
        def __init__(self, offer: AuthenticatorOffer | None, error: str = "") -> None:
            super().__init__()
            self.offer, self.error = offer, error

    class PinWrong(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Answer(Message):
        def __init__(self, text: str, done: bool) -> None:
            super().__init__()
            self.text, self.done = text, done

    def __init__(self, prompt: ConsentPrompt) -> None:
        super().__init__()
        self.prompt = prompt
        self.offer: AuthenticatorOffer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="totp-box"):
            yield Static("", id="totp-qr")
            with Vertical(id="totp-side"):
                yield Static(Content(_(KIND_TITLES["totp_enrol"])), id="totp-title")
                yield Static(Content(_("Type your wallet PIN, Enter. Escape: No.")), id="totp-how")
                yield Input(id="totp-pin", password=True, max_length=6, restrict=r"[0-9]*",
                            placeholder=_("Wallet PIN"))
                yield Static(Content(""), id="totp-secret")
                yield Static(Content(""), id="totp-uri")
                yield Input(id="totp-code", max_length=6, restrict=r"[0-9]*", placeholder=_("6-digit code"))
                yield Static(Content(_("Then type the 6-digit code the app shows, Enter. Escape: No.")),
                             id="totp-status")

    def on_mount(self) -> None:
        self.query_one("#totp-code", Input).display = False
        self.query_one("#totp-status", Static).display = False
        self.query_one("#totp-pin", Input).focus()

    @on(Input.Submitted, "#totp-pin")
    def _pin_submitted(self, event: Input.Submitted) -> None:
        if self.offer is None:
            self.query_one("#totp-how", Static).update(Content(_("Checking…")))
            self._offer(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-totp")
    def _offer(self, pin: str) -> None:
        app: Any = self.app
        try:
            offer = app.services.pad_credentials.authenticator_offer(app.actor, app.link, self.prompt.request_id,
                                                                     pin)
        except DomainError as exc:
            if exc.code == "consent_pin":  # wrong but not locked: type it again
                self.post_message(self.PinWrong(str(exc)))
                return
            self.post_message(self.Offered(None, str(exc)))
            return
        self.post_message(self.Offered(offer))

    @on(PinWrong)
    def _pin_wrong(self, message: PinWrong) -> None:
        self.query_one("#totp-pin", Input).value = ""
        self.query_one("#totp-how", Static).update(Content(message.text))

    @on(Offered)
    def _offered(self, message: Offered) -> None:
        if message.offer is None:
            self.dismiss(message.error)
            return
        self.offer = message.offer
        self.query_one("#totp-pin", Input).display = False
        self.query_one("#totp-code", Input).display = True
        self.query_one("#totp-status", Static).display = True
        self.query_one("#totp-how", Static).update(
            Content(_("Scan the code with your authenticator app, or type the key:")))
        self.query_one("#totp-qr", Static).update(Content(message.offer.qr))
        self.query_one("#totp-secret", Static).update(Content(grouped(message.offer.secret)))
        self.query_one("#totp-uri", Static).update(Content(message.offer.uri))
        self.query_one("#totp-code", Input).focus()

    @on(Input.Submitted, "#totp-code")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.offer is not None:
            self.query_one("#totp-status", Static).update(Content(_("Checking…")))
            self._enrol(self.offer.secret, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-totp")
    def _enrol(self, secret: str, code: str) -> None:
        app: Any = self.app
        try:
            app.services.pad_credentials.enrol_authenticator(app.actor, app.link, self.prompt.request_id, secret,
                                                             code)
        except DomainError as exc:
            self.post_message(self.Answer(str(exc), exc.code not in RETRY_CODES))
            return
        self.post_message(self.Answer(_("Your authenticator app is set up. Thank you."), True))

    @on(Answer)
    def _answer(self, message: Answer) -> None:
        if message.done:
            self.dismiss(message.text)
            return
        self.query_one("#totp-code", Input).value = ""
        self.query_one("#totp-status", Static).update(Content(message.text))

    def action_decline(self) -> None:
        self._decline()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-totp")
    def _decline(self) -> None:
        app: Any = self.app
        try:
            app.services.pinpad.decline(app.actor, app.link, self.prompt.request_id)
        except DomainError:
            pass
        self.post_message(self.Answer(_("Not agreed. Your teller will continue."), True))
