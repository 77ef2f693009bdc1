"""Recent history of the customer's wallet (own entries only), with a printable statement."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Static

from teller_tui.common.formatting import format_datetime, format_money
from teller_tui.common.i18n import N_, _

from ..widgets.safe import clean

from .base import KioskScreen

if TYPE_CHECKING:
    from teller_tui.kiosk.views import KioskHistoryRow

__all__ = ["KIND_LABELS", "KioskHistoryScreen"]

KIND_LABELS = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "transfer_in": N_("Transfer in"),
    "transfer_out": N_("Transfer out"),
    "reversal": N_("Reversal"),
}


class KioskHistoryScreen(KioskScreen):
    KIOSK_ACTIONS = frozenset({"back", "print"})
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="kiosk.history.back"),
        Binding("p", "print", N_("Print"), id="kiosk.history.print"),
    ]

    def __init__(self, wallet_id: int) -> None:
        super().__init__()
        self.wallet_id = wallet_id

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="kiosk-box"):
            yield Static(Content(_("Recent history")), classes="kiosk-title")
            table: DataTable[Any] = DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield table
            with Horizontal(classes="kiosk-buttons"):
                yield Button(_("Print"), id="print", variant="primary", classes="kiosk-button")
                yield Button(_("Back"), id="back", classes="kiosk-button")
            yield Static("", id="history-status", classes="kiosk-status")

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        self._columns(table, [])
        table.focus()
        self.load()

    @staticmethod
    def _columns(table: DataTable[Any], rows: list[list[str]]) -> None:
        """Columns as wide as their widest cell (header included), so no amount is ever cut: Textual
        does not widen an auto-width column for ``Content`` cells, so the widths are given."""
        headers = [_("Time"), _("What"), _("Amount"), _("Balance")]
        table.clear(columns=True)
        for i, header in enumerate(headers):
            width = max([cell_len(header), *(cell_len(r[i]) for r in rows)])
            table.add_column(Content(header), width=width, key=f"col{i}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-history")
    def load(self) -> None:
        app: Any = self.app
        if app.session is None:
            return
        rows = app.services.kiosk.history(app.actor, app.session, self.wallet_id)
        app.call_from_thread(self.show, rows)

    def show(self, rows: list[KioskHistoryRow]) -> None:
        table = self.query_one("#history-table", DataTable)
        cells = [[format_datetime(r.posted_at), _(KIND_LABELS[r.kind]) if r.kind in KIND_LABELS else clean(r.kind),
                  format_money(r.amount, sign=True), format_money(r.balance_after)] for r in rows]
        self._columns(table, cells)
        for row in cells:
            table.add_row(*(Content(cell) for cell in row))
        if not rows:
            self.query_one("#history-status", Static).update(Content(_("No transactions yet.")))

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#print")
    def action_print(self) -> None:
        self._print()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-print")
    def _print(self) -> None:
        app: Any = self.app
        if app.session is None:
            return
        text = app.services.kiosk.history_text(app.actor, app.session, self.wallet_id)
        app.call_from_thread(self._deliver, text)

    def _deliver(self, text: str) -> None:
        name = f"statement-{datetime.now(UTC):%Y%m%d%H%M%S}"
        if self.app.is_web:
            self.app.deliver_text(io.StringIO(text), save_filename=f"{name}.txt", open_method="browser",
                                  mime_type="text/plain")
        else:
            from teller_tui.common.files import save_private_text as save_receipt

            save_receipt(self.app.settings.receipts_dir, name, text)  # type: ignore[attr-defined]
        self.query_one("#history-status", Static).update(Content(_("Printing… please take your statement.")))
