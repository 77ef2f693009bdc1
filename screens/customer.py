"""The customer view: profile and identity, wallets, limits used today, history, bank links, notes.

Everything is loaded by thread workers (``services.customers.get_customer`` and
``wallet_history``) and arrives as messages; the screen reloads when it becomes active again
(after a posting, a reversal or a reprint). Every amount carries its sign (``+``/``-``) or
its side (CR/DR, 贷/借): meaning never rests on colour alone.

Keys: F5 cash in, F6 cash out, F7 transfer (selected wallet); on the history table ``r``
reprints the receipt of the selected row and F9 reverses it (own transaction, same day,
after a confirmation with a reason); PgDn/PgUp page the history; Tab moves between tables;
``p`` resets a forgotten wallet PIN (screens/pin_reset.py: ID check here, the new PIN on the display).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from teller_tui.common.errors import ApprovalRequired, DatabaseUnavailable
from teller_tui.common.formatting import format_date, format_datetime, format_dr_cr, format_money
from teller_tui.common.i18n import N_, _, get_locale
from teller_tui.desk.customer_views import KYC_LABELS, RISK_LABELS
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked

from .base import TellerScreen
from .commands import PaletteCommand, register_command
from .widgets.desk import DeskScreenMixin
from .widgets.safe import clean, literal
from .widgets.footer import KeyFooter
from .widgets.risk_banner import RiskBanner

if TYPE_CHECKING:
    from teller_tui.desk.customer_views import CustomerView, HistoryPage, HistoryRow
    from teller_tui.wallets.views import WalletView

__all__ = ["CustomerScreen", "HISTORY_PAGE"]

HISTORY_PAGE = 20

WALLET_STATUS = {"active": N_("active"), "frozen": N_("FROZEN"), "closed": N_("closed"), "blocked": N_("BLOCKED")}
IDENTITY_STATUS = {
    "none": N_("no ID on file"),
    "valid": N_("ID valid"),
    "expires_soon": N_("ID expires soon"),
    "expired": N_("ID EXPIRED"),
}
TXN_KINDS = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "transfer": N_("Transfer"),
    "transfer_in": N_("Transfer in"),
    "transfer_out": N_("Transfer out"),
    "reversal": N_("Reversal"),
    "linked_top_up": N_("Top-up (bank)"),
    "linked_withdraw": N_("To bank"),
}


def kind_label(kind: str) -> str:
    return _(TXN_KINDS[kind]) if kind in TXN_KINDS else clean(kind)


def _short_time(when: Any) -> str:
    """``11-23 09:30`` in branch time (the history's time column at 80 columns)."""
    from teller_tui.common.clock import BRANCH_TZ

    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return f"{when.astimezone(BRANCH_TZ):%m-%d %H:%M}"


def signed(m: Any) -> str:
    return format_money(m, sign=True)


#: Terminal width below which the tables use narrow columns.
NARROW = 110
HISTORY_KEYS = ("time", "ref", "kind", "amount", "balance", "memo")


class CustomerScreen(DeskScreenMixin, TellerScreen[None]):
    """One customer, read-only apart from the actions that open forms and dialogs."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="customer.back"),
        Binding("f5", "cash_in", N_("Cash in"), id="customer.cash_in"),
        Binding("f6", "cash_out", N_("Cash out"), id="customer.cash_out"),
        Binding("f7", "transfer", N_("Transfer"), id="customer.transfer"),
        Binding("t", "linked_top_up", N_("Top up (linked)"), id="customer.linked_top_up"),
        Binding("w", "linked_withdraw", N_("Withdraw (linked)"), id="customer.linked_withdraw"),
        Binding("s", "statement", N_("Statement"), id="customer.statement"),
        Binding("l", "linked_accounts", N_("Linked accounts"), id="customer.linked_accounts"),
        Binding("e", "edit_contact", N_("Contact"), id="customer.edit_contact"),
        Binding("n", "notify_contacts", N_("Notifications"), id="customer.notify_contacts", show=False),
        Binding("i", "renew_id", N_("Renew ID"), id="customer.renew_id"),
        Binding("r", "reprint", N_("Reprint"), id="customer.reprint"),
        Binding("f9", "reverse", N_("Reverse"), id="customer.reverse"),
        Binding("f4", "wallet_actions", N_("Wallet actions"), id="customer.wallet_actions"),
        Binding("f8", "service", N_("Service"), id="customer.service"),
        Binding("ctrl+u", "unlock_pin", N_("Unlock PIN"), id="customer.unlock_pin", show=False),
        Binding("p", "pin_reset", N_("Reset PIN"), id="customer.pin_reset", show=False),
        Binding("k", "credentials", N_("PIN & authenticator"), id="customer.credentials", show=False),
        Binding("pagedown", "history_page(1)", N_("Older"), id="customer.older", priority=True),
        Binding("pageup", "history_page(-1)", N_("Newer"), id="customer.newer", priority=True),
    ]

    HELP = N_(
        "## Customer\n\n"
        "Wallets above, the selected wallet's history below (newest first, with the balance "
        "after each entry).\n\n"
        "- **F5 / F6 / F7** cash in, cash out, transfer from the selected wallet\n"
        "- **t / w** top up from / withdraw to the customer's linked bank card or account\n"
        "- **s** statement of the selected wallet for a range of dates (shown, saved, printable)\n"
        "- **l** link or unlink bank cards and accounts\n"
        "- **e** change the mobile, address or occupation; **i** renew the identity document\n"
        "- **n** notifications: SMS and e-mail consent, and what the customer was sent\n"
        "- **Tab** moves between the wallet and history tables\n"
        "- **r** reprints the selected entry's receipt, **F9** reverses it "
        "(your own, today, once)\n"
        "- **PgDn/PgUp** older or newer history\n"
        "- **F8** customer service: cases, refusals explained, notes, needs, lost phone\n"
        "- **F1** help; when the customer's PIN is locked, a wallet frozen or blocked, the identity "
        "document expired or a class limit reached, its articles come first (the line above the history "
        "names them)\n"
        "- **Esc** goes back"
    )

    class Loaded(Message):
        def __init__(self, view: CustomerView, needs: Any = None) -> None:
            super().__init__()
            self.view = view
            self.needs = needs

    class HistoryLoaded(Message):
        def __init__(self, token: int, page: HistoryPage) -> None:
            super().__init__()
            self.token = token
            self.page = page

    class Failed(Message):
        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    #: The customer's situation as refusal codes (situation_codes): F1 lists their articles first.
    help_situation: tuple[str, ...] = ()

    def __init__(self, customer_id: int, *, then: str | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.then = then  # open this form once loaded (cash_in | cash_out | transfer)
        self.view: CustomerView | None = None
        self.wallet_id: int | None = None
        self.history: HistoryPage | None = None
        self._history_token = 0
        self._history_stack: list[int | None] = []  # before_seq of the pages above the current one
        self._history_before: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="customer-body"):
            yield Static(Content(_("Loading…")), id="customer-profile")
            yield RiskBanner(id="customer-risk")
            wallets: DataTable[Any] = DataTable(id="customer-wallets", cursor_type="row")
            yield wallets
            yield Static("", id="customer-limits")
            yield Static("", id="customer-kb")
            yield Static(Content(_("History")), id="customer-history-title", classes="section-title")
            history: DataTable[Any] = DataTable(id="customer-history", cursor_type="row", zebra_stripes=True)
            yield history
            yield Static("", id="customer-extra")
            yield Static("", id="customer-notices")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._setup_columns()
        self.load()

    def after_relabel(self) -> None:
        self._setup_columns()
        self.view = None  # reload and redraw everything in the new language
        self.load()

    def _setup_columns(self) -> None:
        # Below NARROW columns (80x24) the columns shrink and the history drops the reference
        # (reprint and reversal take the selected row), so available and balance-after stay in view.
        self._narrow = self.app.size.width < NARROW
        wallets = self.query_one("#customer-wallets", DataTable)
        widths = (16, 5, 7, 14, 9, 13) if self._narrow else (18, 8, 8, 16, 12, 16)
        labels = (_("Wallet"), _("Tier"), _("Status"), _("Balance"), _("Held"), _("Available"))
        for key, label, width in zip(("number", "tier", "status", "balance", "held", "available"), labels, widths,
                                     strict=True):
            wallets.add_column(label, key=key, width=width)
        history = self.query_one("#customer-history", DataTable)
        # The type column holds the longest kind with its mark in full at every width ("Top-up (bank)
        # (reversed)", 24 cells; "现金存入（已冲正）", 18); narrow, the time is month-day and minute.
        # The memo takes what is left of the width (at least 11 cells).
        memo = max(11, self.app.size.width - 111)
        widths = (11, 0, 24, 12, 14, 7) if self._narrow else (24, 19, 24, 14, 16, memo)
        labels = (_("Time"), _("Reference"), _("Type"), _("Amount"), _("Balance after"), _("Memo"))
        for key, label, width in zip(HISTORY_KEYS, labels, widths, strict=True):
            if width:
                history.add_column(label, key=key, width=width)

    def on_screen_resume(self) -> None:
        if self.view is not None:
            self.load()

    def on_resize(self, event: events.Resize) -> None:
        # A terminal resized across NARROW: the tables take the other set of columns (at 80 the wide
        # ones pushed the amount and balance-after out of view), then are filled again.
        if (self.app.size.width < NARROW) == getattr(self, "_narrow", None):
            return
        for selector in ("#customer-wallets", "#customer-history"):
            self.query_one(selector, DataTable).clear(columns=True)
        self._setup_columns()
        if self.view is not None:
            self.load()

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        self._load_customer(self.customer_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer")
    def _load_customer(self, customer_id: int) -> None:
        try:
            view = self.services.customers.get_customer(customer_id)
            needs = self.services.crm.needs(self.actor, customer_id)
        except Exception as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Loaded(view, needs))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        view = message.view
        first_load = self.view is None
        self.view = view
        self._show_profile(view)
        table = self.query_one("#customer-wallets", DataTable)
        keep = self.wallet_id
        table.clear()
        for wallet in view.wallets:
            table.add_row(*self._wallet_cells(wallet), key=str(wallet.wallet_id))
        ids = [w.wallet_id for w in view.wallets]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        elif ids:
            preferred = next((w for w in view.wallets if w.status == "active"), view.wallets[0])
            table.move_cursor(row=ids.index(preferred.wallet_id))
        self._select_wallet(self._cursor_wallet_id(), reset=first_load or keep not in ids)
        self._show_extra(view, message.needs)
        self._load_notices(view.customer_id)
        self.help_situation = situation_codes(view)
        self._load_situation_articles(self.help_situation)
        if first_load:
            table.focus()
            if self.then in ("cash_in", "cash_out", "transfer"):
                then, self.then = self.then, None
                self._open_form(then)  # home F5/F6/F7: straight on to the form
        self.refresh_bindings()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.show_error(message.error)
        if self.view is None:
            self.query_one("#customer-profile", Static).update(Content(_("This customer could not be loaded.")))

    def _show_profile(self, view: CustomerView) -> None:
        ident = _(IDENTITY_STATUS.get(view.identity_status, view.identity_status))
        line1 = Content.assemble(
            (clean(view.full_name), "bold"), "  ", clean(view.name_latin), "  ",
            (_("No.") + " ", "$text-muted"), clean(view.customer_no), "  ",
            (_("Phone") + " ", "$text-muted"), clean(view.phone),
        )
        id_part = clean(view.id_number_masked) or "—"
        expiry = format_date(view.id_expiry) if view.id_expiry else "—"
        line2 = Content.assemble(
            (_("ID") + " ", "$text-muted"), _document_label(view.id_type), " ", id_part, "  ",
            (_("Expires") + " ", "$text-muted"), expiry, "  ",
            (ident, "bold" if view.identity_status in ("expired", "expires_soon") else ""), "  ",
            (_("KYC") + " ", "$text-muted"), _(KYC_LABELS[view.kyc_level]) if view.kyc_level in KYC_LABELS
            else clean(view.kyc_level), "  ",
            (_("Risk") + " ", "$text-muted"), _(RISK_LABELS[view.risk_level]) if view.risk_level in RISK_LABELS
            else clean(view.risk_level),
            ("  " + _("PIN LOCKED") if view.pin_locked else "", "bold"),
        )
        self.query_one("#customer-profile", Static).update(Content("\n").join([line1, line2]))

    def _wallet_cells(self, wallet: WalletView) -> list[Any]:
        status = _(WALLET_STATUS["blocked"]) if wallet.blocked else _(WALLET_STATUS.get(wallet.status, wallet.status))
        return [
            literal(wallet.number),
            literal(_("Class {tier}").format(tier=wallet.tier)),
            literal(status, "bold" if wallet.status != "active" else ""),
            literal(format_dr_cr(wallet.balance), justify="right"),
            literal(format_money(wallet.held), justify="right"),
            literal(format_money(wallet.available), justify="right"),
        ]

    def _show_limits(self, wallet: WalletView | None) -> None:
        widget = self.query_one("#customer-limits", Static)
        if wallet is None:
            widget.update("")
            return
        parts: list[str] = [
            _("Available {available} = balance {balance} - held {held}").format(
                available=format_money(wallet.available), balance=format_money(wallet.balance),
                held=format_money(wallet.held)),
        ]
        limits = wallet.limits
        if limits is not None:
            def cap(m: Any) -> str:
                return format_money(m) if m is not None else _("no limit")

            parts.append(_("Out today {used} of {daily}; per transaction {per_txn}; "
                           "this year {year} of {yearly}; balance cap {cap}").format(
                used=format_money(limits.used_today), daily=cap(limits.daily), per_txn=cap(limits.per_txn),
                year=format_money(limits.used_year), yearly=cap(limits.yearly), cap=cap(limits.balance_cap)))
        widget.update(Content(clean("\n".join(parts), multiline=True)))

    def _show_extra(self, view: CustomerView, needs: Any = None) -> None:
        pieces: list[Content] = []
        if needs is not None and (needs.flags or needs.preferred_language):
            pieces.append(Content.assemble((_("NEEDS") + " ", "bold"), clean(", ".join(needs.titles())), "  ",
                                           (_("F8: act on them (guided steps, large print, follow-up)"),
                                            "$text-muted")))
        if view.linked_accounts:
            links = "; ".join(f"{clean(a.bank_name)} {clean(a.masked)}" for a in view.linked_accounts)
            pieces.append(Content.assemble((_("Linked") + " ", "$text-muted"), links))
        else:
            pieces.append(Content.assemble((_("Linked") + " ", "$text-muted"), _("none")))
        for note in view.notes[:2]:
            pieces.append(Content.assemble((_("Note") + " ", "$text-muted"),
                                           format_date(note.at), " ", clean(note.author), ": ",
                                           clean(note.text)))
        self.query_one("#customer-extra", Static).update(Content("\n").join(pieces))

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-kb")
    def _load_situation_articles(self, codes: tuple[str, ...]) -> None:
        titles: list[str] = []
        try:
            for code in codes:
                article = self.services.kb.for_refusal(self.actor, code, get_locale(), screen="customer")
                if article is not None and article.title not in titles:
                    titles.append(article.title)
        except Exception:  # noqa: BLE001 - the line is a pointer; F1 still lists the articles
            return
        self.app.call_from_thread(self._show_situation_articles, titles)

    def _show_situation_articles(self, titles: list[str]) -> None:
        """One line naming the articles for this customer's situation (PIN locked, frozen …), offered by F1."""
        widget = self.query_one("#customer-kb", Static)
        widget.display = bool(titles)
        widget.update(Content.assemble((_("F1 help for this customer:") + " ", "bold"),
                                       clean(" · ".join(titles))) if titles else "")

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-notices")
    def _load_notices(self, customer_id: int) -> None:
        try:
            notices = self.services.notify.for_customer(self.actor, customer_id, limit=3)
        except Exception:  # noqa: BLE001 - the notices line is a courtesy; the view works without it
            return
        self.app.call_from_thread(self._show_notices, notices)

    def _show_notices(self, notices: list[Any]) -> None:
        """The latest notifications to the customer and whether each went out (text, not colour)."""
        from teller_tui.common.clock import BRANCH_TZ
        from teller_tui.notify.outbox import status_label

        channels = {"sms": _("SMS"), "email": _("E-mail")}
        parts = [f"{n.created_at.astimezone(BRANCH_TZ):%m-%d %H:%M} {channels.get(n.channel, n.channel)} "
                 f"{status_label(n.status)}" for n in notices]
        self.query_one("#customer-notices", Static).update(
            Content.assemble((_("Notices") + " ", "$text-muted"), clean("; ".join(parts)) if parts else _("none")))

    # -- wallets and history -------------------------------------------------------------
    def _cursor_wallet_id(self) -> int | None:
        table = self.query_one("#customer-wallets", DataTable)
        if not table.row_count:
            return None
        row_key, _c = table.coordinate_to_cell_key((table.cursor_row, 0))
        return int(row_key.value) if row_key.value is not None else None

    @property
    def wallet(self) -> WalletView | None:
        if self.view is None:
            return None
        return next((w for w in self.view.wallets if w.wallet_id == self.wallet_id), None)

    @on(DataTable.RowHighlighted, "#customer-wallets")
    def _wallet_highlighted(self, event: DataTable.RowHighlighted) -> None:
        wallet_id = int(event.row_key.value) if event.row_key.value is not None else None
        if wallet_id != self.wallet_id:
            self._select_wallet(wallet_id, reset=True)

    def _select_wallet(self, wallet_id: int | None, *, reset: bool) -> None:
        self.wallet_id = wallet_id
        self._show_limits(self.wallet)
        self.query_one("#customer-risk", RiskBanner).show_for(wallet_id)
        if reset:
            self._history_stack = []
            self._history_before = None
        if wallet_id is None:
            self.query_one("#customer-history", DataTable).clear()
            return
        remember = getattr(self.app, "remember_wallet", None)
        if remember is not None:
            remember(wallet_id)  # kept on this terminal for an outage (offline cash-in, Ctrl+O)
        self._request_history()

    def _request_history(self) -> None:
        if self.wallet_id is None:
            return
        self._history_token += 1
        self._load_history(self._history_token, self.wallet_id, self._history_before)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-history")
    def _load_history(self, token: int, wallet_id: int, before_seq: int | None) -> None:
        try:
            page = self.services.customers.wallet_history(wallet_id, limit=HISTORY_PAGE, before_seq=before_seq)
        except Exception as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.HistoryLoaded(token, page))

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if message.token != self._history_token:
            return
        self.history = message.page
        table = self.query_one("#customer-history", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in message.page.rows:
            cells = self._history_cells(row)
            if getattr(self, "_narrow", False):
                cells = cells[:1] + cells[2:]  # no reference column
            table.add_row(*cells, key=str(row.entry_id))
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        page_no = len(self._history_stack) + 1
        title = _("History, page {page}").format(page=page_no)
        if message.page.next_before_seq is not None:
            title += "  " + _("(PgDn: older)")
        if self._history_stack:
            title += "  " + _("(PgUp: newer)")
        self.query_one("#customer-history-title", Static).update(Content(title))
        self.refresh_bindings()

    def _history_cells(self, row: HistoryRow) -> list[Any]:
        kind = kind_label(row.kind)
        if row.reversed:
            kind += " " + _("(reversed)")
        amount_style = self._theme_style("credit" if row.amount.minor > 0 else "debit")
        narrow = getattr(self, "_narrow", False)
        return [
            literal(_short_time(row.posted_at) if narrow else format_datetime(row.posted_at)),
            literal(row.reference),
            literal(kind),
            literal(signed(row.amount), amount_style, justify="right"),
            literal(format_dr_cr(row.running_balance), justify="right"),
            literal(row.memo),
        ]

    def _theme_style(self, name: str) -> str:
        """A Rich style from the theme's ``$credit``/``$debit`` (colour only supplements the sign)."""
        variables = self.app.theme_variables
        fallback = {"credit": "success", "debit": "error"}.get(name, "foreground")
        return variables.get(name) or variables.get(fallback) or ""

    def selected_history_row(self) -> HistoryRow | None:
        if self.history is None:
            return None
        table = self.query_one("#customer-history", DataTable)
        if not table.row_count:
            return None
        row_key, _c = table.coordinate_to_cell_key((table.cursor_row, 0))
        return next((r for r in self.history.rows if str(r.entry_id) == row_key.value), None)

    # -- actions -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cash_in", "cash_out", "transfer"):
            return True if self.wallet is not None else None
        if action in ("reprint", "reverse"):
            return True if self.history is not None and self.history.rows else None
        if action == "history_page":
            if self.history is None:
                return None
            if parameters and parameters[0] == 1:
                return True if self.history.next_before_seq is not None else None
            return True if self._history_stack else None
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def action_history_page(self, step: int) -> None:
        if self.history is None:
            return
        if step > 0:
            if self.history.next_before_seq is None:
                return
            self._history_stack.append(self._history_before)
            self._history_before = self.history.next_before_seq
        else:
            if not self._history_stack:
                return
            self._history_before = self._history_stack.pop()
        self._request_history()

    def _open_form(self, kind: str) -> None:
        view, wallet = self.view, self.wallet
        if view is None or wallet is None:
            self.show_info(_("Choose a wallet first"))
            return
        from .cash import form_for

        self.app.push_screen(form_for(kind, view, wallet))

    def action_cash_in(self) -> None:
        self._open_form("cash_in")

    def action_cash_out(self) -> None:
        self._open_form("cash_out")

    def action_transfer(self) -> None:
        self._open_form("transfer")

    def _open_linked(self, withdraw: bool) -> None:
        view, wallet = self.view, self.wallet
        if view is None or wallet is None:
            self.show_info(_("Choose a wallet first"))
            return
        from .linked import LinkedTopUpForm, LinkedWithdrawForm

        form = LinkedWithdrawForm if withdraw else LinkedTopUpForm
        self.app.push_screen(form(view, wallet))

    def action_edit_contact(self) -> None:
        if self.view is None:
            return
        from .profile import ContactEditScreen

        self.app.push_screen(ContactEditScreen(self.view))

    def action_notify_contacts(self) -> None:
        if self.view is None:
            return
        from .notify_contacts import NotifyContactsScreen

        self.app.push_screen(NotifyContactsScreen(self.view.customer_id, self.view.full_name))

    def action_renew_id(self) -> None:
        if self.view is None:
            return
        if not self.view.id_type:
            self.show_info(_("This customer has no identity document on record"))
            return
        from .profile import IdRenewalScreen

        self.app.push_screen(IdRenewalScreen(self.view))

    def action_linked_accounts(self) -> None:
        view, wallet = self.view, self.wallet
        if view is None or wallet is None:
            self.show_info(_("Choose a wallet first"))
            return
        from .linked_accounts import LinkedAccountsScreen

        self.app.push_screen(LinkedAccountsScreen(view, wallet))

    def action_statement(self) -> None:
        if self.wallet is None:
            self.show_info(_("Choose a wallet first"))
            return
        from teller_tui.common.clock import local_date

        from .statement import StatementPrompt

        # The branch's calendar date: UTC's is the day before for eight hours each morning (the
        # prompt offered 1–3 December at 02:53 on the 4th, leaving out that morning's postings).
        self.app.push_screen(StatementPrompt(self.wallet, local_date(self.services.clock.now())))

    def action_linked_top_up(self) -> None:
        self._open_linked(False)

    def action_linked_withdraw(self) -> None:
        self._open_linked(True)

    def action_reprint(self) -> None:
        row = self.selected_history_row()
        if row is None:
            self.show_info(_("Choose a history row first"))
            return
        from .receipt import open_reprint

        open_reprint(self, row.reference)

    def action_wallet_actions(self) -> None:
        if self.wallet_id is None:
            self.show_info(_("Choose a wallet first"))
            return
        from .lifecycle import open_wallet_actions

        open_wallet_actions(self, self.wallet_id, lambda changed: self.load() if changed else None)

    def action_service(self) -> None:
        from .service import CustomerServiceScreen

        self.app.push_screen(CustomerServiceScreen(self.customer_id, self.wallet_id))

    def action_unlock_pin(self) -> None:
        """Kiosk PIN locked after wrong tries: the teller unlocks it (teller_tui.kiosk.service.CustomerPinService)."""
        self._unlock_pin(self.customer_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-unlock-pin")
    def _unlock_pin(self, customer_id: int) -> None:
        app: Any = self.app
        was_locked = app.services.customer_pins.unlock_customer_pin(app.actor, customer_id)
        app.call_from_thread(self.show_info, _("PIN unlocked") if was_locked else _("The PIN was not locked"))
        app.call_from_thread(self.load)

    def action_pin_reset(self) -> None:
        """A forgotten wallet PIN: ID check here, the new PIN typed by the customer on the display."""
        if self.view is None:
            return
        from .pin_reset import PinResetScreen

        self.app.push_screen(PinResetScreen(self.view.customer_id, self.view.full_name),
                             lambda done: self.load() if done else None)

    def action_credentials(self) -> None:
        """PIN change and authenticator set-up/removal, the customer's part on the display (screens/credentials.py)."""
        if self.view is None:
            return
        from .credentials import CredentialsScreen

        self.app.push_screen(CredentialsScreen(self.view.customer_id, self.view.full_name),
                             lambda changed: self.load() if changed else None)

    def action_reverse(self) -> None:
        row = self.selected_history_row()
        if row is None:
            self.show_info(_("Choose a history row first"))
            return
        self._preview_reversal(row.entry_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-reverse")
    def _preview_reversal(self, entry_id: int) -> None:
        try:
            preview = self.services.cash.preview_reversal(self.actor, entry_id)
        except Exception as exc:
            self.post_message(self.Failed(exc))
            return
        self.app.call_from_thread(self._ask_reversal, entry_id, preview)

    def _ask_reversal(self, entry_id: int, preview: Any) -> None:
        if preview.refusal:
            self.show_error(preview.refusal, title=_("Cannot reverse"))
            return
        from .confirm import ReasonScreen

        facts = [
            (_("Customer"), preview.customer_name),
            (_("Wallet"), preview.wallet_number),
            (_("Amount"), format_money(preview.amount)),
            (_("In words"), preview.amount_words),
            (_("Balance now"), format_dr_cr(preview.balance_before)),
            (_("Balance after"), format_dr_cr(preview.balance_after)),
        ]
        key = uuid.uuid4().hex  # created when the dialog opens: a second Enter replays, never re-posts

        def done(reason: str | None) -> None:
            if reason:
                self._post_reversal(entry_id, reason, key, preview.wallet_number, preview.amount)

        warning = _("The customer's wallet and your drawer are put back as they were. This cannot be undone.")
        if preview.approval_reasons:  # said before the reason is typed; the approval dialog follows
            warning += "\n" + _("Needs supervisor approval: {reasons}").format(
                reasons="; ".join(preview.approval_reasons))
        self.app.push_screen(ReasonScreen(_("Reverse this transaction?"), facts, warning=warning), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-reverse")
    def _post_reversal(self, entry_id: int, reason: str, key: str, wallet: str, amount: Any,
                       approval_id: int | None = None) -> None:
        # The key is written to the terminal's journal before the reversal is sent, so a crash or a
        # lost database is answered after the restart, reconnect or unlock (screens.inflight).
        actor, watched = self.actor, getattr(self.app, "inflight_watch", set())
        watched.add(key)  # resolved here: the app's own journal check leaves it alone meanwhile
        try:
            result = submit_tracked(self.services.inflight, actor, "reversal", key, wallet=wallet, amount=amount,
                                    send=lambda: self.services.cash.reverse(actor, entry_id, reason,
                                                                            idempotency_key=key,
                                                                            approval_id=approval_id))
        except ApprovalRequired as exc:
            # The one approval flow; approved -> the same reversal (same reason and key) with the approval.
            self.app.call_from_thread(self.ask_approval, exc,
                                      lambda aid: self._post_reversal(entry_id, reason, key, wallet, amount, aid),
                                      lambda: self.show_info(_("Not reversed: no approval.")))
            return
        except OutcomeUnknown as exc:
            watched.discard(key)  # before the app's lookup starts, so that it includes this one
            self.app.call_from_thread(self._reversal_unknown, exc)
            return
        except Exception as exc:
            self.post_message(self.Failed(exc))
            return
        finally:
            watched.discard(key)
        self.app.call_from_thread(self._show_receipt, result)

    def _reversal_unknown(self, exc: OutcomeUnknown) -> None:
        """Never "refused": not known yet. The app looks the key up once the database answers
        (at once if it does now) and says "was posted" (with its receipt) or "was not posted"."""
        self.show_info(str(exc))
        app: Any = self.app
        if isinstance(exc.cause, DatabaseUnavailable) and hasattr(app, "database_unavailable"):
            app.database_unavailable(exc.cause)  # the banner; the reconnect then checks the journal
        elif hasattr(app, "check_inflight"):
            app.check_inflight()

    def _show_receipt(self, result: Any) -> None:
        from .receipt import ReceiptScreen

        self.app.push_screen(ReceiptScreen.from_result(result))


register_command(PaletteCommand("linked_top_up", N_("Top up from linked account"), "screen.linked_top_up",
                                N_("On a customer's screen: move money from the linked bank account into the wallet"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("linked_withdraw", N_("Withdraw to linked account"), "screen.linked_withdraw",
                                N_("On a customer's screen: move money from the wallet to the linked bank account"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_statement", N_("Customer statement…"), "screen.statement",
                                N_("On a customer's screen: the selected wallet's statement for a range of dates"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_linked_accounts", N_("Linked cards and accounts…"), "screen.linked_accounts",
                                N_("On a customer's screen: link or unlink bank cards and accounts"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_edit_contact", N_("Change contact details…"), "screen.edit_contact",
                                N_("On a customer's screen: mobile, address, occupation"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_renew_id", N_("Renew identity document…"), "screen.renew_id",
                                N_("On a customer's screen: new expiry date (and number, for passports and permits)"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_pin_reset", N_("Reset customer's wallet PIN…"), "screen.pin_reset",
                                N_("On a customer's screen: ID check, then the customer types a new PIN on the display"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_credentials", N_("Customer's PIN change and authenticator…"),
                                "screen.credentials",
                                N_("On a customer's screen: PIN change, authenticator app set up or removed, on the "
                                   "customer display"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("customer_unlock_pin", N_("Unlock customer's kiosk PIN"), "screen.unlock_pin",
                                N_("On a customer's screen: clear the wrong-PIN lock"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))


def _document_label(id_type: str | None) -> str:
    """The translated name of an identity document type (the stored code if unknown)."""
    from teller_tui.wallets.identity import DOCUMENT_LABELS, DocumentType

    if not id_type:
        return "—"
    try:
        return _(DOCUMENT_LABELS[DocumentType(id_type)])
    except ValueError:
        return clean(id_type)


def situation_codes(view: CustomerView) -> tuple[str, ...]:
    """The customer's situation as the refusal codes it leads to, so F1 offers the articles that explain
    them (screens/help.py): PIN locked, a wallet frozen or blocked, the identity document expired, a class
    limit reached on a wallet."""
    codes: list[str] = []
    if view.pin_locked:
        codes.append("kiosk_pin_locked")
    if any(w.blocked for w in view.wallets):
        codes.append("wallet_blocked")
    if any(w.status == "frozen" and not w.blocked for w in view.wallets):
        codes.append("wallet_frozen")
    if view.identity_status == "expired":
        codes.append("id_expired")
    for w in view.wallets:
        lim = w.limits
        if lim is None or w.status == "closed":
            continue
        if lim.daily is not None and lim.used_today.minor >= lim.daily.minor:
            codes.append("tier_daily")
        elif lim.yearly is not None and lim.used_year.minor >= lim.yearly.minor:
            codes.append("tier_yearly")
        elif lim.balance_cap is not None and w.balance.minor >= lim.balance_cap.minor:
            codes.append("tier_balance_cap")
    return tuple(dict.fromkeys(codes))
