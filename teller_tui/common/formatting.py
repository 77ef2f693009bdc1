"""Locale-aware display of money, dates and numbers, CJK-aware columns; amounts in words live in
:mod:`teller_tui.common.words` (re-exported here).

Every function takes ``locale=None`` meaning "the active locale" (:func:`teller_tui.common.i18n.get_locale`),
or any name :func:`teller_tui.common.i18n.normalize_locale` accepts. Babel is imported on first use.

Output is terminal-safe: only ASCII ``+``/``-`` signs, and the no-break / narrow no-break
spaces CLDR puts in some patterns become plain spaces (a terminal cell is a cell).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.cells import cell_len, chop_cells

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _, get_locale, locale_override, n_, normalize_locale
from teller_tui.common.money import Money, currency
from teller_tui.common.words import amount_in_words as amount_in_words  # amounts in words

if TYPE_CHECKING:  # pragma: no cover
    from babel import Locale

__all__ = [
    "DEFAULT_TZ",
    "amount_in_words",
    "format_limit",
    "babel_locale",
    "display_width",
    "format_date",
    "format_datetime",
    "format_dr_cr",
    "format_money",
    "format_number",
    "pad",
    "truncate",
]

DEFAULT_TZ = "Asia/Shanghai"
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})


def _loc(locale: str | None) -> str:
    return get_locale() if locale is None else normalize_locale(locale)


@cache
def _babel_locale(name: str) -> Locale:
    from babel import Locale  # lazy: screens import this before the first paint

    return Locale.parse(name)


def babel_locale(locale: str | None = None) -> Locale:
    """The (cached) :class:`babel.Locale` of ``locale`` (default: the active locale)."""
    return _babel_locale(_loc(locale))


_bl = babel_locale


def _plain(text: str) -> str:
    return text.translate(_SPACES)


# -- numbers and money ----------------------------------------------------------------------
def format_number(n: int | Decimal, locale: str | None = None) -> str:
    """``1234567`` -> ``"1,234,567"``; a Decimal keeps exactly its own decimal places."""
    from babel.numbers import format_decimal  # lazy: screens import this before the first paint

    if isinstance(n, float):
        raise TypeError("format_number takes int or Decimal, not float")
    if isinstance(n, Decimal):
        places = max(0, -int(n.as_tuple().exponent)) if n.is_finite() else 0
        fmt = "#,##0" + ("." + "0" * places if places else "")
        return _plain(format_decimal(n, format=fmt, locale=_bl(locale), decimal_quantization=False))
    return _plain(format_decimal(n, format="#,##0", locale=_bl(locale)))


def _unsigned_number(m: Money, locale: str | None) -> str:
    """``|m|`` grouped, with exactly the currency's minor digits, no symbol."""
    return format_number(abs(m).decimal, locale)


def _sign(m: Money, always: bool) -> str:
    if m.minor < 0:
        return "-"
    if always and m.minor > 0:
        return "+"
    return ""


def format_money(m: Money | None, locale: str | None = None, *, sign: bool = False) -> str:
    """Money for people: zh_CN ``¥1,234.50``, en ``CN¥1,234.50`` (CLDR's unambiguous symbol).

    Negative amounts start with ASCII ``-``; with ``sign=True`` positive ones start with ``+``
    (zero has no sign). Reward points: ``1,234 pts`` / ``1,234 积分``. ``None`` is a limit that does
    not apply (a wallet class's "unlimited"): "no limit" (:func:`format_limit` says so by its name).
    """
    if m is None:
        return format_limit(None, locale)
    loc = _loc(locale)
    cur = currency(m.currency)
    if cur.commodity:
        number = format_number(abs(m.minor), loc)
        with locale_override(loc):
            # TRANSLATORS: reward points balance; {points} is an already formatted number.
            text = n_("{points} pt", "{points} pts", abs(m.minor)).format(points=number)
        return _sign(m, sign) + text
    shape = _money_shape(cur.code, loc)
    body = _babel_money(abs(m.minor), cur.code, loc) if shape is None else _shaped(abs(m.minor), cur.exponent, shape)
    return _sign(m, sign) + body


