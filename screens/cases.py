"""Service cases at the counter: one case (its thread and every move), and the branch's queue.

:class:`CaseScreen` shows a case (type, status, deadline in words — "due in 3 h" / "OVERDUE",
never by colour alone — owner, escalation, links) and its thread, with keys for each move:
``t`` note, ``p`` in progress, ``w`` waiting for the customer, ``a`` assign, ``s`` escalate,
``v`` resolve, ``m`` resolve a dispute with a correction (amount + resolution; the supervisor's
approval goes through the app's one approval flow — at the counter or via the queue), ``x`` close,
``o`` reopen. :class:`CaseQueueScreen` lists the branch's open cases soonest deadline first and
the kiosks' help requests (``h`` takes the selected one, ``d`` marks it done); ``e`` escalates
every overdue case. Everything runs in thread workers; user text is cleaned.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static

from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.formatting import format_datetime, format_money
from teller_tui.common.i18n import N_, NP_, _, p_
from teller_tui.common.money import parse_money

from .base import TellerModal, TellerScreen
from .commands import PaletteCommand, register_command
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.tables import selected_key
from .widgets.safe import clean, literal

if TYPE_CHECKING:
    from teller_tui.cases.views import CaseDetail, CaseView

__all__ = ["CaseQueueScreen", "CaseScreen", "PromptScreen", "sla_text"]


def sla_text(case: CaseView, now: datetime) -> str:
    """The deadline in words: done, waiting, due in …, or OVERDUE (…) — meaning never by colour alone."""
    from teller_tui.cases.flow import DONE

    if case.status in DONE:
        return _("done")
    if case.status == "waiting_for_customer":
        return _("paused (waiting)")
    minutes = int((case.due_at - now).total_seconds() // 60)
    span = abs(minutes)
    amount = _("{n} min").format(n=span) if span < 120 else (
        _("{n} h").format(n=span // 60) if span < 48 * 60 else _("{n} d").format(n=span // 1440))
    text = _("OVERDUE {span}").format(span=amount) if minutes < 0 or case.overdue else _("due in {span}").format(
        span=amount)
    if case.escalated_at is not None:
        text += " " + _("(escalated)")
    return text


def case_row(case: CaseView, now: datetime, *, with_customer: bool) -> list[Any]:
    from teller_tui.cases.flow import status_title
    from teller_tui.cases.views import case_type_title

    overdue = case.overdue
    cells = [literal(case.number), literal(case_type_title(case.type)), literal(status_title(case.status)),
             literal(sla_text(case, now), "bold" if overdue else "")]
    if with_customer:
        cells.append(literal(clean(case.customer_name)))
    cells.append(literal(clean(case.summary)))
    return cells


class PromptScreen(DeskScreenMixin, TellerModal[dict[str, str] | None]):
    """A small form: one Input per field; Enter/F10 confirms (every field required), Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="prompt.cancel"),
        Binding("f10", "confirm", N_("Confirm"), id="prompt.confirm"),
    ]
    HELP = N_("Fill in the fields, then Enter or F10. Esc cancels.")

    def __init__(self, title: str, fields: list[tuple[str, str]], *, note: str = "",
                 optional: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text, self.fields, self.note, self.optional = title, fields, note, optional

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content(clean(self.title_text)), id="confirm-title")
            if self.note:
                yield Static(Content(clean(self.note, multiline=True)), id="confirm-warning")
            for key, label in self.fields:
                yield Input(placeholder=label, id=f"prompt-{key}", max_length=1000)
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(_("Confirm (F10)")), id="confirm-yes", variant="primary")
                yield Button(Content(_("Cancel")), id="confirm-no")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        empty = next((i for i in inputs if not i.value.strip() and (i.id or "")[7:] not in self.optional), None)
        if empty is not None and empty is not event.input:
            empty.focus()
            return
        self.action_confirm()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        values = {key: self.query_one(f"#prompt-{key}", Input).value.strip() for key, _l in self.fields}
        missing = next((k for k, v in values.items() if not v and k not in self.optional), None)
        if missing is not None:
            self.query_one(f"#prompt-{missing}", Input).focus()
            self.notify(_("Fill in every field first"), severity="warning", markup=False)
            return
        self.dismiss(values)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(None)


class CaseScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="case.back"),
        Binding("t", "note", N_("Note"), id="case.note"),
        Binding("p", "move('in_progress')", N_("In progress"), id="case.in_progress"),
        Binding("w", "move('waiting_for_customer')", N_("Waiting"), id="case.waiting", show=False),
        Binding("a", "assign", N_("Assign"), id="case.assign", show=False),
        Binding("s", "escalate", N_("Escalate"), id="case.escalate"),
        Binding("v", "resolve", N_("Resolve"), id="case.resolve"),
        Binding("m", "correct", N_("Correction"), id="case.correct"),
        Binding("x", "close_case", N_("Close case"), id="case.close"),
        Binding("o", "reopen", N_("Reopen"), id="case.reopen", show=False),
    ]
    HELP = N_(
        "## Case\n\nThe case, its deadline in words and its thread (oldest first).\n\n"
        "- **t** note, **p** in progress, **w** waiting for the customer, **a** assign\n"
        "- **s** escalate to the branch's supervisors\n"
        "- **v** resolve (write how), **m** dispute: resolve with a correction to the wallet "
        "(a supervisor approves at the counter or from the queue)\n"
        "- **x** close, **o** reopen, **Esc** back"
    )

    class Loaded(Message):
        def __init__(self, detail: CaseDetail | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.detail, self.error = detail, error

    def __init__(self, case: int | str) -> None:
        super().__init__()
        self.case_ref = case
        self.detail: CaseDetail | None = None
        self._key = uuid.uuid4().hex  # one correction per visit: a retry replays, never posts twice

    def compose(self) -> ComposeResult:
        with Vertical(id="case-body"):
            yield Static(Content(_("Loading…")), id="case-head")
            with VerticalScroll(id="case-thread-scroll"):
                yield Static("", id="case-thread")
            yield Static(self._keys_line(), id="case-keys")
        yield KeyFooter()

    def _keys_line(self) -> Content:
        """Every key of the case in words, those the case allows now (the footer shows the usual ones;
        this line and F1 show them all)."""
        keys = (("t", N_("note")), ("p", N_("in progress")), ("w", N_("waiting for customer")),
                ("a", N_("assign")), ("s", N_("escalate")), ("v", N_("resolve")), ("m", N_("correction")),
                ("x", N_("close")), ("o", N_("reopen")))
        allowed = [f"{key} {_(word)}" for key, word in keys if self._allowed(self.ACTIONS[key])]
        return Content.assemble((_("Keys") + " ", "$text-muted"), " · ".join(allowed) if allowed else "…")

    def on_mount(self) -> None:
        self.load()

    def after_relabel(self) -> None:
        self.load()

    def load(self) -> None:
        self._run("get")

    @work(thread=True, exclusive=True, exit_on_error=False, group="case")
    def _run(self, what: str, *args: Any, **kw: Any) -> None:
        svc, actor = self.services.cases, self.actor
        try:
            if what == "get":
                detail = svc.get(actor, self.case_ref)
            elif what == "correct":
                detail = self.services.disputes.resolve_with_correction(actor, self.case_ref, *args, **kw)
            else:
                detail = getattr(svc, what)(actor, self.case_ref, *args, **kw)
        except ApprovalRequired as exc:
            self.app.call_from_thread(self.ask_approval, exc, lambda aid: self._run(what, *args, **{
                **kw, "approval_id": aid}), lambda: self.show_info(_("Nothing was approved; nothing was changed.")))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the teller
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(detail))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error is not None or message.detail is None:
            self.show_error(message.error or RuntimeError())
            return
        self.detail = message.detail
        self._show(message.detail)
        self.query_one("#case-keys", Static).update(self._keys_line())
        self.refresh_bindings()

    def _show(self, detail: CaseDetail) -> None:
        from teller_tui.cases.flow import status_title
        from teller_tui.cases.views import case_type_title

        c = detail.case
        now = self.services.clock.now()
        head = [
            Content.assemble((c.number, "bold"), "  ", case_type_title(c.type), "  ",
                             (_("Status") + " ", "$text-muted"), (status_title(c.status), "bold")),
            Content.assemble((_("Customer") + " ", "$text-muted"), clean(c.customer_name), " ", clean(c.customer_no),
                             "  ", (_("Wallet") + " ", "$text-muted"), clean(c.wallet_number or "—")),
            Content.assemble((_("Due") + " ", "$text-muted"), format_datetime(c.due_at), "  ",
                             (sla_text(c, now), "bold" if c.overdue else ""), "  ",
                             (_("Owner") + " ", "$text-muted"), clean(c.owner or "—")),
            Content.assemble((_("Summary") + " ", "$text-muted"), clean(c.summary)),
        ]
        if detail.entry_references or detail.refusal_ids:
            links = ", ".join([*detail.entry_references, *(f"RF-{i:06d}" for i in detail.refusal_ids)])
            head.append(Content.assemble((_("Linked") + " ", "$text-muted"), clean(links)))
        if c.resolution:
            head.append(Content.assemble((_("Resolution") + " ", "$text-muted"), clean(c.resolution)))
        if c.correction_reference:
            head.append(Content.assemble((_("Correction") + " ", "$text-muted"), clean(c.correction_reference)))
        self.query_one("#case-head", Static).update(Content("\n").join(head))
        lines = []
        for e in detail.events:
            move = ""
            if e.to_status:
                move = f" [{status_title(e.from_status) if e.from_status else ''}→{status_title(e.to_status)}]"
            lines.append(Content.assemble((format_datetime(e.at), "$text-muted"), " ", clean(e.actor), " ",
                                          (event_title(e.kind), "bold"), move, " ",
                                          clean(e.text, multiline=True)))
        self.query_one("#case-thread", Static).update(Content("\n").join(lines))

    # -- actions --------------------------------------------------------------------------------------
    #: Each key of the body's key line -> its action.
    ACTIONS = {"t": "note", "p": "move", "w": "move", "a": "assign", "s": "escalate", "v": "resolve",
               "m": "correct", "x": "close_case", "o": "reopen"}

    def _allowed(self, action: str) -> bool:
        return self.detail is not None and self.check_action(action, ()) is True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("back",):
            return True
        if self.detail is None:
            return None
        from teller_tui.cases.flow import DONE

        c = self.detail.case
        done = c.status in DONE
        if action == "reopen":
            return True if done else None
        if action == "close_case":
            return True if c.status == "resolved" else None
        if action == "correct":
            return True if c.type == "transaction_dispute" and not done and not c.correction_reference else None
        if action == "escalate":
            return True if not done and c.escalated_at is None else None
        if action in ("move", "resolve", "assign"):
            return True if not done else None
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def _ask(self, title: str, fields: list[tuple[str, str]], then: Any, *, note: str = "",
             optional: tuple[str, ...] = ()) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                then(values)
        self.app.push_screen(PromptScreen(title, fields, note=note, optional=optional), done)

    def action_note(self) -> None:
        self._ask(_("Add a note"), [("text", _("Note"))], lambda v: self._run("add_note", v["text"]))

    def action_move(self, status: str) -> None:
        self._run("move", status)

    def action_assign(self) -> None:
        self._ask(_("Assign the case"), [("user", _("User name of a colleague at this branch"))],
                  lambda v: self._run("assign", v["user"]))

    def action_escalate(self) -> None:
        self._ask(_("Escalate to the branch's supervisors"), [("text", _("Why (optional)"))],
                  lambda v: self._run("escalate", v["text"]), optional=("text",))

    def action_resolve(self) -> None:
        self._ask(_("Resolve the case"), [("text", _("How it was resolved"))], lambda v: self._run(
            "resolve", v["text"]))

    def action_correct(self) -> None:
        detail = self.detail
        note = _("A correction credits the customer's wallet from the branch's dispute account. "
                 "A supervisor approves it.")
        if detail is not None and detail.disputed_total is not None:
            note += "\n" + _("At most {amount} (what the linked transactions moved).").format(
                amount=format_money(detail.disputed_total))

        def then(values: dict[str, str]) -> None:
            try:
                amount = parse_money(values["amount"])
            except Exception as exc:  # noqa: BLE001 - a typing mistake, said plainly
                self.show_error(exc)
                return
            self._run("correct", amount, values["text"], idempotency_key=self._key)

        self._ask(_("Resolve with a correction"), [("amount", _("Amount, e.g. 100.00")),
                                                   ("text", _("Resolution (goes on the case)"))], then, note=note)

    def action_close_case(self) -> None:
        self._run("close")

    def action_reopen(self) -> None:
        self._ask(_("Reopen the case"), [("text", _("Reason"))], lambda v: self._run("reopen", v["text"]))


