"""A QR code widget (the authenticator enrolment's secret)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

__all__ = ["QRCode"]


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
