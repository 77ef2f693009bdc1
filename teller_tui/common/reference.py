"""Shipped reference data: cash denominations, bank BIN prefixes, province-level regions.

(Slightly over 400 lines: three small tables sharing one strict loader and one error type; the
make-change search belongs with the denominations it counts.)

Everything here is read from ``data/`` (see :mod:`teller_tui.common.paths`) on first use and cached;
nothing is read at import time. Each loader takes an optional ``path`` so tests can point it at
a file of their own; a file that cannot be used raises :class:`ReferenceDataError` naming the
file and the bad entry.

Denomination keys
-----------------
A till count is a ``dict`` from denomination key to a count. A key is ``"<kind>:<value>"``
where ``kind`` is ``note`` or ``coin`` and ``value`` is the face value in major units written
without trailing zeros: ``"note:100"``, ``"note:1"``, ``"coin:1"``, ``"coin:0.5"``,
``"coin:0.1"``. The same value may exist as a note and as a coin (CNY 1 yuan), which is why the
kind is part of the key.

Why one module of this size: the three tables share one loader discipline (cached, path
overridable, :class:`ReferenceDataError` naming file and entry); each table's parser is short.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from teller_tui.common.errors import DomainError, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.paths import data_file

__all__ = [
    "Bank",
    "BankTable",
    "Denomination",
    "DenominationTable",
    "ReferenceDataError",
    "Region",
    "bank_for_card",
    "count_total",
    "denomination_key",
    "denominations",
    "load_regions",
    "make_change",
    "region_for_code",
]


class ReferenceDataError(DomainError):
    """A shipped or configured reference file is malformed (names the file and entry)."""

    code = "reference_data"


def _fail(origin: str, where: str, problem: str) -> ReferenceDataError:
    return ReferenceDataError(
        _("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
        file=origin,
        where=where,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ReferenceDataError(_("{file}: file not found").format(file=path), file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(
            _("{file}: not valid TOML ({error})").format(file=path, error=exc), file=str(path)
        ) from None


def _read_csv(path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
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


def _default(name: str) -> Path:
    return data_file(name)


# -- denominations --------------------------------------------------------------------------
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
        path = path or _default("denominations.toml")
        return cls.from_dict(_read_toml(path), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "denominations.toml") -> DenominationTable:
        currencies = data.get("currency")
        if not isinstance(currencies, list) or not currencies:
            raise _fail(origin, "[[currency]]", _("at least one currency table is required"))
        out: dict[str, tuple[Denomination, ...]] = {}
        for i, entry in enumerate(currencies):
            where = f"currency #{i + 1}"
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                raise _fail(origin, where, _("needs a currency code"))
            code = entry["code"]
            where = f"currency {code}"
            if code in out:
                raise _fail(origin, where, _("listed twice"))
            items = entry.get("denomination")
            if not isinstance(items, list) or not items:
                raise _fail(origin, where, _("needs at least one [[currency.denomination]]"))
            seen: set[str] = set()
            denoms: list[Denomination] = []
            for j, item in enumerate(items):
                dwhere = f"{where}, denomination #{j + 1}"
                if not isinstance(item, dict):
                    raise _fail(origin, dwhere, _("must be a table"))
                kind = item.get("kind")
                if kind not in KINDS:
                    raise _fail(origin, dwhere, _("kind must be 'note' or 'coin'"))
                raw = item.get("value")
                if not isinstance(raw, str):
                    raise _fail(origin, dwhere, _("value must be a quoted amount such as \"0.5\""))
                try:
                    value = parse_money(raw, code)
                except ValidationError as exc:
                    raise _fail(origin, dwhere, str(exc)) from None
                label = item.get("label")
                if not isinstance(label, str) or not label.strip():
                    raise _fail(origin, dwhere, _("needs a label"))
                label_zh = item.get("label_zh", "")
                if not isinstance(label_zh, str):
                    raise _fail(origin, dwhere, _("label_zh must be text"))
                denom = Denomination(value, kind, label, label_zh)
                if denom.key in seen:
                    raise _fail(origin, dwhere, _("{key} listed twice").format(key=denom.key))
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


# -- banks ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Bank:
    code: str  # short code, e.g. "ICBC"
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.lower().startswith("zh") else self.name_en


UNKNOWN_BANK = Bank("unknown", "未知银行", "unknown")


@dataclass(frozen=True, slots=True)
class BankTable:
    """Card BIN prefixes -> issuing bank, matched longest prefix first."""

    prefixes: Mapping[str, Bank]

    @classmethod
    def load(cls, path: Path | None = None) -> BankTable:
        path = path or _default("banks.csv")
        origin = str(path)
        rows = _read_csv(path, ("prefix", "bank_code", "name_zh", "name_en"))
        prefixes: dict[str, Bank] = {}
        banks: dict[str, Bank] = {}
        for n, row in rows:
            prefix = (row["prefix"] or "").strip()
            where = f"line {n} ({prefix or 'blank prefix'})"
            if not prefix.isdigit() or not 3 <= len(prefix) <= 9 or not prefix.isascii():
                raise _fail(origin, where, _("prefix must be 3 to 9 digits"))
            if prefix in prefixes:
                raise _fail(origin, where, _("prefix listed twice"))
            code = (row["bank_code"] or "").strip()
            name_zh = (row["name_zh"] or "").strip()
            name_en = (row["name_en"] or "").strip()
            if not code or not name_zh or not name_en:
                raise _fail(origin, where, _("bank_code, name_zh and name_en are required"))
            bank = banks.setdefault(code, Bank(code, name_zh, name_en))
            if bank != Bank(code, name_zh, name_en):
                raise _fail(origin, where, _("bank {code} is named differently elsewhere").format(code=code))
            prefixes[prefix] = bank
        return cls(prefixes)

    def lookup(self, number: str) -> tuple[str, Bank] | None:
        """``(matched_prefix, bank)`` for a card number, or ``None`` when no prefix matches."""
        for length in range(min(9, len(number)), 2, -1):
            bank = self.prefixes.get(number[:length])
            if bank is not None:
                return number[:length], bank
        return None

    def banks(self) -> list[Bank]:
        """Every bank in the table once, by code."""
        return sorted(set(self.prefixes.values()), key=lambda b: b.code)


@cache
def _default_banks() -> BankTable:
    return BankTable.load()


def bank_for_card(number: str, table: BankTable | None = None) -> tuple[str, Bank] | None:
    """Look up a (digits-only) card number's issuing bank in the shipped BIN table."""
    return (table or _default_banks()).lookup(number)


