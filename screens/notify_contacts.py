"""The customer's notification contacts and consent per channel (customer screen, **n**).

Two channels: SMS (to the customer's mobile on file unless another number is typed) and e-mail (only
to an address recorded here, with the customer's consent). Each has a checkbox: ticked, the customer
agrees to be told of postings, freezes, blocks and PIN changes on that channel; cleared, they opt out
(the outbox then records each event as "not sent (no consent)"). **F10** saves what changed
(:meth:`teller_tui.risk.notify_service.NotifyService.set_contact`, audited ``notify_contact`` by the
core); the last notifications and whether each went out are listed below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Static

from teller_tui.common.clock import BRANCH_TZ
from teller_tui.common.i18n import N_, _
from teller_tui.notify.outbox import status_label

from .base import TellerModal
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.risk.notify_service import ContactView

__all__ = ["NotifyContactsScreen"]

CHANNELS = {"sms": N_("SMS"), "email": N_("E-mail")}


class NotifyContactsScreen(DeskScreenMixin, TellerModal[None]):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="notify_contacts.close"),
        Binding("f10", "save", N_("Save"), id="notify_contacts.save"),
    ]
    HELP = N_("## Notifications and consent\n\n"
              "- **Space** ticks or clears the consent of the focused channel (SMS, e-mail)\n"
              "- Type another mobile for SMS (blank: the mobile on file) or the e-mail address\n"
              "- **F10** saves what changed (recorded and audited); **Tab** moves; **Esc** closes")

    class Loaded(Message):
        def __init__(self, contacts: list[Any] | None, notices: list[Any], error: BaseException | None = None,
                     saved: str = "") -> None:
            super().__init__()
            self.contacts, self.notices, self.error, self.saved = contacts, notices, error, saved

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer_name = customer_name
        self.contacts: dict[str, ContactView] = {}
        self.busy = True

    def compose(self) -> ComposeResult:
        with Vertical(id="notify-box"):
            yield Static(Content(_("Notifications to {name}").format(name=clean(self.customer_name))),
                         id="notify-title")
            yield Static(Content(_("Loading…")), id="notify-status")
            yield Checkbox(self._label("sms", False), id="notify-sms-consent")
            with Horizontal(classes="notify-row"):
                yield Label(_("Mobile"), classes="notify-label")
                yield Input(placeholder=_("blank: the mobile on file"), id="notify-sms-address", max_length=20)
            yield Checkbox(self._label("email", False), id="notify-email-consent")
            with Horizontal(classes="notify-row"):
                yield Label(_("E-mail"), classes="notify-label")
                yield Input(placeholder=_("e.g. name@example.cn"), id="notify-email-address", max_length=254)
            yield Static("", id="notify-recent")
            yield Static(Content(_("F10 save · Esc close")), id="notify-message")

    @staticmethod
    def _label(channel: str, consent: bool) -> str:
        """The checkbox says its state in words (the tick's colour alone would not)."""
        return f"{_(CHANNELS[channel])}: {_('agrees') if consent else _('opted out')}"

    @on(Checkbox.Changed)
    def _consent_changed(self, event: Checkbox.Changed) -> None:
        channel = "sms" if event.checkbox.id == "notify-sms-consent" else "email"
        event.checkbox.label = self._label(channel, event.value)

    def on_mount(self) -> None:
        self.query_one("#notify-sms-consent", Checkbox).focus()
        self._load("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="notify-contacts")
    def _load(self, saved: str) -> None:
        self._fetch(saved)

    def _fetch(self, saved: str) -> None:
        """In a worker: the recorded contacts and the latest notifications, posted back as ``Loaded``."""
        try:
            contacts = self.services.notify.contacts(self.actor, self.customer_id)
            notices = self.services.notify.for_customer(self.actor, self.customer_id, limit=4)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Loaded(None, [], exc))
            return
        self.post_message(self.Loaded(contacts, notices, saved=saved))

    def _message(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#notify-message", Static)
        widget.update(Content(text))
        widget.set_class(error, "-error")

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.busy = False
        if message.error is not None:
            self._message(error_text(message.error), True)
            return
        if message.contacts is None:
            return
        self.contacts = {c.channel: c for c in message.contacts}
        lines: list[Content] = []
        for c in message.contacts:
            consent = _("agrees") if c.consent else _("opted out")
            if c.channel == "email" and not c.address:
                consent = _("none on file")
            lines.append(Content(clean(f"{_(CHANNELS[c.channel])}: {c.masked or '-'} · {consent}")))
        self.query_one("#notify-status", Static).update(Content("\n").join(lines))
        sms, email = self.contacts.get("sms"), self.contacts.get("email")
        self.query_one("#notify-sms-consent", Checkbox).value = bool(sms and sms.consent)
        self.query_one("#notify-sms-address", Input).value = sms.address if sms else ""
        self.query_one("#notify-email-consent", Checkbox).value = bool(email and email.consent and email.address)
        self.query_one("#notify-email-address", Input).value = email.address if email else ""
        recent = [f"{n.created_at.astimezone(BRANCH_TZ):%m-%d %H:%M} {_(CHANNELS.get(n.channel, n.channel))} "
                  f"{status_label(n.status)}" for n in message.notices]
        self.query_one("#notify-recent", Static).update(Content.assemble(
            (_("Latest") + " ", "$text-muted"), clean("; ".join(recent)) if recent else _("none")))
        self._message(message.saved or _("F10 save · Esc close"))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def _changes(self) -> list[tuple[str, str, bool]]:
        """The channels whose address or consent differ from what is in force (recorded, or the defaults)."""
        out = []
        for channel in ("sms", "email"):
            consent = self.query_one(f"#notify-{channel}-consent", Checkbox).value
            address = self.query_one(f"#notify-{channel}-address", Input).value.strip()
            known = self.contacts.get(channel)
            if known is None or (known.address, known.consent) != (address, consent):
                out.append((channel, address, consent))
        return out

    def action_save(self) -> None:
        if self.busy:
            return
        changes = self._changes()
        if not changes:
            self._message(_("Nothing changed."))
            return
        self.busy = True
        self._message(_("Saving…"))
        self._save(changes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="notify-contacts")
    def _save(self, changes: list[tuple[str, str, bool]]) -> None:
        try:
            for channel, address, consent in changes:
                self.services.notify.set_contact(self.actor, self.customer_id, channel, address, consent=consent)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Loaded(None, [], exc))
            return
        names = ", ".join(_(CHANNELS[c]) for c, _a, _k in changes)
        self._fetch(_("Saved: {channels}").format(channels=names))

    def action_close(self) -> None:
        self.dismiss(None)
