"""Base screen of the kiosk: only the actions a screen names in ``KIOSK_ACTIONS`` may run."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

__all__ = ["KioskModal", "KioskScreen"]


class _KioskMixin:
    #: Screen-level actions this screen allows (everything else is refused by check_action).
    KIOSK_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    app: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action in self.KIOSK_ACTIONS

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report = getattr(self.app, "report_worker_error", None)
            if report is not None:
                report(event.worker)


class KioskScreen(_KioskMixin, Screen[None]):
    """A full kiosk screen."""


class KioskModal(_KioskMixin, ModalScreen[Any]):
    """A kiosk dialog."""
