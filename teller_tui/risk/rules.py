"""The risk rules file (``data/risk_rules.toml``, effective-dated): loaded and validated here.

:meth:`RiskRules.in_force` gives, for one day, the enabled rules with their settings
(:class:`RuleConfig`); each rule's pattern is a function in :mod:`teller_tui.risk.patterns`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.paths import data_file

__all__ = ["BLOCK_MODES", "RULES", "RULE_TITLES", "RiskRules", "RuleConfig", "rule_title"]

#: Each rule id -> (whole-number settings, amount settings) it needs.
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "velocity": (("count", "minutes"), ()),
    "structuring": (("count", "days", "margin_percent"), ()),
    "rapid_in_out": (("minutes", "share_percent"), ("min_amount",)),
    "new_wallet_cash_out": (("days",), ("min_amount",)),
    "dormant_wakeup": (("days",), ("min_amount",)),
    "high_risk_customer": ((), ("min_amount",)),
    "kiosk_pin_failures": (("count", "wallets", "minutes"), ()),
    "new_device_transfer": (("hours",), ("min_amount",)),
    "watchlist": ((), ()),
}

#: ``block = ...`` in a rule: what a posting on a wallet the rule concerns meets inside its transaction.
BLOCK_MODES = ("", "refuse", "approve")

RULE_TITLES: dict[str, str] = {
    "velocity": N_("Many transactions in minutes"),
    "structuring": N_("Cash amounts just under the large-value threshold"),
    "rapid_in_out": N_("Cash in, then transferred out within minutes"),
    "new_wallet_cash_out": N_("Large cash out from a new wallet"),
    "dormant_wakeup": N_("Dormant wallet active again"),
    "high_risk_customer": N_("High-risk or politically exposed customer"),
    "kiosk_pin_failures": N_("Many failed PINs at one kiosk"),
    "new_device_transfer": N_("New device, then a large transfer out"),
    "watchlist": N_("Watch-list match"),
}


def rule_title(rule: str) -> str:
    """The translated title of a rule (the id itself if unknown)."""
    return _(RULE_TITLES[rule]) if rule in RULE_TITLES else rule


@dataclass(frozen=True, slots=True)
class RuleConfig:
    id: str
    effective_from: date
    enabled: bool = True
    kb: str = ""
    numbers: Mapping[str, int] = field(default_factory=dict)
    amounts: Mapping[str, Money] = field(default_factory=dict)
    #: In-transaction blocking (:mod:`teller_tui.risk.blocking`): "" (none), "refuse" or "approve".
    block: str = ""

    def n(self, key: str) -> int:
        return self.numbers[key]

    def amount(self, key: str) -> Money:
        return self.amounts[key]


@dataclass(frozen=True, slots=True)
class RiskRules:
    rules: tuple[RuleConfig, ...]
    lookback_days: int = 35

    @classmethod
    def load(cls, path: Path | None = None) -> RiskRules:
        path = path or data_file("risk_rules.toml")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(_("{file}: cannot read the risk rules ({error})").format(
                file=path, error=exc), code="risk_rules_file") from None
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "risk_rules.toml") -> RiskRules:
        def bad(where: str, problem: str) -> ValidationError:
            return ValidationError(_("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
                                   code="risk_rules_invalid")

        lookback = data.get("lookback_days", 35)
        if type(lookback) is not int or lookback <= 0:
            raise bad("lookback_days", _("must be a whole number of days"))
        raw_rules = data.get("rule")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise bad("[[rule]]", _("at least one rule is required"))
        out: list[RuleConfig] = []
        for i, raw in enumerate(raw_rules):
            if not isinstance(raw, dict) or raw.get("id") not in RULES:
                raise bad(f"rule #{i + 1}", _("id must be one of: {ids}").format(ids=", ".join(RULES)))
            rid = str(raw["id"])
            eff = raw.get("effective_from")
            if not isinstance(eff, date) or isinstance(eff, datetime):
                raise bad(f"rule {rid}", _("effective_from must be a date such as 2020-10-01"))
            where = f"rule {rid} ({eff.isoformat()})"
            ints, moneys = RULES[rid]
            numbers: dict[str, int] = {}
            for key in ints:
                value = raw.get(key)
                if type(value) is not int or value <= 0:
                    raise bad(where, _("{key} must be a whole number above zero").format(key=key))
                numbers[key] = value
            amounts: dict[str, Money] = {}
            for key in moneys:
                try:
                    amounts[key] = parse_money(str(raw.get(key, "")))
                except ValidationError as exc:
                    raise bad(where, f"{key}: {exc}") from None
            unknown = set(raw) - {"id", "effective_from", "enabled", "kb", "block", *ints, *moneys}
            if unknown:
                raise bad(where, _("unknown settings: {keys}").format(keys=", ".join(sorted(unknown))))
            enabled, kb = raw.get("enabled", True), raw.get("kb", "")
            if not isinstance(enabled, bool) or not isinstance(kb, str):
                raise bad(where, _("enabled must be true or false, kb an article id"))
            block = raw.get("block", "")
            if block not in BLOCK_MODES:
                raise bad(where, _("block must be \"refuse\" or \"approve\""))
            out.append(RuleConfig(rid, eff, enabled, kb, numbers, amounts, block))
        return cls(tuple(out), lookback)

    def in_force(self, on: date) -> dict[str, RuleConfig]:
        """The enabled rules on ``on``: for each id the latest entry that started by then."""
        latest: dict[str, RuleConfig] = {}
        for rule in sorted(self.rules, key=lambda r: r.effective_from):
            if rule.effective_from <= on:
                latest[rule.id] = rule
        return {rid: r for rid, r in latest.items() if r.enabled}
