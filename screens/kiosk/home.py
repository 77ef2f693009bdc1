"""The customer's home: balances and what may still be sent today; history, transfer, PIN change, finish."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _

from .base import KioskScreen

if TYPE_CHECKING:
    from teller_tui.kiosk.views import KioskAccount

__all__ = ["KioskHomeScreen", "wallet_lines"]


def wallet_lines(account: KioskAccount) -> list[str]:
    lines = []
    for w in account.wallets:
        lines.append(_("Wallet {number} (class {tier})").format(number=w.number_masked, tier=w.tier))
        lines.append("  " + _("Balance: {amount}").format(amount=format_money(w.balance)))
        lines.append("  " + _("Limit per transfer: {amount}").format(amount=format_money(w.per_txn_limit)))
        lines.append("  " + _("Left to send today: {amount}").format(amount=format_money(w.left_today)))
        if w.status != "active":
            lines.append("  " + _("This wallet is frozen: please see a teller."))
    return lines


class KioskHomeScreen(KioskScreen):
    KIOSK_ACTIONS = frozenset({"history", "transfer", "change_pin", "finish", "ask_help"})
    BINDINGS = [
        Binding("1", "history", N_("History"), id="kiosk.home.history"),
        Binding("2", "transfer", N_("Transfer"), id="kiosk.home.transfer"),
        Binding("3", "change_pin", N_("Change PIN"), id="kiosk.home.change_pin"),
        Binding("9", "ask_help", N_("Ask for help"), id="kiosk.home.ask_help"),
        Binding("escape,0", "finish", N_("Finish"), id="kiosk.home.finish"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.account: KioskAccount | None = None
        self.assist_called = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="home-box", classes="kiosk-box"):
            yield Static(Content(_("Loading…")), id="home-greeting", classes="kiosk-title")
            yield Static("", id="home-wallets", classes="kiosk-text")
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("1 History"), id="history", variant="primary", classes="kiosk-button")
                yield Button(_("2 Transfer"), id="transfer", variant="primary", classes="kiosk-button")
                yield Button(_("3 Change PIN"), id="change_pin", classes="kiosk-button")
                yield Button(_("9 Ask for help"), id="ask_help", classes="kiosk-button")
                yield Button(_("0 Finish"), id="finish", variant="error", classes="kiosk-button")
            yield Static(Content(_("F1: help and safety advice")), id="home-help", classes="kiosk-text")

    def on_mount(self) -> None:
        self.query_one("#history", Button).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-home")
    def load(self) -> None:
        app: Any = self.app
        session = app.session
        if session is None:
            return
        account = app.services.kiosk.account(app.actor, session)
        app.call_from_thread(self.show, account)

    def show(self, account: KioskAccount) -> None:
        if self.app.session is None:  # type: ignore[attr-defined]
            return
        self.account = account
        self.query_one("#home-greeting", Static).update(
            Content(_("Hello, {name}").format(name=account.name_masked)))
        self.query_one("#home-wallets", Static).update(Content("\n".join(wallet_lines(account))))
        if account.assisted and not self.assist_called:
            # Recorded needs (assistance, elderly): a person is called at once, and the customer is
            # told so, with the one key that matters; the counter's queue shows who and where.
            self.assist_called = True
            self._ask_help("assisted")


    @on(Button.Pressed, "#history")
    def action_history(self) -> None:
        if self.account and self.account.wallets:
            from .history import KioskHistoryScreen

            self.app.push_screen(KioskHistoryScreen(self.account.wallets[0].wallet_id))

    @on(Button.Pressed, "#transfer")
    def action_transfer(self) -> None:
        if self.account and self.account.wallets:
            from .transfer import KioskTransferScreen

            self.app.push_screen(KioskTransferScreen(self.account))

    @on(Button.Pressed, "#change_pin")
    def action_change_pin(self) -> None:
        from .pin_change import KioskPinChangeScreen

        self.app.push_screen(KioskPinChangeScreen(), self._pin_changed)

    def _pin_changed(self, changed: bool | None) -> None:
        if changed and self.is_mounted:
            self.query_one("#home-help", Static).update(Content(_("Your PIN is changed. Use the new PIN next "
                                                                   "time.")))

    @on(Button.Pressed, "#ask_help")
    def action_ask_help(self) -> None:
        """A person is asked for: the counter's queue shows the request (this kiosk, what was being
        done, the customer's masked name); the customer is told only that someone will come."""
        self._ask_help()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-help")
    def _ask_help(self, activity: str = "balance") -> None:
        app: Any = self.app
        session = app.session
        try:
            app.services.help_requests.ask(app.actor, activity,
                                           customer_id=session.customer_id if session is not None else None)
            text = _("A member of staff has been told and will come to you. Please wait here.")
            if activity == "assisted":
                text = _("A member of staff is on the way to help you. Take your time: press 1 to see your "
                         "history, 0 to finish.")
        except Exception:  # noqa: BLE001 - the customer is told to go to the counter, nothing more
            text = _("Please go to the counter: a teller will help you.")
        app.call_from_thread(self.query_one("#home-help", Static).update, Content(text))

    @on(Button.Pressed, "#finish")
    def action_finish(self) -> None:
        self.app.reset_to_welcome()  # type: ignore[attr-defined]
