"""Amounts in words for receipts and vouchers: the financial uppercase (人民币大写) in zh_CN,
English words otherwise. CNY only. Re-exported by :mod:`teller_tui.common.formatting`."""

from __future__ import annotations

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _, get_locale, normalize_locale
from teller_tui.common.money import Money

__all__ = ["amount_in_words"]

_ZH_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_ZH_UNITS = ("", "拾", "佰", "仟")


def _zh_section(n: int) -> str:
    """0 < n < 10,000: a run of zeros between digits is one 零; trailing zeros are silent."""
    out: list[str] = []
    pending_zero = False
    for place in range(3, -1, -1):
        digit = n // 10**place % 10
        if digit == 0:
            pending_zero = pending_zero or n >= 10 ** (place + 1)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_ZH_DIGITS[digit] + _ZH_UNITS[place])
    return "".join(out)


def _zh_integer(n: int) -> str:
    """Financial uppercase of a whole number > 0, following the standard 零 rules.

    The number splits at 亿 (10^8) and 万 (10^4); the part above is written recursively
    (so 10^13 is 壹拾万亿 and 1,0001,0000,0000 is 壹万零壹亿). One 零 stands for any run of
    zeros that separates two non-zero digits across a 亿/万 boundary, i.e. when the lower part
    does not fill its top place. ``壹拾`` always keeps its ``壹``.
    """
    if n < 10_000:
        return _zh_section(n)
    for size, unit in ((10**8, "亿"), (10**4, "万")):
        if n >= size:
            high, low = divmod(n, size)
            out = _zh_integer(high) + unit
            if low == 0:
                return out
            return out + ("零" if low < size // 10 else "") + _zh_integer(low)
    raise AssertionError("unreachable")  # pragma: no cover


def _zh_words(minor: int) -> str:
    yuan, fen_total = divmod(minor, 100)
    jiao, fen = divmod(fen_total, 10)
    if minor == 0:
        return "零元整"
    out = ""
    if yuan:
        out = _zh_integer(yuan) + "元"
        if not jiao and not fen:
            return out + "整"
        if not jiao:
            return out + "零" + _ZH_DIGITS[fen] + "分"
    if jiao:
        out += _ZH_DIGITS[jiao] + "角"
    if fen:
        out += _ZH_DIGITS[fen] + "分"
    return out


_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ("", "thousand", "million", "billion", "trillion")


def _en_below_1000(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_EN_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_EN_ONES[rest])
    return words


def _en_integer(n: int) -> str:
    if n == 0:
        return "zero"
    groups: list[int] = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(_EN_SCALES):
        raise ValidationError(_("Amount is too large"), code="amount_too_large")
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        if groups[index]:
            words += _en_below_1000(groups[index])
            if _EN_SCALES[index]:
                words.append(_EN_SCALES[index])
    return " ".join(words)


def _en_words(minor: int) -> str:
    yuan, fen = divmod(minor, 100)
    if yuan and fen:
        return f"{_en_integer(yuan)} yuan and {_en_integer(fen)} fen"
    if fen:
        return f"{_en_integer(fen)} fen"
    return f"{_en_integer(yuan)} yuan"


def amount_in_words(m: Money, locale: str | None = None) -> str:
    """A CNY amount in words, for receipts and vouchers.

    zh_CN: the financial uppercase (人民币大写) form, ``壹仟贰佰叁拾肆元伍角陆分``,
    ``壹佰元整``, ``壹仟元零伍分``; en: ``one thousand two hundred thirty-four yuan and
    fifty-six fen``. A negative amount is prefixed 负 / ``minus``. Other currencies are refused.
    """
    if m.currency != "CNY":
        raise ValidationError(
            _("Amounts in words are only available in CNY, not {currency}").format(currency=m.currency),
            code="currency",
        )
    loc = get_locale() if locale is None else normalize_locale(locale)
    if loc == "zh_CN":
        words = _zh_words(abs(m.minor))
        return ("负" + words) if m.minor < 0 else words
    words = _en_words(abs(m.minor))
    return ("minus " + words) if m.minor < 0 else words