# -- regions --------------------------------------------------------------------------------
#: Region kinds in data/regions.csv. Mainland kinds may begin a resident ID number.
MAINLAND_KINDS = frozenset({"province", "municipality", "autonomous_region"})
REGION_KINDS = MAINLAND_KINDS | {"sar", "taiwan", "permit"}


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # two digits (GB/T 2260 province level)
    name_zh: str
    name_en: str
    kind: str  # province | municipality | autonomous_region | sar | taiwan | permit

    def name(self, locale: str) -> str:
        return self.name_zh if locale.lower().startswith("zh") else self.name_en


def load_regions(path: Path | None = None) -> dict[str, Region]:
    """Province-level regions by two-digit code (``data/regions.csv``)."""
    if path is None:
        return dict(_default_regions())
    return _parse_regions(path)


def _parse_regions(path: Path) -> dict[str, Region]:
    origin = str(path)
    out: dict[str, Region] = {}
    for n, row in _read_csv(path, ("code", "name_zh", "name_en", "kind")):
        code = (row["code"] or "").strip()
        where = f"line {n} ({code or 'blank code'})"
        if len(code) != 2 or not code.isdigit() or not code.isascii():
            raise _fail(origin, where, _("code must be two digits"))
        if code in out:
            raise _fail(origin, where, _("code listed twice"))
        kind = (row["kind"] or "").strip()
        if kind not in REGION_KINDS:
            raise _fail(origin, where, _("unknown kind {kind}").format(kind=repr(kind)))
        name_zh, name_en = row["name_zh"].strip(), row["name_en"].strip()
        if not name_zh or not name_en:
            raise _fail(origin, where, _("name_zh and name_en are required"))
        out[code] = Region(code, name_zh, name_en, kind)
    return out


@cache
def _default_regions() -> dict[str, Region]:
    return _parse_regions(_default("regions.csv"))


def region_for_code(code: str) -> Region | None:
    """The province-level region of an ID number or 6-digit region code (first two digits)."""
    return _default_regions().get(code[:2])
