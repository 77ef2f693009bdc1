"""Transfer to another wallet by its number or the payee's phone, within the kiosk limits.

Form -> preview (core: payee masked, every limit checked) -> confirmation naming the payee
masked (``张*明 138****5678``) -> posting -> receipt (print or finish).

The posting's key (made when the form opens) is written to the kiosk's journal before it is sent
(:mod:`teller_tui.kiosk.inflight`). A fault whose outcome is unknown is never shown as a refusal:
:class:`KioskCheckingScreen` says "not known yet — checking" and looks the key up (again and again
while the database cannot answer), then shows the receipt or "not made". Nothing can be sent again
meanwhile, and the idle timeout waits.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import get_current_worker

from teller_tui.common.errors import DomainError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked
from teller_tui.kiosk.inflight import outcome_when_answered

from .base import KioskModal, KioskScreen
from ..refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.desk.inflight import Submission
    from teller_tui.kiosk.inflight import KioskOutcome
    from teller_tui.kiosk.views import KioskAccount, KioskReceipt, TransferPreview
    from teller_tui.common.money import Money

__all__ = ["KioskCheckingScreen", "KioskConfirmTransfer", "KioskReceiptScreen", "KioskTransferScreen"]


class KioskTransferScreen(KioskScreen):
    KIOSK_ACTIONS = frozenset({"back"})
    BINDINGS = [Binding("escape", "back", N_("Back"), id="kiosk.transfer.back")]

    def __init__(self, account: KioskAccount) -> None:
        super().__init__()
        self.account = account
        self.busy = False
        from teller_tui.desk.cash_types import new_idempotency_key

        self.key = new_idempotency_key("kiosk")

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="transfer-box", classes="kiosk-box"):
            yield Static(Content(_("Transfer")), classes="kiosk-title")
            if len(self.account.wallets) > 1:
                yield Label(_("From wallet"), classes="kiosk-label")
                yield Select([(w.number_masked, w.wallet_id) for w in self.account.wallets],
                             value=self.account.wallets[0].wallet_id, allow_blank=False, id="from-wallet")
            else:
                w = self.account.wallets[0]
                yield Static(Content(_("From wallet {number}").format(number=w.number_masked)), classes="kiosk-text")
            yield Label(_("Payee's wallet number or phone number"), classes="kiosk-label")
            yield Input(id="payee", max_length=24, restrict=r"[0-9+ ]*", classes="kiosk-input")
            yield Label(_("Amount (yuan)"), classes="kiosk-label")
            yield Input(id="amount", max_length=12, restrict=r"[0-9.,\-]*", classes="kiosk-input")
            w0 = self.account.wallets[0]
            yield Static(Content(_("Up to {per_txn} a transfer; {left} left today.").format(
                per_txn=format_money(w0.per_txn_limit), left=format_money(w0.left_today))), classes="kiosk-hint")
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Continue"), id="continue", variant="primary", classes="kiosk-button")
                yield Button(_("Back"), id="back", classes="kiosk-button")
            yield Static("", id="transfer-status", classes="kiosk-status")

    def on_mount(self) -> None:
        self.query_one("#payee", Input).focus()

    def from_wallet_id(self) -> int:
        if len(self.account.wallets) > 1:
            return int(self.query_one("#from-wallet", Select).value)  # type: ignore[arg-type]
        return self.account.wallets[0].wallet_id

    @on(Input.Submitted, "#payee")
    def _to_amount(self) -> None:
        self.query_one("#amount", Input).focus()

    @on(Input.Submitted, "#amount")
    @on(Button.Pressed, "#continue")
    def submit(self) -> None:
        from teller_tui.common.money import parse_money

        if self.busy:
            return
        payee = self.query_one("#payee", Input).value.strip()
        if not payee:
            self.status(_("Enter the payee's wallet number or phone number."))
            return
        try:
            amount = parse_money(self.query_one("#amount", Input).value)
        except DomainError as exc:
            self.status(refusal_text(exc))
            return
        self.busy = True
        self.status(_("Checking…"), error=False)
        self._preview(self.from_wallet_id(), payee, amount)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-transfer")
    def _preview(self, wallet_id: int, payee: str, amount: Money) -> None:
        app: Any = self.app
        try:
            preview = app.services.kiosk.preview_transfer(app.actor, app.session, wallet_id, payee, amount)
        except DomainError as exc:
            app.call_from_thread(self._refused, refusal_text(exc), exc.code)
            return
        app.call_from_thread(self._confirm, wallet_id, payee, preview)

    def _refused(self, text: str, code: str | None = None) -> None:
        self.busy = False
        self.help_refusal = code
        self.status(text + ("  " + _("F1: help") if code else ""))

    def _confirm(self, wallet_id: int, payee: str, preview: TransferPreview) -> None:
        self.busy = False
        if not preview.allowed:
            self._refused(preview.refusal or "", preview.refusal_code)
            return
        self.status("", error=False)

        def answered(ok: bool | None) -> None:
            if ok:
                self.busy = True
                self.status(_("Sending…"), error=False)
                self._post(wallet_id, payee, preview.amount, preview.from_wallet_masked)

        self.app.push_screen(KioskConfirmTransfer(preview), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-transfer")
    def _post(self, wallet_id: int, payee: str, amount: Money, wallet_masked: str) -> None:
        app: Any = self.app
        services, actor, session, key = app.services, app.actor, app.session, self.key
        try:  # the key is written to the kiosk's journal first; a refusing disk sends nothing
            receipt = submit_tracked(services.kiosk_inflight, actor, "kiosk_transfer", key, wallet=wallet_masked,
                                     amount=amount, subject=f"wallet:{wallet_id}",
                                     send=lambda: services.kiosk.transfer(actor, session, wallet_id, payee, amount,
                                                                          idempotency_key=key))
        except OutcomeUnknown as exc:  # never "refused": looked up by its key before anything else
            app.call_from_thread(self._checking, exc.submission)
            return
        except DomainError as exc:
            app.call_from_thread(self._refused, refusal_text(exc), exc.code)
            return
        app.call_from_thread(self._done, receipt)

    def _checking(self, submission: Submission) -> None:
        self.status(_("Not known yet — checking…"), error=False)
        self.app.push_screen(KioskCheckingScreen(submission), self._resolved)

    def _resolved(self, outcome: KioskOutcome | None) -> None:
        if outcome is None:  # the app is closing: the key stays in the journal for the next start
            return
        if outcome.posted and outcome.receipt is not None:
            self._done(outcome.receipt)
            return
        from teller_tui.desk.cash_types import new_idempotency_key

        self.busy = False
        self.key = new_idempotency_key("kiosk")  # known not posted: a new attempt is a new transfer
        self.status(_("Your transfer was not made: no money left your wallet. You may try again."))

    def _done(self, receipt: KioskReceipt) -> None:
        self.busy = False
        from teller_tui.desk.cash_types import new_idempotency_key

        self.key = new_idempotency_key("kiosk")  # a new form for the next transfer
        self.query_one("#amount", Input).value = ""
        self.query_one("#payee", Input).value = ""
        self.status(_("Done. Reference {reference}").format(reference=receipt.reference), error=False)
        self.app.push_screen(KioskReceiptScreen(receipt))

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()

    def status(self, text: str, *, error: bool = True) -> None:
        widget = self.query_one("#transfer-status", Static)
        widget.update(Content(text))
        widget.set_class(error, "error")
        if text:
            widget.scroll_visible(animate=False)  # a customer with several wallets has a taller form


class KioskCheckingScreen(KioskModal):
    """ "Not known yet — checking": the transfer's key is looked up until the database answers.
    No action at all (no back, no cancel): the customer cannot send it again meanwhile."""

    KIOSK_ACTIONS: frozenset[str] = frozenset()

    def __init__(self, submission: Submission) -> None:
        super().__init__()
        self.submission = submission

    def compose(self) -> ComposeResult:
        with Vertical(id="checking-box", classes="kiosk-box"):
            yield Static(Content(_("Not known yet — checking")), classes="kiosk-title")
            yield Static(Content(_("The bank's system did not answer in time. We are finding out whether your "
                                   "transfer of {amount} was made. Please wait; nothing is sent twice.").format(
                                       amount=self.submission.amount)), id="checking-text", classes="kiosk-text")

    def on_mount(self) -> None:
        self._look_up()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-checking")
    def _look_up(self) -> None:
        app: Any = self.app
        services, actor, worker, pause = app.services, app.actor, get_current_worker(), threading.Event()

        def wait() -> None:  # until the database answers again (or a second, when it answers but fails)
            if services.db.wait_available(timeout=5):
                pause.wait(1.0)

        outcome = outcome_when_answered(services.kiosk_inflight, actor, self.submission, wait=wait,
                                        cancelled=lambda: worker.is_cancelled)
        if outcome is None:
            return
        services.kiosk_inflight.resolve(actor, self.submission.key)  # shown now, on the customer's screen
        app.call_from_thread(self.dismiss, outcome)


class KioskConfirmTransfer(KioskModal):
    """Names the payee masked; the customer confirms or goes back."""

    KIOSK_ACTIONS = frozenset({"confirm", "cancel"})
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="kiosk.confirm.cancel")]

    def __init__(self, preview: TransferPreview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        p = self.preview
        with Vertical(id="confirm-box", classes="kiosk-box"):
            yield Static(Content(_("Please check")), classes="kiosk-title")
            yield Static(Content("\n".join([
                _("Pay {amount}").format(amount=format_money(p.amount)),
                _("To {name} {phone}").format(name=p.payee_name_masked, phone=p.payee_phone_masked),
                _("Wallet {number}").format(number=p.payee_wallet_masked),
                _("From wallet {number}").format(number=p.from_wallet_masked),
                _("Balance after: {amount}").format(amount=format_money(p.balance_after)),
            ])), id="confirm-facts", classes="kiosk-text")
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Confirm"), id="confirm", variant="success", classes="kiosk-button")
                yield Button(_("Cancel"), id="cancel", variant="error", classes="kiosk-button")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class KioskReceiptScreen(KioskModal):
    KIOSK_ACTIONS = frozenset({"print", "close"})
    BINDINGS = [Binding("escape", "close", N_("Done"), id="kiosk.receipt.close")]

    def __init__(self, receipt: KioskReceipt) -> None:
        super().__init__()
        self.receipt = receipt

    def compose(self) -> ComposeResult:
        with Vertical(id="receipt-box", classes="kiosk-box"):
            yield Static(Content(_("Transfer done")), classes="kiosk-title")
            yield Static(Content(self.receipt.receipt_text), id="receipt-text")
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Print"), id="print", variant="primary", classes="kiosk-button")
                yield Button(_("Done"), id="close", classes="kiosk-button")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#print")
    def action_print(self) -> None:
        if self.app.is_web:
            self.app.deliver_text(io.StringIO(self.receipt.receipt_text),
                                  save_filename=f"{self.receipt.reference}.txt", open_method="browser",
                                  mime_type="text/plain")
            self.notify(_("Printing… please take your receipt."), markup=False)
            return
        self._print(self.receipt.receipt_text, self.receipt.reference)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-print")
    def _print(self, text: str, reference: str) -> None:
        """To this kiosk's receipt printer; if it does not print, a copy is kept in the receipts folder
        (the posting itself writes no file) and the customer is sent to the counter."""
        from teller_tui.common.printing.config import Purpose

        printing = self.app.services.printing  # type: ignore[attr-defined]
        try:
            printed = printing.print_text(text, purpose=Purpose.RECEIPT, title=reference,
                                          keep=printing.receipt_copy(reference, text)).printed
        except Exception:  # noqa: BLE001 - the customer is told it did not print; the transfer stands
            printed = False
        self.app.call_from_thread(self._printed, printed)

    def _printed(self, printed: bool) -> None:
        if printed:
            self.notify(_("Printing… please take your receipt."), markup=False)
        else:
            self.notify(_("The receipt could not be printed. Your transfer is done; please ask at the counter "
                          "for a receipt."), markup=False, severity="warning")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
