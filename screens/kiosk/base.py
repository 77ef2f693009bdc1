"""Base screen of the kiosk: only the actions a screen names in ``KIOSK_ACTIONS`` may run."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Button
from textual.worker import Worker, WorkerState

__all__ = ["KioskModal", "KioskScreen"]


#: Arrow keys move between the screen's buttons (a field or a table that uses the key keeps it:
#: an Input its cursor, the history table its rows).
MOVE_BINDINGS = [
    Binding("right,down", "move_focus(1)", "", show=False, id="kiosk.next_button"),
    Binding("left,up", "move_focus(-1)", "", show=False, id="kiosk.previous_button"),
]


#: F1 on every full kiosk screen: help written for customers (screens/kiosk/help.py).
HELP_BINDING = Binding("f1", "kiosk_help", "", show=False, id="kiosk.help")


class _KioskMixin:
    #: Screen-level actions this screen allows (everything else is refused by check_action).
    KIOSK_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    #: The code of the last refusal shown on this screen: F1 puts its article first.
    help_refusal: str | None = None
    app: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action in self.KIOSK_ACTIONS or action in ("move_focus", "kiosk_help")

    def action_kiosk_help(self) -> None:
        """F1: the customers' help, on top of this screen (Esc returns to it as it was)."""
        from .help import KioskHelpScreen

        if isinstance(self, KioskHelpScreen) or not getattr(self.app, "ready", False):
            return
        self.app.push_screen(KioskHelpScreen(self.help_refusal))

    def action_move_focus(self, step: int) -> None:
        """The next / previous button on the screen (wrapping); from a field, the next / previous widget."""
        buttons = [b for b in self.query(Button) if b.display and not b.disabled]  # type: ignore[attr-defined]
        if not buttons:
            return
        focused = self.focused  # type: ignore[attr-defined]
        if focused in buttons:
            buttons[(buttons.index(focused) + step) % len(buttons)].focus()
        elif step > 0:
            self.focus_next()  # type: ignore[attr-defined]  # from a field: the next field or button
        else:
            self.focus_previous()  # type: ignore[attr-defined]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report = getattr(self.app, "report_worker_error", None)
            if report is not None:
                report(event.worker)


class KioskScreen(_KioskMixin, Screen[None]):
    """A full kiosk screen."""

    BINDINGS = [*MOVE_BINDINGS, HELP_BINDING]


class KioskModal(_KioskMixin, ModalScreen[Any]):
    """A kiosk dialog."""

    BINDINGS = MOVE_BINDINGS
