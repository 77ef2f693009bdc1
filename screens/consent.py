"""The customer's consent at the counter: wait for the PIN on the paired customer display, or record
an ID re-check (document seen, the characters of its number the teller's screen hides typed and matched:
a resident ID's 8 birth-date digits, as for a PIN reset; the last 4, which the screen shows, do not count).

``ConsentScreen(spec)`` dismisses with the granted consent's id (the form then posts with it) or
``None``. F2 pairs a customer display with this terminal (a one-time code to type on it); F3 records
the ID re-check instead (refused when the branch requires the PIN); Escape cancels the request.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.text import clean_text
from teller_tui.consent.spec import ConsentSpec, ConsentStatus, ConsentTicket

from .base import TellerModal
from .refusal_text import refusal_text
from .widgets.desk import DeskScreenMixin

__all__ = ["ConsentScreen", "teller_title"]

#: What the request is, in the teller's terms (the customer display says it in the customer's own:
#: teller_tui.consent.spec.KIND_TITLES).
TELLER_WHAT: dict[str, str] = {
    "cash_out": N_("cash-out {amount} from wallet {wallet}"),
    "transfer": N_("transfer {amount} from wallet {wallet} to {payee}"),
    "wallet_close": N_("closing wallet {wallet}"),
    "class_change": N_("class change {detail} of wallet {wallet}"),
}


def teller_title(spec: ConsentSpec) -> str:
    """The dialog's title on the teller's screen: what waits for the customer, in the teller's words."""
    what = _(TELLER_WHAT[spec.kind]) if spec.kind in TELLER_WHAT else spec.kind
    text = what.format(amount=format_money(spec.amount) if spec.amount else "", wallet=spec.wallet,
                       payee=spec.payee, detail=spec.detail)
    return clean_text(_("Waiting for the customer's consent: {what}").format(what=text))


class ConsentScreen(DeskScreenMixin, TellerModal[int | None]):
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="consent.cancel"),
        Binding("f2", "pair", N_("Pair display"), id="consent.pair"),
        Binding("f3", "id_check", N_("ID re-check"), id="consent.id_check"),
    ]

    class Update(Message):
        def __init__(self, text: str, *, ticket: ConsentTicket | None = None, status: ConsentStatus | None = None,
                     granted: int | None = None, paired: bool = False) -> None:
            super().__init__()
            self.text, self.ticket, self.status, self.granted = text, ticket, status, granted
            self.paired = paired

    def __init__(self, spec: ConsentSpec) -> None:
        super().__init__()
        self.spec = spec
        self.ticket: ConsentTicket | None = None
        self.awaiting_display = False  # F2 showed a pairing code: say so once the display is paired

    def compose(self) -> ComposeResult:
        with Vertical(id="consent-box"):
            yield Static(Content(teller_title(self.spec)), id="consent-title")
            yield Static(Content(_("Asking the customer…")), id="consent-status")
            yield Checkbox(_("I have seen the customer's identity document"), id="consent-seen")
            yield Input(id="consent-id-digits", max_length=16,
                        placeholder=_("ID: the 8 birth-date digits (other documents: the hidden middle)"))
            yield Static(Content(_("F2 pair a display · F3 ID re-check · Esc cancel")), id="consent-keys")

    def on_mount(self) -> None:
        self.query_one("#consent-seen").display = False
        self.query_one("#consent-id-digits").display = False
        self._request()
        self.set_interval(1.0, self._poll_tick, name="consent-poll")

    def _say(self, text: str) -> None:
        self.query_one("#consent-status", Static).update(Content(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent")
    def _request(self) -> None:
        try:
            ticket = self.services.consent.request(self.actor, self.spec)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        text = (_("Waiting for the customer's PIN on the customer display…") if ticket.display_paired
                else _("No customer display is paired: F2 pairs one, F3 records an ID re-check."))
        self.post_message(self.Update(text, ticket=ticket))

    def _poll_tick(self) -> None:
        if self.ticket is not None:
            self._poll(self.ticket.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent-poll")
    def _poll(self, request_id: int) -> None:
        try:
            st = self.services.consent.status(self.actor, request_id)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        if st.status == "granted":
            self.post_message(self.Update(_("The customer agreed."), status=st, granted=request_id))
        elif st.status in ("refused", "expired", "cancelled"):
            texts = {"refused": _("The customer did not agree (or the PIN is locked). Nothing was posted."),
                     "expired": _("The request expired. Nothing was posted."), "cancelled": _("Cancelled.")}
            self.post_message(self.Update(texts[st.status], status=st))
        elif st.pin_failures:
            self.post_message(self.Update(_("Wrong PIN on the display ({count}); waiting…").format(
                count=st.pin_failures), status=st))
        elif self.awaiting_display and self.services.consent.display_paired(self.actor):
            self.post_message(self.Update(_("Waiting for the customer's PIN on the customer display…"),
                                          paired=True))

    @on(Update)
    def _update(self, message: Update) -> None:
        if message.ticket is not None:
            self.ticket = message.ticket
        if message.paired:
            self.awaiting_display = False
        self._say(message.text)
        if message.granted is not None:
            self.dismiss(message.granted)
        elif message.status is not None and message.status.status in ("refused", "expired", "cancelled"):
            self.ticket = None

    def action_pair(self) -> None:
        self.awaiting_display = True
        self._pair()

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent")
    def _pair(self) -> None:
        self.post_message(self.Update(pairing_text(self.services, self.actor)))

    def action_id_check(self) -> None:
        seen, digits = self.query_one("#consent-seen", Checkbox), self.query_one("#consent-id-digits", Input)
        if not digits.display:
            seen.display = digits.display = True
            seen.focus()
            self._say(_("Check the document, tick the box, type the characters of its number this screen hides "
                        "(a resident ID: the 8 birth-date digits), Enter."))

    @on(Input.Submitted, "#consent-id-digits")
    def _id_digits(self, event: Input.Submitted) -> None:
        if self.ticket is not None:
            self._id_check(self.ticket.request_id, self.query_one("#consent-seen", Checkbox).value, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent")
    def _id_check(self, request_id: int, seen: bool, id_digits: str) -> None:
        try:
            st = self.services.consent.record_id_check(self.actor, request_id, document_seen=seen,
                                                       id_digits=id_digits)
        except DomainError as exc:
            self.post_message(self.Update(refusal_text(exc)))
            return
        self.post_message(self.Update(_("ID re-check recorded."), status=st, granted=request_id))

    def action_cancel(self) -> None:
        if self.ticket is not None:
            ticket_id = self.ticket.request_id
            self.run_worker(lambda: self.services.consent.cancel(self.actor, ticket_id), thread=True,
                            exit_on_error=False, group="consent-cancel")
        self.dismiss(None)


def pairing_text(services: Any, actor: Any) -> str:
    """Start pairing a customer display with this terminal (a worker calls it): the one-time code to
    type on the display, or why not, translated (the consent and PIN-reset dialogs both offer F2)."""
    try:
        code = services.consent.start_pairing(actor)
    except DomainError as exc:
        return refusal_text(exc)
    return _("Pairing code for the customer display: {code} (valid 5 minutes)").format(code=code)