def _babel_money(minor: int, code: str, loc: str) -> str:
    """CLDR's currency format of ``minor`` minor units through Babel (the reference of :func:`_money_shape`)."""
    from babel.numbers import format_currency  # lazy: screens import this before the first paint

    return _plain(format_currency(Money(minor, code).decimal, code, locale=_bl(loc), currency_digits=True,
                                  decimal_quantization=False))


def _shaped(minor: int, exponent: int, shape: tuple[str, str, str, str]) -> str:
    prefix, group, decimal, suffix = shape
    whole, frac = divmod(minor, 10**exponent)
    number = f"{whole:,}".replace(",", group) + (decimal + str(frac).zfill(exponent) if exponent else "")
    return prefix + number + suffix


@cache
def _money_shape(code: str, loc: str) -> tuple[str, str, str, str] | None:
    """(prefix, group separator, decimal separator, suffix) of CLDR's currency format in ``loc``,
    read from Babel once, so a posting's amounts skip Babel's pattern machinery (~90 µs each).
    Kept only if it gives exactly Babel's output for every probe amount; otherwise None (Babel then
    formats every amount)."""
    exponent = currency(code).exponent
    probe = 1234567 * 10**exponent + (10**exponent - 1 if exponent else 0)  # 1,234,567.99
    text = _babel_money(probe, code, loc)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not digits:
        return None
    prefix, suffix, number = text[:digits[0]], text[digits[-1] + 1:], text[digits[0]:digits[-1] + 1]
    separators = [ch for ch in number if not ch.isdigit()]
    if not separators:
        return None
    decimal = separators[-1] if exponent else ""
    group = separators[0] if len(separators) > (1 if exponent else 0) else ""
    shape = (prefix, group, decimal, suffix)
    for minor in (0, 1, 5, 99, 100, 999, 1000, 12345, 100000, 123456789, 10**12 + 7, 10**15):
        if _shaped(minor, exponent, shape) != _babel_money(minor, code, loc):
            return None
    return shape


def format_limit(m: Money | None, locale: str | None = None) -> str:
    """A limit for people: the amount, or "no limit" for ``None`` (a class limit given as unlimited)."""
    if m is None:
        with locale_override(_loc(locale)):
            return _("no limit")
    return format_money(m, locale)


def format_dr_cr(m: Money, locale: str | None = None) -> str:
    """``1,234.50 CR`` (positive: the bank owes the customer) / ``1,234.50 DR``; zero bare.

    zh_CN: ``1,234.50 贷`` / ``1,234.50 借``. The side is spelt out so meaning never rests
    on colour alone.
    """
    loc = _loc(locale)
    amount = _unsigned_number(m, loc)
    if m.minor == 0:
        return amount
    with locale_override(loc):
        if m.minor > 0:
            # TRANSLATORS: credit balance/side (the bank owes the customer); keep it short.
            return _("{amount} CR").format(amount=amount)
        # TRANSLATORS: debit balance/side; keep it short.
        return _("{amount} DR").format(amount=amount)


# -- dates ----------------------------------------------------------------------------------
@cache
def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_TZ:  # no tz database (Windows without tzdata): China has no DST
            return dt.timezone(dt.timedelta(hours=8), "CST")
        raise ValidationError(_("Unknown time zone {name}").format(name=name[:40]), code="timezone") from None


def format_date(d: dt.date, locale: str | None = None) -> str:
    """Medium date: en ``Jan 5, 2026``, zh_CN ``2026年1月5日``."""
    from babel.dates import format_date as _format_date  # lazy: screens import this before the first paint

    if isinstance(d, dt.datetime):
        d = d.date()
    return _plain(_format_date(d, "medium", locale=_bl(locale)))


