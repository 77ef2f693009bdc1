"""The training watermark bar: docked at the top of every screen while the app runs in training.

:class:`screens.base._TellerScreenMixin` mounts one on each screen (and again after a language
switch recomposes it) when ``app.training`` is true. Its text is the same in both languages
(:data:`teller_tui.common.watermark.TRAINING_WATERMARK`), reversed colours and marked with ``▌``
so it reads without colour too.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from teller_tui.common.watermark import TRAINING_WATERMARK

__all__ = ["TrainingWatermark"]


class TrainingWatermark(Static):
    DEFAULT_CSS = """
    TrainingWatermark {
        dock: top;
        height: 1;
        width: 100%;
        background: $warning;
        color: $background;
        text-style: bold;
        content-align: center middle;
    }
    """

    def __init__(self) -> None:
        super().__init__(Content(f"▌ {TRAINING_WATERMARK} ▐"), id="training-watermark")
