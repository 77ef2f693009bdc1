"""The supervisor's analytics: the promotion report over a range of business dates (issue 24).

Everything by keyboard: F2 picks the range (last month, this month, the last 7 or 30 days, the
last 12 weeks), F7/F8 move it one range earlier/later, F3 the grouping (teller, branch, day, week,
month), F4 the view (table; chart of opened and activated wallets per opening week; cohorts;
busiest hours by weekday), F6 saves the report as CSV under the reports folder, F5 reads again.
The numbers are ``services.analytics.promotion`` (the same as ``teller report promotion``), read
in a thread worker. Meaning is in text and numbers, never in colour alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, DataTable, Static
from textual_plotext import PlotextPlot

from teller_tui.common.formatting import display_width
from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets.footer import KeyFooter
from .widgets.safe import literal

if TYPE_CHECKING:
    from teller_tui.analytics.report import PromotionReport

CSS_FILE = Path(__file__).resolve().parent / "supervisor.tcss"

__all__ = ["RANGES", "AnalyticsScreen", "range_for"]

RANGES = (("last_month", N_("last month")), ("this_month", N_("this month")), ("7", N_("last 7 days")),
          ("30", N_("last 30 days")), ("84", N_("last 12 weeks")))
GROUPS = (("teller", N_("teller")), ("branch", N_("branch")), ("day", N_("day")), ("week", N_("week")),
          ("month", N_("month")))
VIEWS = (("an-table", N_("table")), ("an-chart", N_("chart")), ("an-cohorts", N_("cohorts")),
         ("an-hours", N_("busiest hours")))
HOURS = range(8, 20)  # the hours table shows the branch's working hours (local)


def range_for(preset: str, today: date, shift: int = 0) -> tuple[date, date]:
    """The preset range relative to the business date ``today``, moved ``shift`` ranges (negative: earlier)."""
    if preset in ("last_month", "this_month"):
        first = today.replace(day=1)
        months = shift - (1 if preset == "last_month" else 0)
        y, m = divmod(first.year * 12 + first.month - 1 + months, 12)
        first = date(y, m + 1, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return first, min(last, today) if preset == "this_month" and shift == 0 else last
    days = int(preset)
    last = today + timedelta(days=days * shift)
    return last - timedelta(days=days - 1), last


class AnalyticsScreen(TellerScreen[None]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="analytics.back"),
        Binding("f2", "next_range", N_("Range"), id="analytics.range"),
        Binding("f3", "next_group", N_("Group"), id="analytics.group"),
        Binding("f4", "next_view", N_("View"), id="analytics.view"),
        Binding("f7", "earlier", N_("Earlier"), id="analytics.earlier"),
        Binding("f8", "later", N_("Later"), id="analytics.later"),
        Binding("f6", "export", N_("Save CSV"), id="analytics.export"),
        Binding("f5", "refresh", N_("Refresh"), id="analytics.refresh"),
    ]
    HELP = N_("Promotion analytics over business dates. F2 range, F7/F8 earlier/later, F3 grouping, "
              "F4 table/chart/cohorts/hours, F6 saves the report as CSV. ←/→ scroll the table's columns.")

    preset: reactive[int] = reactive(0, init=False)
    group: reactive[int] = reactive(0, init=False)
    view: reactive[int] = reactive(0, init=False)
    shift: reactive[int] = reactive(0, init=False)

    class Loaded(Message):
        def __init__(self, report: PromotionReport | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    class Saved(Message):
        def __init__(self, path: Path | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.path = path
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.report: PromotionReport | None = None
        self.today: date | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="an-body"):
            yield Static("", id="an-title")
            yield Static("", id="an-status")
            with ContentSwitcher(initial="an-table", id="an-switch"):
                yield DataTable(id="an-table", cursor_type="row", zebra_stripes=True)
                yield PlotextPlot(id="an-chart")
                yield DataTable(id="an-cohorts", cursor_type="row")
                yield DataTable(id="an-hours", cursor_type="none", show_cursor=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    # -- keys ------------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self._set_status(_("Reading…"))
        self._load(RANGES[self.preset][0], GROUPS[self.group][0], self.shift)

    def action_next_range(self) -> None:
        self.preset = (self.preset + 1) % len(RANGES)
        self.shift = 0
        self.action_refresh()

    def action_next_group(self) -> None:
        self.group = (self.group + 1) % len(GROUPS)
        self.action_refresh()

    def action_earlier(self) -> None:
        self.shift -= 1
        self.action_refresh()

    def action_later(self) -> None:
        if self.shift < 0:
            self.shift += 1
            self.action_refresh()

    def action_next_view(self) -> None:
        self.view = (self.view + 1) % len(VIEWS)
        self.query_one("#an-switch", ContentSwitcher).current = VIEWS[self.view][0]
        self._title()

    def action_export(self) -> None:
        if self.report is not None:
            self._save(self.report)

    # -- work ------------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="analytics")
    def _load(self, preset: str, group: str, shift: int) -> None:
        try:
            services = self.app.services
            actor = self.app.actor
            branch = actor.branch_code if actor else None
            self.today = services.analytics.business_date(actor, branch)
            first, last = range_for(preset, self.today, shift)
            report = services.analytics.promotion(actor, first, last, group, branch)
        except Exception as exc:  # noqa: BLE001 - shown; F5 tries again
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="analytics-save")
    def _save(self, report: PromotionReport) -> None:
        from teller_tui.analytics.render import render_csv
        from teller_tui.common.files import write_private_file

        try:
            folder = self.app.services.settings.reports_dir
            folder.mkdir(parents=True, exist_ok=True)
            name = f"promotion-{report.by.value}-{report.first.isoformat()}-{report.last.isoformat()}.csv"
            path = write_private_file(folder / name, render_csv(report))
        except Exception as exc:  # noqa: BLE001 - shown
            self.post_message(self.Saved(None, exc))
            return
        self.post_message(self.Saved(path))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if message.path is None:
            self._set_status(_("The report could not be saved: {error}").format(error=str(message.error)))
        else:
            self._set_status(_("Saved: {path}").format(path=str(message.path)))

    def _set_status(self, text: str) -> None:
        self.query_one("#an-status", Static).update(literal(text))

    def _title(self) -> None:
        r = self.report
        when = f"{r.first.isoformat()} – {r.last.isoformat()}" if r else ""
        self.query_one("#an-title", Static).update(Content(_("Analytics {range} · {preset} · by {group} · {view}").format(
            range=when, preset=_(RANGES[self.preset][1]), group=_(GROUPS[self.group][1]),
            view=_(VIEWS[self.view][1]))))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.report is None:
            self._set_status(_("The report could not be read: {error}").format(error=str(message.error)))
            return
        self.report = r = message.report
        self._title()
        t = r.total
        self._set_status(_("{opened} new wallets · activated in 7 days {a7}, in 30 days {a30} · {active} active").format(
            opened=t.m.opened, a7=f"{t.activation_7_pct}%" if t.activation_7_pct is not None else "-",
            a30=f"{t.activation_30_pct}%" if t.activation_30_pct is not None else "-", active=t.m.active)
            + (_(" · training: mean score {mean} of {runs} runs").format(mean=t.training_mean, runs=t.m.training_runs)
               if t.m.training_runs else ""))
        self._fill_table(r)
        self._fill_cohorts(r)
        self._fill_hours(r)
        self._chart(r)

    def _fill_table(self, r: PromotionReport) -> None:
        from teller_tui.analytics.render import COLUMNS, row_label

        table = self.query_one("#an-table", DataTable)
        table.clear(columns=True)
        table.fixed_columns = 1  # who or when stays in view while ←/→ scroll the figures (80 columns)
        table.add_column(_(GROUPS[self.group][1]), width=11)
        for heading, width, _f in COLUMNS:  # a heading is never cut ("New wallets" is wider than its figures)
            table.add_column(_(heading), width=max(width, display_width(_(heading))))
        for row in [*r.rows, r.total]:
            table.add_row(literal(row_label(r, row)), *(literal(f(row), justify="right") for _h, _w, f in COLUMNS))

    def _fill_cohorts(self, r: PromotionReport) -> None:
        from teller_tui.analytics.report import ratio

        table = self.query_one("#an-cohorts", DataTable)
        table.clear(columns=True)
        for heading, width in ((N_("Week of"), 12), (N_("New wallets"), 11), (N_("Act.7d"), 8), (N_("Act.30d"), 8),
                               (N_("7d %"), 7), (N_("30d %"), 7)):
            table.add_column(_(heading), width=width)
        for c in r.cohorts:
            p7, p30 = ratio(100 * c.activated_7, c.opened), ratio(100 * c.activated_30, c.opened)
            table.add_row(literal(c.week.isoformat()), *(literal(str(v), justify="right") for v in (
                c.opened, c.activated_7, c.activated_30, "-" if p7 is None else f"{p7}%",
                "-" if p30 is None else f"{p30}%")))

    def _fill_hours(self, r: PromotionReport) -> None:
        from teller_tui.analytics.render import WEEKDAYS

        table = self.query_one("#an-hours", DataTable)
        table.clear(columns=True)
        table.add_column("", width=5)
        for h in HOURS:
            table.add_column(f"{h:02d}", width=4)
        for day, counts in zip(WEEKDAYS, r.heatmap, strict=True):
            top = max(counts) if any(counts) else 0
            # The busiest hour of each day is marked with * as well as bold: not by colour alone.
            table.add_row(literal(_(day)), *(literal(f"{counts[h]}{'*' if top and counts[h] == top else ''}",
                                                     justify="right", style="bold" if top and counts[h] == top else "")
                                              for h in HOURS))

    def _chart(self, r: PromotionReport) -> None:
        widget = self.query_one("#an-chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        weeks = [c.week.strftime("%m-%d") for c in r.cohorts] or ["-"]
        # No legend: plotext pads a legend by characters, not cells, and CJK labels break its frame.
        # The title names the bars in order instead (meaning is never in the colour alone).
        plt.multiple_bar(weeks, [[c.opened for c in r.cohorts] or [0], [c.activated_7 for c in r.cohorts] or [0],
                                 [c.activated_30 for c in r.cohorts] or [0]])
        plt.title(_("Per opening week, left to right: new wallets, activated in 7 days, in 30 days"))
        widget.refresh()
