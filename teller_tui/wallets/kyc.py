"""KYC levels: the short summary of a customer's evidence stored in ``Customer.kyc_level``.

Onboarding stores the level of the evidence it collected; a class change reads it back as the
evidence the customer showed before (:func:`evidence_from_kyc`) and raises it when new evidence
is stronger (:func:`evidence_rank`).
"""

from __future__ import annotations

from teller_tui.wallets.classes import (
    EVIDENCE_ID_IN_PERSON,
    EVIDENCE_MOBILE,
    EVIDENCE_OWN_BANK_ACCOUNT,
    EVIDENCE_REAL_NAME,
)

__all__ = ["KYC_LEVELS", "evidence_from_kyc", "evidence_rank", "kyc_level"]

#: Each level and the evidence it stands for, weakest first.
KYC_LEVELS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "mobile": frozenset({EVIDENCE_MOBILE}),
    "real_name": frozenset({EVIDENCE_REAL_NAME, EVIDENCE_MOBILE}),
    "real_name_bank": frozenset({EVIDENCE_REAL_NAME, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}),
    "in_person": frozenset({EVIDENCE_ID_IN_PERSON, EVIDENCE_REAL_NAME, EVIDENCE_MOBILE}),
}
_RANK = {level: rank for rank, level in enumerate(KYC_LEVELS)}


def kyc_level(evidence: frozenset[str]) -> str:
    """A short summary of the evidence for ``Customer.kyc_level``."""
    if EVIDENCE_ID_IN_PERSON in evidence:
        return "in_person"
    if EVIDENCE_REAL_NAME in evidence and EVIDENCE_OWN_BANK_ACCOUNT in evidence:
        return "real_name_bank"
    if EVIDENCE_REAL_NAME in evidence:
        return "real_name"
    return "mobile" if EVIDENCE_MOBILE in evidence else "none"


def evidence_from_kyc(level: str) -> frozenset[str]:
    """The inverse of :func:`kyc_level` (what a stored customer is known to have shown)."""
    return KYC_LEVELS.get(level, frozenset())


def evidence_rank(level: str) -> int:
    """How strong a level is (0 for an unknown one), to keep the stronger of two."""
    return _RANK.get(level, 0)
