"""A footer that wraps instead of cutting keys off at the right edge.

Textual's ``Footer`` lays its keys out in one grid row (it sets the column count to the number
of keys), so at 80 columns F4 and F9-F12 fell off the home screen. ``KeyFooter`` picks the most
columns whose widest row still fits the terminal and lets the rest wrap onto more rows.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["KeyFooter", "columns_that_fit"]

#: Cells the command-palette key takes at the right edge (``^p palette`` and its bar).
PALETTE_CELLS = 13


def columns_that_fit(widths: list[int], available: int) -> int:
    """The most columns for items of ``widths`` (in order, row by row) that fit ``available`` cells."""
    for columns in range(len(widths), 1, -1):
        column_widths = [max(widths[i::columns]) for i in range(columns)]
        if sum(column_widths) <= available:
            return columns
    return 1


def _key_cells(key: Widget) -> int:
    """Cells one footer key takes: `` f2 `` (padded key), the description and one space."""
    return cell_len(str(getattr(key, "key_display", ""))) + cell_len(str(getattr(key, "description", ""))) + 3


class KeyFooter(Footer):
    DEFAULT_CSS = """
    KeyFooter {
        layout: grid;
        grid-columns: auto;
        height: auto;
        max-height: 4;
    }
    """

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        yield from keys
        widths = [_key_cells(key) for key in keys if not key.has_class("-command-palette")]
        available = (self.app.size.width or 80) - (PALETTE_CELLS if self.show_command_palette else 0)
        if widths:
            self.styles.grid_size_columns = columns_that_fit(widths, available)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != getattr(self, "_laid_out_for", None):
            self._laid_out_for = event.size.width
            self.refresh(recompose=True)
