"""The onboarding wizard's steps, the choices it offers, and the blank ``data`` it starts from.

The wizard collects a JSON-able ``data`` dict with one section per step (:data:`STEPS`); every
value is the text or flag the teller entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from teller_tui.common.i18n import N_

__all__ = [
    "DOC_NONE",
    "EXPLANATIONS",
    "INPUT_STEPS",
    "MONTHLY_BANDS",
    "PURPOSES",
    "SEXES",
    "STEPS",
    "STEP_TITLES",
    "blank_data",
    "section",
]

STEPS: tuple[str, ...] = ("identity", "personal", "contact", "risk", "tier", "funding", "security",
                          "explanations", "review", "issue", "welcome")
#: Steps whose input is validated (the last two are the issuance itself and its result).
INPUT_STEPS: tuple[str, ...] = STEPS[:-2]
STEP_TITLES: dict[str, str] = {
    "identity": N_("Identity document"),
    "personal": N_("Personal details"),
    "contact": N_("Contact"),
    "risk": N_("Risk and needs"),
    "tier": N_("Wallet class"),
    "funding": N_("Funding source"),
    "security": N_("Security"),
    "explanations": N_("Explanations given"),
    "review": N_("Review and consent"),
    "issue": N_("Issue"),
    "welcome": N_("Welcome sheet"),
}
DOC_NONE = "none"  # anonymous class 4 wallet: no identity document
EXPLANATIONS: dict[str, str] = {
    "setup": N_("How the wallet was set up and what its class allows"),
    "top_up": N_("How to top up (cash at the counter, linked card or account)"),
    "withdrawal": N_("How to withdraw and what the limits are"),
    "security": N_("Keeping the PIN and phone safe; freezing a lost wallet"),
    "help": N_("Where to get help (hotline, branch)"),
}
PURPOSES: dict[str, str] = {
    "payments": N_("Everyday payments"),
    "salary": N_("Receiving salary or benefits"),
    "savings": N_("Keeping money aside"),
    "business": N_("Small business takings"),
}
MONTHLY_BANDS: dict[str, str] = {
    "low": N_("Under 5,000 a month"),
    "mid": N_("5,000 to 50,000 a month"),
    "high": N_("Over 50,000 a month"),
}
SEXES = ("M", "F")


def blank_data() -> dict[str, dict[str, Any]]:
    """Empty sections with the defaults the wizard starts from."""
    return {
        "identity": {"doc_type": "prc_id", "number": "", "expiry": "", "country": "CHN", "in_person": False},
        "personal": {"full_name": "", "name_latin": "", "birth_date": "", "sex": "", "nationality": "CHN",
                     "address": "", "occupation": ""},
        "contact": {"phone": "", "phone_confirmed": False},
        "risk": {"purpose": "payments", "monthly": "low", "pep": False},
        "tier": {"tier": None},
        "funding": {"kind": "none", "number": "", "bank_name": "", "holder_name": ""},
        "security": {"pin_set": False, "totp": False, "totp_confirmed": False},
        "explanations": {key: False for key in EXPLANATIONS},
        "review": {"consent": False},
    }


def section(data: Mapping[str, Any], step: str) -> dict[str, Any]:
    """A copy of ``data[step]`` (an empty dict when missing or not a mapping)."""
    value = data.get(step) or {}
    return dict(value) if isinstance(value, Mapping) else {}
