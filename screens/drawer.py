"""Cash drawer screens: open with a float, vault transfers, the blind end-of-day count, counting notes.

* :class:`DenominationGrid` — one row per note/coin (count → subtotal) and the total; the
  arithmetic is the core's (``count_total``). Posts :class:`DenominationGrid.Changed`.
* :class:`DrawerScreen` (home F10) — the drawer's state and its actions: F2 open, F3 vault
  transfer, F4 end-of-day count, F5 report, F6 close the business day (supervisor), F7 break /
  return, F8 hand the drawer over / withdraw / take one over (forms in :mod:`screens.custody`).
* :class:`OpenDrawerScreen`, :class:`VaultTransferScreen`, :class:`BlindCountScreen` — the forms.
  The blind count never shows the expected figure before the count is submitted. Dual control
  (the float, a transfer, the close and its over/short, the day's close) is the app's one
  approval flow: the core raises ApprovalRequired, the form hands it to ``ask_approval`` (a
  supervisor at this terminal, or the branch queue) and runs again with the approval.
* :class:`CountNotesDialog` — pieces received / paid out for a cash form (F4 in the cash forms
  via :class:`CountNotesMixin`): total, change due, the change to give; returns a ``Tender``.

Database work runs in thread workers; each posts a result message back to its screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from teller_tui.common.errors import ApprovalRequired, DatabaseUnavailable, DomainError, ValidationError
from teller_tui.common.formatting import format_date, format_money
from teller_tui.common.i18n import N_, _, get_locale
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked

from .base import TellerModal, TellerScreen
from .commands import PaletteCommand, register_command
from .confirm import ConfirmScreen, facts_content
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.branch.handover import CustodyState, HandoverOffer
    from teller_tui.branch.views import CountResult, DrawerStatus, Tender

__all__ = ["COUNT_NOTES_BINDING", "ApprovalForm", "BlindCountScreen", "CountNotesDialog", "CountNotesMixin", "DenominationGrid", "DrawerScreen",
           "OpenDrawerScreen", "VaultTransferScreen"]

CSS_FILE = Path(__file__).resolve().parent / "drawer.tcss"

STATE_LABELS = {"no_business_day": N_("business day not open"), "not_opened": N_("not opened yet"),
                "open": N_("open"), "counting": N_("counted, waiting to close"), "closed": N_("closed for the day")}


def _input_id(key: str) -> str:
    return "count-" + key.replace(":", "-").replace(".", "_")


# -- widgets ---------------------------------------------------------------------------------------
class DenominationGrid(Widget):
    """Counts by denomination; the total is computed by the core."""

    DEFAULT_CSS = """
    DenominationGrid { height: auto; width: auto; }
    DenominationGrid .denom-row { height: 1; width: auto; }
    DenominationGrid .denom-label { width: 14; }
    DenominationGrid Input { width: 10; height: 1; border: none; padding: 0 1; background: $boost; }
    DenominationGrid Input:focus { background: $accent 50%; text-style: bold; }
    DenominationGrid .denom-sub { width: 16; text-align: right; }
    DenominationGrid .denom-head { height: 1; width: auto; color: $text-muted; }
    DenominationGrid .denom-head-count { width: 10; padding: 0 1; }
    DenominationGrid #denom-total { text-style: bold; }
    """

    BINDINGS = [
        Binding("down", "move(1)", N_("Next row"), show=False, id="denominations.down"),
        Binding("up", "move(-1)", N_("Previous row"), show=False, id="denominations.up"),
    ]

    class Changed(Message):
        def __init__(self, grid: DenominationGrid, counts: dict[str, int], total: Money | None) -> None:
            super().__init__()
            self.grid = grid
            self.counts = counts
            self.total = total

        @property
        def control(self) -> DenominationGrid:
            return self.grid

    def __init__(self, currency: str = "CNY", *, initial: dict[str, int] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        from teller_tui.common.reference import denominations

        self.currency = currency
        self.denoms = denominations(currency)
        self.initial = dict(initial or {})

    def compose(self) -> ComposeResult:
        locale = get_locale()
        with Horizontal(classes="denom-head"):  # count and amount side by side, each named
            yield Label(Content(_("Note / coin")), classes="denom-label")
            yield Label(Content(_("Count")), classes="denom-head-count")
            yield Label(Content(_("Amount")), classes="denom-sub")
        for d in self.denoms:
            with Horizontal(classes="denom-row"):
                yield Label(Content(d.label_for(locale)), classes="denom-label")
                value = str(self.initial[d.key]) if self.initial.get(d.key) else ""
                yield Input(value=value, placeholder="0", restrict=r"[0-9]*", max_length=6, id=_input_id(d.key),
                            compact=True)
                yield Static("", classes="denom-sub", id=_input_id(d.key) + "-sub")
        yield Static("", id="denom-total")

    def on_mount(self) -> None:
        self._update()

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.denoms:
            text = self.query_one("#" + _input_id(d.key), Input).value.strip()
            if text.isdigit() and int(text):
                out[d.key] = int(text)
        return out

    @property
    def total(self) -> Money:
        from teller_tui.common.reference import count_total

        return count_total(self.counts, self.currency)

    def set_counts(self, counts: dict[str, int]) -> None:
        for d in self.denoms:
            n = counts.get(d.key, 0)
            self.query_one("#" + _input_id(d.key), Input).value = str(n) if n else ""
        self._update()

    def focus_first(self) -> None:
        self.query_one("#" + _input_id(self.denoms[0].key), Input).focus()

    def action_move(self, step: int) -> None:
        """↓ / ↑: the next or previous row's count (stays put at either end)."""
        fields = [self.query_one("#" + _input_id(d.key), Input) for d in self.denoms]
        focused = self.screen.focused
        if focused not in fields:
            fields[0].focus()
            return
        index = fields.index(focused) + step  # type: ignore[arg-type]
        if 0 <= index < len(fields):
            fields[index].focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update()

    def _update(self) -> None:
        counts = self.counts
        for d in self.denoms:
            n = counts.get(d.key, 0)
            sub = format_money(Money(d.value.minor * n, self.currency)) if n else ""
            self.query_one("#" + _input_id(d.key) + "-sub", Static).update(Content(sub))
        total = self.total
        self.query_one("#denom-total", Static).update(Content(_("Total") + "  " + format_money(total)))
        self.post_message(self.Changed(self, counts, total))


