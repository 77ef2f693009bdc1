"""The supervisor's risk alert queue: the branch's alerts, live, and one alert's facts and decisions.

:class:`RiskAlertsScreen` (ctrl+r from every supervisor screen; the footer counts the open alerts)
polls ``services.risk.alerts`` in a thread worker every two seconds, so an alert raised by a scan on
any terminal or by ``teller risk scan`` appears without a restart. Enter opens
:class:`AlertScreen`: what triggered the alert (the pattern's facts), then F2 acknowledge (take it:
it stays open and keeps warning the counter), F9 clear with a reason, F6 freeze the wallet with a
reason, F8 file a suspicious-transaction report (the text typed is the narrative). Every decision
is audited by the core.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label, Static

from teller_tui.common.formatting import format_datetime, format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money

from .base import TellerModal, TellerScreen
from .commands import PaletteCommand, register_command
from .confirm import facts_content
from .widgets.footer import KeyFooter
from .widgets.safe import clean, literal

if TYPE_CHECKING:
    from teller_tui.risk.alerts import AlertView

CSS_FILE = Path(__file__).resolve().parent / "supervisor.tcss"

__all__ = ["AlertScreen", "RiskAlertsScreen", "alert_facts"]

register_command(PaletteCommand("risk_alerts", N_("Risk alerts"), "app.open_alerts",
                                N_("Suspicious patterns waiting for a supervisor"), roles=("supervisor", "admin")))

#: How many of the pattern's facts the dialog lists (the rest are in `teller alerts list` and the report).
MAX_FACTS = 6


def alert_facts(view: AlertView) -> list[tuple[str, Any]]:
    from teller_tui.common.formatting import format_datetime, format_money
    from teller_tui.risk.alerts import status_label

    status = status_label(view.status)
    if view.acked_by and view.status == "open":
        status += " · " + _("taken by {who}").format(who=view.acked_by)
    facts: list[tuple[str, Any]] = [(_("Alert"), f"{view.id} · {status}"), (_("Pattern"), view.title)]
    if view.customer_no:
        facts.append((_("Customer"), f"{view.customer_no} {view.customer_name}"))
    if view.wallet_masked:
        facts.append((_("Wallet"), view.wallet_masked + ("  " + _("FROZEN") if view.wallet_frozen else "")))
    if view.amount.minor:
        facts.append((_("Amount"), format_money(view.amount)))
    facts.append((_("Seen"), f"{format_datetime(view.first_at)} – {format_datetime(view.last_at)}"))
    if view.decided_by:
        facts.append((_("Decided"), f"{view.decided_by}: {view.decision_reason}"))
    return facts


#: The patterns' fact names (teller_tui/risk), as a supervisor reads them; an unknown name shows as stored.
FACT_LABELS = {
    "count": N_("Number of times"), "entries": N_("Entries involved"), "threshold": N_("Threshold"),
    "failures": N_("Failures"),
    "customers": N_("Customers"), "terminal": N_("Terminal"), "list_id": N_("List entry"), "by": N_("Matched by"),
    "distance": N_("Distance"), "source": N_("List"), "branch": N_("Branch"), "cash_in": N_("Cash in"),
    "days": N_("Days"), "device_replaced_at": N_("Phone replaced at"), "direction": N_("Direction"),
    "hours": N_("Hours"), "idle_days": N_("Days idle"), "idle_since": N_("Idle since"),
    "linked_customers": N_("Linked customers"), "minutes": N_("Minutes"), "opened_at": N_("Opened at"),
    "out": N_("Paid out"), "risk_level": N_("Risk level"), "wallet": N_("Wallet"), "window": N_("Window"),
}


#: Facts kept in minor units of the alert's currency, and facts that are ISO timestamps.
_MONEY_FACTS = {"threshold", "cash_in", "out"}
_TIME_FACTS = {"idle_since", "device_replaced_at", "opened_at"}
_DIRECTIONS = {"cash_in": N_("Cash in"), "cash_out": N_("Cash out")}


def _fact_value(value: Any, key: str = "", currency: str = "CNY") -> str:
    """One fact as a supervisor reads it: money formatted, times local, directions translated; an
    entry of a pattern stands as its reference, kind and amount."""
    if isinstance(value, dict):
        parts = [str(value.get("reference", "…"))]
        amount = value.get("amount")
        if isinstance(amount, int) and not isinstance(amount, bool):
            parts.append(format_money(Money(abs(amount), currency)))
        return " ".join(parts)
    if key in _MONEY_FACTS and isinstance(value, int) and not isinstance(value, bool):
        return format_money(Money(value, currency))
    if key in _TIME_FACTS and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "direction" and isinstance(value, str):
        return _(_DIRECTIONS.get(value, value))
    return str(value)


def trigger_lines(view: AlertView) -> Content:
    """The pattern's own facts (what triggered it), one ``name: value`` per line, values cut short."""
    lines: list[Content] = []
    currency = view.amount.currency
    for key, value in list(view.facts.items())[:MAX_FACTS]:
        if isinstance(value, list):
            text = ", ".join(_fact_value(v, key, currency) for v in value[:5]) + (" …" if len(value) > 5 else "")
        else:
            text = _fact_value(value, key, currency)
        label = _(FACT_LABELS[key]) if key in FACT_LABELS else key
        lines.append(Content.assemble(("· " + clean(label) + ": ", "$text-muted"), clean(text, limit=60)))
    return Content("\n").join(lines)


