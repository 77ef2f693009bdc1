"""Small helpers for DataTables the screens share."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

__all__ = ["selected_key"]


def selected_key(table: DataTable[Any]) -> str | None:
    """The row key of the table's cursor row (the screens key rows by case number, request id …),
    or None when the table is empty."""
    if not table.row_count:
        return None
    key, _column = table.coordinate_to_cell_key((table.cursor_row, 0))
    return key.value
