"""The double-entry ledger (the only writer of balances), its verifier and exporters."""

from teller_tui.ledger.accounts import AccountKind
from teller_tui.ledger.core import (
    Balance, EntryRequest, EntryResult, HoldRequest, HoldResult, Leg, Ledger, PostedLeg, credit, debit,
    trial_balance,
)
from teller_tui.ledger.facts import entry_fact, entry_facts
from teller_tui.ledger.kinds import EntryKind

__all__ = [
    "AccountKind", "Balance", "EntryKind", "EntryRequest", "EntryResult", "HoldRequest", "HoldResult", "Leg", "Ledger",
    "PostedLeg", "credit", "debit", "entry_fact", "entry_facts", "trial_balance",
]
