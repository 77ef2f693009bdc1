"""Offline cash-in (Ctrl+O while the database cannot be reached; core: :mod:`teller_tui.offline`).

The teller types (or finds already filled in: the wallet on screen) a wallet this terminal saw
while the database answered, the amount and a memo; F10 checks and asks for confirmation; the
cash-in goes into the terminal's durable queue with an ``OFFLINE-`` reference, and the receipt
(marked "pending confirmation") is shown. It is posted, under its own idempotency key, once the
database answers; the banner shows what is queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Static

from teller_tui.common.formatting import amount_in_words, format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_name
from teller_tui.common.money import Money
from teller_tui.offline.taking import offline_receipt

from .base import TellerScreen
from .confirm import ConfirmScreen
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.money_input import MoneyInput
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.offline.types import CachedWallet, OfflineReceipt

__all__ = ["OfflineCashInScreen"]


class OfflineCashInScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="offline.back"),
        Binding("f10", "submit", N_("Take offline"), id="offline.submit"),
        Binding("ctrl+j", "submit", N_("Take offline"), id="offline.submit_alt", show=False),
    ]
    HELP = N_(
        "## Offline cash-in\n\n"
        "The database cannot be reached. Cash-in only, into a wallet this terminal has seen recently, up to "
        "the offline caps. The customer gets a receipt marked *pending confirmation*; the cash-in is posted "
        "by itself once the database answers. Cash-out, transfers and everything else wait for the database.\n\n"
        "- **F10** check and confirm\n- **Esc** back without taking anything"
    )
    DEFAULT_CSS = """
    OfflineCashInScreen #offline-body { padding: 1 2; height: auto; }
    OfflineCashInScreen #offline-title { text-style: bold; color: $warning; }
    OfflineCashInScreen #offline-hint { color: $text-muted; height: auto; }
    OfflineCashInScreen .offline-row { height: auto; margin-top: 1; }
    OfflineCashInScreen .offline-label { width: 12; padding: 1 1 0 0; }
    OfflineCashInScreen #offline-wallet { width: 26; }
    OfflineCashInScreen #offline-amount { width: 20; }
    OfflineCashInScreen #offline-memo { width: 40; }
    OfflineCashInScreen #offline-customer { padding: 1 0 0 1; width: 1fr; }
    OfflineCashInScreen #offline-message { margin-top: 1; height: auto; }
    OfflineCashInScreen #offline-message.-error { color: $error; text-style: bold; border-left: thick $error;
                                                  padding-left: 1; }
    """

    class Found(Message):
        def __init__(self, number: str, wallet: CachedWallet | None) -> None:
            super().__init__()
            self.number = number
            self.wallet = wallet

    class Taken(Message):
        def __init__(self, receipt: OfflineReceipt | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.receipt = receipt
            self.error = error

    def __init__(self, *, number: str = "", amount: str = "") -> None:
        super().__init__()
        self.initial_number = number
        self.initial_amount = amount
        self.found: CachedWallet | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="offline-body"):
            yield Static(Content(_("Offline cash-in (pending confirmation)")), id="offline-title")
            yield Static(Content(_("The database cannot be reached: only cash-in, into a wallet this terminal "
                                   "has seen, up to the offline caps. Posted when the database is back.")),
                         id="offline-hint")
            with Horizontal(classes="offline-row"):
                yield Label(_("Wallet"), classes="offline-label")
                yield Input(value=self.initial_number, placeholder=_("wallet number"), id="offline-wallet",
                            max_length=40)
                yield Static("", id="offline-customer")
            with Horizontal(classes="offline-row"):
                yield Label(_("Amount"), classes="offline-label")
                yield MoneyInput(self.found.currency if self.found else "CNY", value=self.initial_amount,
                                 id="offline-amount")
            with Horizontal(classes="offline-row"):
                yield Label(_("Memo"), classes="offline-label")
                yield Input(placeholder=_("optional"), id="offline-memo", max_length=100)
            yield Static("", id="offline-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        (self.query_one("#offline-amount") if self.initial_number else self.query_one("#offline-wallet")).focus()
        if self.initial_number:
            self._find(self.initial_number)

    # -- the wallet, from this terminal's cache ------------------------------------------------
    @on(Input.Changed, "#offline-wallet")
    def _wallet_changed(self, event: Input.Changed) -> None:
        self.found = None
        self._find(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-find")
    def _find(self, number: str) -> None:
        wallet = self.services.offline.cached_wallet(self.actor, number) if number.strip() else None
        self.post_message(self.Found(number, wallet))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.number != self.query_one("#offline-wallet", Input).value:
            return  # typed on meanwhile
        self.found = message.wallet
        w = message.wallet
        if w is None:
            text = _("not seen at this terminal") if message.number.strip() else ""
        else:
            text = f"{mask_name(w.customer_name)} · {w.currency}"
        self.query_one("#offline-customer", Static).update(Content(clean(text)))

    # -- taking ----------------------------------------------------------------------------------
    def _message(self, text: str, kind: str = "") -> None:
        widget = self.query_one("#offline-message", Static)
        widget.set_classes(f"-{kind}" if kind else "")
        widget.update(Content(clean(text, multiline=True)))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        if self.busy:
            return
        number = self.query_one("#offline-wallet", Input).value
        field = self.query_one("#offline-amount", MoneyInput)
        if not number.strip():
            self._message(_("Enter the wallet number"), "error")
            return
        if self.found is None:
            self._message(_("Offline, only wallets this terminal has seen recently can take cash: open the "
                            "customer while the database answers."), "error")
            return
        amount = field.money
        if amount is None:
            self._message(field.error_message() or _("Enter an amount"), "error")
            field.focus()
            return
        if amount.currency != self.found.currency:
            amount = Money(amount.minor, self.found.currency)
        memo = clean(self.query_one("#offline-memo", Input).value).strip()
        facts = [(_("Customer"), mask_name(self.found.customer_name)), (_("Wallet"), self.found.number),
                 (_("Amount"), format_money(amount)), (_("In words"), amount_in_words(amount))]
        if memo:
            facts.append((_("Memo"), memo))
        self.busy = True
        self.app.push_screen(ConfirmScreen(_("Confirm: offline cash-in"), facts, emphasis=(_("Amount"),),
                                           warning=_("Taken offline: the receipt says pending confirmation; the "
                                                     "cash-in is posted when the database is back.")),
                             lambda ok: self._take(number, amount, memo) if ok else self._not_taken())

    def _not_taken(self) -> None:
        self.busy = False
        self._message(_("Not taken."))

    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-take")
    def _take(self, number: str, amount: Money, memo: str) -> None:
        try:
            receipt = self.services.offline.take_cash_in(self.actor, number, amount, memo=memo)
        except Exception as exc:  # noqa: BLE001 - shown on the form: nothing was taken
            self.post_message(self.Taken(None, exc))
            return
        self.post_message(self.Taken(receipt))

    @on(Taken)
    def _taken(self, message: Taken) -> None:
        self.busy = False
        if message.receipt is None:
            error = message.error or RuntimeError("offline")
            self._message(_("Not taken: {reason}").format(reason=error_text(error)), "error")
            self.show_error(error)
            return
        receipt = message.receipt
        refresh = getattr(self.app, "refresh_offline_summary", None)
        if refresh is not None:
            refresh()
        from .receipt import ReceiptScreen

        item = receipt.item
        self.app.switch_screen(ReceiptScreen(
            item.reference, receipt.text, path=receipt.path,
            title=_("Offline receipt {reference}: pending confirmation").format(reference=item.reference),
            render=lambda width: offline_receipt(item, width=width)))  # a roll printer: laid out again, offline

    def action_back(self) -> None:
        if not self.busy:
            self.dismiss(None)
