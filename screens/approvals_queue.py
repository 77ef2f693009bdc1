"""The supervisor's approval queue: every pending request of the branch, live.

A thread worker polls ``services.approvals.pending()`` every second (a cheap query on the
indexed ``status`` column), so a request made on any terminal appears within two seconds; the
table is refilled only when the set of requests changed. Enter on a row opens
:class:`DecideScreen`: the supervisor reads what is asked and why, and approves (F10) or
rejects (F9) with their password, a fresh one-time code and a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label, Static

from teller_tui.common.i18n import N_, _

from .base import TellerModal, TellerScreen
from .commands import PaletteCommand, register_command
from .confirm import facts_content
from .approval import STATUS, field_row
from .widgets.safe import clean, literal
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.approvals.records import ApprovalView

CSS_FILE = Path(__file__).resolve().parent / "supervisor.tcss"

__all__ = ["ApprovalsQueueScreen", "DecideScreen", "view_facts"]

SUPERVISOR_ROLES = ("supervisor", "admin")  # the shipped policy's approvers (the app checks the policy)

register_command(PaletteCommand("approvals", N_("Approvals queue"), "app.open_approvals",
                                N_("Requests waiting for a supervisor"), roles=SUPERVISOR_ROLES))
register_command(PaletteCommand("dashboard", N_("Supervisor dashboard"), "app.open_dashboard",
                                N_("Today's branch activity"), roles=("supervisor", "admin")))
# screens/analytics.py (registered here: importing that module loads plotext, kept out of the start)
register_command(PaletteCommand("analytics", N_("Promotion analytics"), "app.open_analytics",
                                N_("Wallets opened, activation, activity, complaints over a range"),
                                roles=("supervisor", "admin")))


def view_facts(view: ApprovalView, clock_now: Any = None) -> list[tuple[str, Any]]:
    from teller_tui.common.formatting import format_datetime, format_money

    facts: list[tuple[str, Any]] = [(_("Request"), str(view.id)), (_("Action"), view.title)]
    if view.amount is not None:
        facts.append((_("Amount"), format_money(view.amount)))
    facts.append((_("Details"), view.summary))
    facts.append((_("Teller"), f"{view.requester} ({view.requester_name})" if view.requester_name else view.requester))
    facts.append((_("Terminal"), view.terminal))
    facts.append((_("Asked at"), format_datetime(view.created_at)))
    facts.append((_("Expires"), format_datetime(view.expires_at)))
    if view.hold_id is not None:
        facts.append((_("Funds"), _("held until decided")))
    if view.source_of_funds:
        facts.append((_("Source of funds"), view.source_of_funds))
    if view.purpose:
        facts.append((_("Purpose"), view.purpose))
    if view.memo:  # the teller's reason (a reversal's "why"): shown at the counter, so here too
        facts.append((_("Memo"), view.memo))
    return facts


class ApprovalsQueueScreen(TellerScreen[None]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="queue.back"),
        Binding("enter", "open", N_("Decide"), id="queue.open", priority=True),  # shown: the table would hide it
        Binding("f5", "refresh", N_("Refresh"), id="queue.refresh"),
    ]
    HELP = N_("Requests from every terminal of the branch appear here within two seconds. "
              "Enter opens one to approve or reject it.")
    POLL_SECONDS = 1.0

    class Loaded(Message):
        def __init__(self, views: list[ApprovalView] | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.views = views
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.views: list[ApprovalView] = []
        self._signature: tuple[tuple[int, str], ...] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield Static(Content(_("Pending approvals")), id="queue-title")
            yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="queue-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#queue-table", DataTable)
        table.add_columns(_("Request"), _("Action"), _("Amount"), _("Details"), _("Teller"), _("Terminal"), _("Why"))
        table.focus()
        self.refresh_queue()
        self.set_interval(self.POLL_SECONDS, self.refresh_queue, name="approvals-poll")

    def refresh_queue(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="approvals-poll")
    def _load(self) -> None:
        try:
            services = self.app.services
            services.approvals.expire_sweep()
            views = services.approvals.pending(self.app.actor.branch_code if self.app.actor else None)
        except Exception as exc:  # noqa: BLE001 - shown; the next poll tries again
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(views))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from teller_tui.common.formatting import format_money

        message_widget = self.query_one("#queue-message", Static)
        if message.views is None:
            message_widget.update(Content(_("The database cannot be reached; trying again.")))
            return
        signature = tuple((v.id, v.status) for v in message.views)
        if signature == self._signature:
            return
        self._signature = signature
        self.views = message.views
        table = self.query_one("#queue-table", DataTable)
        table.clear()
        for v in message.views:
            table.add_row(literal(str(v.id)), literal(v.title),
                          literal(format_money(v.amount) if v.amount is not None else ""),
                          literal(v.summary, ), literal(v.requester), literal(v.terminal),
                          literal("; ".join((*v.review, *v.reasons))), key=str(v.id))  # the supervisor's own screen
        count = len(message.views)
        message_widget.update(Content(_("{count} waiting.").format(count=count) if count else
                                      _("Nothing is waiting.")))

    def action_refresh(self) -> None:
        self._signature = None
        self.refresh_queue()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#queue-table", DataTable)
        if not self.views or table.cursor_row < 0 or table.cursor_row >= len(self.views):
            return
        view = self.views[table.cursor_row]
        self.app.push_screen(DecideScreen(view), self._decided)

    def _decided(self, result: ApprovalView | None) -> None:
        if result is not None:
            self.notify(_("Request {id}: {status}.").format(id=result.id, status=_(STATUS.get(result.status, result.status))),
                        markup=False)
        self.action_refresh()


class DecideScreen(TellerModal["ApprovalView | None"]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "cancel", N_("Back"), id="decide.cancel"),
        Binding("f10", "approve", N_("Approve"), id="decide.approve"),
        Binding("f9", "reject", N_("Reject"), id="decide.reject"),
    ]
    HELP = N_("Check the request, type your password, a new one-time code and a reason, then F10 to approve "
              "or F9 to reject. You cannot approve your own request.")

    busy: reactive[bool] = reactive(False, bindings=True)

    class Done(Message):
        def __init__(self, view: ApprovalView | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, view: ApprovalView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        # Scrolls at 80x24 when a request has many reasons: the focused field is always in view.
        with VerticalScroll(id="approval-box"):
            yield Static(Content(_("Approve or reject")), id="approval-title")
            yield Static(facts_content(view_facts(self.view)), id="approval-facts")
            # The supervisor's own screen: the rule behind a neutral reason (ApprovalSpec.review) first.
            yield Static(Content("\n").join([Content("• ") + Content(clean(r))
                                             for r in (*self.view.review, *self.view.reasons)]),
                         id="approval-reasons")
            yield from field_row(_("Your password"), Input(id="decide-password", password=True, max_length=256))
            yield from field_row(_("One-time code"), Input(id="decide-code", max_length=6, restrict=r"[0-9]*"))
            yield from field_row(_("Reason"), Input(id="decide-reason", max_length=200))
            yield Static("", id="approval-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#decide-password", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject") and self.busy:
            return None
        return True

    def _say(self, text: str) -> None:
        self.query_one("#approval-message", Static).update(Content(clean(text)))

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        order = ["decide-password", "decide-code", "decide-reason"]
        index = order.index(event.input.id or "decide-reason")
        if index + 1 < len(order):
            self.query_one(f"#{order[index + 1]}", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_approve(self) -> None:
        self._start(True)

    def action_reject(self) -> None:
        self._start(False)

    def _start(self, approve: bool) -> None:
        if self.busy:
            return
        password = self.query_one("#decide-password", Input).value
        code = self.query_one("#decide-code", Input).value
        reason = self.query_one("#decide-reason", Input).value
        if not password or len(code) != 6 or not reason.strip():
            self._say(_("Type your password, the 6-digit code and a reason."))
            return
        self.busy = True
        self._say(_("Checking…"))
        self._decide(approve, password, code, reason)

    @work(thread=True, exclusive=True, exit_on_error=False, group="decide")
    def _decide(self, approve: bool, password: str, code: str, reason: str) -> None:
        try:
            view = self.app.services.approvals.decide(self.app.actor, self.view.id, approve=approve,
                                                      password=password, code=code, reason=reason)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.post_message(self.Done(None, exc))
            return
        self.post_message(self.Done(view))

    @on(Done)
    def _done(self, message: Done) -> None:
        from teller_tui.common.errors import DomainError

        self.busy = False
        if message.view is not None:
            self.dismiss(message.view)
            return
        self.query_one("#decide-password", Input).value = ""
        self.query_one("#decide-code", Input).value = ""
        error = message.error
        self._say(refusal_text(error) if isinstance(error, DomainError) else _("Something went wrong; nothing was decided."))
