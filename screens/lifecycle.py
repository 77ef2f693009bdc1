"""Wallet lifecycle dialogs, opened from the customer view (F4 "Wallet actions").

:class:`WalletActionsScreen` lists the actions with the reason each one is refused in the
wallet's present state (the core's state machine says which; refused ones are disabled, and the
reason is written out, not only greyed). Choosing one opens :class:`LifecycleDialog`, which
collects what that action needs and calls ``services.lifecycle`` in a thread worker:

* freeze (any teller, at once), close (final; balance must be paid out first): a reason;
* unfreeze, replace device (and class change and close where the policy says so): a reason and a
  supervisor's approval. On ``ApprovalRequired`` the dialog hands the error to the app's one
  approval flow (``ask_approval`` -> ``TellerApp.request_approval``: a supervisor at the counter,
  or the branch queue), which re-runs the action with the same reason and the approval id;
* change class: the new class and the evidence collected now;
* close and change class at the counter also need the customer's own consent (``ConsentRequired``):
  the dialog opens :class:`~screens.consent.ConsentScreen` (the PIN on the paired customer display, or
  an ID re-check) and re-runs the action with the consent id, before any approval;
* replace device: a new PIN typed by the customer and, optionally, a new authenticator QR code.

Both dismiss ``True`` when something changed (the customer view reloads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _

from .widgets.tickbox import TickBox
from .base import TellerModal
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean

__all__ = ["LifecycleDialog", "WalletActionsScreen", "open_wallet_actions"]

CSS_FILE = Path(__file__).resolve().parent / "onboarding.tcss"
EVIDENCE_LABELS = {
    "identity_document_in_person": N_("Identity document checked in person now"),
    "own_bank_account": N_("Bank account in the customer's own name verified"),
    "mobile": N_("Mobile number confirmed"),
}


def open_wallet_actions(screen: Any, wallet_id: int, on_done: Any = None) -> None:
    """Push the actions list for ``wallet_id``; ``on_done(changed: bool)`` afterwards."""
    screen.app.push_screen(WalletActionsScreen(wallet_id), on_done)


class WalletActionsScreen(DeskScreenMixin, TellerModal[bool]):
    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="wallet_actions.cancel")]
    HELP = N_("Choose what to do with the wallet. Actions the wallet's state does not allow say why.")

    class Loaded(Message):
        def __init__(self, available: dict[str, str | None] | None, error: BaseException | None) -> None:
            super().__init__()
            self.available, self.error = available, error

    def __init__(self, wallet_id: int) -> None:
        super().__init__()
        self.wallet_id = wallet_id

    def compose(self) -> ComposeResult:
        with Vertical(id="wa-box"):
            yield Static(Content(_("Wallet actions")), id="wa-title")
            yield OptionList(id="wa-actions")
            yield Static(Content(_("Enter chooses, Esc closes.")), classes="onb-note")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            self.post_message(self.Loaded(self.services.lifecycle.available(self.wallet_id), None))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded(None, exc))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from teller_tui.wallets.lifecycle import ACTIONS

        if message.error is not None or message.available is None:
            self.show_error(message.error or RuntimeError())
            self.dismiss(False)
            return
        ol = self.query_one("#wa-actions", OptionList)
        for action, reason in message.available.items():
            label = _(ACTIONS[action]) if reason is None else f"{_(ACTIONS[action])} — {reason}"
            ol.add_option(Option(Content(clean(label)), id=action, disabled=reason is not None))
        enabled = [i for i, (_a, r) in enumerate(message.available.items()) if r is None]
        if enabled:
            ol.highlighted = enabled[0]
        ol.focus()

    @on(OptionList.OptionSelected, "#wa-actions")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        def done(changed: bool | None) -> None:
            self.dismiss(bool(changed))

        self.app.push_screen(LifecycleDialog(str(event.option.id), self.wallet_id), done)

    def action_cancel(self) -> None:
        self.dismiss(False)


class LifecycleDialog(DeskScreenMixin, TellerModal[bool]):
    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="lifecycle.cancel"),
        Binding("f10", "confirm", N_("Confirm"), id="lifecycle.confirm"),
        Binding("ctrl+j", "confirm", N_("Confirm"), id="lifecycle.submit", show=False),
    ]
    HELP = N_("Fill in what the action needs, then F10. Every change goes into the audit trail.")

    class Finished(Message):
        def __init__(self, result: Any, error: BaseException | None) -> None:
            super().__init__()
            self.result, self.error = result, error

    def __init__(self, action: str, wallet_id: int) -> None:
        super().__init__()
        self.action, self.wallet_id = action, wallet_id
        self.changed = False
        self._busy = False
        self._params: dict[str, Any] = {}
        self._consent_id: int | None = None

    def compose(self) -> ComposeResult:
        from teller_tui.wallets.lifecycle import ACTIONS

        with Vertical(id="lc-box"):
            yield Static(Content(_(ACTIONS[self.action])), id="lc-title")
            if self.action == "close":
                yield Static(Content(_("Closing is final. The balance must be paid out first; unused points lapse.")),
                             classes="onb-note")
            if self.action == "change_tier":
                from teller_tui.common.i18n import get_locale

                tiers = self.services.lifecycle.tiers.tiers(self.services.onboarding.today())
                yield Select([(t.name(get_locale()), t.number) for t in tiers], prompt=_("New class"), id="lc-tier")
                for key, label in EVIDENCE_LABELS.items():
                    yield TickBox(_(label), False, id=f"lc-ev-{key}")
            if self.action == "replace_device":
                yield Input(password=True, max_length=6, restrict=r"[0-9]*", placeholder=_("New PIN (customer types)"),
                            id="lc-pin")
                yield Input(password=True, max_length=6, restrict=r"[0-9]*", placeholder=_("PIN again"),
                            id="lc-pin-again")
                yield TickBox(_("Enrol a new authenticator app"), False, id="lc-totp")
            yield Input(placeholder=_("Reason (goes into the audit trail)"), id="lc-reason", max_length=200)
            yield Static("", id="lc-status")
            yield Static("", id="lc-qr", classes="onb-qr")
            with Horizontal(classes="onb-buttons"):
                yield Button(_("Confirm (F10)"), id="lc-confirm", variant="error" if self.action in (
                    "close", "freeze", "block_lost") else "primary")
                yield Button(_("Cancel"), id="lc-cancel")

    def on_mount(self) -> None:
        first = self.query("Select, Input").first()
        first.focus()

    def _status(self, text: str, *, error: bool = False) -> None:
        st = self.query_one("#lc-status", Static)
        st.update(Content(clean(text, multiline=True)))
        st.set_class(error, "-error")

    @on(Button.Pressed, "#lc-confirm")
    def action_confirm(self) -> None:
        if self.changed:
            self.dismiss(True)
            return
        if self._busy:
            return
        reason = self.query_one("#lc-reason", Input).value
        params: dict[str, Any] = {"reason": reason}
        if self.action == "change_tier":
            tier = self.query_one("#lc-tier", Select).value
            if tier is Select.BLANK:
                self._status(_("Choose the new class"), error=True)
                return
            params["tier"] = int(tier)  # type: ignore[arg-type]
            params["evidence"] = [k for k in EVIDENCE_LABELS if self.query_one(f"#lc-ev-{k}", Checkbox).value]
        if self.action == "replace_device":
            pin, again = self.query_one("#lc-pin", Input).value, self.query_one("#lc-pin-again", Input).value
            if pin != again:
                self._status(_("The two PINs differ: ask the customer to enter it again"), error=True)
                return
            params["pin"] = pin
            params["totp"] = self.query_one("#lc-totp", Checkbox).value
        self._busy = True
        self._params = params
        self._consent_id = None  # a new request: the customer agrees to this one
        self._status(_("Working…"))
        self._run(params, None)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self, params: dict[str, Any], approval_id: int | None) -> None:
        lc, actor, wid = self.services.lifecycle, self.actor, self.wallet_id
        try:
            if self.action == "freeze":
                result: Any = lc.freeze(actor, wid, params["reason"])
            elif self.action == "block_lost":
                result = lc.block_lost(actor, wid, params["reason"])
            elif self.action == "unfreeze":
                result = lc.unfreeze(actor, wid, params["reason"], approval_id=approval_id)
            elif self.action == "close":
                result = lc.close(actor, wid, params["reason"], approval_id=approval_id, consent_id=self._consent_id)
            elif self.action == "change_tier":
                result = lc.change_tier(actor, wid, params["tier"], evidence=params["evidence"],
                                        reason=params["reason"], approval_id=approval_id, consent_id=self._consent_id)
            else:
                result = lc.replace_device(actor, wid, new_pin=params["pin"], enrol_totp=params["totp"],
                                           approval_id=approval_id, reason=params["reason"])
            self.post_message(self.Finished(result, None))
        except Exception as exc:  # noqa: BLE001 - shown to the teller
            self.post_message(self.Finished(None, exc))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        from teller_tui.common.errors import ApprovalRequired, ConsentRequired

        self._busy = False
        error = message.error
        if isinstance(error, ConsentRequired) and error.details.get("spec") is not None:
            from .consent import ConsentScreen

            params = self._params
            self._busy = True
            self._status(_("Waiting for the customer's consent…"))

            def consented(consent_id: int | None) -> None:
                if consent_id is None:
                    self._busy = False
                    self._status(_("Nothing was changed: the customer did not agree."), error=True)
                    return
                self._consent_id = consent_id
                self._status(_("Working…"))
                self._run(params, None)

            self.app.push_screen(ConsentScreen(error.details["spec"]), consented)
            return
        if isinstance(error, ApprovalRequired):
            params = self._params
            self._busy = True
            self._status(_("Waiting for a supervisor's approval…"))

            def retry(approval_id: int | None) -> None:
                self._status(_("Working…"))
                self._run(params, approval_id)

            def not_approved() -> None:
                self._busy = False
                self._status(_("Nothing was approved; nothing was changed."), error=True)

            self.ask_approval(error, retry, not_approved)
            return
        if error is not None:
            self._status(error_text(error), error=True)
            return
        self.changed = True
        qr = getattr(message.result, "totp_qr", None)
        if qr:
            self.query_one("#lc-qr", Static).update(Content(qr))
            self._status(_("Done. Ask the customer to scan the code with their authenticator app, then press F10."))
            self.query_one("#lc-confirm", Button).label = _("Finish (F10)")
            return
        self.show_info(_("Done."))
        self.dismiss(True)

    @on(Button.Pressed, "#lc-cancel")
    def action_cancel(self) -> None:
        self.dismiss(self.changed)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()
