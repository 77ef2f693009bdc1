"""Cash in, cash out and transfer forms.

One flow for all three (:class:`CashForm`):

1. The form opens for one customer's wallet and creates its idempotency key at once
   (``uuid4``). Every post from this form — a double Enter, a retry after a timeout — uses
   that key, so the core posts at most once and replays the original result otherwise.
2. Submit (Enter, F10 or ctrl+j) checks the amount (:class:`~screens.widgets.money_input.MoneyInput`,
   i.e. the core's ``parse_money``) and asks ``services.cash.preview_*`` in a worker.
3. A hard refusal (frozen wallet, tier limit, funds) is shown as a message; reasons that need a
   supervisor are shown first (:meth:`CashForm.approval_required`: the teller confirms the figures
   with the reasons); posting then raises ApprovalRequired carrying the exact request, which goes
   to the app's one approval flow (``TellerApp.request_approval``: at the counter or through the
   queue) and the post is retried with the approval; otherwise :class:`~screens.confirm.ConfirmScreen` restates
   customer, wallet, amount in figures and in words, and the new balance.
4. On confirmation the posting runs in a worker; Submit is disabled (``check_action``) while a
   preview or a posting is under way. Success replaces the form with the receipt.
5. In flight: the worker first writes the submission into the terminal's journal
   (``services.inflight.record``), then sends it; the journal entry is forgotten once the outcome
   is shown (receipt, or a refusal). If the outcome is not known (the database did not answer, a
   storage fault) the form never says "Refused": it says "Not known yet — checking…" and looks the
   key up until the database answers, then shows the receipt or "Not posted". A crash in between
   is reported by the app after the next sign-in (:mod:`screens.inflight`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label, Static

from teller_tui.common.errors import ApprovalRequired, ConsentRequired, DatabaseUnavailable, DomainError, StorageError
from teller_tui.common.formatting import format_dr_cr, format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money

from .base import TellerScreen
from .confirm import ConfirmScreen, Fact
from .drawer import COUNT_NOTES_BINDING, CountNotesMixin
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.footer import KeyFooter
from .widgets.money_input import MoneyInput
from .widgets.risk_banner import RiskBanner
from .widgets.safe import clean, join
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from textual.timer import Timer

    from teller_tui.audit.trail import Actor
    from teller_tui.desk.cash_types import Preview, TxnResult
    from teller_tui.desk.inflight import Submission
    from teller_tui.desk.inflight_service import SubmissionOutcome
    from teller_tui.desk.customer_views import CustomerView
    from teller_tui.wallets.views import WalletView

__all__ = ["CashForm", "CashInForm", "CashOutForm", "TransferForm", "form_for", "new_idempotency_key"]


def new_idempotency_key(kind: str = "desk") -> str:
    """One key per opened form (never per keystroke or per attempt): ``<kind>-<uuid4 hex>``."""
    return f"{kind}-{uuid.uuid4().hex}"


class CashForm(DeskScreenMixin, TellerScreen[None]):
    """Base form: subclasses set ``KIND``/``TITLE`` and call the matching service methods."""

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="cash.back"),
        Binding("f10", "submit", N_("Post"), id="cash.submit"),
        Binding("ctrl+j", "submit", N_("Post"), id="cash.submit_alt", show=False),
    ]

    HELP = N_(
        "## Cash form\n\n"
        "Type the amount (for example 500 or 1,234.50) and a memo if needed.\n\n"
        "- **Enter / F10** check and confirm; nothing is posted before you confirm\n"
        "- **Esc** goes back without posting\n\n"
        "Posting twice from the same form is impossible: a second Enter replays the first."
    )

    busy: reactive[bool] = reactive(False, bindings=True)
    """A preview or a posting is running: Submit is disabled."""

    class Previewed(Message):
        def __init__(self, preview: Preview) -> None:
            super().__init__()
            self.preview = preview

    class Posted(Message):
        def __init__(self, result: TxnResult) -> None:
            super().__init__()
            self.result = result

    class Failed(Message):
        """A preview failed, or a posting was refused (nothing posted); ``key``: the posting's."""

        def __init__(self, error: BaseException, key: str | None = None) -> None:
            super().__init__()
            self.error = error
            self.key = key

    class Unknown(Message):
        """The posting was sent but its outcome is not known (database gone, storage fault)."""

        def __init__(self, error: BaseException, submission: Submission) -> None:
            super().__init__()
            self.error = error
            self.submission = submission

    class Checked(Message):
        """The database answered for an unknown outcome (``outcome``), or failed to (``error``)."""

        def __init__(self, outcome: SubmissionOutcome | None, cause: BaseException,
                     error: BaseException | None = None) -> None:
            super().__init__()
            self.outcome = outcome
            self.cause = cause
            self.error = error

    def __init__(self, customer: CustomerView, wallet: WalletView) -> None:
        super().__init__()
        self.customer = customer
        self.wallet = wallet
        self.idempotency_key = new_idempotency_key(self.KIND)
        self.posted: TxnResult | None = None
        self.post_attempts = 0
        self.sending = False  # a posting worker is between "recorded" and its answer
        self.approval_id: int | None = None  # granted by a supervisor (screens/approval.py)
        self.consent_id: int | None = None  # granted by the customer (screens/consent.py)
        self.was_approved = False  # a supervisor approved (at the counter, or from the queue)

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="cash-body", classes=f"-{self.KIND}"):
            yield Static(Content(_(self.TITLE)), id="cash-title")
            yield Static(join((_("Customer"), self.customer.full_name), (_("No."), self.customer.customer_no)),
                         id="cash-customer")
            yield Static(self._wallet_line(), id="cash-wallet")
            yield RiskBanner(id="cash-risk")
            yield from self.compose_extra()
            with Horizontal(classes="cash-row"):
                yield Label(_("Amount"), classes="cash-label")
                yield MoneyInput(self.wallet.currency, id="cash-amount")
                yield Static("", id="cash-amount-error")
            yield Static("", id="cash-live")
            with Horizontal(classes="cash-row"):
                yield Label(_("Memo"), classes="cash-label")
                yield Input(placeholder=_("optional"), id="cash-memo", max_length=100)
            yield Static("", id="cash-message")
        yield KeyFooter()

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def _wallet_line(self) -> Content:
        w = self.wallet
        return join((_("Wallet"), w.number), (_("Class"), str(w.tier)),
                    (_("Balance"), format_dr_cr(w.balance)), (_("Available"), format_money(w.available)))

    FIRST_FIELD: ClassVar[str] = "#cash-amount"

    def on_mount(self) -> None:
        self.query_one(self.FIRST_FIELD).focus()
        self.query_one("#cash-risk", RiskBanner).show_for(self.wallet.wallet_id)
        self.schedule_live_check(0)
        remember = getattr(self.app, "remember_wallet", None)
        if remember is not None:
            remember(self.wallet.wallet_id)  # kept on this terminal for an outage (offline cash-in, Ctrl+O)

    # -- live checks: every problem shown as the teller types, before any confirmation ----------
    LIVE_DELAY: ClassVar[float] = 0.25
    """Seconds of quiet typing before the amount is checked (each keystroke restarts the wait)."""

    class Live(Message):
        """The live check's answer for the amount on screen (``token`` drops stale answers)."""

        def __init__(self, token: int, preview: Preview | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.token = token
            self.preview = preview
            self.error = error

    _live_token = 0
    _live_timer: Timer | None = None

    def live_ready(self) -> bool:
        """Whether the form knows enough to check (a transfer needs its receiving wallet)."""
        return True

    def schedule_live_check(self, delay: float | None = None) -> None:
        self._live_token += 1
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        wait = self.LIVE_DELAY if delay is None else delay
        if wait <= 0:
            self.call_later(self._run_live_check)  # a zero-second Timer is not allowed
        else:
            self._live_timer = self.set_timer(wait, self._run_live_check)

    def _run_live_check(self) -> None:
        if not self.is_attached or self.posted is not None or not self.live_ready():
            return
        self._live(self._live_token, self.amount or Money.zero(self.wallet.currency))

    @work(thread=True, exclusive=True, exit_on_error=False, group="cash-live")
    def _live(self, token: int, amount: Money) -> None:
        try:
            preview = self.call_preview(amount)
        except Exception as exc:  # noqa: BLE001 - shown in the live line; the submit reports it again
            self.post_message(self.Live(token, None, exc))
            return
        self.post_message(self.Live(token, preview))

    @on(Live)
    def _live_checked(self, message: Live) -> None:
        if message.token != self._live_token or not self.is_attached:
            return
        widget = self.query_one("#cash-live", Static)
        lines: list[str] = []
        kind = ""
        preview = message.preview
        if message.error is not None:
            lines.append("⚠ " + error_text(message.error))
            kind = "error"
        elif preview is not None:
            if preview.refusal and preview.refusal_code != "amount_zero":
                lines.append("⚠ " + _("Refused: {reason}").format(reason=clean(preview.refusal)))
                kind = "error"
            elif preview.approval_reasons and self.amount is not None:
                lines.append(_("Needs supervisor approval: {reasons}").format(
                    reasons="; ".join(clean(r) for r in preview.approval_reasons)))
                kind = "approval"
            lines.extend(self.limits_lines(preview))
        widget.set_classes(f"-{kind}" if kind else "")
        widget.update(Content("\n".join(lines)))

    @staticmethod
    def limits_lines(preview: Preview) -> list[str]:
        """The wallet class's limits left, as amounts ("no limit" lines are left out)."""
        left = preview.left
        parts: list[str] = []
        if left.today is not None:
            parts.append(_("Left today: {amount}").format(amount=format_money(left.today)))
        if left.per_payment is not None:
            parts.append(_("One payment: up to {amount}").format(amount=format_money(left.per_payment)))
        if left.balance_room is not None:
            parts.append(_("Room to the balance limit: {amount}").format(amount=format_money(left.balance_room)))
        return [" · ".join(parts)] if parts else []

    # -- input ---------------------------------------------------------------------------
    @property
    def amount(self) -> Money | None:
        return self.query_one("#cash-amount", MoneyInput).money

    @property
    def memo(self) -> str:
        return clean(self.query_one("#cash-memo", Input).value).strip()

    @on(Input.Changed, "#cash-amount")
    def _amount_changed(self, event: Input.Changed) -> None:
        field = self.query_one("#cash-amount", MoneyInput)
        message = field.error_message() if event.value.strip() else ""
        self.query_one("#cash-amount-error", Static).update(Content(message))
        self._set_message("")
        self.refresh_bindings()
        if not message:
            self.schedule_live_check()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _set_message(self, text: str, kind: str = "") -> None:
        widget = self.query_one("#cash-message", Static)
        widget.set_classes(f"-{kind}" if kind else "")
        widget.update(Content(clean(text, multiline=True)))

    # -- the flow ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit":
            if self.busy or self.posted is not None:
                return None
            return True if self.amount is not None else None
        return True

    def validate_form(self) -> str:
        """Why the form cannot be submitted yet ("" when it can)."""
        field = self.query_one("#cash-amount", MoneyInput)
        if field.money is None:
            return field.error_message() or _("Enter an amount")
        return ""

    def action_submit(self) -> None:
        if self.busy or self.posted is not None:
            return  # a second Enter while the first is running: nothing more happens
        problem = self.validate_form()
        if problem:
            self._set_message(problem, "error")
            self.query_one("#cash-amount", MoneyInput).focus()
            return
        self.busy = True
        self._set_message(_("Checking…"))
        self._preview(self.amount)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cash-preview")
    def _preview(self, amount: Money) -> None:
        try:
            preview = self.call_preview(amount)
        except Exception as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Previewed(preview))

    def call_preview(self, amount: Money) -> Preview:
        raise NotImplementedError

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        raise NotImplementedError

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        preview = message.preview
        if preview.refusal:
            self.busy = False
            self.refused(preview.refusal, preview.refusal_code)
            return
        if preview.approval_reasons:
            self.busy = False
            self._last_preview = preview
            self.approval_required(list(preview.approval_reasons), list(preview.approval_rules))
            return
        self._set_message("")
        self.app.push_screen(ConfirmScreen(self.confirm_title(), self.confirm_facts(preview),
                                           emphasis=(_("Amount"), _("New balance"))), self._confirmed)

    def confirm_title(self) -> str:
        return _("Confirm: {action}").format(action=_(self.TITLE))

    def confirm_facts(self, preview: Preview) -> list[Fact]:
        facts: list[Fact] = [
            (_("Customer"), preview.customer_name or self.customer.full_name),
            (_("Wallet"), preview.wallet_number or self.wallet.number),
            (_("Amount"), format_money(preview.amount)),
            (_("In words"), preview.amount_words),
            (_("Balance now"), format_dr_cr(preview.balance_before)),
            (_("New balance"), format_dr_cr(preview.balance_after)),
        ]
        if self.memo:
            facts.append((_("Memo"), self.memo))
        return facts

    def _confirmed(self, ok: bool | None) -> None:
        if not ok:
            self.busy = False
            self._set_message(_("Not posted."))
            return
        self.post()

    def post(self) -> None:
        """Post with this form's key (safe to call again: the core replays, never re-posts)."""
        if self.posted is not None or not self.is_attached:
            return  # already posted: the receipt is showing
        amount = self.amount
        if amount is None:
            self.busy = False
            return
        self.busy = True
        self.post_attempts += 1
        self._set_message(_("Posting…"))
        self._watch(True)
        self.sending = True
        self._post(self.actor, amount, self.memo, self.idempotency_key)

    def _watch(self, on: bool) -> None:
        """Tell the app this form resolves its own key (so its journal check leaves it alone)."""
        watched = getattr(self.app, "inflight_watch", None)
        if isinstance(watched, set):
            (watched.add if on else watched.discard)(self.idempotency_key)

    @work(thread=True, exclusive=False, exit_on_error=False, group="cash-post")
    def _post(self, actor: Actor, amount: Money, memo: str, key: str) -> None:
        try:  # written down (fsynced) before it is sent: a crash after this point is accounted for
            submission = self.services.inflight.record(actor, self.KIND, key, wallet=self.wallet.number,
                                                       amount=amount)
        except Exception as exc:
            self.post_message(self.Failed(exc))  # not sent
            return
        try:
            result = self.call_post(amount, memo, key)
        except DomainError as exc:
            if isinstance(exc, StorageError):  # the database did not answer, or could not write
                self.post_message(self.Unknown(exc, submission))
            else:  # a refusal: the transaction was rolled back, nothing posted
                self.post_message(self.Failed(exc, key))
            return
        except Exception as exc:
            self.post_message(self.Unknown(exc, submission))
            return
        self.post_message(self.Posted(result))

    @on(Unknown)
    def _unknown(self, message: Unknown) -> None:
        """Never "Refused": say the outcome is not known yet and look the key up."""
        self.sending = False
        self._set_message(_("Not known yet — checking…"), "checking")
        if isinstance(message.error, DatabaseUnavailable):
            unavailable = getattr(self.app, "database_unavailable", None)
            if unavailable is not None:
                unavailable(message.error)  # the banner, and the app's own reconnect
        self._check(self.actor, message.submission, message.error)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cash-check")
    def _check(self, actor: Actor, submission: Submission, cause: BaseException) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        while not worker.is_cancelled:  # until the database answers (or the form is closed)
            try:
                outcome = self.services.inflight.outcome_of(actor, submission)
            except DatabaseUnavailable:
                self.services.db.wait_available(timeout=5)
                continue
            except Exception as exc:
                self.post_message(self.Checked(None, cause, exc))
                return
            self.post_message(self.Checked(outcome, cause))
            return

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        outcome = message.outcome
        if outcome is None:  # the database answers with a fault: the journal keeps the key
            self.busy = False
            self._watch(False)
            text = _("Not known yet: {error} The terminal will tell you what happened at the next sign-in.")
            self._set_message(text.format(error=error_text(message.error or message.cause)), "error")
            self.show_error(message.error or message.cause)
            return
        if outcome.posted and outcome.result is not None:
            self.post_message(self.Posted(outcome.result))
            return
        self._forget(self.idempotency_key)
        self.busy = False
        cause = message.cause
        reason = (_("the database did not answer in time.") if isinstance(cause, DatabaseUnavailable)
                  else error_text(cause))
        self._set_message(_("Not posted: {reason} Nothing was taken; check the figures and post again.")
                          .format(reason=reason), "error")
        self.show_error(_("Not posted: {reason}").format(reason=reason), title=_("Not posted"))

    def _forget(self, key: str) -> None:
        """The outcome is shown: the app drops the key from the journal (in its own worker, since
        this form may be closing)."""
        self._watch(False)
        self.app.forget_inflight(self.actor, key)

    def on_unmount(self) -> None:
        if self.busy and self.idempotency_key in getattr(self.app, "inflight_watch", ()):
            # Closed while its outcome was still being checked: the app looks it up instead.
            self._watch(False)
            self.app.check_inflight()

    @on(Posted)
    def _posted(self, message: Posted) -> None:
        self.sending = False
        if self.posted is not None:
            return  # a replayed second answer: the receipt is already on its way
        self.posted = message.result
        self.busy = False
        self._forget(self.idempotency_key)  # the receipt is being shown
        from .receipt import ReceiptScreen

        # After a supervisor approved at a distance, the approval itself posted the held
        # funds and this form's retry finds that entry: that is not a "repeat" to warn about.
        self.app.switch_screen(ReceiptScreen.from_result(message.result, approved=self.was_approved))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.busy = False
        self.sending = False
        error = message.error
        if message.key is not None:
            self._forget(message.key)  # refused: nothing posted under the key
        else:
            self._watch(False)
        if isinstance(error, ConsentRequired) and error.details.get("spec") is not None:
            from .consent import ConsentScreen

            self._set_message(str(error), "approval")
            self.busy = True
            self.app.push_screen(ConsentScreen(error.details["spec"]), self._consented)
        elif isinstance(error, ApprovalRequired):
            self._set_message(_("Needs supervisor approval: {reasons}").format(
                reasons="; ".join(clean(r) for r in error.reasons)), "approval")
            self.busy = True
            self.ask_approval(error, self._approved, self._not_approved)
        elif isinstance(error, StorageError):  # nothing was sent: not a refusal either
            self._set_message(refusal_text(error), "error")
            self.show_error(error)
            if isinstance(error, DatabaseUnavailable):
                unavailable = getattr(self.app, "database_unavailable", None)
                if unavailable is not None:
                    unavailable(error)
        elif isinstance(error, DomainError):
            self.refused(refusal_text(error), error.code)
        else:
            self._set_message(error_text(error), "error")
            self.show_error(error)

    # -- outcomes ------------------------------------------------------------------------
    def refused(self, reason: str, code: str | None = None) -> None:
        """A hard refusal (limit, frozen wallet, funds): nothing was posted. F1 then explains ``code``."""
        self._set_message(_("Refused: {reason}").format(reason=reason), "error")
        self.show_error(reason, title=_("Refused"), code=code)

    def approval_required(self, reasons: list[str], rules: list[str]) -> None:
        """From the preview: the teller first confirms the figures, with the reasons shown; posting
        then raises ApprovalRequired carrying the exact request (``spec``), which goes to the app's
        approval flow (:meth:`~screens.widgets.desk.DeskScreenMixin.ask_approval`)."""
        text = _("Needs supervisor approval: {reasons}").format(reasons="; ".join(clean(r) for r in reasons))
        self._set_message(text, "approval")
        self.busy = False
        preview = getattr(self, "_last_preview", None)
        if preview is None:
            self.notify(clean(text), title=_("Approval needed"), severity="warning", markup=False)
            return
        self.busy = True
        self.app.push_screen(ConfirmScreen(self.confirm_title(), self.confirm_facts(preview), warning=text,
                                           emphasis=(_("Amount"), _("New balance"))), self._confirmed)

    def _approved(self, approval_id: int | None) -> None:
        """Approved: post with the approval; ``None``: the supervisor's approval already posted the
        held funds, and this form's key replays that entry."""
        self.approval_id = approval_id
        self.was_approved = True
        self.post()

    def _consented(self, consent_id: int | None) -> None:
        if consent_id is None:
            self.busy = False
            self._set_message(_("Not posted: the customer did not agree."), "approval")
            return
        self.consent_id = consent_id
        self.post()

    def _not_approved(self) -> None:
        self.busy = False
        self._set_message(_("Not posted: no approval."), "approval")

    def action_back(self) -> None:
        if self.sending:  # leaving now could report "not posted" for a posting still under way
            self.show_info(_("Posting in progress: wait for the outcome."))
            return
        self.dismiss(None)


