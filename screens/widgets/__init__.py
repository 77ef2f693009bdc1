"""Reusable widgets of the teller UI.

Cheap to import: only the sign-in's code field and the text helpers live here (the sign-in's first
frame loads this package); import the others from their modules (``screens.widgets.tickbox``,
``screens.widgets.qr``, ``screens.widgets.money_input``, ``screens.widgets.safe``).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from .safe import clean, content, literal, notify_plain

__all__ = ["CodeInput", "clean", "content", "literal", "notify_plain"]


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
