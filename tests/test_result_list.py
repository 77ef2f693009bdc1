"""screens.widgets.results.ResultList on its own: cell fitting, cursor, keys, clicks, literal text.

(The lookup journeys through the real TellerApp are in tests/test_desk_pilot.py,
tests/test_markup_safety.py and tests/test_key_bursts.py.)"""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from screens.widgets.results import CURSOR_MARK, ResultList, fit

COLUMNS = [("No.", 4), ("Name", 8), ("Phone", 5)]
ROWS = [[f"{i:03d}", name, f"139{i}"] for i, name in enumerate(
    ["王小明", "Li Lei", "[b]x[/b]", "\x1b[31mred", "欧阳娜娜娜娜", "Zed", "A", "B", "C", "D"])]


class Holder(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[int] = []

    def compose(self) -> ComposeResult:
        yield ResultList(id="list")

    def on_mount(self) -> None:
        results = self.query_one(ResultList)
        results.set_columns(COLUMNS)
        results.set_rows(ROWS)
        results.focus()

    def on_result_list_selected(self, event: ResultList.Selected) -> None:
        self.selected.append(event.row)


def lines(app: App[None]) -> list[str]:
    widget = app.query_one(ResultList)
    return ["".join(segment.text for segment in widget.render_line(y)) for y in range(widget.size.height)]


def test_fit_pads_and_cuts_by_terminal_cells() -> None:
    assert fit("ab", 4) == "ab  "
    assert fit("王小明", 6) == "王小明" and fit("王小明", 7) == "王小明 "
    assert fit("王小明", 5) == "王小…" and fit("王小明", 4) == "王… "  # never half a wide character
    assert fit("abcdef", 4) == "abc…"


@pytest.mark.slow  # Pilot
async def test_rows_align_show_literally_and_the_cursor_is_marked() -> None:
    app = Holder()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        results = app.query_one(ResultList)
        shown = lines(app)
        assert shown[0].startswith(" No.   Name      Phone ")
        assert shown[1].startswith(CURSOR_MARK + "000   王小明    1390  ")  # marked, not only coloured
        assert shown[2].startswith(" 001   Li Lei    1391  ")
        assert "[b]x[/b]" in shown[3]  # markup is text
        assert "\x1b" not in shown[4] and " red " in shown[4]  # escape sequences go
        assert "欧阳娜… " in shown[5]  # a cut name ends in an ellipsis, columns stay aligned
        assert {cell_len(line) for line in shown} == {results.size.width}
        assert results.row(2)[1] == "[b]x[/b]" and results.row(3)[1] == "red"
        assert results.row_count == len(ROWS) and [row[0] for row in results.rows][:2] == ["000", "001"]
        # The cursor row is bold as well as coloured.
        assert results.row_style(0).bold and not results.row_style(1).bold


@pytest.mark.slow  # Pilot
async def test_keys_move_scroll_and_select() -> None:
    app = Holder()
    async with app.run_test(size=(40, 6)) as pilot:  # header + 5 rows visible of 10
        await pilot.pause()
        results = app.query_one(ResultList)
        await pilot.press("up")
        assert results.cursor_row == 0
        await pilot.press(*["down"] * 7)
        await pilot.pause()
        assert results.cursor_row == 7 and results.scroll_y >= 3
        assert lines(app)[0].startswith(" No.")  # the header stays
        assert any(line.startswith(CURSOR_MARK + "007") for line in lines(app))
        await pilot.press(*["down"] * 5)
        assert results.cursor_row == 9  # clamped at the last row
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [9]
        results.set_rows(ROWS[:2])  # a new answer starts at its first row, scrolled to the top
        await pilot.pause()
        assert results.cursor_row == 0 and results.scroll_y == 0 and results.row_count == 2
        assert all(not line.strip() for line in lines(app)[3:])


@pytest.mark.slow  # Pilot
async def test_click_moves_then_selects() -> None:
    app = Holder()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        results = app.query_one(ResultList)
        await pilot.click(ResultList, offset=(3, 3))  # third row
        await pilot.pause()
        assert results.cursor_row == 2 and app.selected == []
        await pilot.click(ResultList, offset=(3, 3))
        await pilot.pause()
        assert app.selected == [2]
        await pilot.click(ResultList, offset=(3, 0))  # the header: nothing
        await pilot.pause()
        assert results.cursor_row == 2 and app.selected == [2]