class RiskAlertsScreen(TellerScreen[None]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="alerts.back"),
        Binding("enter", "open", N_("Open"), id="alerts.open", priority=True),  # shown: the table would hide it
        Binding("f5", "refresh", N_("Refresh"), id="alerts.refresh"),
        Binding("f6", "toggle_all", N_("Open / all"), id="alerts.toggle"),
    ]
    HELP = N_("Risk alerts of the branch; new ones appear within two seconds. Enter opens one: F2 take it, "
              "F9 clear with a reason, F6 freeze the wallet, F8 file a report. F6 here shows all or only open.")
    POLL_SECONDS = 2.0

    class Loaded(Message):
        def __init__(self, views: list[AlertView] | None) -> None:
            super().__init__()
            self.views = views

    def __init__(self) -> None:
        super().__init__()
        self.views: list[AlertView] = []
        self.show_all = False
        self._signature: tuple[tuple[int, str, str], ...] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts-body"):
            yield Static(Content(_("Risk alerts")), id="alerts-title")
            yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="alerts-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._setup_table()
        self.refresh_alerts()
        self.set_interval(self.POLL_SECONDS, self.refresh_alerts, name="alerts-poll")

    def _setup_table(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        for label, key, width in ((_("Alert"), "id", 6), (_("Status"), "status", 10), (_("Pattern"), "rule", 26),
                                  (_("Customer"), "customer", 12), (_("Amount"), "amount", 14)):
            table.add_column(label, key=key, width=width)
        table.focus()

    async def relabel(self) -> None:
        await super().relabel()
        self._setup_table()
        self.action_refresh()

    def refresh_alerts(self) -> None:
        self._load(self.show_all)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-poll")
    def _load(self, show_all: bool) -> None:
        app: Any = self.app
        try:
            views = app.services.risk.alerts(app.actor, status=None if show_all else "open", limit=200)
        except Exception:  # noqa: BLE001 - shown; the next poll tries again
            self.post_message(self.Loaded(None))
            return
        self.post_message(self.Loaded(views))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from teller_tui.common.formatting import format_money
        from teller_tui.risk.alerts import status_label

        note = self.query_one("#alerts-message", Static)
        if message.views is None:
            note.update(Content(_("The database cannot be reached; trying again.")))
            return
        signature = tuple((v.id, v.status, v.acked_by) for v in message.views)
        if signature == self._signature:
            return
        self._signature = signature
        self.views = message.views
        table = self.query_one("#alerts-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for v in message.views:
            status = status_label(v.status) + ("*" if v.acked_by and v.status == "open" else "")
            table.add_row(literal(str(v.id)), literal(status), literal(v.title), literal(v.customer_no or v.subject),
                          literal(format_money(v.amount) if v.amount.minor else ""), key=str(v.id))
        if 0 <= keep < len(message.views):
            table.move_cursor(row=keep)
        count = len(message.views)
        scope = _("all alerts") if self.show_all else _("to review")
        note.update(Content(_("{count} shown ({scope}). * = taken by a supervisor.").format(count=count, scope=scope)
                            if count else _("No alerts ({scope}).").format(scope=scope)))

    def action_refresh(self) -> None:
        self._signature = None
        self.refresh_alerts()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.action_refresh()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        if not self.views or not 0 <= table.cursor_row < len(self.views):
            return
        self.app.push_screen(AlertScreen(self.views[table.cursor_row]), lambda _r: self.action_refresh())


class AlertScreen(TellerModal["AlertView | None"]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="alert.close"),
        Binding("f2", "acknowledge", N_("Take"), id="alert.ack"),
        Binding("f9", "clear", N_("Clear"), id="alert.clear"),
        Binding("f6", "freeze", N_("Freeze wallet"), id="alert.freeze"),
        Binding("f8", "report", N_("File report"), id="alert.report"),
    ]
    HELP = N_("What triggered the alert is listed. F2 takes it (it stays open). Type a reason, then F9 to clear "
              "it or F6 to freeze the wallet; or type what is suspicious and why, then F8 to file a report.")

    busy: reactive[bool] = reactive(False, bindings=True)

    class Done(Message):
        def __init__(self, view: AlertView | None, error: BaseException | None, what: str) -> None:
            super().__init__()
            self.view, self.error, self.what = view, error, what

    def __init__(self, view: AlertView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with Vertical(id="alert-box"):
            yield Static(Content(_("Risk alert")), id="alert-title")
            yield Static(facts_content(alert_facts(self.view)), id="alert-facts")
            yield Static(Content(_("What triggered it")), classes="field-label")
            yield Static(trigger_lines(self.view), id="alert-trigger")
            yield Label(_("Reason, or the report's narrative"), classes="field-label")
            yield Input(id="alert-reason", max_length=500)
            yield Static("", id="alert-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#alert-reason", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("acknowledge", "clear", "freeze", "report"):
            if self.busy:
                return None
            open_ = self.view.status == "open"
            if action in ("acknowledge", "clear"):
                return True if open_ else None
            return True if self.view.status != "cleared" else None
        return True

    def _say(self, text: str) -> None:
        self.query_one("#alert-message", Static).update(Content(clean(text, multiline=True)))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._say(_("F9 clears, F6 freezes, F8 files the report with this text."))

    def action_close(self) -> None:
        self.dismiss(self.view)

    def action_acknowledge(self) -> None:
        self._start("acknowledge", "")

    def _with_reason(self, what: str) -> None:
        text = self.query_one("#alert-reason", Input).value
        if not text.strip():
            self._say(_("Type the reason first."))
            self.query_one("#alert-reason", Input).focus()
            return
        self._start(what, text)

    def action_clear(self) -> None:
        self._with_reason("clear")

    def action_freeze(self) -> None:
        self._with_reason("freeze")

    def action_report(self) -> None:
        self._with_reason("report")

    def _start(self, what: str, text: str) -> None:
        if self.busy:
            return
        self.busy = True
        self._say(_("Working…"))
        self._decide(what, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alert-decide")
    def _decide(self, what: str, text: str) -> None:
        app: Any = self.app
        risk, actor, alert_id = app.services.risk, app.actor, self.view.id
        try:
            if what == "acknowledge":
                view = risk.acknowledge(actor, alert_id)
            elif what == "clear":
                view = risk.clear(actor, alert_id, text)
            elif what == "freeze":
                view = risk.freeze_wallet(actor, alert_id, text)
            else:
                risk.file_report(actor, alert_id, text)
                view = risk.get(actor, alert_id)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.post_message(self.Done(None, exc, what))
            return
        self.post_message(self.Done(view, None, what))

    @on(Done)
    def _done(self, message: Done) -> None:
        from teller_tui.common.errors import DomainError

        self.busy = False
        if message.view is None:
            error = message.error
            self._say(str(error) if isinstance(error, DomainError) else _("Something went wrong; nothing was decided."))
            return
        self.view = message.view
        self.query_one("#alert-facts", Static).update(facts_content(alert_facts(self.view)))
        self.query_one("#alert-reason", Input).value = ""
        done = {"acknowledge": _("Taken: the alert stays open until cleared or escalated."),
                "clear": _("Cleared."), "freeze": _("Wallet frozen; the alert is escalated."),
                "report": _("Report filed; the alert is escalated.")}[message.what]
        self._say(done)
        self.refresh_bindings()
