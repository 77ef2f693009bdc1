"""The kiosk's own limits (data/kiosk.toml): per transfer, per day, wrong-PIN tries, statement rows.

Public API::

    limits = KioskLimits.load()        # built once by teller_tui.services.make_services

A kiosk transfer must also fit the wallet's class limits; the smaller applies.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from teller_tui.common.errors import ValidationError
from teller_tui.common.money import Money, parse_money
from teller_tui.common.paths import data_file


@dataclass(frozen=True, slots=True)
class KioskLimits:
    per_txn: Money
    daily: Money
    pin_attempts: int = 5
    history_rows: int = 20

    @classmethod
    def load(cls, path: Path | None = None) -> KioskLimits:
        path = path or data_file("kiosk.toml")
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        currency = str(raw.get("currency", "CNY"))
        per_txn = parse_money(str(raw["per_transaction"]), currency)
        daily = parse_money(str(raw["daily"]), currency)
        attempts = int(raw.get("pin_attempts", 5))
        rows = int(raw.get("history_rows", 20))
        if per_txn > daily:
            raise ValidationError(f"{path.name}: per_transaction is above daily", code="kiosk_limits")
        if not 1 <= attempts <= 10 or not 1 <= rows <= 200:
            raise ValidationError(f"{path.name}: pin_attempts 1-10, history_rows 1-200", code="kiosk_limits")
        return cls(per_txn, daily, attempts, rows)
