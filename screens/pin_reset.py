"""A wallet PIN reset at the counter (issue 16): the teller checks the customer's identity document,
then the customer types the new PIN twice on the paired customer display; the teller never sees it.

``PinResetScreen(customer_id, name)`` (``p`` on the customer view) dismisses with True once the new
PIN is set. F2 pairs a customer display with this terminal; the ID check (document seen, the
characters of its number this screen does not show: a resident ID's 8 birth-date digits, another
document's middle) and then a supervisor's approval (the app's approval dialog, rule ``pin_reset``)
start the reset (:meth:`teller_tui.consent.service.ConsentService.begin_pin_reset`); the screen then
waits for the display (:meth:`teller_tui.kiosk.pinpad.PinpadService.set_new_pin`).
Escape cancels a reset still waiting.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
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

__all__ = ["PinResetScreen"]


class PinResetScreen(DeskScreenMixin, TellerModal[bool]):
    BINDINGS = [
        Binding("escape", "cancel", N_("Close"), id="pin_reset.cancel"),
        Binding("f2", "pair", N_("Pair display"), id="pin_reset.pair"),
    ]

    class Update(Message):
        def __init__(self, text: str, *, ticket: ConsentTicket | None = None, state: str = "") -> None:
            super().__init__()
            self.text, self.ticket, self.state = text, ticket, state

    def __init__(self, customer_id: int, name: str) -> None:
        super().__init__()
        self.customer_id, self.customer_name = customer_id, name
        self.ticket: ConsentTicket | None = None
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-reset-box"):
            yield Static(Content(_("Reset the wallet PIN: {name}").format(name=clean(self.customer_name))), id="pin-reset-title")
            yield Static(Content(_("Check the customer's identity document first. The customer types the new PIN "
                                   "on the customer display.")), id="pin-reset-status")
            yield Checkbox(_("I have seen the customer's identity document"), id="pin-reset-seen")
            yield Input(id="pin-reset-id-digits", max_length=16,
                        placeholder=_("ID: the 8 birth-date digits (other documents: the hidden middle)"))
            yield Static(Content(_("Enter start · F2 pair a display · Esc close")), id="pin-reset-keys")

    def on_mount(self) -> None:
        self.query_one("#pin-reset-seen", Checkbox).focus()
        self.set_interval(1.0, self._poll_tick, name="pin-reset-poll")

    def _say(self, text: str) -> None:
        self.query_one("#pin-reset-status", Static).update(Content(text))

    @on(Input.Submitted, "#pin-reset-id-digits")
    def _id_digits(self, event: Input.Submitted) -> None:
        if self.ticket is None and not self.done:
            self._begin(self.query_one("#pin-reset-seen", Checkbox).value, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pin-reset")
    def _begin(self, seen: bool, id_digits: str, approval_id: int | None = None) -> None:
        try:
            ticket = self.services.consent.begin_pin_reset(self.actor, self.customer_id, document_seen=seen,
                                                          id_digits=id_digits, approval_id=approval_id)
        except ApprovalRequired as exc:  # the ID check passed: a supervisor approves, then the same again
            self.app.call_from_thread(self.ask_approval, exc, lambda aid: self._begin(seen, id_digits, aid),
                                      lambda: self._say(_("Not started: no approval.")))
            return
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        self.post_message(self.Update(_("ID checked. Waiting for the customer to type the new PIN twice on the "
                                        "customer display…"), ticket=ticket))

    def _poll_tick(self) -> None:
        if self.ticket is not None and not self.done:
            self._poll(self.ticket.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pin-reset-poll")
    def _poll(self, request_id: int) -> None:
        try:
            st = self.services.consent.status(self.actor, request_id)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        texts = {"done": _("The new PIN is set and the customer has been notified. Esc closes."),
                 "refused": _("The customer did not set a new PIN. Nothing changed."),
                 "expired": _("The request expired. Nothing changed."), "cancelled": _("Cancelled.")}
        if st.status in texts:
            self.post_message(self.Update(texts[st.status], state=st.status))

    @on(Update)
    def _update(self, message: Update) -> None:
        if message.ticket is not None:
            self.ticket = message.ticket
        if message.state == "done":
            self.done = True
        elif message.state:  # refused, expired, cancelled: the teller may start again
            self.ticket = None
        self._say(message.text)

    def action_pair(self) -> None:
        self._pair()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pin-reset")
    def _pair(self) -> None:
        self.post_message(self.Update(pairing_text(self.services, self.actor)))

    def action_cancel(self) -> None:
        if self.ticket is not None and not self.done:
            ticket_id = self.ticket.request_id
            self.run_worker(lambda: self.services.consent.cancel(self.actor, ticket_id), thread=True,
                            exit_on_error=False, group="pin-reset-cancel")
        self.dismiss(self.done)
