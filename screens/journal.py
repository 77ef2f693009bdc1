"""The journal search (home screen, **j**): this branch's entries by business-date range, amount,
wallet, teller and part of the reference; newest first, 20 a page (**PgDn / PgUp**); **Enter**
on a result shows its receipt again (marked as a reprint) to print with **p**.

Every filter is optional except the dates (this month so far by default); Enter in any field
searches. The search runs in a worker (``services.journal``); the table shows one row per wallet
leg, so a transfer between two customers shows twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.desk.journal_search import JournalPage, JournalQuery

from .base import TellerScreen
from .customer import kind_label
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.money_input import MoneyInput
from .widgets.safe import literal

__all__ = ["JournalScreen"]

PAGE = 20


class JournalScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="journal.back"),
        Binding("f10", "search", N_("Search"), id="journal.search"),
        Binding("pagedown", "page(1)", N_("Next page"), id="journal.next", priority=True),
        Binding("pageup", "page(-1)", N_("Previous page"), id="journal.previous", priority=True),
    ]
    HELP = N_("## Journal search\n\n"
              "- Dates (YYYY-MM-DD) are required; amount, wallet number, teller and part of the reference narrow it\n"
              "- **Enter / F10** search; **PgDn / PgUp** next or previous page\n"
              "- **Enter** on a result: its receipt again, to print with **p**\n"
              "- **Esc** back")

    class Found(Message):
        def __init__(self, page: JournalPage | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.page = page
            self.error = error

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today
        self.query_value: JournalQuery | None = None
        self.page: JournalPage | None = None
        self.page_offset = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="journal-body"):
            yield Static(Content(_("Journal search")), id="journal-title")
            with Horizontal(classes="journal-row"):
                yield Input(self.today.replace(day=1).isoformat(), id="journal-from", max_length=10,
                            tooltip=_("From (business date)"))
                yield Input(self.today.isoformat(), id="journal-to", max_length=10, tooltip=_("To (business date)"))
                yield MoneyInput("CNY", id="journal-amount", placeholder=_("amount"))
            with Horizontal(classes="journal-row"):
                yield Input(placeholder=_("wallet number"), id="journal-wallet", max_length=20)
                yield Input(placeholder=_("teller"), id="journal-teller", max_length=64)
                yield Input(placeholder=_("reference part"), id="journal-reference", max_length=32)
            yield Static(Content(_("Enter: search")), id="journal-status")
            table: DataTable[Any] = DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
            table.add_columns(_("Date"), _("Reference"), _("Type"), _("Wallet"), _("Amount"), _("Teller"))
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#journal-from", Input).focus()

    def _status(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#journal-status", Static)
        widget.update(Content(text))
        widget.set_class(error, "-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_search()

    def _criteria(self) -> JournalQuery:
        def value(field: str) -> str:
            return self.query_one(f"#journal-{field}", Input).value.strip()

        try:
            first, last = date.fromisoformat(value("from")), date.fromisoformat(value("to"))
        except ValueError:
            raise ValueError(_("Dates as YYYY-MM-DD, e.g. {example}").format(example=self.today.isoformat())) from None
        amount_field = self.query_one("#journal-amount", MoneyInput)
        amount = amount_field.money if value("amount") else None
        if value("amount") and amount is None:
            raise ValueError(amount_field.error_message() or _("Enter an amount"))
        return JournalQuery(first, last, amount=amount, wallet=value("wallet"), teller=value("teller"),
                            reference=value("reference"))

    def action_search(self) -> None:
        try:
            self.query_value = self._criteria()
        except ValueError as exc:
            self._status(str(exc), True)
            return
        self.page_offset = 0
        self._status(_("Searching…"))
        self._search(self.query_value, 0)

    def action_page(self, step: int) -> None:
        if self.query_value is None or self.page is None:
            return
        if step > 0 and not self.page.has_more:
            return
        offset = max(0, self.page_offset + step * PAGE)
        if offset == self.page_offset:
            return
        self.page_offset = offset
        self._search(self.query_value, offset)

    @work(thread=True, exclusive=True, exit_on_error=False, group="journal")
    def _search(self, criteria: JournalQuery, offset: int) -> None:
        try:
            page = self.services.journal.search(self.actor, criteria, limit=PAGE, offset=offset)
        except Exception as exc:
            self.post_message(self.Found(None, exc))
            return
        self.post_message(self.Found(page))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.error is not None or message.page is None:
            self._status(error_text(message.error) if message.error else _("Not found"), True)
            return
        page = self.page = message.page
        table = self.query_one("#journal-table", DataTable)
        table.clear()
        for i, row in enumerate(page.rows):
            table.add_row(literal(row.business_date.strftime("%m-%d")), literal(row.reference), literal(kind_label(row.kind)),
                          literal(row.wallet_number), literal(format_money(row.amount, sign=True)),
                          literal(row.teller), key=str(i))
        if not page.rows:
            self._status(_("Nothing found"))
            return
        more = _(" · PgDn: more") if page.has_more else ""
        self._status(_("Results {first}–{last}").format(first=page.offset + 1, last=page.offset + len(page.rows))
                     + more + _(" · Enter on a row: receipt"))
        table.focus()

    @on(DataTable.RowSelected, "#journal-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if self.page is None:
            return
        index = int(str(event.row_key.value))
        if 0 <= index < len(self.page.rows):
            from .receipt import open_reprint

            open_reprint(self, self.page.rows[index].reference)

    def action_back(self) -> None:
        self.dismiss(None)
