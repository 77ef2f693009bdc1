"""The customer display: paired with one teller terminal, it shows the customer what they are asked
to agree to (what, how much, to whom) in large type and in their language, and takes their PIN.

It is locked down exactly like the kiosk (it *is* a :class:`~screens.kiosk.app.KioskApp`, with its own
identity ``kiosk-pad-<terminal>``): no quit, palette, suspend or screenshot. One screen, four states:
pairing (type the code shown on the teller's screen), waiting, a request (PIN, Enter; Escape says
no), a PIN reset (new PIN twice), a PIN change (current PIN, new PIN twice), an authenticator removal
(PIN); an authenticator set-up opens :class:`~screens.pinpad.authenticator.PadAuthenticatorScreen`
(QR code, secret and URI; the code from the app confirms it). The display polls the database once a second for the paired
terminal's open request (:meth:`teller_tui.kiosk.pinpad.PinpadService.prompt`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Digits, Input, Static

from teller_tui.common.clock import Clock
from teller_tui.common.errors import DomainError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _, set_locale
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.consent.spec import KIND_TITLES

from ..kiosk.app import KioskApp
from ..kiosk.base import KioskScreen

if TYPE_CHECKING:
    from teller_tui.common.settings import Settings
    from teller_tui.kiosk.pinpad import ConsentPrompt, PadLink
    from teller_tui.services import Services

__all__ = ["PinpadApp", "PinpadScreen", "make_pinpad_app"]


class PinpadScreen(KioskScreen):
    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "decline", show=False, id="pinpad.decline")]
    KIOSK_ACTIONS = frozenset({"decline"})

    class Polled(Message):
        def __init__(self, prompt: ConsentPrompt | None, error: str = "") -> None:
            super().__init__()
            self.prompt, self.error = prompt, error

    class Done(Message):
        def __init__(self, text: str, ok: bool, keep: bool = False) -> None:
            super().__init__()
            self.text, self.ok, self.keep = text, ok, keep

    def __init__(self) -> None:
        super().__init__()
        self.prompt: ConsentPrompt | None = None

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="pad-box", classes="kiosk-box"):
            yield Static(Content(""), id="pad-title", classes="kiosk-title")
            yield Digits("", id="pad-amount")
            yield Static(Content(""), id="pad-detail", classes="kiosk-subtitle")
            yield Input(id="pad-input", password=True, max_length=6, restrict=r"[0-9]*")
            yield Input(id="pad-new", password=True, max_length=6, restrict=r"[0-9]*")
            yield Input(id="pad-again", password=True, max_length=6, restrict=r"[0-9]*")
            yield Static(Content(""), id="pad-status", classes="kiosk-status")

    def on_mount(self) -> None:
        self.show_pairing()
        self.set_interval(1.0, self.poll, name="pinpad-poll")

    # -- states ---------------------------------------------------------------------------------------
    def _set(self, title: str, detail: str = "", amount: str = "", status: str = "", *, pin: bool = False,
             again: bool = False, placeholder: str = "", new: bool = False) -> None:
        self.query_one("#pad-title", Static).update(Content(title))
        self.query_one("#pad-detail", Static).update(Content(detail))
        digits = self.query_one("#pad-amount", Digits)
        digits.update(amount)
        digits.display = bool(amount)
        self.query_one("#pad-status", Static).update(Content(status))
        box = self.query_one("#pad-input", Input)
        box.display, box.value, box.placeholder = pin, "", placeholder
        second = self.query_one("#pad-again", Input)
        second.display, second.value, second.placeholder = again, "", _("New PIN again")
        middle = self.query_one("#pad-new", Input)
        middle.display, middle.value, middle.placeholder = new, "", _("New PIN")
        if pin:
            box.focus()

    def show_pairing(self, status: str = "") -> None:
        app: PinpadApp = self.app
        set_locale(app.settings.locale)
        self._set(_("Customer display for terminal {terminal}").format(terminal=app.pair_terminal),
                  _("Type the pairing code shown on the teller's screen, then Enter."), status=status, pin=True,
                  placeholder=_("Pairing code"))

    def show_waiting(self, status: str = "") -> None:
        self.prompt = None
        app: PinpadApp = self.app
        set_locale(app.settings.locale)
        self._set(_("Welcome"), _("Paired with terminal {terminal}. Your teller will ask you to confirm here.")
                  .format(terminal=app.pair_terminal), status=status)

    def show_prompt(self, prompt: ConsentPrompt) -> None:
        self.prompt = prompt
        set_locale(prompt.locale)
        s = prompt.summary
        amount = ""
        if s.get("amount") is not None:
            amount = format_money(Money(int(s["amount"]), str(s.get("currency") or "CNY")))
        lines = [clean_text(prompt.customer, limit=80), clean_text(str(s.get("wallet", "")), limit=40)]
        lines = [line for line in lines if line]
        if s.get("payee"):
            lines.append(_("To: {payee}").format(payee=clean_text(str(s["payee"]), limit=80)))
        if s.get("detail"):
            lines.append(clean_text(str(s["detail"]), limit=80))
        if prompt.kind == "pin_reset":
            self._set(_(KIND_TITLES["pin_reset"]), "\n".join(lines), status=_("New PIN twice, then Enter."),
                      pin=True, again=True, placeholder=_("New PIN"))
            return
        if prompt.kind == "pin_change":
            self._set(_(KIND_TITLES["pin_change"]), "\n".join(lines),
                      status=_("Your PIN now, then the new PIN twice; Enter after each. Escape: No."),
                      pin=True, new=True, again=True, placeholder=_("Current PIN"))
            return
        if prompt.kind == "totp_remove":
            self._set(_(KIND_TITLES["totp_remove"]), "\n".join(lines),
                      status=_("To remove it, enter your wallet PIN and press Enter. Escape: No."), pin=True,
                      placeholder=_("Wallet PIN"))
            return
        if prompt.kind == "totp_enrol":
            from .authenticator import PadAuthenticatorScreen

            self._set(_(KIND_TITLES["totp_enrol"]), "\n".join(lines), status=_("Checking…"))
            self.app.push_screen(PadAuthenticatorScreen(prompt), self._authenticator_done)
            return
        self._set(_(KIND_TITLES.get(prompt.kind, prompt.kind)), "\n".join(lines), amount,
                  _("If this is right, enter your wallet PIN and press Enter. Escape: No."), pin=True,
                  placeholder=_("Wallet PIN"), new=prompt.code_needed)
        if prompt.code_needed:  # high value: the authenticator app's code as well
            self.query_one("#pad-new", Input).placeholder = _("6-digit code")
            self.query_one("#pad-status", Static).update(Content(
                _("If this is right, enter your wallet PIN, Enter, then the code from your authenticator app, "
                  "Enter. Escape: No.")))

    # -- polling ----------------------------------------------------------------------------------------
    def poll(self) -> None:
        app: PinpadApp = self.app
        if app.link is not None and self.prompt is None:
            self._poll(app)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-poll")
    def _poll(self, app: PinpadApp) -> None:
        assert app.services is not None and app.actor is not None and app.link is not None
        try:
            self.post_message(self.Polled(app.services.pinpad.prompt(app.actor, app.link)))
        except DomainError as exc:
            self.post_message(self.Polled(None, str(exc)))

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        app: PinpadApp = self.app
        if message.error:  # paired elsewhere since: pair again
            app.link = None
            self.show_pairing(message.error)
        elif message.prompt is not None and self.prompt is None:
            self.show_prompt(message.prompt)

    # -- input ---------------------------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        app: PinpadApp = self.app
        if not app.ready:
            return
        first = self.query_one("#pad-input", Input).value
        kind = self.prompt.kind if self.prompt is not None else ""
        if kind == "pin_reset" and event.input.id == "pad-input":
            self.query_one("#pad-again", Input).focus()
            return
        if self.prompt is not None and self.prompt.code_needed and event.input.id == "pad-input":
            self.query_one("#pad-new", Input).focus()
            return
        if kind == "pin_change" and event.input.id in ("pad-input", "pad-new"):
            self.query_one("#pad-new" if event.input.id == "pad-input" else "#pad-again", Input).focus()
            return
        again = self.query_one("#pad-again", Input).value
        new = self.query_one("#pad-new", Input).value
        self.query_one("#pad-status", Static).update(Content(_("Checking…")))
        self._send(app, first, again, new)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-send")
    def _send(self, app: PinpadApp, first: str, again: str, new: str = "") -> None:
        assert app.services is not None and app.actor is not None
        pad = app.services.pinpad
        try:
            if app.link is None:
                app.link = pad.pair(app.actor, app.pair_terminal, first)
                self.post_message(self.Done(_("Paired."), True))
            elif self.prompt is not None and self.prompt.kind == "pin_reset":
                pad.set_new_pin(app.actor, app.link, self.prompt.request_id, first, again)
                self.post_message(self.Done(_("Your new PIN is set. Thank you."), True))
            elif self.prompt is not None and self.prompt.kind == "pin_change":
                app.services.pad_credentials.change_pin(app.actor, app.link, self.prompt.request_id, first, new,
                                                        again)
                self.post_message(self.Done(_("Your new PIN is set. Thank you."), True))
            elif self.prompt is not None and self.prompt.kind == "totp_remove":
                app.services.pad_credentials.remove_authenticator(app.actor, app.link, self.prompt.request_id,
                                                                  first)
                self.post_message(self.Done(_("Your authenticator app is removed. Thank you."), True))
            elif self.prompt is not None:
                pad.answer(app.actor, app.link, self.prompt.request_id, first, code=new or None)
                self.post_message(self.Done(_("Thank you. Your teller will continue."), True))
        except DomainError as exc:
            keep = exc.code in ("consent_pin", "pin_format", "pin_same", "pin_sequence", "pin_repeat", "pin_birth",
                                "pin_phone", "pin_mismatch", "pin_unchanged", "pad_old_pin", "consent_code", "kiosk_code")
            self.post_message(self.Done(str(exc), False, keep))

    @on(Done)
    def _done(self, message: Done) -> None:
        app: PinpadApp = self.app
        if app.link is None:
            self.show_pairing(message.text)
        elif message.keep:  # a wrong PIN: try again on the same request
            self.query_one("#pad-input", Input).value = ""
            self.query_one("#pad-again", Input).value = ""
            self.query_one("#pad-new", Input).value = ""
            self.query_one("#pad-input", Input).focus()
            self.query_one("#pad-status", Static).update(Content(message.text))
        else:
            self.show_waiting(message.text)

    def _authenticator_done(self, text: str | None) -> None:
        """Back from the authenticator set-up (set up, said no, or the request ended)."""
        self.show_waiting(text or "")

    def action_decline(self) -> None:
        app: PinpadApp = self.app
        if self.prompt is not None and app.link is not None:
            self._decline(app, self.prompt.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pinpad-send")
    def _decline(self, app: PinpadApp, request_id: int) -> None:
        assert app.services is not None and app.actor is not None and app.link is not None
        try:
            app.services.pinpad.decline(app.actor, app.link, request_id)
        except DomainError:
            pass
        self.post_message(self.Done(_("Not agreed. Your teller will continue."), True))


class PinpadApp(KioskApp):
    TITLE = "Customer display"

    def __init__(self, settings: Settings, *, pair_terminal: str, services: Services | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__(settings, services=services, clock=clock)
        self.pair_terminal = pair_terminal
        self.link: PadLink | None = None

    def get_default_screen(self) -> Screen[Any]:
        return PinpadScreen()

    def check_customer_idle(self) -> None:
        """Nothing to clear: the display holds no session (a request expires in the core)."""


def make_pinpad_app(settings: Settings, *, pair_terminal: str, services: Services | None = None,
                    clock: Clock | None = None) -> PinpadApp:
    set_locale(settings.locale)
    return PinpadApp(settings, pair_terminal=pair_terminal, services=services, clock=clock)
