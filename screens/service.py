"""Customer service for one customer (F8 on the customer view), and the follow-up call list.

:class:`CustomerServiceScreen`: the customer's needs at the top with what they call for, their
cases (deadline in words), their refused attempts (``e`` explains the selected one in plain words,
printable), and the CRM notes (current versions; ``c`` corrects the newest: a new version, the old
stays readable). Keys: ``n`` new case (question, dispute, complaint, lost phone …), Enter opens the
selected case, ``o`` note, ``c`` correct a note, ``y`` note versions, ``d`` needs, ``l`` lost or
stolen phone (blocks the wallet on every channel and opens its case, one transaction), ``s`` the
welcome sheet (large print and the customer's language when recorded), ``q`` the case queue.
:class:`FollowUpScreen`: who is due a call; Enter records the call (reached, outcome, satisfaction).
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static

from teller_tui.common.errors import Conflict
from teller_tui.common.formatting import format_date, format_datetime, format_money
from teller_tui.common.i18n import N_, _

from .base import TellerModal, TellerScreen
from .cases import CaseQueueScreen, CaseScreen, PromptScreen, case_row
from .commands import PaletteCommand, register_command
from .widgets.tickbox import TickBox
from .widgets.desk import DeskScreenMixin
from .widgets.footer import KeyFooter
from .widgets.tables import selected_key
from .widgets.safe import clean, literal

__all__ = ["CustomerServiceScreen", "FollowUpScreen", "NewCaseDialog", "explanation_text"]

#: What a teller opens at the counter, in the order offered (lost phone also blocks the wallet).
OPEN_TYPES = ("question", "transaction_dispute", "complaint", "lost_device", "account_management", "fault",
              "suspected_fraud", "training_request")
NEED_ACTIONS = {
    "elderly": N_("guide step by step; receipts in large print; the kiosk calls a person"),
    "low_vision": N_("receipts and welcome sheet in large print"),
    "needs_assistance": N_("follow-up call scheduled; the kiosk calls a person"),
    "prefers_hard_wallet": N_("offer a hard wallet"),
}


def explanation_text(e: Any) -> str:
    """An explanation as plain text for the customer (readable on screen, printable)."""
    rows = [
        (_("Reference"), e.reference), (_("Time"), format_datetime(e.at)), (_("Status"), e.status_text),
        (_("Channel"), e.channel_text), (_("By"), e.by or "—"), (_("Terminal"), e.terminal or "—"),
        (_("Amount"), format_money(e.amount) if e.amount is not None else "—"),
        (_("Wallet"), e.wallet_number or "—"), (_("Cause"), e.cause),
    ]
    return "\n".join([_("Explanation of a transaction"), ""] + [f"{k}: {clean(str(v))}" for k, v in rows])


class NewCaseDialog(DeskScreenMixin, TellerModal[bool]):
    """Open a case for the customer: type, summary, an optional transaction or refusal reference."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="new_case.cancel"),
        Binding("f10", "confirm", N_("Confirm"), id="new_case.confirm"),
    ]
    HELP = N_("Choose the type, say in a few words what it is about, then F10. A lost or stolen phone "
              "also blocks the selected wallet on every channel at once.")

    class Done(Message):
        def __init__(self, number: str | None, error: BaseException | None) -> None:
            super().__init__()
            self.number, self.error = number, error

    def __init__(self, customer_id: int, wallet_id: int | None, *, case_type: str = "question",
                 reference: str = "") -> None:
        super().__init__()
        self.customer_id, self.wallet_id, self.case_type, self.reference = customer_id, wallet_id, case_type, reference
        self._busy = False

    def compose(self) -> ComposeResult:
        from teller_tui.cases.views import case_type_title

        with Vertical(id="confirm-box"):
            yield Static(Content(_("New case")), id="confirm-title")
            yield Select([(case_type_title(t), t) for t in OPEN_TYPES], value=self.case_type, allow_blank=False,
                         id="nc-type")
            yield Input(placeholder=_("What is it about (required)"), id="nc-summary", max_length=200)
            yield Input(value=self.reference, placeholder=_("Transaction or refusal reference (optional)"),
                        id="nc-ref", max_length=40)
            yield Static("", id="nc-status")
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(_("Confirm (F10)")), id="confirm-yes", variant="primary")
                yield Button(Content(_("Cancel")), id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#nc-type", Select).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        if self._busy:
            return
        summary = self.query_one("#nc-summary", Input).value.strip()
        if not summary:
            self.query_one("#nc-summary", Input).focus()
            self.query_one("#nc-status", Static).update(Content(_("Say in a few words what the case is about.")))
            return
        kind = str(self.query_one("#nc-type", Select).value)
        self._busy = True
        self._open(kind, summary, self.query_one("#nc-ref", Input).value.strip().upper())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _open(self, kind: str, summary: str, ref: str) -> None:
        svc, actor = self.services, self.actor
        try:
            wallet = self.wallet_id if kind in ("lost_device", "transaction_dispute") else None
            if kind == "lost_device":  # the block and its case: one transaction, both or neither
                if wallet is None:
                    raise ValueError(_("Choose the wallet of the lost phone first"))
                try:
                    view = svc.lost_phones.report(actor, self.customer_id, wallet, summary)
                except Conflict as exc:
                    if exc.code != "wallet_blocked":
                        raise
                    # already blocked (F4, or an earlier report): the case alone, no second block
                    view = svc.cases.open_case(actor, self.customer_id, kind, summary, wallet_id=wallet)
                self.post_message(self.Done(view.number, None))
                return
            refs = [ref] if ref and not ref.startswith("RF-") else []
            refusals = [int(ref[3:])] if ref.startswith("RF-") and ref[3:].isdigit() else []
            view = svc.cases.open_case(actor, self.customer_id, kind, summary, wallet_id=wallet,
                                       entry_references=refs, refusal_ids=refusals)
        except Exception as exc:  # noqa: BLE001 - shown to the teller
            self.post_message(self.Done(None, exc))
            return
        self.post_message(self.Done(view.number, None))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._busy = False
        if message.error is not None or message.number is None:
            self.show_error(message.error or RuntimeError())
            return
        self.show_info(_("Case {number} opened").format(number=message.number))
        self.dismiss(True)
        self.app.push_screen(CaseScreen(message.number))

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)


