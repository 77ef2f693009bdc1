"""The customer statement prompt (customer screen, **s**): a wallet, a range of business dates,
then the statement on screen (the receipt viewer: **p / F8** print, **d** save or download a copy).

The range defaults to this month so far; dates are typed as YYYY-MM-DD (or YYYY-MM for a whole
month in the first field). The statement is saved under ``<home>/statements`` and audited by the
core (:mod:`teller_tui.desk.wallet_statement`) before it is shown.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Static

from teller_tui.common.i18n import N_, _
from teller_tui.desk.wallet_statement import render_statement

from .base import TellerModal
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.wallets.views import WalletView

__all__ = ["StatementPrompt", "parse_range"]


def parse_range(first: str, second: str) -> tuple[date, date]:
    """``("2026-11", "")`` -> the whole month; ``("2026-11-01", "2026-11-15")`` -> that range. A month
    in the first field is the whole month even with a date in the second (the prompt opens with
    today there: typing ``2026-11`` over the first must still give November); a month in the second
    runs to its last day."""
    first, second = first.strip(), second.strip()
    if len(first) == 7:
        year, month = int(first[:4]), int(first[5:7])
        start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if len(second) == 7:
            y2, m2 = int(second[:4]), int(second[5:7])
            end = max(end, date(y2, m2, calendar.monthrange(y2, m2)[1]))
        return start, end
    last = second or first
    if len(last) == 7:
        y2, m2 = int(last[:4]), int(last[5:7])
        return date.fromisoformat(first), date(y2, m2, calendar.monthrange(y2, m2)[1])
    return date.fromisoformat(first), date.fromisoformat(last)


class StatementPrompt(DeskScreenMixin, TellerModal[None]):
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="statement.cancel"),
        Binding("f10", "submit", N_("Show statement"), id="statement.submit"),
    ]
    HELP = N_("Type the first and last business date (YYYY-MM-DD; YYYY-MM alone in the first field is the "
              "whole month), then Enter. The statement is saved and shown; p prints it.")

    class Issued(Message):
        def __init__(self, result: Any, error: BaseException | None = None) -> None:
            super().__init__()
            self.result = result
            self.error = error

    def __init__(self, wallet: WalletView, today: date) -> None:
        super().__init__()
        self.wallet = wallet
        self.today = today
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content(_("Statement for wallet {number}").format(number=clean(self.wallet.number))),
                         id="confirm-title")
            with Horizontal(classes="statement-row"):
                yield Label(_("Start date"), classes="statement-label")
                yield Input(self.today.replace(day=1).isoformat(), id="statement-from", max_length=10)
            with Horizontal(classes="statement-row"):
                yield Label(_("End date"), classes="statement-label")
                yield Input(self.today.isoformat(), id="statement-to", max_length=10)
            yield Static(Content(_("Enter: show and save · Esc: cancel")), id="statement-message")

    def on_mount(self) -> None:
        self.query_one("#statement-from", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _message(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#statement-message", Static)
        widget.update(Content(text))
        widget.set_class(error, "-error")

    def action_submit(self) -> None:
        if self.busy:
            return
        try:
            first, last = parse_range(self.query_one("#statement-from", Input).value,
                                      self.query_one("#statement-to", Input).value)
        except ValueError:
            self._message(_("Dates as YYYY-MM-DD, e.g. {example}").format(example=self.today.isoformat()), True)
            return
        self.busy = True
        self._message(_("Preparing the statement…"))
        self._issue(first, last)

    @work(thread=True, exclusive=True, exit_on_error=False, group="statement")
    def _issue(self, first: date, last: date) -> None:
        try:
            result = self.services.statements.issue(self.actor, self.wallet.wallet_id, first, last)
        except Exception as exc:
            self.post_message(self.Issued(None, exc))
            return
        self.post_message(self.Issued(result))

    @on(Issued)
    def _issued(self, message: Issued) -> None:
        self.busy = False
        if message.error is not None:
            self._message(error_text(message.error), True)
            return
        from .receipt import ReceiptScreen

        st, body, path = message.result
        title = _("Statement {first} – {last}").format(first=st.date_from.isoformat(), last=st.date_to.isoformat())
        self.dismiss(None)
        self.app.push_screen(ReceiptScreen(path.stem, body, path=path, document=True, title=title,
                                           render=lambda width: render_statement(st, width=width)))

    def action_cancel(self) -> None:
        self.dismiss(None)
