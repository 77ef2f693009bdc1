"""The customer's PIN and authenticator app at the counter (``k`` on the customer view).

The teller starts, the customer does their part on the paired customer display, the teller never
sees a PIN or the authenticator's secret (:mod:`teller_tui.consent.credentials`,
:mod:`teller_tui.kiosk.pad_credentials`):

* ``c`` change the PIN: the customer types the current PIN and the new one twice on the display;
* ``a`` set up an authenticator app: the customer types the PIN on the display, which then shows
  the QR code and the key; the customer confirms with a code from the app;
* ``x`` remove the authenticator with the customer's PIN on the display, or ``F3`` after an ID
  check here (the phone is lost: document seen, the characters of its number no screen shows: a
  resident ID's 8 birth-date digits) and a supervisor's approval (the app's approval dialog);
* ``F2`` pairs a customer display; Escape closes (and cancels a request still waiting).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, Static

from teller_tui.common.errors import ApprovalRequired, DomainError
from teller_tui.common.i18n import N_, _
from teller_tui.consent.spec import ConsentTicket

from .base import TellerModal
from .consent import pairing_text
from .refusal_text import refusal_text
from .widgets.desk import DeskScreenMixin
from .widgets.safe import clean

__all__ = ["CredentialsScreen"]

#: What the teller reads once the customer finished on the display, per kind.
DONE_TEXTS = {
    "pin_change": N_("The customer changed their PIN and has been notified."),
    "totp_enrol": N_("The authenticator app is set up and the customer has been notified."),
    "totp_remove": N_("The authenticator app is removed and the customer has been notified."),
}
WAIT_TEXTS = {
    "pin_change": N_("Waiting for the customer: current PIN, then the new PIN twice on the display…"),
    "totp_enrol": N_("Waiting for the customer to scan the code on the display and type a code from the app…"),
    "totp_remove": N_("Waiting for the customer's PIN on the display…"),
}


class CredentialsScreen(DeskScreenMixin, TellerModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="credentials.close"),
        Binding("c", "begin('pin_change')", N_("Change PIN"), id="credentials.pin_change"),
        Binding("a", "begin('totp_enrol')", N_("Set up authenticator"), id="credentials.totp_enrol"),
        Binding("x", "begin('totp_remove')", N_("Remove authenticator (PIN)"), id="credentials.totp_remove"),
        Binding("f3", "id_check", N_("Remove authenticator (ID check)"), id="credentials.totp_remove_id"),
        Binding("f2", "pair", N_("Pair display"), id="credentials.pair"),
    ]

    class Update(Message):
        def __init__(self, text: str, *, ticket: ConsentTicket | None = None, kind: str = "", state: str = "",
                     enrolled: bool | None = None) -> None:
            super().__init__()
            self.text, self.ticket, self.kind, self.state, self.enrolled = text, ticket, kind, state, enrolled

    def __init__(self, customer_id: int, name: str) -> None:
        super().__init__()
        self.customer_id, self.customer_name = customer_id, name
        self.ticket: ConsentTicket | None = None
        self.kind = ""
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="credentials-box"):
            yield Static(Content(_("PIN and authenticator: {name}").format(name=clean(self.customer_name))),
                         id="credentials-title")
            yield Static(Content(""), id="credentials-state")
            yield Static(Content(_("The customer types on the customer display; you never see the PIN or the "
                                   "key.")), id="credentials-status")
            yield Checkbox(_("I have seen the customer's identity document"), id="credentials-seen")
            yield Input(id="credentials-id-digits", max_length=16,
                        placeholder=_("ID: the 8 birth-date digits (other documents: the hidden middle)"))
            yield Static(Content(_("c change PIN · a set up authenticator · x remove (PIN) · F3 remove (ID "
                                   "check) · F2 pair display · Esc close")), id="credentials-keys")

    def on_mount(self) -> None:
        self.query_one("#credentials-seen").display = False
        self.query_one("#credentials-id-digits").display = False
        self._load()
        self.set_interval(1.0, self._poll_tick, name="credentials-poll")

    def _say(self, text: str) -> None:
        self.query_one("#credentials-status", Static).update(Content(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="credentials-load")
    def _load(self, text: str = "") -> None:
        try:
            enrolled = self.services.credentials.authenticator_enrolled(self.actor, self.customer_id)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        self.post_message(self.Update(text, enrolled=enrolled))

    def action_begin(self, kind: str) -> None:
        if self.ticket is None:
            self._begin(kind)

    @work(thread=True, exclusive=True, exit_on_error=False, group="credentials")
    def _begin(self, kind: str) -> None:
        try:
            ticket = self.services.credentials.begin(self.actor, self.customer_id, kind)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        self.post_message(self.Update(_(WAIT_TEXTS[kind]), ticket=ticket, kind=kind))

    def _poll_tick(self) -> None:
        if self.ticket is not None:
            self._poll(self.ticket.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="credentials-poll")
    def _poll(self, request_id: int) -> None:
        try:
            st = self.services.consent.status(self.actor, request_id)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        texts = {"done": _(DONE_TEXTS.get(self.kind, "")),
                 "refused": _("The customer did not agree (or the PIN is locked). Nothing changed."),
                 "expired": _("The request expired. Nothing changed."), "cancelled": _("Cancelled.")}
        if st.status in texts:
            self.post_message(self.Update(texts[st.status], state=st.status))
        elif st.pin_failures:
            self.post_message(self.Update(_("Wrong PIN on the display ({count}); waiting…").format(
                count=st.pin_failures)))

    @on(Update)
    def _update(self, message: Update) -> None:
        if message.ticket is not None:
            self.ticket, self.kind = message.ticket, message.kind
        if message.state:  # the request ended, one way or another
            self.ticket = None
            if message.state == "done":
                self.changed = True
                self._load(message.text)
        if message.enrolled is not None:
            self.query_one("#credentials-state", Static).update(Content(
                _("Authenticator app: set up") if message.enrolled else _("Authenticator app: not set up")))
        if message.text:
            self._say(message.text)

    def action_pair(self) -> None:
        self._pair()

    @work(thread=True, exclusive=True, exit_on_error=False, group="credentials")
    def _pair(self) -> None:
        self.post_message(self.Update(pairing_text(self.services, self.actor)))

    def action_id_check(self) -> None:
        seen, digits = self.query_one("#credentials-seen", Checkbox), self.query_one("#credentials-id-digits", Input)
        seen.display = digits.display = True
        seen.focus()
        self._say(_("Check the document, tick the box, type the characters of its number this screen hides "
                    "(a resident ID: the 8 birth-date digits), Enter. A supervisor approves."))

    @on(Input.Submitted, "#credentials-id-digits")
    def _id_digits(self, event: Input.Submitted) -> None:
        self._remove_by_id(self.query_one("#credentials-seen", Checkbox).value, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="credentials")
    def _remove_by_id(self, seen: bool, id_digits: str, approval_id: int | None = None) -> None:
        try:
            self.services.credentials.remove_authenticator(self.actor, self.customer_id, document_seen=seen,
                                                           id_digits=id_digits, approval_id=approval_id)
        except ApprovalRequired as exc:  # the ID check passed: a supervisor approves, then the same again
            self.app.call_from_thread(self.ask_approval, exc, lambda aid: self._remove_by_id(seen, id_digits, aid),
                                      lambda: self._say(_("Not removed: no approval.")))
            return
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        self.kind = "totp_remove"
        self.post_message(self.Update(_(DONE_TEXTS["totp_remove"]), state="done"))

    def action_close(self) -> None:
        if self.ticket is not None:
            ticket_id = self.ticket.request_id
            self.run_worker(lambda: self.services.consent.cancel(self.actor, ticket_id), thread=True,
                            exit_on_error=False, group="credentials-cancel")
        self.dismiss(self.changed)
