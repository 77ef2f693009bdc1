"""What the cash service hands the desk: previews, posting results, the wallet side of a transaction.

These are plain read models (no ORM object attached to a session) and a few constants shared by the
cash flows, the kiosk and the screens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from teller_tui.common.money import Money
from teller_tui.desk.receipts import ReceiptData
from teller_tui.ledger.kinds import EntryKind

CASH_KINDS = (EntryKind.CASH_IN, EntryKind.CASH_OUT)
REVERSIBLE_KINDS = (EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER)


def new_idempotency_key(prefix: str = "desk") -> str:
    """A fresh key; the UI makes one when a form opens and reuses it for every submit."""
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class LimitsLeft:
    """What the wallet's class still allows (``None``: no such limit, or not for this direction)."""

    today: Money | None = None  # out of the wallet today (daily and yearly limits left)
    per_payment: Money | None = None  # one payment out
    balance_room: Money | None = None  # money in, up to the balance limit


@dataclass(frozen=True, slots=True)
class Preview:
    """What the confirmation dialog shows before anything is posted."""

    kind: str  # cash_in | cash_out | transfer | reversal
    customer_name: str
    wallet_number: str
    amount: Money
    amount_words: str
    balance_before: Money
    balance_after: Money
    approval_reasons: list[str] = field(default_factory=list)
    approval_rules: list[str] = field(default_factory=list)
    refusal: str | None = None
    refusal_code: str | None = None
    counterparty_name: str = ""  # transfer: the receiving customer
    counterparty_wallet: str = ""
    customer_id: int | None = None
    wallet_id: int | None = None
    left: LimitsLeft = field(default_factory=LimitsLeft)

    @property
    def allowed(self) -> bool:
        return self.refusal is None and not self.approval_reasons


@dataclass(frozen=True, slots=True)
class TxnResult:
    reference: str
    entry_id: int
    kind: str
    amount: Money
    new_balance: Money  # of the (source) wallet after the entry
    posted_at: datetime
    business_date: date
    receipt_text: str  # 80 columns, active locale (no file: a failed print saves one)
    replayed: bool = False
    wallet_number: str = ""


@dataclass
class WalletSide:
    """One wallet of a transaction, as read inside the transaction.

    ``wallet``, ``account`` and ``customer`` are database rows: ORM objects
    (:func:`teller_tui.desk.wallet_sides.read_wallet_side`) or plain attribute objects from one
    Core select (:func:`teller_tui.desk.wallet_sides.select_wallet_side`)."""

    wallet: Any
    account: Any
    customer: Any
    #: What pending holds past their time still reserve (read paths; a writer releases them first).
    overdue_held: int = 0

    @property
    def balance(self) -> int:
        return int(self.account.credits_posted - self.account.debits_posted)

    @property
    def available(self) -> int:
        held = self.account.debits_pending - self.overdue_held
        return int(self.account.credits_posted - self.account.debits_posted - held)


@dataclass(frozen=True, slots=True)
class EntryReceipt:
    """What a receipt prints for an entry (masked) plus the unmasked number of its main wallet."""

    data: ReceiptData
    wallet_number_full: str

    @property
    def amount(self) -> Money:
        return self.data.amount

    @property
    def new_balance(self) -> Money | None:
        return self.data.new_balance
