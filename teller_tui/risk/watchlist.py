"""Watch-list screening: the bank's list file (``data/watchlist.csv``) and fuzzy name matching.

File format (UTF-8 CSV; lines starting with ``#`` are comments; the first other line is the header)::

    list_id,name,name_latin,id_number,birth_year,source
    WL-0001,钱多多,qian duoduo,110101196001010011,1960,Sample list (fictional)

``list_id`` (required, unique) names the entry in alerts and approvals; ``name`` (Chinese characters
or latin letters) or ``id_number`` is required; ``name_latin`` (pinyin or other latin spelling),
``birth_year`` and ``source`` are optional.

A person matches an entry when (:func:`match`):

* the ID numbers are equal (spaces and case ignored), or
* the birth years are equal and some spelling of the person's name is within edit distance 1 of some
  spelling of the entry's name. Spellings are the name's pinyin without tones (Chinese characters
  through pypinyin, "ü" as "v") and the latin spelling, both lower case with everything but letters
  removed; so 张伟 matches "Zhang Wei" and 章伟 (same pinyin), and "zhang wei" matches "zhangwi".
  Without a birth year on both sides a name alone never matches (too many namesakes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path


from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.paths import data_file
from teller_tui.common.pinyin import compact_pinyin

__all__ = ["WatchEntry", "WatchHit", "Watchlist", "edit_distance", "name_keys"]

_COLUMNS = ("list_id", "name", "name_latin", "id_number", "birth_year", "source")


@dataclass(frozen=True, slots=True)
class WatchEntry:
    list_id: str
    name: str
    name_latin: str
    id_number: str
    birth_year: int | None
    source: str


@dataclass(frozen=True, slots=True)
class WatchHit:
    entry: WatchEntry
    by: str  # "id_number" | "name"
    distance: int  # name edit distance (0 for an ID match)


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if "a" <= ch <= "z")


def _pinyin(text: str) -> str:
    # pypinyin loads on first use (common.pinyin): only screening needs it, never a terminal's start.
    return compact_pinyin(text)


def name_keys(*names: str) -> frozenset[str]:
    """Every spelling of the names compared: pinyin of Chinese characters, latin letters."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        if any("\u3400" <= ch <= "\u9fff" for ch in name):
            keys.add(_pinyin(name))
        keys.add(_letters(name))
    keys.discard("")
    return frozenset(keys)


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit`` if it is at least that."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= limit:
            return limit
        prev = cur
    return min(prev[-1], limit)


def _norm_id(number: str | None) -> str:
    return "".join((number or "").split()).upper()


@dataclass(frozen=True, slots=True)
class Watchlist:
    entries: tuple[WatchEntry, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> Watchlist:
        path = path or data_file("watchlist.csv")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(_("{file}: cannot read the watch list ({error})").format(file=path, error=exc),
                                  code="watchlist_file") from None
        return cls.parse(text, origin=str(path))

    @classmethod
    def parse(cls, text: str, *, origin: str = "watchlist.csv") -> Watchlist:
        def bad(line: int, problem: str) -> ValidationError:
            return ValidationError(_("{file}: line {line}: {problem}").format(file=origin, line=line, problem=problem),
                                   code="watchlist_invalid")

        rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and
                not line.lstrip().startswith("#")]
        if not rows:
            return cls(())
        reader = csv.reader(io.StringIO("\n".join(line for _n, line in rows)))
        header = [h.strip() for h in next(reader)]
        if tuple(header) != _COLUMNS:
            raise bad(rows[0][0], _("the header must be: {columns}").format(columns=",".join(_COLUMNS)))
        entries: list[WatchEntry] = []
        seen: set[str] = set()
        for (line, _raw), cells in zip(rows[1:], reader, strict=True):
            if len(cells) != len(_COLUMNS):
                raise bad(line, _("{n} columns expected").format(n=len(_COLUMNS)))
            list_id, name, latin, id_number, year, source = (c.strip() for c in cells)
            if not list_id or list_id in seen:
                raise bad(line, _("list_id is required and must be unique"))
            if not (name or latin or id_number):
                raise bad(line, _("a name or an ID number is required"))
            if year and not (year.isdigit() and 1900 <= int(year) <= 2100):
                raise bad(line, _("birth_year must be a year such as 1960"))
            seen.add(list_id)
            entries.append(WatchEntry(list_id, name, latin, _norm_id(id_number), int(year) if year else None, source))
        return cls(tuple(entries))

    def screen(self, *, names: Iterable[str], id_number: str | None, birth_date: date | None) -> list[WatchHit]:
        """Every entry the person matches (see the module docstring), ID matches first."""
        number = _norm_id(id_number)
        keys = name_keys(*names)
        year = birth_date.year if birth_date else None
        hits: list[WatchHit] = []
        for entry in self.entries:
            if number and entry.id_number and number == entry.id_number:
                hits.append(WatchHit(entry, "id_number", 0))
                continue
            if year is None or entry.birth_year != year or not keys:
                continue
            best = min((edit_distance(a, b) for a in keys for b in name_keys(entry.name, entry.name_latin)),
                       default=2)
            if best <= 1:
                hits.append(WatchHit(entry, "name", best))
        return sorted(hits, key=lambda h: (h.by != "id_number", h.distance, h.entry.list_id))
