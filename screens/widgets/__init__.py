"""Reusable widgets of the teller UI.

Cheap to import: only the small auth widgets live here; import the others from their
modules (``screens.widgets.money_input``, ``screens.widgets.safe``).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, Input, Static

from .safe import clean, content, literal, notify_plain

__all__ = ["CodeInput", "QRCode", "TickBox", "clean", "content", "literal", "notify_plain"]


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


class CodeInput(Input):
    """A 6-digit authenticator code: digits only (spaces allowed), at most 7 characters."""

    DEFAULT_CSS = """
    CodeInput { width: 16; }
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("restrict", r"[0-9 ]*")
        kwargs.setdefault("placeholder", "000000")
        super().__init__(**kwargs)


class QRCode(Static):
    """A QR code drawn with half blocks, dark on light whatever the theme (so phones can scan it)."""

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
        color: black;
        background: white;
    }
    """

    def __init__(self, data: str = "", **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.data = data
        if data:
            self.show(data)

    def show(self, data: str) -> None:
        from teller_tui.auth.qr import qr_text

        self.data = data
        self.update(qr_text(data, ink="dark"))
