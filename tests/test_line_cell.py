"""``LineText`` (the lookup table's cells) paints exactly as Rich's ``Text`` does, only cheaper."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from screens.widgets.safe import LineText, line_cell


@pytest.mark.parametrize("value", ["C000012345", "王芳", "欧阳娜娜娜娜娜", "zhang weiwei", "", "—", "[b]x[/b]",
                                   "86000000000000151, 86000000000000169 …"])
@pytest.mark.parametrize("width", [1, 3, 8, 12, 40])
@pytest.mark.parametrize("overflow", [None, "ellipsis", "crop"])
def test_same_segments_as_rich(value: str, width: int, overflow: str | None) -> None:
    console = Console(width=80, color_system=None)
    options = console.options.update_dimensions(width, 1).update(no_wrap=True, overflow=overflow)  # type: ignore[arg-type]
    fast = console.render_lines(line_cell(value), options, pad=True)
    rich = console.render_lines(Text(value, end=""), options, pad=True)
    assert fast == rich
    assert line_cell(value).plain == value


def test_anything_else_takes_rich_path() -> None:
    console = Console(width=80, color_system=None)
    options = console.options.update_dimensions(6, 3)
    styled = LineText("abc", style="bold", end="")
    wrapped = LineText("abc def ghi", end="")
    assert console.render_lines(styled, options) == console.render_lines(Text("abc", style="bold", end=""), options)
    assert console.render_lines(wrapped, options) == console.render_lines(Text("abc def ghi", end=""), options)
    assert list(LineText("ab", end="").__rich_console__(console, options.update(no_wrap=True))) == [Segment("ab")]
