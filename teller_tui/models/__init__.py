"""Persistence models (SQLModel ``table=True``). They stay in the core; services hand the UI
plain read models instead of these.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from __future__ import annotations

from .approvals import ApprovalRequest as ApprovalRequest, LargeValueReport as LargeValueReport
from .audit import AuditHead, AuditRecord
from .desk import CustomerNameGram
from .drawers import BusinessDay, DenominationCount, Drawer, DrawerEvent  # noqa: F401
from .onboarding import OnboardingDraft as OnboardingDraft
from .ledger import Hold, JournalEntry, LedgerAccount, LedgerHead, Posting
from .people import Customer, CustomerNote, LinkedAccount, Staff, Wallet

__all__ = [
    "AuditHead", "AuditRecord", "CustomerNameGram", "Customer", "CustomerNote", "LinkedAccount", "Hold", "JournalEntry", "LedgerAccount", "LedgerHead",
    "Posting", "Staff", "Wallet",
]