def format_datetime(when: dt.datetime, locale: str | None = None, tz: str | dt.tzinfo = DEFAULT_TZ) -> str:
    """Medium date and time in ``tz`` (branch time, default Asia/Shanghai).

    A naive datetime is taken as UTC (the clock and the database store UTC).
    en ``Jan 5, 2026, 11:04:05 PM``, zh_CN ``2026年1月5日 23:04:05``.
    """
    zone = _zone(tz) if isinstance(tz, str) else tz
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    local = when.astimezone(zone)
    loc = _loc(locale)
    # Babel's medium date-time, its parts cached: the patterns per locale, the date per day.
    fields = _medium_time_fields(loc)
    if fields is not None:
        time_text = "".join(_time_field(local, part) for part in fields)
    else:
        from babel.dates import format_time  # lazy: screens import this before the first paint

        time_text = format_time(local, "medium", tzinfo=None, locale=_bl(loc))
    return _plain(_medium_datetime_pattern(loc).replace("{0}", time_text)
                  .replace("{1}", _medium_date(local.date(), loc)))


#: A part of a time pattern: literal text, or (field letter, width, am name, pm name).
_TimePart = str | tuple[str, int, str, str]


@cache
def _medium_time_fields(loc: str) -> tuple[_TimePart, ...] | None:
    """The locale's medium time pattern, parsed once: literal text and the fields of hours, minutes,
    seconds and am/pm (formatted by :func:`_time_field` as Babel formats them); None when it uses
    any other field (then Babel formats each time)."""
    from babel.dates import get_period_names, get_time_format, tokenize_pattern

    names = get_period_names("abbreviated", "format", locale=_bl(loc))
    parts: list[_TimePart] = []
    for kind, value in tokenize_pattern(get_time_format("medium", locale=_bl(loc)).pattern):
        if kind == "chars":
            parts.append(str(value))
            continue
        letter, width = str(value[0]), int(value[1])
        if (letter in ("h", "H", "m", "s") and width <= 2) or (letter == "a" and width <= 3):
            parts.append((letter, width, str(names["am"]), str(names["pm"])))
        else:
            return None
    return tuple(parts)


def _time_field(when: dt.datetime, part: _TimePart) -> str:
    if isinstance(part, str):
        return part
    field, width, am, pm = part
    if field == "a":
        return pm if when.hour >= 12 else am
    value = {"H": when.hour, "h": when.hour % 12 or 12, "m": when.minute, "s": when.second}[field]
    return f"{value:0{width}d}"


@cache
def _medium_datetime_pattern(loc: str) -> str:
    from babel.dates import get_datetime_format

    return str(get_datetime_format("medium", locale=_bl(loc))).replace("'", "")


@lru_cache(maxsize=64)
def _medium_date(day: dt.date, loc: str) -> str:
    from babel.dates import format_date as _format_date

    return _format_date(day, "medium", locale=_bl(loc))


# -- plain-text columns ---------------------------------------------------------------------
# Cell widths are Rich's (the tables Textual renders with), so a receipt or CLI column lines
# up the same in a file, a terminal and a Textual widget; the core imports only rich.cells.
def display_width(s: str) -> int:
    """Terminal / monospace cells ``s`` takes: wide and full-width characters count 2,
    combining marks, zero-width and control characters 0, everything else 1."""
    return cell_len(s)


def truncate(s: str, width: int, ellipsis: str = "…") -> str:
    """Cut ``s`` to at most ``width`` cells, ending with ``ellipsis`` when it was cut."""
    if cell_len(s) <= width:
        return s
    room = width - cell_len(ellipsis)
    if room < 0:  # not even the ellipsis fits: hard cut
        return truncate(s, width, "") if width > 0 else ""
    head = chop_cells(s, room) if room > 0 else []
    return (head[0] if head else "") + ellipsis


Align = Literal["left", "right", "center", "<", ">", "^"]


def pad(s: str, width: int, align: Align = "left", *, fill: str = " ", clip: bool = False) -> str:
    """Pad ``s`` with ``fill`` to exactly ``width`` cells (by display width, not len).

    Longer text is returned as is, or cut with ``…`` when ``clip=True``.
    """
    if display_width(fill) != 1:
        raise ValueError("fill must be one narrow character")
    if clip:
        s = truncate(s, width)
    gap = width - display_width(s)
    if gap <= 0:
        return s
    if align in ("left", "<"):
        return s + fill * gap
    if align in ("right", ">"):
        return fill * gap + s
    if align in ("center", "^"):
        left = gap // 2
        return fill * left + s + fill * (gap - left)
    raise ValueError(f"align must be left, right or center, not {align!r}")
