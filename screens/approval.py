"""Supervisor approval dialogs: at the counter, or through the branch queue.

:class:`ApprovalScreen` is a ``ModalScreen[ApprovalResult | None]``. It shows what is asked and
why (the policy's reasons) before anyone types anything, then offers two ways:

* **F10 / ctrl+j, approve here**: a supervisor present types user name, password and a fresh
  one-time code; ``services.approvals.approve_at_counter`` verifies them (a different person with
  the supervisor role, an unused code) and the dialog returns the approval.
* **F8, send to a supervisor**: :class:`WaitingScreen` queues the request (funds held) and polls
  it every second in a thread worker until a supervisor decides; the teller can cancel (F9).

The result: ``status == "approved"`` -> retry the action with ``approval_id``; ``"consumed"`` ->
the supervisor's approval already posted the held funds (retrying with the form's key returns
the posted entry). ``None``: nothing approved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label, Static

from teller_tui.approvals.actions import action_title
from teller_tui.approvals.records import ApprovalResult, ApprovalView
from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import rendered_now

from .base import TellerModal
from .confirm import facts_content
from .widgets.footer import KeyFooter
from .widgets.safe import clean
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.approvals.spec import ApprovalSpec
    from teller_tui.audit.trail import Actor

CSS_FILE = Path(__file__).resolve().parent / "supervisor.tcss"

__all__ = ["ApprovalScreen", "WaitingScreen", "field_row", "spec_facts"]

#: The reason a request withdrawn with F9 keeps (the audit's words); shown in the reader's language.
CANCEL_REASON = N_("cancelled by the teller")
STATUS = {"pending": N_("waiting for a supervisor"), "approved": N_("approved"), "rejected": N_("rejected"),
          "cancelled": N_("cancelled"), "expired": N_("expired"), "consumed": N_("approved and posted")}


def account_label(code: str) -> str:
    """A ledger account as people say it ("teller2's drawer", "vault B001"), not its code."""
    kind, _sep, rest = code.partition(":")
    branch, _sep, name = rest.partition(":")
    if kind == "drawer" and name:
        return _("drawer of {user}").format(user=name)
    if kind == "vault" and branch:
        return _("vault {branch}").format(branch=branch)
    if kind == "over_short" and branch:
        return _("cash over/short {branch}").format(branch=branch)
    return code


def spec_facts(spec: ApprovalSpec) -> list[tuple[str, Any]]:
    from teller_tui.common.formatting import format_money

    facts: list[tuple[str, Any]] = [(_("Action"), action_title(spec.kind))]
    if spec.summary:  # what exactly: whose account is unlocked, the count of a drawer handed over
        facts.append((_("Request"), spec.display_summary()))
    if spec.amount is not None:
        facts.append((_("Amount"), format_money(spec.amount)))
    if spec.customer_name:
        facts.append((_("Customer"), spec.customer_name))
    if spec.accounts:
        label = _("Accounts") if any(":" in a for a in spec.accounts) else _("Wallet")  # ledger codes: branch cash
        facts.append((label, " → ".join(account_label(a) for a in spec.accounts)))
    if spec.reason:
        facts.append((_("Memo"), spec.reason))
    return facts


def field_row(label: str, field: Input) -> ComposeResult:
    """A label and its field on one line (80x24 has no room for a label above every field); the
    field keeps its border so it can be seen as a field."""
    with Horizontal(classes="field-row"):
        yield Label(label, classes="field-label")
        yield field


def _reasons(reasons: tuple[str, ...] | list[str]) -> Content:
    # A reason made from a message is shown in the reader's language (the supervisor may read another).
    return Content("\n").join([Content("• ") + Content(clean(rendered_now(r))) for r in reasons])


class ApprovalScreen(TellerModal[ApprovalResult | None]):
    CSS_PATH = CSS_FILE

    BINDINGS = [
        Binding("escape", "cancel", N_("Back"), id="approval.cancel"),
        Binding("f10", "approve", N_("Approve here"), id="approval.approve"),
        Binding("ctrl+j", "approve", N_("Approve here"), id="approval.approve_alt", show=False),
        Binding("f8", "send", N_("Send to supervisor"), id="approval.send"),
    ]
    HELP = N_("A supervisor present types their user name, password and a new one-time code, then F10. "
              "Or press F8 to send the request to every supervisor of the branch and wait.")

    busy: reactive[bool] = reactive(False, bindings=True)

    class Done(Message):
        def __init__(self, result: ApprovalResult | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.result = result
            self.error = error

    def __init__(self, services: Any, actor: Actor, spec: ApprovalSpec) -> None:
        super().__init__()
        self.services = services
        self.actor = actor
        self.spec = spec
        self.needs_funds_source = "large_cash" in spec.rules

    def compose(self) -> ComposeResult:
        with Vertical(id="approval-box"):
            yield Static(Content(_("Supervisor approval needed")), id="approval-title")
            yield Static(facts_content(spec_facts(self.spec)), id="approval-facts")
            yield Static(_reasons(self.spec.reasons or (_("This needs a supervisor's approval."),)),
                         id="approval-reasons")
            if self.needs_funds_source:
                with Horizontal(classes="field-row"):
                    yield Label(_("Source of funds"), classes="field-label")
                    yield Input(id="approval-source", max_length=200)
                    yield Label(_("Purpose"), classes="field-label -second")
                    yield Input(id="approval-purpose", max_length=200)
            yield from field_row(_("Supervisor user name"), Input(id="approval-user", max_length=32))
            yield from field_row(_("Password"), Input(id="approval-password", password=True, max_length=256))
            yield from field_row(_("One-time code"), Input(id="approval-code", max_length=6, restrict=r"[0-9]*"))
            yield Static("", id="approval-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        first = "#approval-source" if self.needs_funds_source else "#approval-user"
        self.query_one(first, Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "send") and self.busy:
            return None
        return True

    def _value(self, selector: str) -> str:
        try:
            return self.query_one(selector, Input).value
        except Exception:  # noqa: BLE001 - the field is not shown for this request
            return ""

    def _say(self, text: str, error: bool = True) -> None:
        widget = self.query_one("#approval-message", Static)
        widget.set_class(error, "-error")
        widget.update(Content(clean(text)))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        order = ["#approval-source", "#approval-purpose", "#approval-user", "#approval-password", "#approval-code"]
        ids = [f"#{w.id}" for w in self.query(Input)]
        current = f"#{event.input.id}"
        following = [s for s in order if s in ids and order.index(s) > order.index(current)]
        if current == "#approval-code" or not following:
            self.action_approve()
        else:
            self.query_one(following[0], Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_approve(self) -> None:
        if self.busy:
            return
        user, password, code = self._value("#approval-user"), self._value("#approval-password"), \
            self._value("#approval-code")
        if not user or not password or len(code) != 6:
            self._say(_("Type the supervisor's user name, password and 6-digit code."))
            return
        self.busy = True
        self._say(_("Checking…"), error=False)
        self._approve(user, password, code, self._value("#approval-source"), self._value("#approval-purpose"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="approval")
    def _approve(self, user: str, password: str, code: str, source: str, purpose: str) -> None:
        try:
            result = self.services.approvals.approve_at_counter(self.actor, self.spec, user, password, code,
                                                                source_of_funds=source, purpose=purpose)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.post_message(self.Done(None, exc))
            return
        self.post_message(self.Done(result))

    @on(Done)
    def _done(self, message: Done) -> None:
        self.busy = False
        if message.result is not None:
            self.dismiss(message.result)
            return
        error = message.error
        self.query_one("#approval-password", Input).value = ""
        self.query_one("#approval-code", Input).value = ""
        self._say(refusal_text(error) if isinstance(error, DomainError) else _("Something went wrong; nothing was approved."))

    def action_send(self) -> None:
        if self.busy:
            return
        self.app.push_screen(WaitingScreen(self.services, self.actor, self.spec,
                                           source_of_funds=self._value("#approval-source"),
                                           purpose=self._value("#approval-purpose")), self._waited)

    def _waited(self, result: ApprovalResult | None) -> None:
        if result is not None:
            self.dismiss(result)
        else:
            self._say(_("Nothing was approved."))


class WaitingScreen(TellerModal[ApprovalResult | None]):
    """The request is in the branch queue; this dialog follows it until a supervisor decides."""
    CSS_PATH = CSS_FILE


    BINDINGS = [
        Binding("f9", "cancel_request", N_("Cancel request"), id="approval.cancel_request"),
        Binding("escape", "close", N_("Close window"), id="approval.close"),
    ]
    HELP = N_("Any supervisor of the branch sees this request on their approvals screen. The funds are held "
              "until they decide. F9 withdraws the request and releases the funds.")

    POLL_SECONDS = 1.0
    view: reactive[ApprovalView | None] = reactive(None, bindings=True)

    class Changed(Message):
        def __init__(self, view: ApprovalView | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, services: Any, actor: Actor, spec: ApprovalSpec, *, source_of_funds: str = "",
                 purpose: str = "") -> None:
        super().__init__()
        self.services = services
        self.actor = actor
        self.spec = spec
        self.source_of_funds = source_of_funds
        self.purpose = purpose
        self.request_id: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="approval-box"):
            yield Static(Content(_("Waiting for a supervisor")), id="approval-title")
            yield Static(facts_content(spec_facts(self.spec)), id="approval-facts")
            yield Static(_reasons(self.spec.reasons), id="approval-reasons")
            yield Static(Content(_("Sending…")), id="waiting-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._send()
        self.set_interval(self.POLL_SECONDS, self._poll, name="approval-poll")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.view
        if action == "cancel_request":
            return True if view is not None and view.status == "pending" else None
        if action == "close":
            return True if view is None or view.status != "pending" else None
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="approval-send")
    def _send(self) -> None:
        try:
            view = self.services.approvals.request(self.actor, self.spec, source_of_funds=self.source_of_funds,
                                                   purpose=self.purpose)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.post_message(self.Changed(None, exc))
            return
        self.post_message(self.Changed(view))

    def _poll(self) -> None:
        if self.request_id is not None and self.view is not None and self.view.status == "pending":
            self._fetch(self.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="approval-poll")
    def _fetch(self, request_id: int) -> None:
        try:
            view = self.services.approvals.get(request_id)
        except Exception as exc:  # noqa: BLE001 - shown; the next poll tries again
            self.post_message(self.Changed(None, exc))
            return
        self.post_message(self.Changed(view))

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        status = self.query_one("#waiting-status", Static)
        if message.view is None:
            error = message.error
            status.update(Content(clean(refusal_text(error) if isinstance(error, DomainError) else
                                        _("The database cannot be reached; trying again."))))
            return
        view = message.view
        self.request_id = view.id
        self.view = view
        if view.status == "pending":
            waiting = (_("Request {id} is with the supervisors. Funds are held until they decide.")
                       if view.hold_id is not None else _("Request {id} is with the supervisors."))
            status.update(Content(waiting.format(id=view.id)))
        elif view.granted:
            self.dismiss(ApprovalResult(view.id, view.status, view.approver_id, view.approver, "remote",
                                        view.entry_id, view.entry_reference))
        elif view.status == "expired":
            status.update(Content(
                (_("Request {id} expired, funds released. Nothing was paid; ask again if still needed.")
                 if view.hold_id is not None else
                 _("Request {id} expired. Nothing was done; ask again if still needed.")).format(id=view.id)))
        else:
            text = _("Request {id}: {status}.").format(id=view.id, status=_(STATUS.get(view.status, view.status)))
            if view.decision_reason:
                reason = _(CANCEL_REASON) if view.decision_reason == CANCEL_REASON else view.decision_reason
                text += " " + _("Reason: {reason}").format(reason=reason)
            status.update(Content(clean(text)))

    def action_cancel_request(self) -> None:
        if self.request_id is not None:
            self._cancel(self.request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="approval-poll")
    def _cancel(self, request_id: int) -> None:
        try:
            view = self.services.approvals.cancel(self.actor, request_id, CANCEL_REASON)
        except Exception as exc:  # noqa: BLE001 - e.g. decided meanwhile: show the fresh state
            self.post_message(self.Changed(None, exc))
            self.app.call_from_thread(self._fetch, request_id)
            return
        self.post_message(self.Changed(view))

    def action_close(self) -> None:
        self.dismiss(None)
