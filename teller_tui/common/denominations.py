"""Cash denominations (``data/denominations.toml``): the pieces of each currency, the value of a till
count, and the make-change search over them.

Denomination keys
-----------------
A till count is a ``dict`` from denomination key to a count. A key is ``"<kind>:<value>"``
where ``kind`` is ``note`` or ``coin`` and ``value`` is the face value in major units written
without trailing zeros: ``"note:100"``, ``"note:1"``, ``"coin:1"``, ``"coin:0.5"``,
``"coin:0.1"``. The same value may exist as a note and as a coin (CNY 1 yuan), which is why the
kind is part of the key.

Read on first use and cached; :meth:`DenominationTable.load` takes a ``path`` for tests. Re-exported
by :mod:`teller_tui.common.reference`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.reference_files import read_toml, reference_error, shipped_file

__all__ = ["COIN", "KINDS", "NOTE", "Denomination", "DenominationTable", "count_total", "denomination_key",
           "denominations", "make_change"]

NOTE = "note"
COIN = "coin"
KINDS = (NOTE, COIN)


def denomination_key(kind: str, value: Money) -> str:
    """``("coin", Money(50, "CNY"))`` -> ``"coin:0.5"``."""
    text = format(value.decimal.normalize(), "f")
    return f"{kind}:{text}"


@dataclass(frozen=True, slots=True)
class Denomination:
    value: Money
    kind: str  # "note" | "coin"
    label: str  # English label, e.g. "100 yuan note"
    label_zh: str = ""

    @property
    def key(self) -> str:
        return denomination_key(self.kind, self.value)

    def label_for(self, locale: str) -> str:
        """The label in ``locale`` (``zh_CN`` uses ``label_zh`` when the file has one)."""
        if locale.lower().startswith("zh") and self.label_zh:
            return self.label_zh
        return self.label


@dataclass(frozen=True, slots=True)
class DenominationTable:
    """Denominations per currency, largest value first (notes before coins of equal value)."""

    by_currency: Mapping[str, tuple[Denomination, ...]]

    @classmethod
    def load(cls, path: Path | None = None) -> DenominationTable:
        path = path or shipped_file("denominations.toml")
        return cls.from_dict(read_toml(path), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "denominations.toml") -> DenominationTable:
        currencies = data.get("currency")
        if not isinstance(currencies, list) or not currencies:
            raise reference_error(origin, "[[currency]]", _("at least one currency table is required"))
        out: dict[str, tuple[Denomination, ...]] = {}
        for i, entry in enumerate(currencies):
            where = f"currency #{i + 1}"
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                raise reference_error(origin, where, _("needs a currency code"))
            code = entry["code"]
            where = f"currency {code}"
            if code in out:
                raise reference_error(origin, where, _("listed twice"))
            items = entry.get("denomination")
            if not isinstance(items, list) or not items:
                raise reference_error(origin, where, _("needs at least one [[currency.denomination]]"))
            seen: set[str] = set()
            denoms: list[Denomination] = []
            for j, item in enumerate(items):
                dwhere = f"{where}, denomination #{j + 1}"
                if not isinstance(item, dict):
                    raise reference_error(origin, dwhere, _("must be a table"))
                kind = item.get("kind")
                if kind not in KINDS:
                    raise reference_error(origin, dwhere, _("kind must be 'note' or 'coin'"))
                raw = item.get("value")
                if not isinstance(raw, str):
                    raise reference_error(origin, dwhere, _("value must be a quoted amount such as \"0.5\""))
                try:
                    value = parse_money(raw, code)
                except ValidationError as exc:
                    raise reference_error(origin, dwhere, str(exc)) from None
                label = item.get("label")
                if not isinstance(label, str) or not label.strip():
                    raise reference_error(origin, dwhere, _("needs a label"))
                label_zh = item.get("label_zh", "")
                if not isinstance(label_zh, str):
                    raise reference_error(origin, dwhere, _("label_zh must be text"))
                denom = Denomination(value, kind, label, label_zh)
                if denom.key in seen:
                    raise reference_error(origin, dwhere, _("{key} listed twice").format(key=denom.key))
                seen.add(denom.key)
                denoms.append(denom)
            denoms.sort(key=lambda d: (-d.value.minor, KINDS.index(d.kind)))
            out[code] = tuple(denoms)
        return cls(out)

    def for_currency(self, currency_code: str = "CNY") -> tuple[Denomination, ...]:
        try:
            return self.by_currency[currency_code]
        except KeyError:
            raise ValidationError(
                _("No denominations are configured for {currency}").format(currency=currency_code),
                code="denomination_currency",
            ) from None

    def by_key(self, currency_code: str = "CNY") -> dict[str, Denomination]:
        return {d.key: d for d in self.for_currency(currency_code)}


@cache
def _default_denominations() -> DenominationTable:
    return DenominationTable.load()


def denominations(currency_code: str = "CNY", table: DenominationTable | None = None) -> tuple[Denomination, ...]:
    """The denominations of ``currency_code``, largest first."""
    return (table or _default_denominations()).for_currency(currency_code)


def count_total(
    counts: Mapping[str, int], currency_code: str = "CNY", *, table: DenominationTable | None = None
) -> Money:
    """Total value of a cash count such as ``{"note:100": 3, "coin:0.5": 2}`` (= 301.00).

    Refuses unknown keys, counts that are not whole numbers, and negative counts.
    """
    known = (table or _default_denominations()).by_key(currency_code)
    total = 0
    for key, count in counts.items():
        denom = known.get(key)
        if denom is None:
            raise ValidationError(
                _("Unknown denomination {key} for {currency}").format(key=repr(key)[:30], currency=currency_code),
                code="denomination_unknown",
            )
        if type(count) is not int:
            raise ValidationError(
                _("The count of {label} must be a whole number").format(label=denom.label),
                code="denomination_count",
            )
        if count < 0:
            raise ValidationError(
                _("The count of {label} must not be negative").format(label=denom.label),
                code="denomination_negative",
            )
        total += denom.value.minor * count
    return Money(total, currency_code)


def make_change(
    amount: Money,
    available: Mapping[str, int] | None = None,
    *,
    table: DenominationTable | None = None,
) -> dict[str, int]:
    """Pieces that make up ``amount`` exactly, fewest large pieces first.

    ``available`` (same keys as :func:`count_total`) caps how many of each piece may be used;
    without it the supply is unlimited. Raises ``ValidationError(code="change_impossible")``
    when the amount cannot be made from what is available. The result omits zero counts.
    """
    if amount.minor < 0:
        raise ValidationError(_("The amount must not be negative"), code="amount_negative")
    denoms = (table or _default_denominations()).for_currency(amount.currency)
    if available is not None:
        count_total(available, amount.currency, table=table)  # validates keys and counts
    caps = [
        (d.key, d.value.minor, (available or {}).get(d.key, 0) if available is not None else None)
        for d in denoms
    ]
    # Capacity of the pieces from index i on (None = unlimited), for pruning.
    suffix: list[int | None] = [0] * (len(caps) + 1)
    for i in range(len(caps) - 1, -1, -1):
        _key, value, cap = caps[i]
        rest = suffix[i + 1]
        suffix[i] = None if cap is None or rest is None else rest + value * cap

    # No combination of pieces can make an amount that is not a multiple of their common
    # divisor (e.g. a single fen from notes and 0.1 coins): refuse at once instead of
    # searching every combination.
    step = 0
    for _key, value, cap in caps:
        if cap != 0:
            step = math.gcd(step, value)
    if amount.minor and (step == 0 or amount.minor % step):
        raise ValidationError(
            _("{amount} cannot be made up from the cash available").format(amount=amount.plain()),
            code="change_impossible",
        )

    failed: set[tuple[int, int]] = set()

    def solve(i: int, remaining: int) -> list[int] | None:
        if remaining == 0:
            return [0] * (len(caps) - i)
        if i == len(caps) or (i, remaining) in failed:
            return None
        capacity = suffix[i]
        if capacity is not None and capacity < remaining:
            failed.add((i, remaining))
            return None
        _key, value, cap = caps[i]
        most = remaining // value if cap is None else min(cap, remaining // value)
        for n in range(most, -1, -1):
            rest = solve(i + 1, remaining - n * value)
            if rest is not None:
                return [n, *rest]
        failed.add((i, remaining))
        return None

    found = solve(0, amount.minor)
    if found is None:
        raise ValidationError(
            _("{amount} cannot be made up from the cash available").format(amount=amount.plain()),
            code="change_impossible",
        )
    return {key: n for (key, _v, _c), n in zip(caps, found, strict=True) if n}
