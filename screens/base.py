"""Base classes every teller screen and dialog derives from.

* Worker failures: Textual's ``Worker.StateChanged`` does not bubble, so each screen forwards
  a failed worker to the app's single handler (:meth:`screens.app.TellerApp.report_worker_error`),
  which turns it into a clear notification, never a crash.
* Translated key labels: binding descriptions are written as msgids (``N_("Sign out")``) and
  translated when the footer or the Keys panel asks, so switching language relabels them.
* Language switches: :meth:`relabel` recomposes the screen and puts back what was typed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from textual.binding import ActiveBinding, Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from teller_tui.common.i18n import N_, _

from .widgets.footer import KeyFooter
from .widgets.outage_banner import OutageBanner
from .widgets.watermark import TrainingWatermark

ResultType = TypeVar("ResultType")

__all__ = ["LanguageChanged", "TellerModal", "TellerScreen", "note_refusal"]


class LanguageChanged(Message):
    """Posted to every screen on the stack after the language changed."""


def note_refusal(screen: Any, code: str | None, reason: str) -> bool:
    """Remember the refusal shown on ``screen``: F1 then offers the article explaining ``code`` first
    (screens/help.py). True when the knowledge base has one (the caller adds "F1: what to tell the
    customer"); which article explains which code is the articles' front matter, not code here."""
    codes: frozenset[str] = getattr(screen.app, "kb_refusal_codes", frozenset())
    if not code or code not in codes:
        return False
    screen.help_refusal = (code, reason)
    return True


class _TellerScreenMixin:
    app: Any
    #: The last refusal shown on this screen that the knowledge base explains: (code, reason).
    help_refusal: tuple[str, str] | None = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report = getattr(self.app, "report_worker_error", None)
            if report is not None:
                report(event.worker)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        out: dict[str, ActiveBinding] = {}
        for key, active in bindings.items():
            desc = active.binding.description
            if active.binding.action in ("app.open_approvals", "open_approvals"):  # keys to the queue: the count
                count = getattr(self.app, "pending_approvals", 0)
                desc = _("Approvals ({count})").format(count=count) if count else _(desc)
                out[key] = active._replace(binding=replace(active.binding, description=desc))
                continue
            if active.binding.action in ("app.open_alerts", "open_alerts"):  # the open risk alerts' count
                count = getattr(self.app, "open_alerts", 0)
                desc = _("Risk alerts ({count})").format(count=count) if count else _(desc)
                out[key] = active._replace(binding=replace(active.binding, description=desc))
                continue
            out[key] = active._replace(binding=replace(active.binding, description=_(desc))) if desc else active
        return out

    async def on_language_changed(self, _message: LanguageChanged) -> None:
        await self.relabel()

    def on_mount(self) -> None:
        self.ensure_watermark()
        self.ensure_outage_banner()
        self.ensure_key_footer()

    def on_screen_resume(self) -> None:
        self.remove_class("-beneath")  # type: ignore[attr-defined]
        self.ensure_watermark()
        self.ensure_outage_banner()

    def on_screen_suspend(self) -> None:
        # Under a dialog the keys of this screen do nothing (a modal screen's bindings end at the
        # dialog): its footer is hidden, and the dialog shows its own (app.tcss: .-beneath).
        self.add_class("-beneath")  # type: ignore[attr-defined]

    def ensure_key_footer(self) -> None:
        """A full screen composes its own footer (a dialog adds one: :class:`TellerModal`)."""

    def ensure_outage_banner(self) -> None:
        """The database is unreachable, or offline cash-ins wait: the banner on this screen (none otherwise)."""
        text = getattr(self.app, "outage_text", "")
        found = self.query("#outage-banner")  # type: ignore[attr-defined]
        if not text:
            found.remove()
            return
        if found:
            found.first(OutageBanner).show(text)
            return
        first = self.children[0] if self.children else None  # type: ignore[attr-defined]
        self.mount(OutageBanner(text), before=first)  # type: ignore[attr-defined]

    def ensure_watermark(self) -> None:
        """Training mode: the watermark bar on this screen (every screen carries it)."""
        if getattr(self.app, "training", False) and not self.query("#training-watermark"):  # type: ignore[attr-defined]
            # First among the children: docked first, it takes the whole top row above other docks.
            first = self.children[0] if self.children else None  # type: ignore[attr-defined]
            self.mount(TrainingWatermark(), before=first)  # type: ignore[attr-defined]

    async def relabel(self) -> None:
        """Recompose in the new language, keeping every Input's value and the focus."""
        values = {w.id: w.value for w in self.query(Input) if w.id}  # type: ignore[attr-defined]
        focused = getattr(self, "focused", None)
        focused_id = focused.id if focused is not None else None
        await self.recompose()  # type: ignore[attr-defined]
        self.ensure_watermark()
        self.ensure_outage_banner()
        self.ensure_key_footer()
        for w in self.query(Input):  # type: ignore[attr-defined]
            if w.id in values:
                w.value = values[w.id]
        if focused_id:
            try:
                self.query_one(f"#{focused_id}").focus()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - the widget may be gone in the new layout
                pass


class TellerScreen(_TellerScreenMixin, Screen[ResultType]):
    """A full screen of the teller app."""


class TellerModal(_TellerScreenMixin, ModalScreen[ResultType]):
    """A dialog that ``dismiss``-es with a typed result."""

    # F1 over a dialog too: a modal screen cuts the app's bindings off, so the dialog's HELP could not
    # be read. (Off behind the lock screen: the app's check_action.)
    BINDINGS = [Binding("f1", "app.help", N_("Help"), id="modal.help")]

    def ensure_key_footer(self) -> None:
        """A dialog lists its own keys at the bottom, in place of the footer of the screen beneath."""
        if not self.query(KeyFooter):
            self.mount(KeyFooter())
