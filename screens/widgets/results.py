"""A light, read-only results list: a header line and one pre-built line per row (Line API).

Textual's ``DataTable`` repaints every visible cell through Rich whenever any cell changes
(~1 ms a row), most of what a keystroke in the lookup cost beyond the search. This list builds
each row's text once when an answer arrives (cells cut or padded to their column by terminal
cell width, so Chinese names line up), and paints a line as one styled segment. Changing rows
repaints the list; moving the cursor repaints only the two rows involved.

* Cells are plain text: every value goes through :func:`screens.widgets.safe.clean` and is
  written as is (no markup is ever parsed, ``[b]`` shows as ``[b]``).
* The cursor row is marked by ``▶`` in its first column and shown bold on the cursor colour
  (meaning is never by colour alone).
* Keys when focused: Up/Down move the cursor, Enter posts :class:`ResultList.Selected`; a click
  moves the cursor, a click on the cursor row selects it (as ``DataTable`` does).
* :meth:`row` and :attr:`rows` read back what the list shows (tests, screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from teller_tui.common.i18n import N_

from .safe import clean

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.style import Style
    from textual import events

__all__ = ["CURSOR_MARK", "ResultList"]

#: Shown in the first column's left padding on the cursor row.
CURSOR_MARK = "▶"


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` terminal cells (``…`` marks a cut)."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width <= 0:
        return ""
    cut = set_cell_size(text, width - 1)
    if not text.startswith(cut):  # a wide character was halved (and padded): the ellipsis follows
        cut = cut[:-1]
    return set_cell_size(cut + "…", width)


class ResultList(ScrollView, can_focus=True):
    """Rows of plain text cells under a fixed header; one cursor row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", N_("Up"), show=False, id="results.up"),
        Binding("down", "cursor(1)", N_("Down"), show=False, id="results.down"),
        Binding("enter", "select", N_("Open"), show=False, id="results.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "result-list--header", "result-list--cursor", "result-list--even",
    }

    DEFAULT_CSS = """
    ResultList {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        & > .result-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .result-list--even {
            background: $surface-darken-1 40%;
        }
        & > .result-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: bold;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .result-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: bold;
            }
        }
    }
    """

    class Selected(Message):
        """Enter (or a click) on a row: ``row`` is its index in :attr:`ResultList.rows`."""

        def __init__(self, result_list: ResultList, row: int) -> None:
            super().__init__()
            self.result_list = result_list
            self.row = row

        @property
        def control(self) -> ResultList:
            return self.result_list

    def __init__(self, *, id: str | None = None, classes: str | None = None,
                 zebra_stripes: bool = True) -> None:
        super().__init__(id=id, classes=classes)
        self.zebra_stripes = zebra_stripes
        self._widths: list[int] = []
        self._header = ""
        self._rows: list[tuple[str, ...]] = []
        self._lines: list[str] = []  # each row's text, built once per answer
        self._cursor = 0
        self._width = 0  # cells in a line
        self._styles: dict[str, Style] = {}  # base and component styles, until the CSS changes
        self._strips: dict[tuple[int, bool, int, int], Strip] = {}  # painted lines, until rows change

    # -- content ---------------------------------------------------------------------------
    def set_columns(self, columns: Sequence[tuple[str, int]]) -> None:
        """Set the columns as ``(label, width)``; rows are cleared."""
        self._widths = [width for _label, width in columns]
        self._header = self._line([label for label, _width in columns])
        self._width = cell_len(self._header)
        self.set_rows([])

    def set_rows(self, rows: Sequence[Sequence[object]]) -> None:
        """Show ``rows`` (one value per column, shown literally); the cursor goes to the first row."""
        self._rows = [tuple(clean(value) for value in row) for row in rows]
        self._lines = [self._line(row) for row in self._rows]
        self._cursor = 0
        self._strips.clear()
        size = Size(self._width, len(self._rows) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        if self.scroll_y:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def _line(self, cells: Sequence[str]) -> str:
        return "".join(f" {fit(text, width)} " for text, width in zip(cells, self._widths))

    @property
    def rows(self) -> list[tuple[str, ...]]:
        """The cell text of every row, as shown (before cutting to the column)."""
        return list(self._rows)

    def row(self, index: int) -> tuple[str, ...]:
        """The cell text of row ``index``."""
        return self._rows[index]

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    # -- cursor ----------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view; repaints the two rows."""
        if not self._rows:
            return
        row = max(0, min(len(self._rows) - 1, row))
        old, self._cursor = self._cursor, row
        if row != old:
            self._refresh_row(old)
            self._refresh_row(row)
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def _refresh_row(self, row: int) -> None:
        y = row - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self._cursor + step)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self._cursor))

    async def _on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y < 1 or not 0 <= row < len(self._rows):
            return
        event.stop()
        if row == self._cursor:
            self.post_message(self.Selected(self, row))
        else:
            self.move_cursor(row)

    def _on_focus(self, event: events.Focus) -> None:
        self._refresh_row(self._cursor)

    def _on_blur(self, event: events.Blur) -> None:
        self._refresh_row(self._cursor)

    # -- painting --------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def _style(self, kind: str) -> Style:
        style = self._styles.get(kind)
        if style is None:
            style = self.rich_style
            if kind:
                style += self.get_component_rich_style(f"result-list--{kind}")
            self._styles[kind] = style
        return style

    def row_style(self, row: int) -> Style:
        """The style row ``row`` is painted with: cursor, stripe or plain."""
        if row == self._cursor:
            return self._style("cursor")
        return self._style("even" if self.zebra_stripes and row % 2 else "")

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        row = int(self.scroll_y) + y - 1 if y else -1
        if not -1 <= row < len(self._lines):
            return Strip.blank(width, self._style(""))
        scroll_x = int(self.scroll_x)
        key = (row, row == self._cursor, width, scroll_x)
        strip = self._strips.get(key)
        if strip is not None:
            return strip
        if row < 0:
            text, style = self._header, self._style("header")
        else:
            text, style = self._lines[row], self.row_style(row)
            if row == self._cursor:
                text = CURSOR_MARK + text[1:]
        strip = Strip([Segment(text, style)], self._width)
        if scroll_x or self._width > width:
            strip = strip.crop(scroll_x, scroll_x + width)
        strip = self._strips[key] = strip.adjust_cell_length(width, style)
        return strip
