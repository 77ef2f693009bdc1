"""Link and unlink a customer's bank cards and accounts after onboarding (customer screen, **l**).

The list shows the customer's linked cards and accounts; **F9** unlinks the highlighted one after
a confirmation (the core refuses the last own account of a class 1 or 2 wallet, which needs
one). The form below links a new one to the selected wallet: the number (a card is checked by
Luhn and its bank found from the number; an account needs its bank typed), the holder's name
(the customer's, by default) and, for an account, the bank; **F10** or Enter links it. The same
validation as onboarding (:meth:`teller_tui.wallets.funding.FundingService.link_now`); both are
audited by the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .confirm import ConfirmScreen
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.desk.customer_views import CustomerView, LinkedAccountView
    from teller_tui.wallets.views import WalletView

__all__ = ["LinkedAccountsScreen"]


class LinkedAccountsScreen(DeskScreenMixin, TellerModal[None]):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="linked.close"),
        Binding("f10", "link", N_("Link"), id="linked.link"),
        Binding("f9", "unlink", N_("Unlink"), id="linked.unlink"),
    ]
    HELP = N_("## Linked cards and accounts\n\n"
              "- **F10 / Enter** link the card or account typed below to the selected wallet\n"
              "- **F9** unlink the highlighted one (after a confirmation)\n"
              "- **Tab** moves between the list and the fields; **Esc** closes")

    class Done(Message):
        def __init__(self, text: str, links: list[Any] | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.text = text
            self.links = links
            self.error = error

    def __init__(self, customer: CustomerView, wallet: WalletView) -> None:
        super().__init__()
        self.customer = customer
        self.wallet = wallet
        self.links: list[LinkedAccountView] = list(customer.linked_accounts)
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="linked-box"):
            yield Static(Content(_("Linked cards and accounts of {name}").format(name=clean(self.customer.full_name))),
                         id="linked-title")
            yield OptionList(id="linked-list")
            with Horizontal(classes="linked-row"):
                yield Label(_("Number"), classes="linked-label")
                yield Input(placeholder=_("card or account number"), id="linked-number", max_length=40)
            with Horizontal(classes="linked-row"):
                yield Label(_("Holder"), classes="linked-label")
                yield Input(self.customer.full_name, id="linked-holder", max_length=60)
            with Horizontal(classes="linked-row"):
                yield Label(_("Bank"), classes="linked-label")
                yield Input(placeholder=_("accounts only: the bank that holds it"), id="linked-bank", max_length=80)
            yield Static(Content(_("F10 link · F9 unlink · Esc close")), id="linked-message")

    def on_mount(self) -> None:
        self._show_links()
        self.query_one("#linked-number", Input).focus()

    def _show_links(self) -> None:
        options = self.query_one("#linked-list", OptionList)
        options.clear_options()
        if not self.links:
            options.add_option(Option(Content(_("none")), disabled=True))
            return
        for link in self.links:
            where = (_("wallet {number}").format(number=self.wallet.number) if link.wallet_id == self.wallet.wallet_id
                     else "")
            options.add_option(Option(Content(f"{clean(link.bank_name)} {clean(link.masked)}  {where}".rstrip())))
        options.highlighted = 0

    def _message(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#linked-message", Static)
        widget.update(Content(text))
        widget.set_class(error, "-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_link()

    def action_link(self) -> None:
        if self.busy:
            return
        number = self.query_one("#linked-number", Input).value.strip()
        holder = clean(self.query_one("#linked-holder", Input).value).strip()
        bank = clean(self.query_one("#linked-bank", Input).value).strip()
        if not number:
            self._message(_("Type the card or account number"), True)
            self.query_one("#linked-number", Input).focus()
            return
        self.busy = True
        self._message(_("Checking…"))
        self._link(number, holder, bank)

    @work(thread=True, exclusive=True, exit_on_error=False, group="linked")
    def _link(self, number: str, holder: str, bank: str) -> None:
        kind = "account" if bank else "card"
        try:
            view = self.services.funding.link_now(self.actor, self.customer.customer_id, self.wallet.wallet_id, kind,
                                                  number, holder, bank_name=bank)
            links = self.services.customers.get_customer(self.customer.customer_id).linked_accounts
        except Exception as exc:
            self.post_message(self.Done("", None, exc))
            return
        self.post_message(self.Done(_("Linked: {bank} {masked}").format(bank=view.bank_name, masked=view.masked),
                                    list(links)))

    def action_unlink(self) -> None:
        if self.busy or not self.links:
            return
        index = self.query_one("#linked-list", OptionList).highlighted
        if index is None or index >= len(self.links):
            return
        link = self.links[index]

        def answered(ok: bool | None) -> None:
            if ok:
                self.busy = True
                self._message(_("Unlinking…"))
                self._unlink(link.linked_id, f"{link.bank_name} {link.masked}")

        self.app.push_screen(ConfirmScreen(_("Unlink this card or account?"),
                                           [(_("Customer"), self.customer.full_name),
                                            (_("Account"), f"{link.bank_name} {link.masked}")],
                                           danger=True), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="linked")
    def _unlink(self, linked_id: int, label: str) -> None:
        try:
            self.services.funding.unlink(self.actor, linked_id)
            links = self.services.customers.get_customer(self.customer.customer_id).linked_accounts
        except Exception as exc:
            self.post_message(self.Done("", None, exc))
            return
        self.post_message(self.Done(_("Unlinked: {account}").format(account=label), list(links)))

    @on(Done)
    def _done(self, message: Done) -> None:
        self.busy = False
        if message.error is not None:
            self._message(error_text(message.error), True)
            return
        if message.links is not None:
            self.links = message.links
            self._show_links()
            self.query_one("#linked-number", Input).value = ""
            self.query_one("#linked-bank", Input).value = ""
        self._message(message.text)

    def action_close(self) -> None:
        self.dismiss(None)
