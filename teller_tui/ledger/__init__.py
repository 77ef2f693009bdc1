"""The double-entry ledger (the only writer of balances), its verifier and exporters."""

from .accounts import AccountKind
from .core import (
    Balance, EntryRequest, EntryResult, HoldRequest, HoldResult, Leg, Ledger, PostedLeg, credit, debit,
    trial_balance,
)

__all__ = [
    "AccountKind", "Balance", "EntryRequest", "EntryResult", "HoldRequest", "HoldResult", "Leg", "Ledger",
    "PostedLeg", "credit", "debit", "trial_balance",
]
