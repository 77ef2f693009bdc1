"""The closed sets of values stored in string columns: one ``StrEnum`` per concept.

Members compare equal to the stored strings (``WalletStatus.FROZEN == "frozen"``), so code that
still writes plain strings keeps working, and the columns keep storing strings. The CHECK
constraints on the tables (and the migrations that created them) list the same values; a test
keeps them in step (``tests/test_enums.py``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AccountStatus",
    "ApprovalMode",
    "ApprovalStatus",
    "BusinessDayStatus",
    "CashDirection",
    "DrawerEventKind",
    "DrawerStatus",
    "HoldStatus",
    "LinkedAccountKind",
    "WalletStatus",
]


class AccountStatus(StrEnum):
    """``ledger_account.status``: a frozen or closed account takes no postings."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class WalletStatus(StrEnum):
    """``wallet.status``."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class HoldStatus(StrEnum):
    """``hold.status``: a pending hold reserves money until it is posted, voided or expires."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class ApprovalStatus(StrEnum):
    """``approval_request.status``."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CONSUMED = "consumed"  # approved and used by the operation it was for


class ApprovalMode(StrEnum):
    """``approval_request.mode``: a supervisor at the counter, or from the queue."""

    COUNTER = "counter"
    REMOTE = "remote"


class CashDirection(StrEnum):
    """``large_value_report.direction``: cash into or out of the bank."""

    IN = "in"
    OUT = "out"


class BusinessDayStatus(StrEnum):
    """``business_day.status``."""

    OPEN = "open"
    CLOSED = "closed"


class DrawerStatus(StrEnum):
    """``drawer.status``: open, counting (blind count entered, not yet closed), closed."""

    OPEN = "open"
    COUNTING = "counting"
    CLOSED = "closed"


class DrawerEventKind(StrEnum):
    """``drawer_event.kind``: what moved cash pieces into, out of or between drawer and vault."""

    OPEN_FLOAT = "open_float"  # vault -> drawer when the drawer opens
    VAULT_TO_DRAWER = "vault_to_drawer"
    DRAWER_TO_VAULT = "drawer_to_vault"
    CASH_IN = "cash_in"  # a customer's cash into the drawer
    CASH_OUT = "cash_out"
    BLIND_COUNT = "blind_count"
    CLOSE_RETURN = "close_return"  # drawer -> vault when the drawer closes
    VAULT_RECEIVE = "vault_receive"  # cash brought into the branch
    VAULT_COUNT = "vault_count"
    BREAK_START = "break_start"  # the teller stepped away: the drawer takes no cash until they return
    BREAK_END = "break_end"  # back, re-authenticated with password and a fresh code
    HANDOVER_OFFER = "handover_offer"  # the giver names the receiver (memo): the drawer takes no cash
    HANDOVER_CANCEL = "handover_cancel"  # the giver withdrew the offer
    HANDOVER_OUT = "handover_out"  # the counted cash leaves the giver's drawer for the receiver's
    HANDOVER_IN = "handover_in"  # ... and opens the receiver's drawer


class LinkedAccountKind(StrEnum):
    """``linked_account.kind``: a bank card or a bank account linked to a wallet."""

    CARD = "card"
    ACCOUNT = "account"
