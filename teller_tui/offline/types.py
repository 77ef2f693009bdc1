"""What the offline queue holds and what :class:`~teller_tui.offline.service.OfflineService` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from teller_tui.audit.trail import Actor
from teller_tui.common.money import Money

__all__ = ["CachedWallet", "Caps", "ItemStatus", "OfflineContext", "OfflineItem", "OfflineReceipt", "QueueSummary",
           "UploadReport"]


class ItemStatus(StrEnum):
    QUEUED = "queued"          # taken offline, not yet in the central books
    POSTED = "posted"          # uploaded: a cash_in entry exists under the item's key
    EXCEPTION = "exception"    # the central books refused it: a supervisor decides (the cash is in the drawer)
    REFUNDED = "refunded"      # a supervisor had the cash handed back to the customer: never posted
    RESOLVING = "resolving"    # an exception a supervisor has claimed (refund or post under way)


#: Items whose cash is in the drawer but not in the books.
UNPOSTED = (ItemStatus.QUEUED, ItemStatus.EXCEPTION, ItemStatus.RESOLVING)


@dataclass(frozen=True, slots=True)
class Caps:
    """How much cash one terminal may take offline (minor units; 0 turns offline cash-in off)."""

    per_wallet: int
    per_teller: int
    per_outage: int


@dataclass(frozen=True, slots=True)
class CachedWallet:
    """A wallet this terminal saw while the database answered (the customer screen or a cash form)."""

    wallet_id: int
    number: str
    customer_name: str
    currency: str
    status: str
    blocked: bool
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class OfflineContext:
    """What this terminal last knew of a teller's day while the database answered."""

    staff_id: int
    business_date: date | None
    drawer_open: bool
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class OfflineItem:
    key: str                 # the idempotency key the upload posts under ("offline-<uuid hex>")
    reference: str           # OFFLINE-<terminal>-<8 hex>: on the customer's receipt
    taker: Actor             # the teller who took the cash (the upload posts as them)
    wallet_id: int
    wallet_number: str
    customer_name: str
    amount: Money
    memo: str
    taken_at: datetime
    business_date: date      # the business day the cash was taken on (the open day last seen)
    status: ItemStatus
    entry_reference: str = ""  # the posted entry (status posted)
    reason_code: str = ""      # why the central books refused it (status exception)
    reason: str = ""
    resolved_by: str = ""      # the supervisor who refunded or posted it
    seq: int = 0               # this terminal's sequence number (on the receipt; gaps show deleted items)
    outage_since: datetime | None = None  # the terminal's last contact with the database before it was taken


@dataclass(frozen=True, slots=True)
class OfflineReceipt:
    item: OfflineItem
    text: str                # the receipt, marked "pending confirmation"
    path: Path | None


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """The banner's figures: items not yet in the books at this terminal."""

    queued: int = 0
    exceptions: int = 0
    amounts: dict[str, Money] = field(default_factory=dict)  # currency -> total of queued + exceptions

    @property
    def empty(self) -> bool:
        return not self.queued and not self.exceptions


@dataclass(frozen=True, slots=True)
class UploadReport:
    posted: list[OfflineItem] = field(default_factory=list)
    exceptions: list[OfflineItem] = field(default_factory=list)
    left: int = 0            # still queued (the database went away again mid-way)
