"""The reference files' loader discipline: one error type that names the file and the bad entry, strict
TOML and CSV readers, and where the shipped files are (``data/``, :mod:`teller_tui.common.paths`).

Used by :mod:`teller_tui.common.reference` (banks, regions), :mod:`teller_tui.common.denominations` and
the configuration tables elsewhere (wallet classes, rewards, welcome texts).
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import _
from teller_tui.common.paths import data_file

__all__ = ["ReferenceDataError", "read_csv", "read_toml", "reference_error", "shipped_file"]


class ReferenceDataError(DomainError):
    """A shipped or configured reference file is malformed (names the file and entry)."""

    code = "reference_data"


def reference_error(origin: str, where: str, problem: str) -> ReferenceDataError:
    """The error for ``problem`` at ``where`` (an entry or a line) in the file ``origin``."""
    return ReferenceDataError(
        _("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
        file=origin,
        where=where,
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ReferenceDataError(_("{file}: file not found").format(file=path), file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(
            _("{file}: not valid TOML ({error})").format(file=path, error=exc), file=str(path)
        ) from None


def read_csv(path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with their 1-based line numbers; blank and ``#`` lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReferenceDataError(_("{file}: file not found").format(file=path), file=str(path)) from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    required = tuple(required)
    header = next(csv.reader([numbered[0][1]])) if numbered else []
    if any(col not in header for col in required) or len(numbered) < 2:
        raise ReferenceDataError(
            _("{file}: expected columns {columns}").format(file=path, columns=", ".join(required)),
            file=str(path),
        )
    rows = []
    for n, line in numbered[1:]:
        values = next(csv.reader([line]))
        rows.append((n, dict(zip(header, values + [""] * (len(header) - len(values)), strict=False))))
    return rows


def shipped_file(name: str) -> Path:
    """A file shipped in ``data/``."""
    return data_file(name)
