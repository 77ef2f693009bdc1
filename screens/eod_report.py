"""End-of-day report on screen: the same text as the file under ``settings.reports_dir``.

``EodReportScreen(branch, business_date, username=None)``: one drawer's report when ``username``
is given, else the branch report (every drawer and the branch totals). The report is built (and
its file written) in a thread worker; F5 builds it again, Esc goes back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from teller_tui.common.i18n import N_, _
from teller_tui.common.printing.config import Purpose

from .base import TellerScreen
from .drawer import CSS_FILE
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean
from .widgets.footer import KeyFooter

__all__ = ["EodReportScreen"]


class EodReportScreen(DeskScreenMixin, TellerScreen[None]):
    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="eod.back"),
        Binding("f5", "refresh", N_("Refresh"), id="eod.refresh"),
        Binding("f6", "toggle_scope", N_("Drawer / branch"), id="eod.scope"),
        Binding("p", "print", N_("Print"), id="eod.print"),
        Binding("f8", "print", N_("Print"), id="eod.print_f8", show=False),
    ]
    HELP = N_("The end-of-day report, as saved in the reports folder. F5 builds it again; F6 switches between "
              "your drawer and the whole branch; p prints it on this terminal's document printer; Esc goes back.")

    class Printed(Message):
        def __init__(self, text: str, printed: bool = True) -> None:
            super().__init__()
            self.text = text
            self.printed = printed

    class Built(Message):
        def __init__(self, report: Any, error: BaseException | None = None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    def __init__(self, branch_code: str, business_date: date | None = None, *, username: str | None = None) -> None:
        super().__init__()
        self.branch_code = branch_code
        self.business_date = business_date
        self.username = username
        self._own = username
        self.report: Any = None

    def compose(self) -> ComposeResult:
        yield Static(Content(_("End-of-day report")), id="eod-title")
        with VerticalScroll(id="eod-scroll"):
            yield Static(Content(_("Building the report…")), id="eod-text")
        yield Static("", id="eod-path")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self._build(self.branch_code, self.business_date, self.username)

    def action_toggle_scope(self) -> None:
        self.username = None if self.username else (self._own or getattr(self.actor, "username", None))
        self.action_refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="eod-report")
    def _build(self, branch: str, business_date: date | None, username: str | None) -> None:
        try:
            report = self.services.drawers.eod_report(branch, business_date, username=username, write=True)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Built(None, exc))
            return
        self.post_message(self.Built(report))

    @on(Built)
    def _built(self, message: Built) -> None:
        if message.error is not None:
            self.query_one("#eod-text", Static).update(Content(error_text(message.error)))
            return
        self.report = message.report
        self.query_one("#eod-text", Static).update(Content(clean(message.report.text(), multiline=True)))
        path = message.report.path
        self.query_one("#eod-path", Static).update(
            Content(_("Saved to {path}").format(path=clean(str(path))) if path else ""))

    def action_print(self) -> None:
        """To this terminal's document printer (in a browser: opened in a tab to print)."""
        if self.report is None:
            return
        if self.app.is_web:
            import io

            self.app.deliver_text(io.StringIO(self.report.text()), save_filename="eod-report.txt",
                                  open_method="browser", mime_type="text/plain")
            return
        self.query_one("#eod-path", Static).update(Content(_("Printing…")))
        self._print(self.report.text(), self.report.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="eod-print")
    def _print(self, text: str, path: Any) -> None:
        try:
            outcome = self.services.printing.print_text(text, purpose=Purpose.DOCUMENT, title="eod-report",
                                                        kept_at=path)
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never left at "Printing…"
            self.post_message(self.Printed(_("Not printed: {reason}").format(reason=error_text(exc)), False))
            return
        self.post_message(self.Printed(outcome.message, outcome.printed))

    @on(Printed)
    def _printed(self, message: Printed) -> None:
        self.query_one("#eod-path", Static).update(Content(message.text))
        if message.printed:
            self.show_info(message.text, title=_("Print"))
        else:
            self.show_error(message.text, title=_("Not printed"))

    def action_back(self) -> None:
        self.dismiss(None)
