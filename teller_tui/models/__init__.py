"""Persistence models (SQLModel ``table=True``). They stay in the core; services hand the UI
plain read models instead of these.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from __future__ import annotations

from teller_tui.models.approvals import ApprovalRequest as ApprovalRequest, LargeValueReport as LargeValueReport
from teller_tui.models.audit import BANK_STREAM, AuditHead, AuditRecord, AuditStreamHead
from teller_tui.models.blocks import WalletBlock as WalletBlock
from teller_tui.models.consent import (
    ConsentPolicy as ConsentPolicy, ConsentRequest as ConsentRequest, PinpadPairing as PinpadPairing,
)
from teller_tui.models.cases import (  # noqa: F401
    CaseEvent, CaseLink, CrmNote, CustomerNeeds, FollowUpCall, HelpRequest, RefusedAttempt, ServiceCase,
)
from teller_tui.models.desk import CustomerNameGram
from teller_tui.models.kb import KbArticle as KbArticle
from teller_tui.models.kiosk import KioskGuard as KioskGuard
from teller_tui.models.drawers import BusinessDay, DenominationCount, Drawer, DrawerEvent  # noqa: F401
from teller_tui.models.onboarding import OnboardingDraft as OnboardingDraft
from teller_tui.models.ledger import (CashDay, Hold, JournalEntry, LedgerAccount, LedgerChainHead, LedgerHead,
                                      Posting, WalletUsageDay)
from teller_tui.models.notify import CustomerContact as CustomerContact, OutboxMessage as OutboxMessage
from teller_tui.models.risk import RiskAlert as RiskAlert, SuspiciousReport as SuspiciousReport
from teller_tui.models.people import Customer, CustomerNote, LinkedAccount, Staff, Wallet

__all__ = [
    "AuditHead", "AuditRecord", "AuditStreamHead", "BANK_STREAM", "CustomerNameGram", "Customer", "CustomerNote", "LinkedAccount", "Hold", "JournalEntry", "LedgerAccount", "LedgerChainHead", "LedgerHead",
    "CashDay", "WalletUsageDay",
    "Posting", "Staff", "Wallet",
]