# -- a shared base for the drawer forms ------------------------------------------------------------
class _Done(Message):
    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class Tracked:
    """A drawer posting written to the terminal's in-flight journal before it is sent
    (:func:`teller_tui.desk.inflight_service.submit_tracked`): its kind, key, amount and subject."""

    def __init__(self, kind: str, key: str, amount: Money, subject: str = "") -> None:
        self.kind, self.key, self.amount, self.subject = kind, key, amount, subject


class _DrawerForm(DeskScreenMixin, TellerModal[bool]):
    CSS_PATH = CSS_FILE
    busy: reactive[bool] = reactive(False, bindings=True)
    _service: Callable[[int | None], Any] = staticmethod(lambda _approval_id: None)  # the last run_service
    _tracked: Tracked | None = None

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="drawer.cancel"),
        Binding("f10", "submit", N_("Submit"), id="drawer.submit"),
        Binding("ctrl+j", "submit", N_("Submit"), id="drawer.submit_alt", show=False),
    ]

    def message_line(self, text: str, kind: str = "") -> None:
        w = self.query_one("#drawer-message", Static)
        w.set_classes(f"-{kind}" if kind else "")
        w.update(Content(clean(text, multiline=True)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit" and self.busy:
            return None
        return True

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def run_service(self, fn: Callable[[int | None], Any], tracked: Tracked | None = None) -> None:
        """Run ``fn(approval_id)`` in a worker: first without an approval; when the core asks for one,
        through the app's approval flow (a supervisor at the counter, or the queue), then again with it.
        ``tracked``: a posting, written to the terminal's in-flight journal before each send."""
        self.busy = True
        self.message_line(_("Working…"))
        self._service = fn
        self._tracked = tracked
        self._run(fn, None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-form")
    def _run(self, fn: Callable[[int | None], Any], approval_id: int | None) -> None:
        tracked, watched = self._tracked, getattr(self.app, "inflight_watch", set())
        try:
            if tracked is None:
                result = fn(approval_id)
            else:
                watched.add(tracked.key)  # resolved here: the app's own journal check leaves it alone
                result = submit_tracked(self.services.inflight, self.actor, tracked.kind, tracked.key, wallet="",
                                        amount=tracked.amount, subject=tracked.subject,
                                        send=lambda: fn(approval_id))
        except Exception as exc:  # noqa: BLE001 - shown to the teller by _done
            if tracked is not None:
                watched.discard(tracked.key)  # before the app's lookup starts, so that it includes this one
            self.post_message(_Done(None, exc))
            return
        finally:
            if tracked is not None:
                watched.discard(tracked.key)
        self.post_message(_Done(result))

    def _outcome_unknown(self, exc: OutcomeUnknown) -> None:
        """Never "refused": not known yet. The form closes (nothing to submit again meanwhile) and the
        app looks the key up once the database answers: "was posted" or "was not posted"."""
        self.show_info(str(exc))
        app: Any = self.app
        self.dismiss(False)
        if isinstance(exc.cause, DatabaseUnavailable) and hasattr(app, "database_unavailable"):
            app.database_unavailable(exc.cause)  # the banner; the reconnect then checks the journal
        elif hasattr(app, "check_inflight"):
            app.check_inflight()

    def _retry(self, approval_id: int | None) -> None:
        self.busy = True
        self.message_line(_("Working…"))
        self._run(self._service, approval_id)

    def _not_approved(self) -> None:
        self.busy = False
        self.message_line(_("Nothing was approved; nothing was done."), "approval")

    @on(_Done)
    def _done(self, message: _Done) -> None:
        self.busy = False
        if isinstance(message.error, ApprovalRequired):
            self.busy = True
            self.message_line(_("Waiting for a supervisor's approval…"), "approval")
            self.ask_approval(message.error, self._retry, self._not_approved)
            return
        if isinstance(message.error, OutcomeUnknown):
            self._outcome_unknown(message.error)
            return
        if message.error is not None:
            self.message_line(error_text(message.error), "error")
            if not isinstance(message.error, DomainError):
                self.show_error(message.error)
            return
        self.succeeded(message.result)

    def succeeded(self, result: Any) -> None:
        self.dismiss(True)


#: The drawer forms' run-with-approval base, for the other branch forms (screens/custody.py).
ApprovalForm = _DrawerForm


class OpenDrawerScreen(_DrawerForm):
    """Count the opening float out of the vault; a supervisor confirms."""

    HELP = N_("Count the float by denomination, then F10: a supervisor approves (at this terminal or from "
              "the approvals queue) and the drawer opens. Esc cancels.")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("Open drawer: opening float from the vault")), id="drawer-title")
            yield DenominationGrid(id="grid")
            yield Static("", id="drawer-message")
            with Horizontal(id="drawer-buttons"):
                yield Button(Content(_("Open drawer")), id="drawer-ok", variant="primary")
                yield Button(Content(_("Cancel")), id="drawer-cancel")
        yield KeyFooter()

    def __init__(self) -> None:
        super().__init__()
        self.key = new_idempotency_key("drawer_open")  # made when the form opens, reused for every submit

    def on_mount(self) -> None:
        self.query_one(DenominationGrid).focus_first()

    @on(Button.Pressed, "#drawer-ok")
    def action_submit(self) -> None:
        if self.busy:
            return
        grid = self.query_one(DenominationGrid)
        counts, key = grid.counts, self.key
        services, actor = self.services, self.actor
        self.run_service(lambda approval_id: services.drawers.open_drawer(actor, counts, approval_id=approval_id,
                                                                          idempotency_key=key),
                         Tracked("drawer_open", key, grid.total, subject=f"drawer_open:{actor.username}"))

    @on(Button.Pressed, "#drawer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def succeeded(self, result: DrawerStatus) -> None:
        self.notify(clean(_("Drawer open with a float of {amount}").format(
            amount=format_money(result.opening_float or Money.zero()))), markup=False)
        self.dismiss(True)


class VaultTransferScreen(_DrawerForm):
    """Buy cash from the vault or sell cash to it, by denomination; a supervisor confirms."""

    HELP = N_("Choose the direction, count the notes, then F10: a supervisor approves (at this terminal or from "
              "the approvals queue) and the cash moves. Esc cancels.")

    def __init__(self) -> None:
        super().__init__()
        # Made when the form opens and reused for every submit: written to the terminal's journal
        # before sending, so a fault is looked up by it and a second submit never moves cash twice.
        self.key = new_idempotency_key("vault")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("Transfer with the vault")), id="drawer-title")
            with RadioSet(id="direction"):
                yield RadioButton(Content(_("From the vault into my drawer")), value=True, id="dir-from")
                yield RadioButton(Content(_("From my drawer to the vault")), id="dir-to")
            yield DenominationGrid(id="grid")
            yield Static("", id="drawer-message")
            with Horizontal(id="drawer-buttons"):
                yield Button(Content(_("Move the cash")), id="drawer-ok", variant="primary")
                yield Button(Content(_("Cancel")), id="drawer-cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DenominationGrid).focus_first()

    @property
    def direction(self) -> str:
        return "to_vault" if self.query_one("#dir-to", RadioButton).value else "from_vault"

    @on(Button.Pressed, "#drawer-ok")
    def action_submit(self) -> None:
        if self.busy:
            return
        grid = self.query_one(DenominationGrid)
        counts = grid.counts
        if not counts:
            self.message_line(_("Count the notes to transfer first."), "error")
            return
        services, actor, direction, key = self.services, self.actor, self.direction, self.key
        self.run_service(lambda approval_id: services.drawers.transfer_with_vault(actor, direction, counts,
                                                                                  approval_id=approval_id,
                                                                                  idempotency_key=key),
                         Tracked("vault_transfer", key, grid.total, subject=direction))

    @on(Button.Pressed, "#drawer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def succeeded(self, result: Any) -> None:
        self.notify(clean(_("Transferred {amount} ({reference})").format(
            amount=format_money(result.amount), reference=result.reference)), markup=False)
        self.dismiss(True)


class BlindCountScreen(_DrawerForm):
    """End of day: count first (the expected figure stays hidden), then see the difference and close."""

    HELP = N_("Count every note and coin in your drawer. The expected figure appears only after you submit the "
              "count. Closing needs a supervisor's approval (at this terminal or from the approvals queue); a "
              "difference beyond the tolerance is approved with it.")

    phase: reactive[str] = reactive("count")

    def __init__(self, pending: CountResult | None = None) -> None:
        super().__init__()
        self.result: CountResult | None = pending
        if pending is not None:
            self.set_reactive(BlindCountScreen.phase, "result")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("End of day: blind count")), id="drawer-title")
            if self.result is None:
                yield Static(Content(_("Count the cash in your drawer. You will see the expected amount after "
                                       "you submit.")), id="count-hint")
                yield DenominationGrid(id="grid")
            else:
                yield Static(self._result_facts(), id="count-result")
                yield Static(Content(
                    _("The difference is beyond the tolerance: a supervisor approves")
                    if self.result.needs_approval
                    else _("A supervisor countersigns the cash going back to the vault")), id="count-approval")
            yield Static("", id="drawer-message")
            with Horizontal(id="drawer-buttons"):
                label = _("Submit count") if self.result is None else _("Close drawer")
                yield Button(Content(label), id="drawer-ok", variant="primary")
                yield Button(Content(_("Cancel")), id="drawer-cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.result is None:
            self.query_one(DenominationGrid).focus_first()
        else:
            self.query_one("#drawer-ok", Button).focus()

    def _result_facts(self) -> Content:
        r = self.result
        assert r is not None
        label = _("Short") if r.difference.minor < 0 else _("Over") if r.difference.minor > 0 else _("Balanced")
        return facts_content([
            (_("Counted"), format_money(r.counted)),
            (_("Expected"), format_money(r.expected)),
            (_("Difference"), f"{format_money(r.difference, sign=True)} ({label})"),
            (_("Tolerance"), format_money(r.tolerance)),
        ], emphasis=(_("Difference"),))

    @on(Button.Pressed, "#drawer-ok")
    def action_submit(self) -> None:
        if self.busy:
            return
        if self.result is None:
            grid = self.query_one(DenominationGrid)
            counts, total = grid.counts, grid.total
            self.app.push_screen(ConfirmScreen(
                _("Submit the count?"), [(_("Counted"), format_money(total))],
                warning=_("The count cannot be changed after you submit it.")),
                lambda ok: self._submit_count(counts) if ok else None)
            return
        services, actor, result = self.services, self.actor, self.result
        # The close's entries are keyed by the drawer (drawer:<id>:return, :over_short): the journal
        # keeps the drawer, and the outcome is the drawer row's status (teller_tui.desk.inflight_drawer).
        self.run_service(lambda approval_id: services.drawers.close_drawer(actor, approval_id=approval_id),
                         Tracked("drawer_close", f"drawer:{result.drawer_id}:close", result.counted,
                                 subject=f"drawer:{result.drawer_id}"))

    def _submit_count(self, counts: dict[str, int]) -> None:
        services, actor = self.services, self.actor
        self.run_service(lambda _approval_id: services.drawers.submit_blind_count(actor, counts))

    @on(Button.Pressed, "#drawer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def succeeded(self, result: Any) -> None:
        from teller_tui.branch.views import CountResult, DrawerClosed

        if isinstance(result, CountResult):
            self.result = result
            self.phase = "result"
            self.call_after_refresh(self.recompose)
            return
        if isinstance(result, DrawerClosed):
            from .eod_report import EodReportScreen

            self.dismiss(True)
            self.app.push_screen(EodReportScreen(self.actor.branch_code, result.business_date,
                                                 username=self.actor.username))

    def on_screen_resume(self) -> None:
        pass


class CountNotesDialog(DeskScreenMixin, TellerModal["Tender | None"]):
    """Pieces received (cash in: change due is shown) or paid out (cash out: must equal the amount)."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="notes.cancel"),
        Binding("f10", "submit", N_("Done"), id="notes.submit"),
        Binding("ctrl+j", "submit", N_("Done"), id="notes.submit_alt", show=False),
    ]
    HELP = N_("Type how many of each note and coin. F10 keeps the count with the transaction; Esc leaves it out.")

    def __init__(self, amount: Money, kind: str = "cash_in") -> None:
        super().__init__()
        self.amount = amount
        self.kind = kind

    def compose(self) -> ComposeResult:
        title = _("Notes received") if self.kind == "cash_in" else _("Notes paid out")
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(title + "  " + format_money(self.amount)), id="drawer-title")
            yield DenominationGrid(self.amount.currency, id="grid")
            yield Static("", id="notes-summary")
            yield Static("", id="drawer-message")
            with Horizontal(id="drawer-buttons"):
                yield Button(Content(_("Done")), id="drawer-ok", variant="primary")
                yield Button(Content(_("Cancel")), id="drawer-cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DenominationGrid).focus_first()

    def _tender(self) -> Tender:
        from teller_tui.branch.counts import tender

        return tender(self.amount, self.query_one(DenominationGrid).counts, kind=self.kind)

    @on(DenominationGrid.Changed)
    def _grid_changed(self, event: DenominationGrid.Changed) -> None:
        from teller_tui.common.reference import denominations

        summary = self.query_one("#notes-summary", Static)
        try:
            t = self._tender()
        except ValidationError as exc:
            summary.update(Content(clean(refusal_text(exc))))
            return
        if self.kind == "cash_out":
            summary.update(Content(_("Adds up to the amount")))
            return
        labels = {d.key: d.label_for(get_locale()) for d in denominations(self.amount.currency)}
        change = ", ".join(f"{labels.get(k, k)} ×{n}" for k, n in t.change.items())
        summary.update(facts_content([(_("Change due"), format_money(t.change_due)),
                                      (_("Give back"), change or "-")], emphasis=(_("Change due"),)))

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#drawer-ok")
    def action_submit(self) -> None:
        try:
            t = self._tender()
        except ValidationError as exc:
            w = self.query_one("#drawer-message", Static)
            w.set_classes("-error")
            w.update(Content(clean(refusal_text(exc))))
            return
        self.dismiss(t)

    @on(Button.Pressed, "#drawer-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


#: The cash forms' key for :class:`CountNotesDialog` (Textual merges BINDINGS only from widget classes,
#: so the form lists it: ``BINDINGS = [COUNT_NOTES_BINDING]``).
COUNT_NOTES_BINDING = Binding("f4", "count_notes", N_("Count notes"), id="cash.count_notes")


class CountNotesMixin:
    """Adds F4 "Count notes" to a cash form; the pieces are recorded with the posted entry.

    Mix in before ``CashForm`` (``class CashInForm(CountNotesMixin, CashForm)`` with
    ``BINDINGS = [COUNT_NOTES_BINDING]``). The form's
    ``Posted`` message reaches :meth:`on_cash_form_posted` as well as the form's own handler.
    """

    tender_counted: Any = None

    def action_count_notes(self) -> None:
        amount = self.amount  # type: ignore[attr-defined]
        if amount is None:
            self.show_error(_("Enter the amount first"))  # type: ignore[attr-defined]
            return

        def done(result: Any) -> None:
            self.tender_counted = result
            if result is not None:
                self._set_message(_("Notes counted: {total}").format(  # type: ignore[attr-defined]
                    total=format_money(result.pieces_total)))

        self.app.push_screen(CountNotesDialog(amount, self.KIND), done)  # type: ignore[attr-defined]

    def on_cash_form_posted(self, message: Any) -> None:
        t = self.tender_counted
        result = message.result
        if t is None or result.replayed or t.amount != result.amount:
            return
        services, actor, app = self.services, self.actor, self.app  # type: ignore[attr-defined]

        def record() -> None:
            try:
                services.drawers.record_tender(actor, result.entry_id, t)
            except Exception as exc:  # noqa: BLE001 - the posting stands; say the pieces were not kept
                app.call_from_thread(app.notify, clean(error_text(exc)), title=_("Notes not recorded"),
                                     severity="warning", markup=False)

        app.run_worker(record, thread=True, exit_on_error=False, group="drawer-tender")


# -- the drawer screen -----------------------------------------------------------------------------
class DrawerScreen(DeskScreenMixin, TellerScreen[None]):
    """The teller's drawer today and what can be done with it."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="drawer.back"),
        Binding("f2", "open_drawer", N_("Open drawer"), id="drawer.open"),
        Binding("f3", "vault_transfer", N_("Vault transfer"), id="drawer.transfer"),
        Binding("f4", "count", N_("End-of-day count"), id="drawer.count"),
        Binding("f5", "report", N_("Report"), id="drawer.report"),
        Binding("f6", "close_day", N_("Close business day"), id="drawer.close_day"),
        Binding("f7", "break", N_("Break"), id="drawer.break"),
        Binding("f8", "handover", N_("Hand-over"), id="drawer.handover"),
    ]
    HELP = N_("## Cash drawer\n\n- **F2** open the drawer with a float from the vault\n- **F3** transfer cash with "
              "the vault\n- **F4** end-of-day blind count and close\n- **F5** end-of-day report\n- **F6** close the "
              "branch business day (supervisor; every drawer closed)\n- **F7** break: the drawer takes no cash until "
              "you return with your password and a new code (F7 again)\n- **F8** hand the drawer to another teller "
              "(F8 again withdraws the offer); the receiver takes it over with F8: blind count, then a third person "
              "countersigns")

    status: reactive[DrawerStatus | None] = reactive(None, bindings=True)
    custody: reactive[CustodyState | None] = reactive(None, bindings=True)

    class Loaded(Message):
        def __init__(self, status: Any, error: BaseException | None = None, custody: Any = None,
                     offline: list[Money] | None = None) -> None:
            super().__init__()
            self.status = status
            self.error = error
            self.custody = custody
            self.offline = offline or []

    #: Cash this teller took offline at this terminal that is not in the books yet (teller_tui.offline).
    offline_cash: list[Money] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="drawer-body"):
            yield Static(Content(_("Cash drawer")), id="drawer-title")
            yield Static(Content("…"), id="drawer-facts")
            yield Static("", id="drawer-message")
            with Horizontal(id="drawer-buttons"):
                yield Button(Content(_("F2 Open drawer")), id="btn-open")
                yield Button(Content(_("F3 Vault transfer")), id="btn-transfer")
                yield Button(Content(_("F4 End-of-day count")), id="btn-count")
                yield Button(Content(_("F5 Report")), id="btn-report")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-status")
    def _load(self) -> None:
        try:
            status = self.services.drawers.status(self.actor)
            custody = self.services.handover.state(self.actor)
            offline = self.services.offline.unposted_cash(self.actor)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(status, custody=custody, offline=offline))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error is not None:
            self.query_one("#drawer-message", Static).update(Content(error_text(message.error)))
            return
        self.status = message.status
        self.custody = c = message.custody
        s = message.status
        facts = [
            (_("Business date"), format_date(s.business_date) if s.business_date else "-"),
            (_("Drawer"), _(STATE_LABELS.get(s.state, s.state))),
        ]
        if s.opening_float is not None:
            facts.append((_("Opening float"), format_money(s.opening_float)))
            facts.append((_("Transactions"), str(s.transactions)))
        self.offline_cash = message.offline
        for cash in message.offline:  # in the drawer, not in the books: expected cash = drawer + this
            facts.append((_("Offline, not posted"), _("{amount} (in the drawer; expected cash includes it)").format(
                amount=format_money(cash))))
        if c is not None and c.on_break:
            facts.append((_("Custody"), _("on a break: locked (F7 to return)")))
        elif c is not None and c.offered_to:
            facts.append((_("Custody"), _("offered to {user} (F8 withdraws)").format(user=c.offered_to)))
        elif c is not None and c.offers:
            facts.append((_("Custody"), _("{user} hands you their drawer (F8)").format(user=c.offers[0].giver)))
        self.query_one("#drawer-facts", Static).update(facts_content(facts, emphasis=(_("Drawer"),)))
        for button, action in (("#btn-open", "open_drawer"), ("#btn-transfer", "vault_transfer"),
                               ("#btn-count", "count"), ("#btn-report", "report")):
            self.query_one(button, Button).disabled = not self.check_action(action, ())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        s = self.status
        state = s.state if s is not None else None
        c = self.custody
        if action in ("vault_transfer", "count") and c is not None and (c.on_break or c.offered_to):
            return None  # locked for a break or a hand-over: F7 / F8 first
        if action == "open_drawer":
            return state in ("no_business_day", "not_opened") or None
        if action == "vault_transfer":
            return state == "open" or None
        if action == "count":
            return state in ("open", "counting") or None
        if action == "report":
            return state in ("open", "counting", "closed") or None
        if action == "close_day":
            return (self.actor is not None and self.actor.role in ("supervisor", "admin")) or None
        if action == "break":
            return state == "open" or None
        if action == "handover":
            return (state == "open" or (c is not None and bool(c.offers))) or None
        return True

    @on(Button.Pressed, "#btn-open")
    def action_open_drawer(self) -> None:
        self.app.push_screen(OpenDrawerScreen(), lambda _ok: self.reload())

    @on(Button.Pressed, "#btn-transfer")
    def action_vault_transfer(self) -> None:
        self.app.push_screen(VaultTransferScreen(), lambda _ok: self.reload())

    @on(Button.Pressed, "#btn-count")
    def action_count(self) -> None:
        if self.offline_cash:
            # The count is checked against the books: cash taken offline must be posted (or refunded
            # by a supervisor, Ctrl+E) first, or it would be posted as "over".
            self.show_error(_("Offline cash-ins are not in the books yet ({amount}): wait for the upload, or a "
                              "supervisor resolves them (Ctrl+E), then count.").format(
                amount=" + ".join(format_money(m) for m in self.offline_cash)), title=_("Not yet"))
            return
        self._open_count()

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-status")
    def _open_count(self) -> None:
        pending = self.services.drawers.pending_count(self.actor)
        self.app.call_from_thread(self.app.push_screen, BlindCountScreen(pending), lambda _ok: self.reload())

    @on(Button.Pressed, "#btn-report")
    def action_report(self) -> None:
        from .eod_report import EodReportScreen

        s = self.status
        self.app.push_screen(EodReportScreen(self.actor.branch_code, s.business_date if s else None,
                                             username=self.actor.username))

    def action_close_day(self) -> None:
        self.app.push_screen(ConfirmScreen(_("Close the business day?"), [(_("Branch"), self.actor.branch_code)],
                                           warning=_("Every drawer must be closed first.")), self._close_day)

    def _close_day(self, ok: bool | None) -> None:
        if ok:
            self._do_close_day()

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-close-day")
    def _do_close_day(self, approval_id: int | None = None) -> None:
        try:
            day = self.services.drawers.close_business_day(self.actor, approval_id=approval_id)
        except ApprovalRequired as exc:  # the policy's day_close rule: the one approval flow, then again
            self.app.call_from_thread(self.ask_approval, exc, self._do_close_day,
                                      lambda: self.show_info(_("The business day stays open: no approval.")))
            return
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        from .eod_report import EodReportScreen

        self.app.call_from_thread(self.app.push_screen, EodReportScreen(day.branch_code, day.business_date))
        self.app.call_from_thread(self.reload)

    def action_break(self) -> None:
        """F7: start a break (the drawer locks), or return from one (password and a fresh code)."""
        from .custody import BreakScreen

        if self.custody is not None and self.custody.on_break:
            self.app.push_screen(BreakScreen(), lambda _ok: self.reload())
            return
        self.app.push_screen(ConfirmScreen(_("Take a break?"), [(_("Drawer"), self.actor.username)],
                                           warning=_("Your drawer takes no cash until you return and sign in "
                                                     "again.")), lambda ok: self._take_break() if ok else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-custody")
    def _take_break(self) -> None:
        from .custody import BreakScreen

        try:
            self.services.custody.take_break(self.actor)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self.app.push_screen, BreakScreen(), lambda _ok: self.reload())

    def action_handover(self) -> None:
        """F8: hand my drawer over (or withdraw the offer); take over a drawer offered to me."""
        from .custody import HandOverScreen

        c = self.custody
        if c is not None and c.offered_to:
            self.app.push_screen(ConfirmScreen(_("Withdraw the hand-over?"), [(_("Offered to"), c.offered_to)]),
                                 lambda ok: self._withdraw() if ok else None)
        elif c is not None and c.offers and (self.status is None or self.status.state != "open"):
            self._take_over(c.offers[0])
        else:
            self.app.push_screen(HandOverScreen(), lambda _ok: self.reload())

    @work(thread=True, exclusive=True, exit_on_error=False, group="drawer-custody")
    def _withdraw(self) -> None:
        try:
            self.services.handover.withdraw(self.actor)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.show_error, exc)
            return
        self.app.call_from_thread(self.show_info, _("The hand-over is withdrawn: your drawer takes cash again."))
        self.app.call_from_thread(self.reload)

    def _take_over(self, offer: HandoverOffer) -> None:
        from .custody import TakeOverScreen

        self.app.push_screen(TakeOverScreen(offer), lambda _ok: self.reload())

    def action_back(self) -> None:
        self.dismiss(None)


def open_drawer_screen(app: Any) -> None:
    app.push_screen(DrawerScreen())


def _offers_drawer(app: Any) -> bool:
    from textual.command import CommandPalette

    for screen in reversed(app.screen_stack):
        if not isinstance(screen, CommandPalette):
            return hasattr(screen, "action_drawer")
    return False


register_command(PaletteCommand("drawer.menu", N_("Cash drawer…"), "screen.drawer",
                                N_("Open the drawer, vault transfers, end-of-day count and report"),
                                available=_offers_drawer))
