"""The branch's consent policy, for supervisors (ctrl+y on the home screen, palette "Consent policy").

Shows whether the branch accepts a teller's ID re-check as the customer's consent or requires the
customer's PIN on a paired customer display, who set it, when and why
(:meth:`teller_tui.consent.service.ConsentService.policy_view`). Space toggles the choice, a reason
is required, Enter (or ctrl+s) saves it (:meth:`~teller_tui.consent.service.ConsentService.set_policy`,
audited as ``consent_policy``). Dismisses with True when changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, Static

from teller_tui.common.errors import DomainError
from teller_tui.common.formatting import format_datetime
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .commands import PaletteCommand, register_command
from .refusal_text import refusal_text
from .widgets.desk import DeskScreenMixin
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.consent.spec import PolicyView

__all__ = ["ConsentPolicyScreen", "policy_text"]

register_command(PaletteCommand("consent_policy", N_("Consent policy"), "app.open_consent_policy",
                                N_("Whether the customer's PIN on the display is required (no ID re-check)"),
                                roles=("supervisor", "admin")))


def policy_text(view: PolicyView) -> str:
    """The policy in force, in one or two sentences."""
    rule = (_("Now: only the customer's PIN on the customer display (no ID re-check).") if view.pin_required
            else _("Now: the customer's PIN on the display, or the teller's ID re-check."))
    if view.set_at is None:
        return rule + " " + _("Never changed at this branch.")
    return rule + " " + _("Set by {who} at {when}: {why}").format(
        who=clean(view.set_by), when=format_datetime(view.set_at), why=clean(view.reason))


class ConsentPolicyScreen(DeskScreenMixin, TellerModal[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="consent_policy.close"),
        Binding("ctrl+s", "save", N_("Save"), id="consent_policy.save"),
    ]
    HELP = N_("Whether this branch accepts a teller's ID re-check as the customer's consent for cash-out, "
              "transfer, wallet close and class change, or requires the customer's PIN on a paired "
              "customer display. Space toggles, type the reason, Enter or ctrl+s saves; Esc closes.")

    class Loaded(Message):
        def __init__(self, view: PolicyView | None, text: str = "", saved: bool = False) -> None:
            super().__init__()
            self.view, self.text, self.saved = view, text, saved

    def __init__(self) -> None:
        super().__init__()
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="policy-box"):
            yield Static(Content(_("Customer consent at this branch")), id="policy-title")
            yield Static(Content(_("Loading…")), id="policy-current")
            yield Checkbox(self._label(False), id="policy-pin")
            yield Input(id="policy-reason", max_length=200, placeholder=_("Reason (required)"))
            yield Static(Content(""), id="policy-status")
            yield Static(Content(_("Space toggle · Enter / ctrl+s save · Esc close")), id="policy-keys")

    @staticmethod
    def _label(on: bool) -> str:
        """The choice in words as well as the box's mark (meaning never by colour alone)."""
        return _("Require the customer's PIN on the customer display") + ": " + (_("yes") if on else _("no"))

    @on(Checkbox.Changed, "#policy-pin")
    def _toggled(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = self._label(event.value)

    def on_mount(self) -> None:
        self.query_one("#policy-pin", Checkbox).focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent-policy")
    def _load(self, text: str = "", saved: bool = False) -> None:
        try:
            view = self.services.consent.policy_view(self.actor)
        except DomainError as exc:
            self.post_message(self.Loaded(None, refusal_text(exc)))
            return
        self.post_message(self.Loaded(view, text, saved))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.view is not None:
            self.query_one("#policy-current", Static).update(Content(policy_text(message.view)))
            self.query_one("#policy-pin", Checkbox).value = message.view.pin_required
        if message.saved:
            self.changed = True
            self.query_one("#policy-reason", Input).value = ""
        self.query_one("#policy-status", Static).update(Content(message.text))

    @on(Input.Submitted, "#policy-reason")
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        self._save(self.query_one("#policy-pin", Checkbox).value, self.query_one("#policy-reason", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="consent-policy")
    def _save(self, pin_required: bool, reason: str) -> None:
        try:
            self.services.consent.set_policy(self.actor, pin_required=pin_required, reason=reason)
        except DomainError as exc:
            self.post_message(self.Loaded(None, refusal_text(exc)))
            return
        self.app.call_from_thread(self._load, _("Saved."), True)

    def action_close(self) -> None:
        self.dismiss(self.changed)
