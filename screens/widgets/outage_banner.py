"""The outage banner: docked at the top of every screen while the database is unreachable or the
terminal holds offline cash-ins not yet in the books (:mod:`screens.offline_desk`).

:class:`screens.base._TellerScreenMixin` mounts, updates or removes it on each screen (like the
training watermark) from ``app.outage_text``. Marked with ``⚠`` so it reads without colour.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

__all__ = ["OutageBanner"]


class OutageBanner(Static):
    DEFAULT_CSS = """
    OutageBanner {
        dock: top;
        height: auto;
        width: 100%;
        background: $error;
        color: $background;
        text-style: bold;
        padding: 0 1;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Content("⚠ " + text), id="outage-banner")

    def show(self, text: str) -> None:
        self.update(Content("⚠ " + text))
