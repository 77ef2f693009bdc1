"""The supervisor dashboard: today's branch at a glance, refreshed live.

Pending approvals, cash in/out and wallets opened per teller, drawer positions (the ledger's
drawer accounts), large-value cash records, and a chart of activity per hour (textual-plotext).
Everything comes from one ``services.approvals.dashboard()`` read in a thread worker, run on
mount and then every ``REFRESH_SECONDS`` by a timer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets.safe import literal
from .widgets.footer import KeyFooter

if TYPE_CHECKING:
    from teller_tui.approvals.dashboard import DashboardData

CSS_FILE = Path(__file__).resolve().parent / "supervisor.tcss"

__all__ = ["DashboardScreen"]

OPEN_HOURS = range(8, 19)  # the chart shows the branch's working hours (local)


#: Bar colours, in the order of the series (cash in, cash out, other); the legend names them too.
CHART_COLOURS = ("green", "red", "blue")


class DashboardScreen(TellerScreen[None]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="dashboard.back"),
        Binding("f5", "refresh", N_("Refresh"), id="dashboard.refresh"),
        Binding("f9", "app.open_approvals", N_("Approvals"), id="dashboard.approvals"),
        Binding("f6", "app.staff_unlock", N_("Unlock staff"), id="dashboard.staff_unlock"),
        Binding("f4", "app.open_analytics", N_("Analytics"), id="dashboard.analytics"),
        Binding("pagedown", "scroll_body(1)", N_("Scroll"), id="dashboard.page_down", show=False, priority=True),
        Binding("pageup", "scroll_body(-1)", N_("Scroll"), id="dashboard.page_up", show=False, priority=True),
    ]
    #: Terminal width below which the panels stand one under the other, each table at full width.
    WIDE = 120
    HELP = N_("Today's activity of the branch. It refreshes by itself; F5 refreshes now. F6 unlocks a colleague "
              "locked out by wrong passwords or codes. On a narrow terminal the panels stand one under the "
              "other: Tab moves from table to table, PgDn/PgUp scroll.")
    REFRESH_SECONDS = 5.0

    class Loaded(Message):
        def __init__(self, data: DashboardData | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.data = data
            self.error = error

    def __init__(self, *, live: bool = True) -> None:
        super().__init__()
        self.live = live

    def compose(self) -> ComposeResult:
        with Vertical(id="dash-body"):
            yield Static("", id="dash-title")
            with Horizontal(id="dash-top"):
                with Vertical(classes="dash-panel"):
                    yield Static(Content(_("Pending approvals")), classes="dash-heading")
                    yield DataTable(id="dash-pending", cursor_type="none", show_cursor=False)
                with Vertical(classes="dash-panel"):
                    yield Static(Content(_("Tellers today")), classes="dash-heading")
                    yield DataTable(id="dash-tellers", cursor_type="none", show_cursor=False)
                with Vertical(classes="dash-panel"):
                    yield Static(Content(_("Drawers")), classes="dash-heading")
                    yield DataTable(id="dash-drawers", cursor_type="none", show_cursor=False)
            with Horizontal(id="dash-bottom"):
                with Vertical(classes="dash-panel"):
                    yield Static(Content(_("Large-value cash")), classes="dash-heading")
                    yield DataTable(id="dash-large", cursor_type="none", show_cursor=False)
                with Horizontal(id="dash-chart-box"):
                    yield PlotextPlot(id="dash-chart")
                    yield Static(self._legend(), id="dash-legend")
        yield KeyFooter()

    #: Column widths are fixed: auto-sized columns change width as live data arrives, and the
    #: header can be drawn a frame before the rows that widened it.
    COLUMNS = {
        "#dash-pending": ((N_("Request"), 8), (N_("Action"), 10), (N_("Amount"), 14), (N_("Teller"), 10)),
        "#dash-tellers": ((N_("Teller"), 8), (N_("Cash in"), 14), (N_("Cash out"), 12), (N_("Entries"), 8),
                          (N_("Wallets"), 8)),
        "#dash-drawers": ((N_("Drawer"), 7), (N_("Cash"), 13)),
        "#dash-large": ((N_("Time"), 5), (N_("Customer"), 10), (N_("In/out"), 6), (N_("Amount"), 13),
                        (N_("Day total"), 13), (N_("Reference"), 20)),
    }

    #: Below ``WIDE`` columns: the same columns, text columns wider (each table has the full width).
    COLUMNS_NARROW = {
        "#dash-pending": ((N_("Request"), 8), (N_("Action"), 26), (N_("Amount"), 14), (N_("Teller"), 12)),
        "#dash-tellers": ((N_("Teller"), 10), (N_("Cash in"), 14), (N_("Cash out"), 14), (N_("Entries"), 8),
                          (N_("Wallets"), 8)),
        "#dash-drawers": ((N_("Drawer"), 10), (N_("Cash"), 14)),
        "#dash-large": ((N_("Time"), 5), (N_("Customer"), 9), (N_("In/out"), 6), (N_("Amount"), 13),
                        (N_("Day total"), 13), (N_("Reference"), 19)),
    }

    def on_mount(self) -> None:
        self._set_layout()
        self.action_refresh()
        if self.live:
            self.set_interval(self.REFRESH_SECONDS, self.action_refresh, name="dashboard-refresh")

    def _set_layout(self) -> None:
        narrow = self.app.size.width < self.WIDE
        self.set_class(narrow, "-narrow")
        for selector, columns in (self.COLUMNS_NARROW if narrow else self.COLUMNS).items():
            table = self.query_one(selector, DataTable)
            table.clear(columns=True)
            for label, width in columns:
                table.add_column(_(label), width=width)

    def on_resize(self, event: events.Resize) -> None:
        # Resized across WIDE: the panels stack (or go side by side again) and the tables take the
        # matching columns; a wide layout squeezed into 80 columns cut every table off.
        if (self.app.size.width < self.WIDE) != self.has_class("-narrow"):
            self._set_layout()
            self.action_refresh()

    def action_refresh(self) -> None:
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "scroll_body":
            return self.has_class("-narrow")  # wide: PgDn/PgUp stay the tables' own
        return super().check_action(action, parameters)

    def action_scroll_body(self, pages: int) -> None:
        body = self.query_one("#dash-body")
        if pages > 0:
            body.scroll_page_down()
        else:
            body.scroll_page_up()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard")
    def _load(self) -> None:
        try:
            actor = self.app.actor
            data = self.app.services.approvals.dashboard(actor, branch_code=actor.branch_code)
        except Exception as exc:  # noqa: BLE001 - shown; the next refresh tries again
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(data))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from teller_tui.common.formatting import format_date, format_money

        title = self.query_one("#dash-title", Static)
        data = message.data
        if data is None:
            title.update(Content(_("The database cannot be reached; trying again.")))
            return
        title.update(Content(_("Branch {branch} · {day}").format(branch=data.branch_code,
                                                                  day=format_date(data.on))))
        pending = self.query_one("#dash-pending", DataTable)
        pending.clear()
        for v in data.pending:
            pending.add_row(literal(str(v.id)), literal(v.title),
                            literal(format_money(v.amount) if v.amount else "", justify="right"),
                            literal(v.requester))
        tellers = self.query_one("#dash-tellers", DataTable)
        tellers.clear()
        for t in data.tellers:
            tellers.add_row(literal(t.username), literal(format_money(t.cash_in), justify="right"),
                            literal(format_money(t.cash_out), justify="right"), literal(str(t.transactions)),
                            literal(str(t.wallets_opened)))
        drawers = self.query_one("#dash-drawers", DataTable)
        drawers.clear()
        for d in data.drawers:
            drawers.add_row(literal(d.code.split(":")[-1]), literal(format_money(d.balance), justify="right"))
        large = self.query_one("#dash-large", DataTable)
        large.clear()
        for r in data.large_value:
            from teller_tui.common.clock import BRANCH_TZ

            large.add_row(literal(r.txn_at.astimezone(BRANCH_TZ).strftime("%H:%M")), literal(r.customer_name),
                          literal(_("in") if r.direction == "in" else _("out")),
                          literal(format_money(r.amount), justify="right"),
                          literal(format_money(r.cumulative), justify="right"), literal(r.reference))
        self._chart(data)

    def _chart(self, data: DashboardData) -> None:
        widget = self.query_one("#dash-chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        hours = [f"{h:02d}" for h in OPEN_HOURS]
        series = [[data.hourly_in[h] for h in OPEN_HOURS], [data.hourly_out[h] for h in OPEN_HOURS],
                  [data.hourly_other[h] for h in OPEN_HOURS]]
        # No labels: plotext draws its legend over the bars; the legend is a widget beside the plot.
        plt.multiple_bar(hours, series, color=list(CHART_COLOURS))
        top = max([1, *(n for s in series for n in s)])  # counts: the axis starts at zero, whole numbers
        step = max(1, -(-top // 4))
        plt.ylim(0, top)
        plt.yticks(list(range(0, top + 1, step)))
        plt.title(_("Entries per hour"))
        widget.refresh()

    @staticmethod
    def _legend() -> Content:
        """Which bar is which: named, in the order the bars stand in each hour (not by colour alone)."""
        names = (_("Cash in"), _("Cash out"), _("Other"))
        lines = [Content(_("Bars, left to right:"))]
        for i, (name, colour) in enumerate(zip(names, CHART_COLOURS, strict=True), start=1):
            lines.append(Content.styled("██", colour) + Content(f" {i} {name}"))
        return Content("\n").join(lines)
