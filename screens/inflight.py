"""What became of postings interrupted at this terminal (a crash, a lost database, a lock).

The app shows :class:`InflightOutcomesScreen` after a sign-in, a reconnect or an unlock when the
terminal's journal still holds submissions of the person signed in (``services.inflight``): each
one plainly "R… was posted" (Enter or p reprints its receipt) or "… was not posted" (enter it again
if the customer still wants it). The drawer's own postings (vault transfer, opening float, close) have
no wallet and no receipt: "Vault transfer R… was posted" / "… was not posted". Esc or F10 closes; the app then forgets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .widgets.desk import DeskScreenMixin
from .widgets.footer import KeyFooter
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.desk.inflight_service import SubmissionOutcome

__all__ = ["InflightOutcomesScreen", "outcome_line"]

KIND_LABELS = {"cash_in": N_("Cash in"), "cash_out": N_("Cash out"), "transfer": N_("Transfer"),
               "reversal": N_("Reversal")}


#: The drawer's own postings (no wallet): their sentences, posted and not posted.
DRAWER_LINES = {
    "vault_transfer": (N_("Vault transfer {reference} was posted: {amount}."),
                       N_("Vault transfer of {amount} was not posted. Count it again if the cash must still move.")),
    "drawer_open": (N_("Drawer opening {reference} was posted: float {amount}."),
                    N_("The drawer was not opened (float {amount}). Open it again.")),
    "drawer_close": (N_("Drawer close {reference} was posted: counted {amount}."),
                     N_("The drawer was not closed (counted {amount}). Close it again.")),
}


def outcome_line(outcome: SubmissionOutcome) -> str:
    """One plain sentence for one interrupted submission."""
    sub = outcome.submission
    if sub.kind in DRAWER_LINES:
        posted, not_posted = DRAWER_LINES[sub.kind]
        if outcome.posted:
            return _(posted).format(reference=outcome.reference or "—", amount=sub.amount)
        return _(not_posted).format(amount=sub.amount)
    what = _("{kind} of {amount}, wallet {wallet}").format(
        kind=_(KIND_LABELS.get(sub.kind, sub.kind)), amount=sub.amount, wallet=sub.wallet)
    if outcome.posted:
        return _("{reference} was posted: {what}.").format(reference=outcome.reference or "", what=what)
    return _("{what} was not posted. Enter it again if the customer still wants it.").format(what=what)


class InflightOutcomesScreen(DeskScreenMixin, TellerModal[None]):
    """Lists each interrupted submission with its outcome; reprint a posted one's receipt."""

    BINDINGS = [
        Binding("escape", "close", N_("Done"), id="inflight.close"),
        Binding("f10", "close", N_("Done"), id="inflight.done", show=False),
        Binding("p", "reprint", N_("Reprint"), id="inflight.reprint"),
    ]

    HELP = N_("## Interrupted postings\n\n"
              "The terminal looked up what became of postings that were interrupted here.\n\n"
              "- **Enter / p** reprint the receipt of a posted one\n"
              "- **Esc / F10** done")

    def __init__(self, outcomes: Sequence[SubmissionOutcome]) -> None:
        super().__init__()
        self.outcomes = list(outcomes)

    def compose(self) -> ComposeResult:
        with Vertical(id="inflight-box"):
            yield Static(Content(_("Postings interrupted at this terminal")), id="inflight-title")
            yield OptionList(*(Option(Content(clean(outcome_line(o))), id=f"o{i}")
                               for i, o in enumerate(self.outcomes)), id="inflight-list")
            yield Static(Content(_("Enter or p reprints a posted receipt; Esc when done.")), id="inflight-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _selected(self) -> SubmissionOutcome | None:
        index = self.query_one(OptionList).highlighted
        return self.outcomes[index] if index is not None and 0 <= index < len(self.outcomes) else None

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_reprint()

    def action_reprint(self) -> None:
        outcome = self._selected()
        if outcome is None or outcome.result is None:
            self.show_info(_("Nothing to reprint: this one was not posted."))
            return
        from .receipt import ReceiptScreen

        self.app.push_screen(ReceiptScreen(outcome.result.reference, outcome.result.receipt_text))

    def action_close(self) -> None:
        self.dismiss(None)
