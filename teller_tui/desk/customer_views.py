"""Read models of the customer desk: search hits, the customer profile, wallet history.

Screens receive these (never ORM rows); labels for stored codes are marked for translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from teller_tui.common.i18n import N_
from teller_tui.common.money import Money
from teller_tui.wallets.views import WalletView

#: Labels for stored codes, marked for translation; screens show ``_(LABEL[code])``.
KYC_LABELS: dict[str, str] = {
    "in_person": N_("ID seen in person"),
    "real_name_bank": N_("real name + own bank account"),
    "real_name": N_("real name"),
    "mobile": N_("mobile number only"),
    "none": N_("not verified"),
}
RISK_LABELS: dict[str, str] = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}


# -- read models -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CustomerHit:
    customer_id: int
    customer_no: str
    full_name: str
    name_latin: str
    phone: str
    phone_masked: str
    id_number_masked: str  # "" for anonymous customers
    wallet_numbers: tuple[str, ...]
    match_kind: str  # phone | phone_tail | id_number | name | name_latin | wallet | customer_no
    exact: bool
    rank: int = 0  # 0 exact, 1 prefix, 2 substring


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str
    query_kind: str  # phone | id | digits | name | latin | wallet | too_short | empty
    results: list[CustomerHit]
    has_more: bool
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True, slots=True)
class LinkedAccountView:
    linked_id: int
    kind: str
    bank_name: str
    masked: str
    wallet_id: int | None


@dataclass(frozen=True, slots=True)
class NoteView:
    note_id: int
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    customer_id: int
    customer_no: str
    full_name: str
    name_latin: str
    phone: str
    phone_masked: str
    id_type: str | None
    id_number_masked: str
    id_expiry: date | None
    identity_status: str  # none | valid | expires_soon | expired
    birth_date: date | None
    sex: str | None
    nationality: str
    address: str
    occupation: str
    risk_level: str
    kyc_level: str
    branch_code: str
    created_at: datetime
    pin_locked: bool
    wallets: list[WalletView]
    linked_accounts: list[LinkedAccountView]
    notes: list[NoteView]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    entry_id: int
    seq: int
    reference: str
    posted_at: datetime
    business_date: date
    kind: str
    memo: str
    amount: Money  # signed: + credit to the wallet (money in), - money out
    running_balance: Money  # wallet balance right after this entry
    reversed: bool
    reversal_of: int | None  # entry id this entry reverses


@dataclass(frozen=True, slots=True)
class HistoryPage:
    wallet_id: int
    rows: list[HistoryRow]  # newest first
    next_before_seq: int | None  # pass as before_seq for the next (older) page; None = no more
