"""A footer that wraps instead of cutting keys off at the right edge.

Textual's ``Footer`` lays its keys out in one grid row (it sets the column count to the number
of keys), so at 80 columns F4 and F9-F12 fell off the home screen. ``KeyFooter`` picks the most
columns whose widest row still fits the terminal and lets the rest wrap onto more rows. When that
takes more than :data:`MAX_ROWS` rows (a screen with many keys at 80 columns), it switches to the
compact style (one space less per key), gives the palette key's cells to the keys (Ctrl+P still
works) and, if still needed, grows to as many rows as the keys take: a key is never cut off.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["KeyFooter", "columns_that_fit"]

#: Cells the command-palette key takes at the right edge (``^p palette`` and its bar).
PALETTE_CELLS = 13
#: Rows the footer takes before it switches to the compact style.
MAX_ROWS = 4


def columns_that_fit(widths: list[int], available: int) -> int:
    """The most columns for items of ``widths`` (in order, row by row) that fit ``available`` cells."""
    for columns in range(len(widths), 1, -1):
        column_widths = [max(widths[i::columns]) for i in range(columns)]
        if sum(column_widths) <= available:
            return columns
    return 1


def rows_for(count: int, columns: int) -> int:
    return -(-count // max(1, columns))


def _key_cells(key: Widget, *, compact: bool = False) -> int:
    """Cells one footer key takes: `` f2 `` (padded key), the description and one space; compact:
    ``f2 `` + description + a one-cell margin."""
    cells = cell_len(str(getattr(key, "key_display", ""))) + cell_len(str(getattr(key, "description", "")))
    return cells + (2 if compact else 3)


class KeyFooter(Footer):
    DEFAULT_CSS = """
    KeyFooter {
        layout: grid;
        grid-columns: auto;
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        plain = [key for key in keys if not key.has_class("-command-palette")]
        palette = [key for key in keys if key.has_class("-command-palette")]
        width = self.app.size.width or 80
        compact = False
        widths = [_key_cells(key) for key in plain]
        columns = columns_that_fit(widths, width - (PALETTE_CELLS if palette else 0)) if plain else 1
        if rows_for(len(plain), columns) > MAX_ROWS:
            # Too many keys for four rows: the compact style, and the whole width (Ctrl+P still
            # opens the palette; the home screen and F1 say so).
            compact, palette = True, []
            widths = [_key_cells(key, compact=True) for key in plain]
            columns = columns_that_fit(widths, width)
        yield from plain
        yield from palette
        if not plain:
            return
        self.compact = compact
        self.styles.grid_size_columns = columns
        # Each column exactly as wide as its widest key (margins included), not left to "auto".
        self.styles.grid_columns = " ".join(str(max(widths[i::columns])) for i in range(columns))
        self.styles.max_height = max(MAX_ROWS, rows_for(len(plain), columns))

    def on_resize(self, event: Resize) -> None:
        # Notices stand above the keys, never over them (Textual leaves room for a one-row footer only).
        try:
            rack = self.screen.get_child_by_id("textual-toastrack")
        except NoMatches:
            pass
        else:
            rack.styles.margin = (0, 0, event.size.height, 0)
        if event.size.width != getattr(self, "_laid_out_for", None):
            self._laid_out_for = event.size.width
            self.refresh(recompose=True)
