"""Teller cash limits per role and the large-cash threshold (data/teller_limits.toml).

Public API::

    limits = TellerLimits.load()              # built once by teller_tui.services.make_services
    role = limits.for_role(actor.role)        # -> RoleLimits (no entry: zero limits)

The approval policy (teller_tui.approvals.policy) decides what a supervisor must approve;
these numbers are what it compares a teller's cash out against.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teller_tui.common.money import Money, parse_money
from teller_tui.common.paths import data_file


@dataclass(frozen=True, slots=True)
class RoleLimits:
    cash_out_per_txn: Money | None
    cash_out_daily: Money | None


def _money_or_none(value: Any) -> Money | None:
    return None if value in (None, "", "0") else parse_money(str(value))


@dataclass(frozen=True, slots=True)
class TellerLimits:
    large_cash: Money
    roles: dict[str, RoleLimits]

    @classmethod
    def load(cls, path: Path | None = None) -> TellerLimits:
        path = path or data_file("teller_limits.toml")
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        roles = {name: RoleLimits(_money_or_none(r.get("cash_out_per_txn")), _money_or_none(r.get("cash_out_daily")))
                 for name, r in raw.get("role", {}).items()}
        threshold = _money_or_none(raw.get("large_cash", {}).get("threshold")) or Money.of("50000")
        return cls(threshold, roles)

    def for_role(self, role: str) -> RoleLimits:
        return self.roles.get(role, RoleLimits(Money(0), Money(0)))
