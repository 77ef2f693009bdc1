"""The confirmation dialog: restates what is about to happen and returns ``True`` or ``False``.

``ConfirmScreen(title, facts, ...)`` is a ``ModalScreen[bool]``: Enter / ctrl+j / the
"Confirm" button dismiss it with ``True``; Esc / the "Cancel" button with ``False``. Facts are
``(label, value)`` pairs; labels are our (translated) strings, values are shown literally
(customer names never become markup). Labels are padded by display width so CJK columns line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from teller_tui.common.formatting import display_width, pad
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .widgets.desk import DeskScreenMixin
from .widgets.safe import clean

__all__ = ["ConfirmScreen", "Fact", "ReasonScreen"]

Fact = tuple[str, Any]


def facts_content(facts: Sequence[Fact], *, emphasis: Sequence[str] = ()) -> Content:
    """``label  value`` lines with labels padded to one column (display width)."""
    width = max((display_width(clean(label)) for label, _v in facts), default=0)
    lines: list[Content] = []
    for label, value in facts:
        style = "bold" if label in emphasis else ""
        lines.append(Content.assemble((pad(clean(label), width), "$text-muted"), "  ",
                                      (clean(value), style)))
    return Content("\n").join(lines)


class ConfirmScreen(DeskScreenMixin, TellerModal[bool]):
    """Ask the teller to confirm; the result is ``True`` only for an explicit confirmation."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="confirm.cancel"),
        Binding("ctrl+j", "confirm", N_("Confirm"), id="confirm.submit", show=False),
        Binding("f10", "confirm", N_("Confirm"), id="confirm.f10"),
    ]

    HELP = N_("Check every figure with the customer. Enter or F10 confirms, Esc goes back without posting.")

    def __init__(self, title: str, facts: Sequence[Fact], *, warning: str = "", confirm_label: str | None = None,
                 emphasis: Sequence[str] = (), danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.facts = list(facts)
        self.warning = warning
        self.confirm_label = confirm_label or _("Confirm")
        self.emphasis = tuple(emphasis)
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="-danger" if self.danger else ""):
            yield Static(Content(clean(self.title_text)), id="confirm-title")
            yield Static(facts_content(self.facts, emphasis=self.emphasis), id="confirm-facts")
            if self.warning:
                yield Static(Content(clean(self.warning, multiline=True)), id="confirm-warning")
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(self.confirm_label), id="confirm-yes",
                             variant="error" if self.danger else "primary")
                yield Button(Content(_("Cancel")), id="confirm-no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ReasonScreen(DeskScreenMixin, TellerModal[str | None]):
    """Confirm with a reason (reversals): dismisses with the reason, or ``None`` when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="reason.cancel"),
        Binding("ctrl+j", "confirm", N_("Confirm"), id="reason.submit", show=False),
        Binding("f10", "confirm", N_("Confirm"), id="reason.f10"),
    ]

    HELP = N_("Type why this is needed (it goes into the audit trail), then Enter or F10. Esc cancels.")

    def __init__(self, title: str, facts: Sequence[Fact], *, warning: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.facts = list(facts)
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="-danger"):
            yield Static(Content(clean(self.title_text)), id="confirm-title")
            yield Static(facts_content(self.facts), id="confirm-facts")
            if self.warning:
                yield Static(Content(clean(self.warning, multiline=True)), id="confirm-warning")
            yield Input(placeholder=_("Reason (required)"), id="reason-input", max_length=200)
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(_("Reverse")), id="confirm-yes", variant="error")
                yield Button(Content(_("Cancel")), id="confirm-no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#reason-input", Input).focus()

    @on(Input.Submitted, "#reason-input")
    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        reason = clean(self.query_one("#reason-input", Input).value).strip()
        if not reason:
            self.query_one("#reason-input", Input).focus()
            self.notify(_("Give a reason first"), severity="warning", markup=False)
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(None)
