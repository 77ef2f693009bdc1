"""How a new customer is numbered and spelled: the customer number and the generated pinyin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from teller_tui.common.pinyin import name_pinyin

__all__ = ["customer_number", "with_pinyin"]


def customer_number(seq: int) -> str:
    """New customers' numbers: ``C`` + 9 digits (``C000000123``), the demo's format. Numbers issued
    earlier as ``C`` + 10 digits stay valid: the lookup matches ``C`` + any digits, exact or prefix."""
    return f"C{seq:09d}"


def with_pinyin(personal: Mapping[str, Any]) -> dict[str, Any]:
    """The personal section with the name's pinyin as its latin spelling when the teller left it empty
    (so the customer is found by pinyin in the lookup); pypinyin loads on the first call."""
    out = dict(personal)
    if not out.get("name_latin"):
        out["name_latin"] = name_pinyin(str(out.get("full_name") or ""))
    return out
