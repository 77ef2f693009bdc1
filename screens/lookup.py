"""Find a customer as you type: phone, PRC ID (any part), name (CJK or pinyin), wallet number.

Every keystroke starts a thread worker (``exclusive=True``: the previous search is cancelled)
that calls ``services.customers.search`` and posts :class:`LookupScreen.Results` back. Each
search carries a token; results whose token is not the latest are dropped, so a slow early
search can never overwrite the answer to what the teller typed last. The list shows one page
(``PAGE_SIZE`` rows); PgDn/PgUp move between pages. It is a
:class:`~screens.widgets.results.ResultList` (each row's line built once per answer, painted as
one segment) rather than a DataTable, which repaints every visible cell through Rich whenever
any cell changes. Per answer the UI thread refills the list only when what it shows changes,
updates the one-line status without a layout pass, and rebuilds the footer only when paging
availability changes.

Enter (in the field or on a row) opens the customer. With ``purpose`` set to ``"cash_in"``,
``"cash_out"`` or ``"transfer"`` the customer view opens with that form on top of it; with
``"pick"`` the screen dismisses with the customer id instead (used by other screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.results import ResultList
from .widgets.safe import clean

if TYPE_CHECKING:
    from textual.timer import Timer

    from teller_tui.desk.customer_views import CustomerHit, SearchPage

__all__ = ["LookupScreen", "PAGE_SIZE"]

#: Terminal width below which the result table drops its pinyin column.
NARROW = 110
COLUMN_KEYS = ("no", "name", "latin", "phone", "id", "wallets", "match")

PAGE_SIZE = 20
#: Seconds after the last answer before the footer shows a change in PgDn/PgUp availability.
FOOTER_DELAY = 0.3

_MATCH_LABELS = {
    "phone": N_("phone"),
    "phone_tail": N_("phone ends"),
    "id_number": N_("ID"),
    "name": N_("name"),
    "name_latin": N_("pinyin"),
    "wallet": N_("wallet"),
    "customer_no": N_("customer no."),
}
_KIND_LABELS = {
    "phone": N_("Phone number"),
    "id": N_("ID number"),
    "digits": N_("Digits: phone (start or last digits), ID, wallet or customer number"),
    "name": N_("Name"),
    "latin": N_("Pinyin / latin name"),
    "wallet": N_("Wallet number"),
    "too_short": N_("Type a little more"),
    "empty": N_("Type a phone number, ID number, name or wallet number"),
}


class LookupScreen(DeskScreenMixin, TellerScreen[int | None]):
    """One search field over the customer base; a page of ranked results below it."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="lookup.back"),
        Binding("pagedown", "page(1)", N_("Next page"), id="lookup.next_page", priority=True),
        Binding("pageup", "page(-1)", N_("Previous page"), id="lookup.prev_page", priority=True),
        Binding("down", "cursor(1)", N_("Down"), show=False, id="lookup.down"),
        Binding("up", "cursor(-1)", N_("Up"), show=False, id="lookup.up"),
        Binding("ctrl+j", "open", N_("Open"), show=False, id="lookup.open"),
        Binding("f2", "focus_query", N_("Search"), id="lookup.focus"),
    ]

    HELP = N_(
        "## Find customer\n\n"
        "Type a mobile number, an ID number (any part), a name (Chinese or pinyin) "
        "or a wallet number. Results follow each keystroke.\n\n"
        "- **Up/Down** choose a row, **Enter** opens it\n"
        "- **PgDn/PgUp** next or previous page\n"
        "- **Esc** goes back"
    )

    class Results(Message):
        """A search finished (posted by the worker thread)."""

        def __init__(self, token: int, page: SearchPage) -> None:
            super().__init__()
            self.token = token
            self.page = page

    class Failed(Message):
        def __init__(self, token: int, error: BaseException) -> None:
            super().__init__()
            self.token = token
            self.error = error

    def __init__(self, query: str = "", *, purpose: str | None = None) -> None:
        super().__init__()
        self.initial_query = query
        self.purpose = purpose
        self._token = 0
        self._offset = 0
        self._shown: list[tuple[str, list[str]]] = []  # what the list shows (keys and cell text)
        self._row_ids: list[int] = []  # the customer on each row
        self._status_text: str | None = None
        self._footer_timer: Timer | None = None
        self.page: SearchPage | None = None

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="lookup-body"):
            yield Static(Content(self._title()), id="lookup-title")
            yield Input(value=self.initial_query, placeholder=_("Phone, ID number, name or wallet number"),
                        id="lookup-query", max_length=64)
            empty_hint = _KIND_LABELS["empty"]
            yield Static(Content(_(empty_hint)), id="lookup-status")
            yield ResultList(id="lookup-results")
        yield KeyFooter()

    def _title(self) -> str:
        titles = {
            "cash_in": _("Cash in: find the customer"),
            "cash_out": _("Cash out: find the customer"),
            "transfer": _("Transfer: find the paying customer"),
            "pick": _("Choose a customer"),
        }
        return titles.get(self.purpose or "", _("Find customer"))

    def on_mount(self) -> None:
        self._setup_columns()
        self.query_one("#lookup-query", Input).focus()
        if self.initial_query:
            self.run_search(self.initial_query, 0)

    def after_relabel(self) -> None:
        self._setup_columns()
        self._shown = []
        self._status_text = None
        if self.page is not None:
            self._show_results(self.Results(self._token, self.page))
        self.refresh_bindings()

    def on_resize(self, event: events.Resize) -> None:
        # Resized across NARROW: the other set of columns (at 80 the wide ones pushed the wallet
        # number and the match off the right edge), and the page shown again in them.
        if (self.app.size.width < NARROW) == getattr(self, "_narrow", None):
            return
        self._setup_columns()
        self._shown = []
        if self.page is not None:
            self._show_results(self.Results(self._token, self.page))

    def _setup_columns(self) -> None:
        # Below NARROW columns (80x24) the pinyin column goes (the match column says when the
        # pinyin matched) so the wallet numbers and the match stay in view.
        self._narrow = self.app.size.width < NARROW
        widths = (11, 8, 0, 11, 10, 16, 8) if self._narrow else (12, 14, 19, 13, 19, 17, 10)
        labels = (_("No."), _("Name"), _("Pinyin"), _("Phone"), _("ID number"), _("Wallets"), _("Match"))
        self.query_one("#lookup-results", ResultList).set_columns(
            [(label, width) for label, width in zip(labels, widths, strict=True) if width])

    # -- searching -----------------------------------------------------------------------
    @on(Input.Changed, "#lookup-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self._offset = 0
        self.run_search(event.value, 0)

    def run_search(self, query: str, offset: int) -> None:
        self._token += 1
        self._search(self._token, query, offset)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lookup")
    def _search(self, token: int, query: str, offset: int) -> None:
        worker = get_current_worker()
        if worker.is_cancelled or token != self._token:
            return  # the teller typed on before this search started: only the latest is wanted
        try:
            page = self.services.customers.search(query, limit=PAGE_SIZE, offset=offset)
        except Exception as exc:  # one handler turns every failure into a message
            if not worker.is_cancelled:
                self.post_message(self.Failed(token, exc))
            return
        if not worker.is_cancelled:
            self.post_message(self.Results(token, page))

    @on(Results)
    def _show_results(self, message: Results) -> None:
        if message.token != self._token:
            return  # stale: the teller has typed more since
        page = message.page
        previous = self.page
        self.page = page
        self._offset = page.offset
        rows = [(str(hit.customer_id), self._cells(hit)) for hit in page.results]
        if getattr(self, "_narrow", False):
            rows = [(key, cells[:2] + cells[3:]) for key, cells in rows]
        # Refill the list only when what it shows changes (typing one more digit of a phone
        # number often keeps the same page).
        if rows != self._shown:
            self.query_one("#lookup-results", ResultList).set_rows([cells for _key, cells in rows])
            self._shown = rows
            self._row_ids = [int(key) for key, _cells in rows]
        self._update_status(page)
        paging = (page.has_more, page.offset > 0)
        if previous is None or paging != (previous.has_more, previous.offset > 0):
            # The footer (PgDn/PgUp enabled or not) is rebuilt only when that changes, and, while
            # the teller types, once typing pauses: rebuilding it costs more than the search.
            # (Whether PgDn/PgUp act is decided by check_action at the key, never by the footer.)
            if previous is not None and page.offset != previous.offset:
                self._refresh_footer()
            elif self._footer_timer is None:
                self._footer_timer = self.set_timer(FOOTER_DELAY, self._footer_due)
        if self._footer_timer is not None:
            self._footer_timer.reset()  # still typing: wait for the pause

    def _refresh_footer(self) -> None:
        if self._footer_timer is not None:
            self._footer_timer.stop()
            self._footer_timer = None
        self.refresh_bindings()

    def _footer_due(self) -> None:
        self._footer_timer = None  # a one-shot timer, finished: nothing to stop
        self.refresh_bindings()

    @on(Failed)
    def _show_failure(self, message: Failed) -> None:
        if message.token != self._token:
            return
        status = self.query_one("#lookup-status", Static)
        self._status_text = None
        status.update(Content(error_text(message.error)), layout=False)
        status.add_class("-error")

    @staticmethod
    def _cells(hit: CustomerHit) -> list[str]:
        wallets = ", ".join(hit.wallet_numbers[:2]) + (" …" if len(hit.wallet_numbers) > 2 else "")
        match = _(_MATCH_LABELS.get(hit.match_kind, hit.match_kind))
        if hit.exact:
            match = "= " + match
        # Plain values: the list cleans each one and never reads markup.
        return [hit.customer_no, hit.full_name, hit.name_latin or "", hit.phone_masked,
                hit.id_number_masked or "—", wallets, match]

    def _set_status(self, text: str) -> None:
        status = self.query_one("#lookup-status", Static)
        status.remove_class("-error")
        if text != self._status_text:
            self._status_text = text
            status.update(Content(text), layout=False)  # one line, fixed height: no layout pass

    def _update_status(self, page: SearchPage) -> None:
        kind = _(_KIND_LABELS.get(page.query_kind, page.query_kind))
        if page.query_kind in ("empty", "too_short"):
            self._set_status(kind)
            return
        if not page.results:
            self._set_status(_("{kind}: no customer found").format(kind=kind))
            return
        first = page.offset + 1
        last = page.offset + len(page.results)
        text = _("{kind}: results {first}–{last}").format(kind=kind, first=first, last=last)
        if page.has_more:
            text += "  " + _("(PgDn: more)")
        if page.offset:
            text += "  " + _("(PgUp: previous)")
        self._set_status(clean(text))

    # -- actions -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            page = self.page
            if page is None:
                return None
            if parameters and parameters[0] == 1 and not page.has_more:
                return None
            if parameters and parameters[0] == -1 and page.offset <= 0:
                return None
        return True

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        if step > 0 and not page.has_more:
            return
        offset = max(0, page.offset + step * PAGE_SIZE)
        if offset == page.offset:
            return
        self.run_search(self.query_one("#lookup-query", Input).value, offset)

    def action_cursor(self, step: int) -> None:
        results = self.query_one("#lookup-results", ResultList)
        results.move_cursor(results.cursor_row + step)

    def action_focus_query(self) -> None:
        self.query_one("#lookup-query", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#lookup-query")
    def _submitted(self) -> None:
        self.action_open()

    @on(ResultList.Selected, "#lookup-results")
    def _row_selected(self, event: ResultList.Selected) -> None:
        event.stop()
        self.action_open()

    def selected_customer_id(self) -> int | None:
        results = self.query_one("#lookup-results", ResultList)
        if not results.row_count:
            return None
        row = results.cursor_row
        return self._row_ids[row] if 0 <= row < len(self._row_ids) else None

    def action_open(self) -> None:
        customer_id = self.selected_customer_id()
        if customer_id is None:
            self.show_info(_("No customer selected"))
            return
        if self.purpose == "pick":
            self.dismiss(customer_id)
            return
        from .customer import CustomerScreen

        self.app.push_screen(CustomerScreen(customer_id, then=self.purpose))