class CashInForm(CountNotesMixin, CashForm):
    KIND = "cash_in"
    BINDINGS = [COUNT_NOTES_BINDING]
    TITLE = N_("Cash in")

    def call_preview(self, amount: Money) -> Preview:
        return self.services.cash.preview_cash_in(self.actor, self.wallet.wallet_id, amount)  # type: ignore[no-any-return]

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        return self.services.cash.cash_in(self.actor, self.wallet.wallet_id, amount, memo=memo,  # type: ignore[no-any-return]
                                          idempotency_key=key, approval_id=self.approval_id)


class CashOutForm(CountNotesMixin, CashForm):
    KIND = "cash_out"
    BINDINGS = [COUNT_NOTES_BINDING]
    TITLE = N_("Cash out")

    def call_preview(self, amount: Money) -> Preview:
        return self.services.cash.preview_cash_out(self.actor, self.wallet.wallet_id, amount)  # type: ignore[no-any-return]

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        return self.services.cash.cash_out(self.actor, self.wallet.wallet_id, amount, memo=memo,  # type: ignore[no-any-return]
                                           idempotency_key=key, approval_id=self.approval_id,
                                           consent_id=self.consent_id)


class TransferForm(CashForm):
    """Wallet to wallet. The receiving wallet is typed (number, phone, ID…) or chosen with F2."""

    KIND = "transfer"
    TITLE = N_("Transfer")
    FIRST_FIELD = "#cash-to"

    BINDINGS = [Binding("f2", "pick_destination", N_("Find payee"), id="cash.find_payee")]

    class Resolved(Message):
        def __init__(self, token: int, wallet_id: int | None, label: str) -> None:
            super().__init__()
            self.token = token
            self.wallet_id = wallet_id
            self.label = label

    def __init__(self, customer: CustomerView, wallet: WalletView) -> None:
        super().__init__(customer, wallet)
        self.to_wallet_id: int | None = None
        self._resolve_token = 0

    def compose_extra(self) -> ComposeResult:
        with Horizontal(classes="cash-row"):
            yield Label(_("To wallet"), classes="cash-label")
            yield Input(placeholder=_("wallet, phone, ID · F2 search"), id="cash-to", max_length=40)
            yield Static("", id="cash-to-name")

    @on(Input.Changed, "#cash-to")
    def _to_changed(self, event: Input.Changed) -> None:
        self.to_wallet_id = None
        self._resolve_token += 1
        text = clean(event.value).strip()
        self.query_one("#cash-to-name", Static).update("")
        if len(text) >= 3:
            self._resolve(self._resolve_token, text)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cash-resolve")
    def _resolve(self, token: int, text: str) -> None:
        try:
            wallet_id, label = self.find_wallet(text)
        except Exception as exc:
            wallet_id, label = None, error_text(exc)
        self.post_message(self.Resolved(token, wallet_id, label))

    def find_wallet(self, text: str) -> tuple[int | None, str]:
        """(wallet id, what to show) for what was typed; runs in a worker thread."""
        info = self.services.wallets.find_by_number(text)
        if info is not None:
            view = self.services.customers.get_customer(info.customer_id)
            return info.wallet_id, f"{view.full_name} · {info.number}"
        page = self.services.customers.search(text, limit=2)
        if len(page.results) != 1:
            return None, (_("No such wallet") if not page.results else _("Several customers match; F2 to choose"))
        return self._customer_wallet(page.results[0].customer_id)

    def _customer_wallet(self, customer_id: int) -> tuple[int | None, str]:
        view = self.services.customers.get_customer(customer_id)
        candidates = [w for w in view.wallets if w.status != "closed" and w.wallet_id != self.wallet.wallet_id]
        if not candidates:
            return None, _("{name} has no other open wallet").format(name=view.full_name)
        active = [w for w in candidates if w.status == "active"] or candidates
        return active[0].wallet_id, f"{view.full_name} · {active[0].number}"

    @on(Resolved)
    def _resolved(self, message: Resolved) -> None:
        if message.token != self._resolve_token:
            return
        self.to_wallet_id = message.wallet_id
        widget = self.query_one("#cash-to-name", Static)
        widget.update(Content(("→ " if message.wallet_id else "") + clean(message.label)))
        widget.set_class(message.wallet_id is None, "-error")
        self.refresh_bindings()
        if message.wallet_id is not None:
            self.schedule_live_check(0)

    def action_pick_destination(self) -> None:
        from .lookup import LookupScreen

        def picked(customer_id: int | None) -> None:
            if customer_id is not None:
                self._resolve_token += 1
                self._pick(self._resolve_token, customer_id)
                # The amount is next, at once: keys typed before the payee's wallet is found go there
                # (typed on into the empty payee field, they dropped the choice).
                self.query_one("#cash-amount", MoneyInput).focus()

        self.app.push_screen(LookupScreen(purpose="pick"), picked)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cash-resolve")
    def _pick(self, token: int, customer_id: int) -> None:
        try:
            wallet_id, label = self._customer_wallet(customer_id)
        except Exception as exc:
            wallet_id, label = None, error_text(exc)
        self.post_message(self.Resolved(token, wallet_id, label))

    def live_ready(self) -> bool:
        return self.to_wallet_id is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit" and self.to_wallet_id is None:
            return None
        return super().check_action(action, parameters)

    def validate_form(self) -> str:
        if self.to_wallet_id is None:
            return _("Choose the receiving wallet (type its number, or F2 to search)")
        return super().validate_form()

    def call_preview(self, amount: Money) -> Preview:
        assert self.to_wallet_id is not None
        return self.services.cash.preview_transfer(self.actor, self.wallet.wallet_id,  # type: ignore[no-any-return]
                                                   self.to_wallet_id, amount)

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        assert self.to_wallet_id is not None
        return self.services.cash.transfer(self.actor, self.wallet.wallet_id, self.to_wallet_id,  # type: ignore[no-any-return]
                                           amount, memo=memo, idempotency_key=key, approval_id=self.approval_id,
                                           consent_id=self.consent_id)

    def confirm_facts(self, preview: Preview) -> list[Fact]:
        facts = super().confirm_facts(preview)
        facts.insert(2, (_("To"), f"{preview.counterparty_name} · {preview.counterparty_wallet}"))
        return facts


FORMS: dict[str, type[CashForm]] = {"cash_in": CashInForm, "cash_out": CashOutForm, "transfer": TransferForm}


def form_for(kind: str, customer: CustomerView, wallet: WalletView) -> CashForm:
    return FORMS[kind](customer, wallet)
