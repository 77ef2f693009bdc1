"""The supervisor's list of offline cash-ins the central books refused (Ctrl+E; palette "Offline exceptions").

Each row is cash in a teller's drawer that is not in the books: who took it, when, for which wallet,
how much and why it was refused. The supervisor resolves it here, at the terminal that holds it:

* **R — refund**: the teller hands the cash back to the customer (against the OFFLINE- receipt);
  nothing is posted; audited ``offline_refund``; it leaves the drawer's expected cash.
* **P — post**: the supervisor approves posting it after all (a wallet frozen meanwhile, a day that
  closed meanwhile); the counter's checks still apply, so a closed wallet or a balance limit stays
  refused and only refund remains; audited ``offline_exception_post``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from teller_tui.common.formatting import format_datetime, format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_name

from .base import TellerScreen
from .confirm import ConfirmScreen
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.safe import clean, literal
from .widgets.tables import selected_key

if TYPE_CHECKING:
    from teller_tui.offline.types import OfflineItem

__all__ = ["OfflineExceptionsScreen"]

class OfflineExceptionsScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="offline_exc.back"),
        Binding("r", "refund", N_("Refund"), id="offline_exc.refund"),
        Binding("p", "post", N_("Post"), id="offline_exc.post"),
        Binding("f5", "reload", N_("Refresh"), id="offline_exc.refresh"),
    ]
    HELP = N_(
        "## Offline exceptions\n\n"
        "Cash-ins taken while the database was down that the books refused when they were uploaded. "
        "The cash is still in the teller's drawer.\n\n"
        "- **R** refund: the teller hands the cash back to the customer; nothing is posted\n"
        "- **P** post: you approve posting it after all (the counter's checks still apply)\n"
        "- **Esc** back"
    )
    DEFAULT_CSS = """
    OfflineExceptionsScreen #offx-body { padding: 0 1; }
    OfflineExceptionsScreen #offx-title { text-style: bold; }
    OfflineExceptionsScreen #offx-table { height: 1fr; }
    OfflineExceptionsScreen #offx-reason { height: auto; max-height: 4; }
    OfflineExceptionsScreen #offx-message { height: auto; }
    """

    class Loaded(Message):
        def __init__(self, items: list[OfflineItem] | None, error: BaseException | None = None,
                     gaps: list[int] | None = None) -> None:
            super().__init__()
            self.items = items
            self.error = error
            self.gaps = gaps or []

    class Done(Message):
        def __init__(self, item: OfflineItem | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.item = item
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, OfflineItem] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="offx-body"):
            yield Static(Content(_("Offline exceptions: cash in a drawer, not in the books")), id="offx-title")
            yield DataTable(id="offx-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="offx-reason")
            yield Static("", id="offx-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#offx-table", DataTable)
        table.add_columns(_("Reference"), _("Teller"), _("Customer"), _("Amount"), _("Taken"))
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-exceptions")
    def _load(self) -> None:
        try:
            items = self.services.offline.exceptions(self.actor)
            gaps = self.services.offline.sequence_gaps(self.actor)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(items, gaps=gaps))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.items is None:
            self.query_one("#offx-message", Static).update(Content(error_text(message.error or RuntimeError())))
            return
        table = self.query_one("#offx-table", DataTable)
        table.clear()
        self.items = {i.key: i for i in message.items}
        for item in message.items:
            table.add_row(literal(item.reference), literal(item.taker.username), literal(mask_name(item.customer_name)),
                          format_money(item.amount), format_datetime(item.taken_at), key=item.key)
        lines = [_("Nothing to resolve.")] if not message.items else []
        if message.gaps:
            lines.append(_("Offline receipt numbers missing from the books (deleted from this terminal's queue?): "
                           "{numbers}").format(numbers=", ".join(str(n) for n in message.gaps[:20])))
        self.query_one("#offx-message", Static).update(Content("\n".join(lines)))
        self._show_reason()

    @on(DataTable.RowHighlighted)
    def _show_reason(self, _event: Any = None) -> None:
        item = self._selected()
        text = (_("Refused: {reason}").format(reason=clean(item.reason)) + "\n" +
                _("Wallet {number}").format(number=clean(item.wallet_number))) if item is not None else ""
        self.query_one("#offx-reason", Static).update(Content(text))

    def _selected(self) -> OfflineItem | None:
        key = selected_key(self.query_one("#offx-table", DataTable))
        return self.items.get(key) if key is not None else None

    def _facts(self, item: OfflineItem) -> list[tuple[str, str]]:
        return [(_("Reference"), item.reference), (_("Teller"), item.taker.username),
                (_("Customer"), mask_name(item.customer_name)), (_("Wallet"), item.wallet_number),
                (_("Amount"), format_money(item.amount)), (_("Refused"), item.reason)]

    def action_refund(self) -> None:
        item = self._selected()
        if item is None:
            return
        self.app.push_screen(ConfirmScreen(_("Refund: the teller hands the cash back"), self._facts(item),
                                           warning=_("Nothing is posted. The customer returns the offline receipt.")),
                             lambda ok: self._resolve(item.key, "refund") if ok else None)

    def action_post(self) -> None:
        item = self._selected()
        if item is None:
            return
        self.app.push_screen(ConfirmScreen(_("Post it after all (your approval)"), self._facts(item),
                                           warning=_("You approve posting this cash-in into the wallet now.")),
                             lambda ok: self._resolve(item.key, "post") if ok else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-resolve")
    def _resolve(self, key: str, how: str) -> None:
        offline = self.services.offline
        try:
            if how == "refund":
                item = offline.refund(self.actor, key, _("Cash handed back to the customer at the counter"))
            else:
                item = offline.post_exception(self.actor, key, _("Approved by the supervisor at this terminal"))
        except Exception as exc:  # noqa: BLE001 - shown; the item stays on the list
            self.post_message(self.Done(None, exc))
            return
        self.post_message(self.Done(item))

    @on(Done)
    def _done(self, message: Done) -> None:
        if message.item is None:
            self.show_error(message.error or RuntimeError())
        else:
            item = message.item
            text = (_("{reference}: refunded.") if item.status == "refunded"
                    else _("{reference}: posted as {entry}.")).format(reference=item.reference,
                                                                       entry=item.entry_reference)
            self.show_info(clean(text), title=_("Offline exceptions"))
        refresh = getattr(self.app, "refresh_offline_summary", None)
        if refresh is not None:
            refresh()  # the banner
        self.action_reload()

    def action_back(self) -> None:
        self.dismiss(None)
