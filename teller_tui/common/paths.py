"""Where the shipped reference data lives.

In a source checkout (or an editable install) ``data/`` sits beside the package; in a wheel
it is installed as ``teller_tui/_data``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    """Return the directory holding the shipped reference data."""
    here = Path(__file__).resolve().parent.parent  # teller_tui/
    for candidate in (here / "_data", here.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("teller reference data not found (expected data/ beside teller_tui)")


def data_file(*parts: str) -> Path:
    """Path of one file under the data directory."""
    return data_dir().joinpath(*parts)
