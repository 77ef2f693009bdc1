"""Money in integer minor units with a currency.

A :class:`Money` never holds a float. User text is parsed with :class:`~decimal.Decimal`
and refused when it has more decimal places than the currency allows, a sign where none is
allowed, or an absurd magnitude.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    exponent: int  # number of minor-unit digits (CNY: 2 -> fen)
    symbol: str
    commodity: bool = False  # True for non-money units such as reward points

    @property
    def scale(self) -> int:
        return int(10**self.exponent)


CURRENCIES: dict[str, Currency] = {
    "CNY": Currency("CNY", 2, "¥"),
    "HKD": Currency("HKD", 2, "HK$"),
    "USD": Currency("USD", 2, "$"),
    "JPY": Currency("JPY", 0, "¥"),
    # Reward points are a separate commodity: whole points, never mixed with money.
    "PTS": Currency("PTS", 0, "pts", commodity=True),
}

#: Largest amount any single figure may hold (10^15 minor units: ten trillion yuan).
MAX_MINOR = 10**15


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise ValidationError(_("Unknown currency {code}").format(code=code), code="currency") from None


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in minor units of one currency. Arithmetic refuses mixed currencies."""

    minor: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if type(self.minor) is not int:  # bool and float are both refused
            raise TypeError(f"Money needs an int of minor units, got {type(self.minor).__name__}")
        currency(self.currency)
        if abs(self.minor) > MAX_MINOR:
            raise ValidationError(_("Amount is too large"), code="amount_too_large")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def zero(cls, currency_code: str = "CNY") -> Money:
        return cls(0, currency_code)

    @classmethod
    def of(cls, major: str | int | Decimal, currency_code: str = "CNY") -> Money:
        """Exact construction from a major-unit literal: ``Money.of("12.34")``."""
        if isinstance(major, float):
            raise TypeError("floats are not money; pass a str, int or Decimal")
        return parse_money(str(major), currency_code, allow_negative=True, allow_zero=True)

    # -- arithmetic ---------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError(
                _("Cannot combine {left} with {right}").format(left=self.currency, right=other.currency),
                code="currency_mismatch",
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exactly."""
        return Decimal(self.minor).scaleb(-currency(self.currency).exponent)

    def plain(self) -> str:
        """Locale-free text such as ``-1234.50`` (for files, CSV, receipts' machine fields)."""
        exp = currency(self.currency).exponent
        return f"{self.decimal:.{exp}f}"

    def __str__(self) -> str:
        return f"{self.plain()} {self.currency}"


#: ASCII digits only (``re.ASCII``: ``\d`` would also take Bengali, Devanagari, … digits).
_AMOUNT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", re.ASCII)
#: The whole part with grouping commas: 1–3 digits, then groups of exactly three.
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$", re.ASCII)


def parse_money(
    text: str,
    currency_code: str = "CNY",
    *,
    allow_negative: bool = False,
    allow_zero: bool = False,
    max_minor: int = MAX_MINOR,
) -> Money:
    """Parse what a person typed into :class:`Money`.

    Accepts ASCII or full-width digits with an optional decimal point, grouping commas
    (``,`` / full-width ``，``) only where they group thousands (``1,234.50``; ``1,50`` is
    refused rather than read as 150), a leading currency symbol (``¥``/``￥``) and surrounding
    spaces. Refuses other digits (Bengali ``৪০০``, Arabic-Indic, …), spaces inside the
    number, exponents, ``nan``/``inf``, more decimal places than the currency has, a minus
    sign unless ``allow_negative`` (with a message saying so: never silently dropped), zero
    unless ``allow_zero``, and magnitudes above ``max_minor``.
    """
    if not isinstance(text, str):
        raise TypeError("parse_money takes text; floats are never money")
    cur = currency(currency_code)
    cleaned = text.strip().translate(_FULLWIDTH)
    for symbol in ("¥", "￥", cur.symbol, cur.code):
        if cleaned.startswith(symbol):
            cleaned = cleaned[len(symbol):].strip()
    if not cleaned:
        raise ValidationError(_("Enter an amount"), code="amount_empty")
    if cleaned.startswith("-") and not allow_negative:
        raise ValidationError(_("The amount must not be negative"), code="amount_negative")
    if "," in cleaned:
        if not _GROUPED_RE.match(cleaned):
            raise ValidationError(_("Not an amount: {text}").format(text=text.strip()[:40]), code="amount_syntax")
        cleaned = cleaned.replace(",", "")
    if not _AMOUNT_RE.match(cleaned):
        raise ValidationError(_("Not an amount: {text}").format(text=text.strip()[:40]), code="amount_syntax")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        raise ValidationError(_("Not an amount"), code="amount_syntax") from None
    frac = cleaned.split(".", 1)[1] if "." in cleaned else ""
    if len(frac.rstrip("0")) > cur.exponent:
        raise ValidationError(
            _("{currency} amounts have at most {places} decimal places").format(
                currency=cur.code, places=cur.exponent),
            code="amount_places",
        )
    if value < 0 and not allow_negative:
        raise ValidationError(_("The amount must not be negative"), code="amount_negative")
    minor = int(value.scaleb(cur.exponent))
    if minor == 0 and not allow_zero:
        raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
    if abs(minor) > max_minor:
        limit = Money(max_minor, cur.code)
        raise ValidationError(_("The amount is larger than {limit} {currency}").format(
            limit=limit.plain(), currency=cur.code), code="amount_too_large")
    return Money(minor, cur.code)


#: Full-width digits and punctuation (Chinese input methods), and the Unicode minus signs.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋\u2212\u2012\u2013\ufe63", "0123456789.,-+----")
