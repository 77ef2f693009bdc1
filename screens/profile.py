"""Change a customer's contact details (customer screen, **e**) and renew their identity document
(**i**), after onboarding. Each is a small form: the fields prefilled, **F10** or Enter saves,
**Esc** cancels; the core validates (as onboarding does) and audits. Where the approval policy
says (a new mobile number, a new document number) the save raises ``ApprovalRequired``: the app's
approval dialog (a supervisor at the counter, or the queue) opens and the save is retried with the
approval. The customer screen already
warns when the document has expired or expires within 30 days.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Static

from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.desk.customer_views import CustomerView

__all__ = ["ContactEditScreen", "IdRenewalScreen"]


class _ProfileForm(DeskScreenMixin, TellerModal[bool]):
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="profile.cancel"),
        Binding("f10", "save", N_("Save"), id="profile.save"),
    ]
    TITLE: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[tuple[str, str, int], ...]] = ()  # (id, label msgid, max length)

    class Saved(Message):
        def __init__(self, fields: tuple[str, ...] | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.fields = fields
            self.error = error

    def __init__(self, customer: CustomerView) -> None:
        super().__init__()
        self.customer = customer
        self.busy = False
        self.approval_id: int | None = None  # granted by a supervisor (screens/approval.py)
        self._args: dict[str, Any] = {}

    def initial(self) -> dict[str, str]:
        return {}

    def compose(self) -> ComposeResult:
        values = self.initial()
        with Vertical(id="profile-box"):
            yield Static(Content(_(self.TITLE).format(name=clean(self.customer.full_name))), id="profile-title")
            yield from self.compose_note()
            for field_id, label, limit in self.FIELDS:
                with Horizontal(classes="profile-row"):
                    yield Label(_(label), classes="profile-label")
                    yield Input(values.get(field_id, ""), id=field_id, max_length=limit)
            yield Static(Content(_("F10 / Enter save · Esc cancel")), id="profile-message")

    def compose_note(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one(f"#{self.FIELDS[0][0]}", Input).focus()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _message(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#profile-message", Static)
        widget.update(Content(text))
        widget.set_class(error, "-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.busy:
            return
        try:
            args = self.arguments()
        except ValueError as exc:
            self._message(str(exc), True)
            return
        self.busy = True
        self.approval_id = None  # an approval binds the values it was given for
        self._args = args
        self._message(_("Saving…"))
        self._save(args)

    def arguments(self) -> dict[str, Any]:
        raise NotImplementedError

    def call(self, args: dict[str, Any]) -> Any:
        raise NotImplementedError

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile")
    def _save(self, args: dict[str, Any]) -> None:
        try:
            change = self.call(args)
        except Exception as exc:
            self.post_message(self.Saved(None, exc))
            return
        self.post_message(self.Saved(change.fields))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.busy = False
        if isinstance(message.error, ApprovalRequired):
            self.busy = True
            self._message(_("Needs supervisor approval: {reasons}").format(
                reasons="; ".join(clean(r) for r in message.error.reasons)))
            self.ask_approval(message.error, self._approved, self._not_approved)
            return
        if message.error is not None:
            self._message(error_text(message.error), True)
            return
        self.show_info(_("Saved."))
        self.dismiss(True)

    def _approved(self, approval_id: int | None) -> None:
        """A supervisor approved: save the same values again with the approval."""
        self.approval_id = approval_id
        self._message(_("Saving…"))
        self._save(self._args)

    def _not_approved(self) -> None:
        self.busy = False
        self._message(_("Not saved: no approval."), True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ContactEditScreen(_ProfileForm):
    TITLE = N_("Contact details of {name}")
    FIELDS = (("profile-phone", N_("Mobile"), 20), ("profile-address", N_("Address"), 200),
              ("profile-occupation", N_("Occupation"), 80))
    HELP = N_("Change the customer's mobile number, address or occupation; F10 or Enter saves (audited), "
              "Esc cancels.")

    def initial(self) -> dict[str, str]:
        c = self.customer
        return {"profile-phone": c.phone, "profile-address": c.address, "profile-occupation": c.occupation}

    def arguments(self) -> dict[str, Any]:
        return {"phone": self.value("profile-phone"), "address": self.value("profile-address"),
                "occupation": self.value("profile-occupation")}

    def call(self, args: dict[str, Any]) -> Any:
        return self.services.profile.change_contact(self.actor, self.customer.customer_id, **args,
                                                    approval_id=self.approval_id)


class IdRenewalScreen(_ProfileForm):
    TITLE = N_("Renew the identity document of {name}")
    FIELDS = (("profile-id-number", N_("Number"), 32), ("profile-id-expiry", N_("Expires"), 10))
    HELP = N_("Type the number on the renewed document (a resident ID keeps its number) and its new expiry "
              "date (YYYY-MM-DD); F10 or Enter saves (audited), Esc cancels.")

    def compose_note(self) -> ComposeResult:
        c = self.customer
        expiry = c.id_expiry.isoformat() if c.id_expiry else "—"
        yield Static(Content(_("On record: {number}, expires {expiry}").format(
            number=clean(c.id_number_masked), expiry=expiry)), id="profile-note")

    def arguments(self) -> dict[str, Any]:
        number = self.value("profile-id-number").strip()
        if not number:
            raise ValueError(_("Type the number on the document"))
        try:
            expiry = date.fromisoformat(self.value("profile-id-expiry").strip())
        except ValueError:
            raise ValueError(_("The expiry date as YYYY-MM-DD, e.g. 2036-05-31")) from None
        return {"number": number, "expiry": expiry}

    def call(self, args: dict[str, Any]) -> Any:
        return self.services.profile.renew_document(self.actor, self.customer.customer_id, **args,
                                                    approval_id=self.approval_id)
