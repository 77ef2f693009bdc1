"""What the kiosk screens receive: the session handle and masked read models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from teller_tui.common.money import Money


@dataclass(frozen=True, slots=True)
class KioskSession:
    """Issued by :meth:`KioskService.sign_in`; meaningless to any other service instance."""

    token: str = field(repr=False)
    customer_id: int
    wallet_ids: tuple[int, ...]
    terminal_id: str
    kiosk_staff_id: int | None
    name_masked: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class KioskWallet:
    wallet_id: int
    number_masked: str
    tier: int
    status: str
    balance: Money
    available: Money
    per_txn_limit: Money  # the smaller of the class and kiosk limits
    left_today: Money  # what may still be sent at a kiosk today (class and kiosk daily limits)


@dataclass(frozen=True, slots=True)
class KioskAccount:
    name_masked: str
    phone_masked: str
    wallets: tuple[KioskWallet, ...]
    assisted: bool = False  # recorded needs: assistance or elderly (the kiosk guides and calls a person)


@dataclass(frozen=True, slots=True)
class KioskHistoryRow:
    reference: str
    posted_at: datetime
    kind: str  # cash_in | cash_out | transfer_in | transfer_out | reversal | ...
    amount: Money  # signed: + money in
    balance_after: Money


@dataclass(frozen=True, slots=True)
class TransferPreview:
    from_wallet_masked: str
    payee_name_masked: str
    payee_phone_masked: str
    payee_wallet_masked: str
    amount: Money
    balance_after: Money
    refusal: str | None = None
    refusal_code: str | None = None  # the refusal's code: the kiosk's F1 opens the article explaining it

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class KioskReceipt:
    reference: str
    amount: Money
    new_balance: Money
    posted_at: datetime
    receipt_text: str
    replayed: bool = False
