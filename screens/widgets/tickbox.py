"""A checkbox that shows its state by a glyph, not by colour alone."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox

__all__ = ["TickBox"]


class TickBox(Checkbox):
    """A checkbox whose state is shown by a glyph (✓ when ticked, blank when not).

    Textual's Checkbox always draws an ``X`` and shows the state by colour alone; a teller
    confirming an identity check must be able to read the state on any terminal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = "✓" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()
        self.refresh()
