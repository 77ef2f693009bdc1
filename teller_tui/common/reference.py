"""Shipped reference data: bank BIN prefixes and province-level regions; with cash denominations
(:mod:`teller_tui.common.denominations`) and the loader's error (:mod:`teller_tui.common.reference_files`)
re-exported, so ``from teller_tui.common.reference import make_change`` keeps working.

Everything here is read from ``data/`` (see :mod:`teller_tui.common.paths`) on first use and cached;
nothing is read at import time. Each loader takes an optional ``path`` so tests can point it at
a file of their own; a file that cannot be used raises :class:`ReferenceDataError` naming the
file and the bad entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from teller_tui.common.denominations import (COIN, KINDS, NOTE, Denomination, DenominationTable, count_total,
                                             denomination_key, denominations, make_change)
from teller_tui.common.i18n import _
from teller_tui.common.reference_files import ReferenceDataError, read_csv, reference_error, shipped_file

__all__ = [
    "COIN",
    "KINDS",
    "MAINLAND_KINDS",
    "NOTE",
    "REGION_KINDS",
    "UNKNOWN_BANK",
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
        path = path or shipped_file("banks.csv")
        origin = str(path)
        rows = read_csv(path, ("prefix", "bank_code", "name_zh", "name_en"))
        prefixes: dict[str, Bank] = {}
        banks: dict[str, Bank] = {}
        for n, row in rows:
            prefix = (row["prefix"] or "").strip()
            where = f"line {n} ({prefix or 'blank prefix'})"
            if not prefix.isdigit() or not 3 <= len(prefix) <= 9 or not prefix.isascii():
                raise reference_error(origin, where, _("prefix must be 3 to 9 digits"))
            if prefix in prefixes:
                raise reference_error(origin, where, _("prefix listed twice"))
            code = (row["bank_code"] or "").strip()
            name_zh = (row["name_zh"] or "").strip()
            name_en = (row["name_en"] or "").strip()
            if not code or not name_zh or not name_en:
                raise reference_error(origin, where, _("bank_code, name_zh and name_en are required"))
            bank = banks.setdefault(code, Bank(code, name_zh, name_en))
            if bank != Bank(code, name_zh, name_en):
                raise reference_error(origin, where, _("bank {code} is named differently elsewhere").format(code=code))
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
    for n, row in read_csv(path, ("code", "name_zh", "name_en", "kind")):
        code = (row["code"] or "").strip()
        where = f"line {n} ({code or 'blank code'})"
        if len(code) != 2 or not code.isdigit() or not code.isascii():
            raise reference_error(origin, where, _("code must be two digits"))
        if code in out:
            raise reference_error(origin, where, _("code listed twice"))
        kind = (row["kind"] or "").strip()
        if kind not in REGION_KINDS:
            raise reference_error(origin, where, _("unknown kind {kind}").format(kind=repr(kind)))
        name_zh, name_en = row["name_zh"].strip(), row["name_en"].strip()
        if not name_zh or not name_en:
            raise reference_error(origin, where, _("name_zh and name_en are required"))
        out[code] = Region(code, name_zh, name_en, kind)
    return out


@cache
def _default_regions() -> dict[str, Region]:
    return _parse_regions(shipped_file("regions.csv"))


def region_for_code(code: str) -> Region | None:
    """The province-level region of an ID number or 6-digit region code (first two digits)."""
    return _default_regions().get(code[:2])