#: The gettext context of the case thread's event titles ("Opened" is 已开立 here, 开立时间 beside a date).
EVENT_CONTEXT = "case event"
EVENT_TITLES = {
    "opened": NP_("case event", "Opened"), "note": NP_("case event", "Note"),
    "status": NP_("case event", "Status"), "assigned": NP_("case event", "Assigned"),
    "linked": NP_("case event", "Linked"), "escalated": NP_("case event", "Escalated"),
    "correction": NP_("case event", "Correction"),
}


def event_title(kind: str) -> str:
    """A case event's title in the reader's language (its kind as stored when unknown)."""
    return p_(EVENT_CONTEXT, EVENT_TITLES[kind]) if kind in EVENT_TITLES else kind


class CaseQueueScreen(DeskScreenMixin, TellerScreen[None]):
    """The branch's open cases (soonest deadline first) and the kiosks' help requests."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="cases.back"),
        Binding("enter", "open", N_("Open"), id="cases.open", show=False),
        Binding("h", "take_help", N_("Take help request"), id="cases.take_help"),
        Binding("d", "help_done", N_("Help done"), id="cases.help_done"),
        Binding("e", "escalate_overdue", N_("Escalate overdue"), id="cases.escalate_overdue"),
        Binding("f", "follow_up", N_("Follow-up calls"), id="cases.follow_up"),
    ]
    HELP = N_(
        "## Case queue\n\nThe branch's cases not yet resolved, soonest deadline first, and the "
        "kiosks' help requests (a customer at a kiosk asked for a person).\n\n"
        "- **Enter** opens a case; **h** takes the selected help request, **d** marks it done\n"
        "- **e** escalates every overdue case; **f** follow-up calls; **Esc** back"
    )

    class Loaded(Message):
        def __init__(self, cases: list[Any], helps: list[Any], error: BaseException | None = None) -> None:
            super().__init__()
            self.cases, self.helps, self.error = cases, helps, error

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[Any] = []
        self.helps: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield Static(Content(_("Help requests")), id="queue-help-title", classes="section-title")
            helps: DataTable[Any] = DataTable(id="queue-help", cursor_type="row")
            yield helps
            yield Static(Content(_("Open cases")), id="queue-cases-title", classes="section-title")
            cases: DataTable[Any] = DataTable(id="queue-cases", cursor_type="row", zebra_stripes=True)
            yield cases
        yield KeyFooter()

    def on_mount(self) -> None:
        self._columns()
        self.load()

    def after_relabel(self) -> None:
        self._columns()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def _columns(self) -> None:
        helps = self.query_one("#queue-help", DataTable)
        helps.clear(columns=True)
        for label, width in ((_("Time"), 18), (_("Kiosk"), 8), (_("Customer"), 8), (_("Doing"), 18),
                             (_("Status"), 8)):
            helps.add_column(label, width=width)
        cases = self.query_one("#queue-cases", DataTable)
        cases.clear(columns=True)
        for label, width in ((_("Case"), 9), (_("Type"), 8), (_("Status"), 8), (_("Deadline"), 14),
                             (_("Customer"), 8), (_("Summary"), 20)):
            cases.add_column(label, width=width)

    def load(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue")
    def _load(self, what: str = "", arg: int | None = None) -> None:
        from teller_tui.cases.flow import DONE

        svc, actor = self.services, self.actor
        try:
            if what == "take" and arg is not None:
                svc.help_requests.take(actor, arg)
            elif what == "done" and arg is not None:
                svc.help_requests.done(actor, arg)
            elif what == "escalate":
                done = svc.cases.escalate_overdue(actor)
                self.app.call_from_thread(self.show_info, _("{n} case(s) escalated").format(n=len(done)))
            cases = [c for c in svc.cases.list_cases(actor) if c.status not in DONE]
            helps = svc.help_requests.open_requests(actor)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded([], [], exc))
            return
        self.post_message(self.Loaded(cases, helps))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error is not None:
            self.show_error(message.error)
            return
        self.cases, self.helps = message.cases, message.helps
        now = self.services.clock.now()
        helps = self.query_one("#queue-help", DataTable)
        helps.clear()
        open_count = 0
        for h in message.helps:
            open_count += h.status == "open"
            helps.add_row(literal(format_datetime(h.at)), literal(clean(h.terminal_id)),
                          literal(clean(h.customer_name) or "—"), literal(clean(h.activity_text)),
                          literal(_("OPEN") if h.status == "open" else _("taken"), "bold" if h.status == "open" else ""),
                          key=str(h.request_id))
        self.query_one("#queue-help-title", Static).update(Content(
            _("Help requests: {n} waiting").format(n=open_count)))
        table = self.query_one("#queue-cases", DataTable)
        table.clear()
        overdue = 0
        for c in message.cases:
            overdue += c.overdue
            table.add_row(*case_row(c, now, with_customer=True), key=c.number)
        self.query_one("#queue-cases-title", Static).update(Content(
            _("Open cases: {n}, overdue {overdue}").format(n=len(message.cases), overdue=overdue)))
        if not (self.focused and self.focused.id == "queue-help") or not helps.row_count:
            (table if table.row_count else helps).focus()

    def _selected(self, table_id: str) -> str | None:
        return selected_key(self.query_one(table_id, DataTable))

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected, "#queue-cases")
    def action_open(self) -> None:
        number = self._selected("#queue-cases")
        if number:
            self.app.push_screen(CaseScreen(number))

    def action_take_help(self) -> None:
        rid = self._selected("#queue-help")
        if rid:
            self._load("take", int(rid))

    def action_help_done(self) -> None:
        rid = self._selected("#queue-help")
        if rid:
            self._load("done", int(rid))

    def action_escalate_overdue(self) -> None:
        self._load("escalate")

    def action_follow_up(self) -> None:
        from .service import FollowUpScreen

        self.app.push_screen(FollowUpScreen())


register_command(PaletteCommand("case_queue", N_("Case queue and help requests"), "app.open_cases",
                                N_("The branch's open cases with their deadlines, and kiosk help requests")))