class NeedsDialog(DeskScreenMixin, TellerModal[bool]):
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="needs.cancel"),
                Binding("f10", "confirm", N_("Confirm"), id="needs.confirm")]
    HELP = N_("Tick what the customer needs; Space toggles, F10 saves.")

    def __init__(self, customer_id: int, needs: Any) -> None:
        super().__init__()
        self.customer_id, self.needs = customer_id, needs

    def compose(self) -> ComposeResult:
        from teller_tui.cases.crm import NEED_TITLES

        with Vertical(id="confirm-box"):
            yield Static(Content(_("Customer's needs")), id="confirm-title")
            for name, title in NEED_TITLES.items():
                yield TickBox(_(title), bool(getattr(self.needs, name)), id=f"need-{name}")
            yield Input(value=self.needs.preferred_language, placeholder=_("Preferred language, e.g. zh_CN, en, yue"),
                        id="need-language", max_length=16)
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(_("Confirm (F10)")), id="confirm-yes", variant="primary")
                yield Button(Content(_("Cancel")), id="confirm-no")

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        from teller_tui.cases.crm import NEED_TITLES, Needs

        flags = {name: bool(self.query_one(f"#need-{name}", TickBox).value) for name in NEED_TITLES}
        self._save(Needs(**flags, preferred_language=self.query_one("#need-language", Input).value.strip()))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _save(self, needs: Any) -> None:
        try:
            self.services.crm.set_needs(self.actor, self.customer_id, needs)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self.dismiss, True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)


class CustomerServiceScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="service.back"),
        Binding("n", "new_case", N_("New case"), id="service.new_case"),
        Binding("e", "explain", N_("Explain"), id="service.explain"),
        Binding("o", "note", N_("Note"), id="service.note"),
        Binding("c", "correct_note", N_("Correct note"), id="service.correct_note", show=False),
        Binding("y", "note_versions", N_("Versions"), id="service.note_versions", show=False),
        Binding("d", "needs", N_("Needs"), id="service.needs"),
        Binding("l", "lost_phone", N_("Lost phone"), id="service.lost_phone"),
        Binding("q", "queue", N_("Queue"), id="service.queue", show=False),
        Binding("s", "welcome_sheet", N_("Welcome sheet"), id="service.welcome_sheet", show=False),
    ]
    HELP = N_(
        "## Customer service\n\nThe customer's needs, cases, refused attempts and notes.\n\n"
        "- **n** new case, **Enter** opens the selected case\n"
        "- **e** explains the selected refused attempt (printable with **p**)\n"
        "- **o** note, **c** corrects the newest note (a new version), **y** its versions\n"
        "- **d** needs (elderly, low vision, assistance, hard wallet, language)\n"
        "- **l** phone lost or stolen: blocks the wallet and opens its case (one step)\n"
        "- **s** the welcome sheet again (large print and the customer's language when recorded)\n"
        "- **q** the branch's case queue, **Esc** back"
    )

    class Loaded(Message):
        def __init__(self, data: dict[str, Any] | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.data, self.error = data, error

    def __init__(self, customer_id: int, wallet_id: int | None = None) -> None:
        super().__init__()
        self.customer_id, self.wallet_id = customer_id, wallet_id
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="service-body"):
            yield Static(Content(_("Customer service")), id="service-title", classes="section-title")
            yield Static(Content(_("Loading…")), id="service-needs")
            yield Static(Content(_("Cases")), id="service-cases-title", classes="section-title")
            cases: DataTable[Any] = DataTable(id="service-cases", cursor_type="row")
            yield cases
            yield Static(Content(_("Refused attempts")), id="service-refusals-title", classes="section-title")
            refusals: DataTable[Any] = DataTable(id="service-refusals", cursor_type="row")
            yield refusals
            yield Static("", id="service-notes")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._columns()
        self.load()

    def after_relabel(self) -> None:
        self._columns()
        self.load()

    def on_screen_resume(self) -> None:
        if self.data is not None:
            self.load()

    def _columns(self) -> None:
        cases = self.query_one("#service-cases", DataTable)
        cases.clear(columns=True)
        for label, width in ((_("Case"), 9), (_("Type"), 10), (_("Status"), 10), (_("Deadline"), 16),
                             (_("Summary"), 26)):
            cases.add_column(label, width=width)
        refusals = self.query_one("#service-refusals", DataTable)
        refusals.clear(columns=True)
        for label, width in ((_("Refusal"), 9), (_("Time"), 18), (_("Amount"), 12), (_("Cause"), 34)):
            refusals.add_column(label, width=width)

    def load(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="service")
    def _load(self) -> None:
        svc, actor, cid = self.services, self.actor, self.customer_id
        try:
            data = {"customer": svc.customers.get_customer(cid), "needs": svc.crm.needs(actor, cid), "cases": svc.cases.list_cases(actor, customer_id=cid),
                    "refusals": svc.explain.refusals(actor, customer_id=cid, limit=20),
                    "notes": svc.crm.notes(actor, cid)}
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(data))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error is not None or message.data is None:
            self.show_error(message.error or RuntimeError())
            return
        self.data = data = message.data
        customer = data["customer"]
        self.query_one("#service-title", Static).update(Content.assemble(
            (_("Customer service"), "bold"), " · ", clean(customer.full_name), " · ", customer.customer_no))
        needs = data["needs"]
        if needs.flags or needs.preferred_language:
            parts = [f"{_(t)}: {_(NEED_ACTIONS[f])}" for f, t in zip(needs.flags, needs.titles(), strict=False)]
            if needs.preferred_language:
                parts.append(_("Language: {language} (receipts and messages)").format(
                    language=clean(needs.preferred_language)))
            text = Content.assemble((_("NEEDS") + " ", "bold"), "; ".join(parts), "  ",
                                    (_("(d: change)"), "$text-muted"))
        else:
            text = Content.assemble((_("Needs") + " ", "$text-muted"), _("none recorded"), "  ",
                                    (_("(d: record)"), "$text-muted"))
        self.query_one("#service-needs", Static).update(text)
        now = self.services.clock.now()
        table = self.query_one("#service-cases", DataTable)
        table.clear()
        for c in data["cases"]:
            table.add_row(*case_row(c, now, with_customer=False), key=c.number)
        self.query_one("#service-cases-title", Static).update(Content(_("Cases: {n}").format(n=len(data["cases"]))))
        refusals = self.query_one("#service-refusals", DataTable)
        refusals.clear()
        for r in data["refusals"]:
            refusals.add_row(literal(r.reference), literal(format_datetime(r.at)),
                             literal(format_money(r.amount) if r.amount is not None else "—", justify="right"),
                             literal(clean(r.cause)), key=r.reference)
        notes = data["notes"][:3]
        lines = [Content.assemble((_("Note") + " ", "$text-muted"), format_date(n.at), " ", clean(n.author),
                                  (f" v{n.version}" if n.version > 1 else ""), ": ", clean(n.text)) for n in notes]
        self.query_one("#service-notes", Static).update(Content("\n").join(lines) if lines else Content(
            _("No notes yet (o: add one)")))
        if self.focused is None:
            (table if table.row_count else refusals).focus()
        self.refresh_bindings()

    def _selected(self, table_id: str) -> str | None:
        return selected_key(self.query_one(table_id, DataTable))

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected, "#service-cases")
    def _open_case(self) -> None:
        number = self._selected("#service-cases")
        if number:
            self.app.push_screen(CaseScreen(number))

    @on(DataTable.RowSelected, "#service-refusals")
    def action_explain(self) -> None:
        ref = self._selected("#service-refusals")
        if ref is None:
            self.show_info(_("No refused attempt to explain"))
            return
        self._explain(ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-explain")
    def _explain(self, ref: str) -> None:
        try:
            e = self.services.explain.explain(self.actor, ref)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self._show_explanation, ref, explanation_text(e))

    def _show_explanation(self, ref: str, text: str) -> None:
        from .receipt import ReceiptScreen

        self.app.push_screen(ReceiptScreen(ref, text))

    def action_new_case(self, case_type: str = "question") -> None:
        ref = self._selected("#service-refusals") if case_type == "transaction_dispute" else ""
        self.app.push_screen(NewCaseDialog(self.customer_id, self.wallet_id, case_type=case_type,
                                           reference=ref or ""), lambda _changed: self.load())

    def action_lost_phone(self) -> None:
        self.action_new_case("lost_device")

    def action_note(self) -> None:
        self.app.push_screen(PromptScreen(_("Add a note"), [("text", _("Note"))]), self._note_typed)

    def _note_typed(self, values: dict[str, str] | None) -> None:
        if values:
            self._crm("add_note", self.customer_id, values["text"])

    def _newest_note(self) -> Any:
        notes = [n for n in (self.data or {}).get("notes", []) if not n.legacy]
        return notes[0] if notes else None

    def action_correct_note(self) -> None:
        note = self._newest_note()
        if note is None:
            self.show_info(_("No note to correct"))
            return

        def typed(values: dict[str, str] | None) -> None:
            if values:
                self._crm("correct_note", note.note_id, values["text"])
        self.app.push_screen(PromptScreen(_("Correct the note (the old version stays readable)"),
                                          [("text", _("Corrected text"))], note=note.text), typed)

    def action_note_versions(self) -> None:
        note = self._newest_note()
        if note is None:
            self.show_info(_("No note yet"))
            return
        self._versions(note.note_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-crm")
    def _versions(self, note_id: int) -> None:
        try:
            versions = self.services.crm.note_history(self.actor, note_id)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        text = "\n".join(f"v{v.version} {format_datetime(v.at)} {clean(v.author)}: {clean(v.text)}" for v in versions)
        self.app.call_from_thread(self._show_explanation, _("Note versions"), text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-crm")
    def _crm(self, what: str, *args: Any) -> None:
        try:
            getattr(self.services.crm, what)(self.actor, *args)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self.load)

    def action_needs(self) -> None:
        if self.data is None:
            return
        self.app.push_screen(NeedsDialog(self.customer_id, self.data["needs"]), lambda _c: self.load())

    def action_queue(self) -> None:
        self.app.push_screen(CaseQueueScreen())

    def action_welcome_sheet(self) -> None:
        if self.wallet_id is None:
            self.show_info(_("Open the customer's wallet first"))
            return
        self._welcome(self.wallet_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-welcome")
    def _welcome(self, wallet_id: int) -> None:
        onboarding = self.services.onboarding
        try:
            text = onboarding.welcome_text(wallet_id)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self._show_welcome, wallet_id, text)

    def _show_welcome(self, wallet_id: int, text: str) -> None:
        from .receipt import ReceiptScreen

        onboarding = self.services.onboarding
        self.app.push_screen(ReceiptScreen(f"welcome-{wallet_id}", text, document=True, title=_("Welcome sheet"),
                                           render=lambda width: onboarding.welcome_text(wallet_id, width=width)))


class FollowUpScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [Binding("escape", "back", N_("Back"), id="follow_up.back"),
                Binding("enter", "record", N_("Record call"), id="follow_up.record")]
    HELP = N_("## Follow-up calls\n\nWho is due a call and why. **Enter** records the call: reached or not, "
              "the outcome, satisfaction 1–5. **Esc** back.")
    KIND_TITLES = {"new_wallet": N_("New wallet"), "resolved_case": N_("Resolved case"),
                   "assistance": N_("Needs assistance")}

    class Loaded(Message):
        def __init__(self, rows: list[Any], error: BaseException | None = None) -> None:
            super().__init__()
            self.rows, self.error = rows, error

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(Content(_("Follow-up calls")), id="follow-title", classes="section-title")
        table: DataTable[Any] = DataTable(id="follow-table", cursor_type="row")
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#follow-table", DataTable)
        for label, width in ((_("Why"), 12), (_("Subject"), 17), (_("Customer"), 10), (_("Phone"), 14),
                             (_("Since"), 11), (_("Tries"), 5)):
            table.add_column(label, width=width)
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, record: dict[str, Any] | None = None) -> None:
        try:
            if record is not None:
                self.services.follow_up.record_call(self.actor, **record)
            rows = self.services.follow_up.call_list(self.actor)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded([], exc))
            return
        self.post_message(self.Loaded(rows))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error is not None:
            self.show_error(message.error)
        self.rows = message.rows
        table = self.query_one("#follow-table", DataTable)
        table.clear()
        for i, r in enumerate(message.rows):
            table.add_row(literal(_(self.KIND_TITLES.get(r.kind, r.kind))), literal(clean(r.subject)),
                          literal(clean(r.customer_name)), literal(clean(r.phone)), literal(format_date(r.since)),
                          literal(str(r.attempts)), key=str(i))
        self.query_one("#follow-title", Static).update(Content(_("Follow-up calls due: {n}").format(
            n=len(message.rows))))
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected, "#follow-table")
    def action_record(self) -> None:
        table = self.query_one("#follow-table", DataTable)
        if not table.row_count:
            return
        row = self.rows[table.cursor_row]

        def typed(values: dict[str, str] | None) -> None:
            if not values:
                return
            reached = values["reached"].strip().lower() in ("y", "yes", "1", "是", "s")
            score = values.get("score", "").strip()
            if score and (not score.isdigit() or not 1 <= int(score) <= 5):
                self.show_error(_("Satisfaction is a score from 1 to 5."))
                return
            self._load({"kind": row.kind, "subject_id": row.subject_id, "reached": reached,
                        "outcome": values.get("outcome", ""), "satisfaction": int(score) if score and reached else None,
                        "comment": values.get("comment", "")})

        self.app.push_screen(PromptScreen(
            _("Call {name}").format(name=clean(row.customer_name)),
            [("reached", _("Reached? y / n")), ("outcome", _("Outcome")), ("score", _("Satisfaction 1–5")),
             ("comment", _("Comment"))], optional=("outcome", "score", "comment")), typed)


register_command(PaletteCommand("customer_service", N_("Customer service: cases, needs, notes"), "screen.service",
                                N_("On a customer's screen: cases, refusals explained, notes, needs, lost phone"),
                                available=lambda app: type(app.screen).__name__ == "CustomerScreen"))
register_command(PaletteCommand("follow_up_calls", N_("Follow-up calls"), "app.open_follow_up",
                                N_("Customers due a call: new wallets, resolved cases, assistance")))
