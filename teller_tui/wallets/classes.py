"""Wallet tiers (classes 1-4) and their effective-dated limits (``data/wallet_tiers.toml``).

Class 1 is the strongest: opened in person at the counter with the identity document seen.
Class 2 is real-name verified remotely with a bank account in the customer's own name.
Class 3 is real-name with weaker evidence. Class 4 is anonymous, bound only to a mobile number.

Usage::

    table = TierTable.load()                    # the shipped file (cached by the caller)
    t = table.tier(2, on=date(2026, 11, 23))    # -> Tier with Money limits
    table.eligible_tiers({EVIDENCE_REAL_NAME, EVIDENCE_MOBILE}, on=today)   # -> [class 3, class 4]

Evidence is a set of the ``EVIDENCE_*`` names below. :data:`IMPLIED_EVIDENCE` closes it
first: seeing the identity document in person is also a real-name verification.

A limit the file gives as ``"unlimited"`` is ``None`` on the :class:`Tier` (no limit; format it with
:func:`teller_tui.common.formatting.format_limit`). A class may set ``min_age``: only a customer of
that age or older, with a recorded birth date, may hold it (:meth:`Tier.admits_age`; evidence and
age are separate checks, every caller that offers or opens a class makes both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.reference_files import ReferenceDataError, read_toml, shipped_file

__all__ = [
    "ALL_EVIDENCE",
    "EVIDENCE_ID_IN_PERSON",
    "EVIDENCE_MOBILE",
    "EVIDENCE_OWN_BANK_ACCOUNT",
    "EVIDENCE_REAL_NAME",
    "IMPLIED_EVIDENCE",
    "LimitSet",
    "Tier",
    "TierTable",
    "UNLIMITED",
    "close_evidence",
    "default_table",
]

#: The teller saw the customer's identity document at the counter.
EVIDENCE_ID_IN_PERSON = "identity_document_in_person"
#: The customer's real name was verified (against an identity document or a trusted source).
EVIDENCE_REAL_NAME = "real_name"
#: A bank account in the customer's own name was verified.
EVIDENCE_OWN_BANK_ACCOUNT = "own_bank_account"
#: A mobile number was verified (by a one-time code). Every wallet is bound to one.
EVIDENCE_MOBILE = "mobile"

ALL_EVIDENCE: frozenset[str] = frozenset(
    {EVIDENCE_ID_IN_PERSON, EVIDENCE_REAL_NAME, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}
)

#: Evidence that implies other evidence.
IMPLIED_EVIDENCE: Mapping[str, frozenset[str]] = {
    EVIDENCE_ID_IN_PERSON: frozenset({EVIDENCE_REAL_NAME}),
}

TIER_NUMBERS = (1, 2, 3, 4)
_AMOUNT_FIELDS = ("balance_cap", "per_txn", "daily", "yearly")
#: The word the file uses for "no limit".
UNLIMITED = "unlimited"


def close_evidence(evidence: Iterable[str]) -> frozenset[str]:
    """``evidence`` plus everything it implies. Unknown names raise ``ValidationError``."""
    given = frozenset(evidence)
    unknown = given - ALL_EVIDENCE
    if unknown:
        raise ValidationError(
            _("Unknown evidence: {names}").format(names=", ".join(sorted(unknown))), code="evidence_unknown"
        )
    out = set(given)
    for name in given:
        out |= IMPLIED_EVIDENCE.get(name, frozenset())
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Tier:
    number: int  # 1 (strongest) .. 4 (anonymous)
    name_zh: str
    name_en: str
    balance_cap: Money | None  # None: unlimited (likewise below)
    per_txn: Money | None
    daily: Money | None
    yearly: Money | None
    evidence: frozenset[str]  # every name here must be present (after close_evidence)
    max_per_person: int | None  # None: no limit
    effective_from: date  # of the limit set this tier comes from
    source: str = ""
    min_age: int | None = None  # None: no age rule

    def admits_age(self, birth_date: date | None, on: date) -> bool:
        """Whether a customer born on ``birth_date`` may hold this class on ``on``. A class with an
        age rule is never open to a customer without a recorded birth date."""
        if self.min_age is None:
            return True
        if birth_date is None:
            return False
        age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
        return age >= self.min_age

    def name(self, locale: str) -> str:
        return self.name_zh if locale.lower().startswith("zh") else self.name_en

    def allows(self, evidence: Iterable[str]) -> bool:
        """Whether the collected ``evidence`` is enough to open this tier."""
        return self.evidence <= close_evidence(evidence)


@dataclass(frozen=True, slots=True)
class LimitSet:
    effective_from: date
    source: str
    currency: str
    tiers: Mapping[int, Tier]


@dataclass(frozen=True, slots=True)
class TierTable:
    """All limit sets, oldest first."""

    limit_sets: tuple[LimitSet, ...]

    # -- loading --------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> TierTable:
        """Read and validate ``path`` (default: the shipped ``wallet_tiers.toml``)."""
        path = path or shipped_file("wallet_tiers.toml")
        return cls.from_dict(read_toml(path), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "wallet_tiers.toml") -> TierTable:
        raw_sets = data.get("limit_set")
        if not isinstance(raw_sets, list) or not raw_sets:
            raise _bad(origin, "[[limit_set]]", _("at least one limit set is required"))
        sets = [_parse_set(origin, i, raw) for i, raw in enumerate(raw_sets)]
        sets.sort(key=lambda s: s.effective_from)
        for a, b in zip(sets, sets[1:], strict=False):
            if a.effective_from == b.effective_from:
                raise _bad(origin, f"limit set {b.effective_from}", _("two limit sets start on the same day"))
        return cls(tuple(sets))

    # -- queries --------------------------------------------------------------------------
    def limit_set(self, on: date) -> LimitSet:
        """The limit set in force on ``on``."""
        found: LimitSet | None = None
        for s in self.limit_sets:
            if s.effective_from <= on:
                found = s
        if found is None:
            raise NotFound(
                _("No wallet limits are in force on {day}").format(day=on.isoformat()), code="tier_no_limits"
            )
        return found

    def tier(self, number: int, on: date) -> Tier:
        tiers = self.limit_set(on).tiers
        try:
            return tiers[number]
        except KeyError:
            raise NotFound(
                _("There is no wallet class {number}").format(number=number), code="tier_unknown"
            ) from None

    def tiers(self, on: date) -> list[Tier]:
        """Every tier in force on ``on``, class 1 first."""
        tiers = self.limit_set(on).tiers
        return [tiers[n] for n in sorted(tiers)]

    def eligible_tiers(self, evidence: Iterable[str], on: date) -> list[Tier]:
        """The tiers the collected ``evidence`` allows on ``on``, strongest (class 1) first."""
        have = close_evidence(evidence)
        return [t for t in self.tiers(on) if t.evidence <= have]

    def effective_dates(self) -> list[date]:
        return [s.effective_from for s in self.limit_sets]


# -- parsing ---------------------------------------------------------------------------------
def _bad(origin: str, where: str, problem: str) -> ReferenceDataError:
    return ReferenceDataError(
        _("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
        file=origin,
        where=where,
    )


def _parse_set(origin: str, index: int, raw: Any) -> LimitSet:
    where = f"limit set #{index + 1}"
    if not isinstance(raw, dict):
        raise _bad(origin, where, _("must be a table"))
    eff = raw.get("effective_from")
    if not isinstance(eff, date) or hasattr(eff, "hour"):
        raise _bad(origin, where, _("effective_from must be a date such as 2020-10-01"))
    where = f"limit set {eff.isoformat()}"
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise _bad(origin, where, _("source must be text"))
    currency = raw.get("currency", "CNY")
    if not isinstance(currency, str):
        raise _bad(origin, where, _("currency must be a currency code"))
    try:
        Money.zero(currency)
    except ValidationError as exc:
        raise _bad(origin, where, str(exc)) from None
    raw_tiers = raw.get("tier")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise _bad(origin, where, _("needs [[limit_set.tier]] entries"))
    tiers: dict[int, Tier] = {}
    for j, rt in enumerate(raw_tiers):
        tier = _parse_tier(origin, f"{where}, tier #{j + 1}", rt, eff, source, currency)
        if tier.number in tiers:
            raise _bad(origin, f"{where}, class {tier.number}", _("listed twice"))
        tiers[tier.number] = tier
    missing = [n for n in TIER_NUMBERS if n not in tiers]
    if missing:
        raise _bad(
            origin, where, _("classes missing: {classes}").format(classes=", ".join(str(n) for n in missing))
        )
    return LimitSet(eff, source, currency, tiers)


def _parse_tier(origin: str, where: str, raw: Any, eff: date, source: str, currency: str) -> Tier:
    if not isinstance(raw, dict):
        raise _bad(origin, where, _("must be a table"))
    number = raw.get("class")
    if type(number) is not int or number not in TIER_NUMBERS:
        raise _bad(origin, where, _("class must be 1, 2, 3 or 4"))
    where = where.rsplit(", ", 1)[0] + f", class {number}"
    names: dict[str, str] = {}
    for key in ("name_zh", "name_en"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _bad(origin, where, _("{key} is required").format(key=key))
        names[key] = value.strip()
    evidence = raw.get("evidence")
    if not isinstance(evidence, list) or not evidence or not all(isinstance(e, str) for e in evidence):
        raise _bad(origin, where, _("evidence must be a non-empty list of names"))
    unknown = sorted(set(evidence) - ALL_EVIDENCE)
    if unknown:
        raise _bad(origin, where, _("unknown evidence {names}").format(names=", ".join(unknown)))
    mpp = raw.get("max_per_person")
    if type(mpp) is not int or mpp < 0:
        raise _bad(origin, where, _("max_per_person must be a whole number, 0 for no limit"))
    min_age = raw.get("min_age")
    if min_age is not None and (type(min_age) is not int or not 0 < min_age < 130):
        raise _bad(origin, where, _("min_age must be a whole number of years"))
    amounts: dict[str, Money | None] = {}
    for key in _AMOUNT_FIELDS:
        value = raw.get(key)
        if not isinstance(value, str):
            raise _bad(origin, where, _("{key} must be a quoted amount such as \"5,000\", "
                                        "or \"unlimited\"").format(key=key))
        if value.strip().lower() == UNLIMITED:
            amounts[key] = None
            continue
        try:
            amounts[key] = parse_money(value, currency)
        except ValidationError as exc:
            raise _bad(origin, where, f"{key}: {exc}") from None
    if not _ordered(amounts["per_txn"], amounts["daily"], amounts["yearly"]):
        raise _bad(origin, where, _("limits must satisfy per_txn <= daily <= yearly"))
    if not _ordered(amounts["per_txn"], amounts["balance_cap"]):
        raise _bad(origin, where, _("per_txn must not exceed balance_cap"))
    return Tier(
        number=number,
        name_zh=names["name_zh"],
        name_en=names["name_en"],
        balance_cap=amounts["balance_cap"],
        per_txn=amounts["per_txn"],
        daily=amounts["daily"],
        yearly=amounts["yearly"],
        evidence=frozenset(evidence),
        max_per_person=mpp or None,
        effective_from=eff,
        source=source,
        min_age=min_age,
    )


def _ordered(*limits: Money | None) -> bool:
    """Whether the limits never decrease left to right (unlimited is above every amount)."""
    return all(b is None or (a is not None and a.minor <= b.minor)
               for a, b in zip(limits, limits[1:], strict=False))


@cache
def default_table() -> TierTable:
    """The shipped table, loaded once per process (for services that do not configure one)."""
    return TierTable.load()
