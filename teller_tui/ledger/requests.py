"""What a posting asks and what it answers: legs, entry and hold requests, their results and
balances, and the canonical form a request is hashed in (the idempotency key's fingerprint and
invariant 15's stored request). Pure values: :mod:`teller_tui.ledger.core` does the posting."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from teller_tui.common.errors import ValidationError
from teller_tui.common.money import Money, currency as currency_info
from teller_tui.ledger.accounts import CREDIT_NORMAL, AccountKind
from teller_tui.ledger.business_day import Dating

# -- requests and results ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Leg:
    """One posting: ``amount`` > 0 debits the account, < 0 credits it (minor units)."""

    account_id: int
    amount: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        _require_int(self.amount, "leg amount")
        if self.amount == 0:
            raise ValidationError("A posting cannot be zero", code="zero_leg")
        currency_info(self.currency)


def debit(account_id: int, money: Money) -> Leg:
    return Leg(account_id, money.minor, money.currency)


def credit(account_id: int, money: Money) -> Leg:
    return Leg(account_id, -money.minor, money.currency)


@dataclass(frozen=True, slots=True)
class EntryRequest:
    idempotency_key: str
    kind: str
    legs: tuple[Leg, ...]
    actor_id: int | None
    terminal_id: str
    branch_code: str
    memo: str = ""
    customer_id: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: How the ledger dates the entry when the branch has no open day (the ledger always dates
    #: entries itself: :mod:`teller_tui.ledger.business_day`). Counter services pass COUNTER.
    dating: Dating = Dating.AFTER_HOURS

    def canonical(self) -> dict[str, Any]:
        """What the idempotency check compares (everything that changes the outcome)."""
        return {
            "kind": self.kind,
            "legs": sorted([leg.account_id, leg.amount, leg.currency] for leg in self.legs),
            "actor_id": self.actor_id,
            "branch_code": self.branch_code,
            "memo": self.memo,
            "customer_id": self.customer_id,
            "meta": dict(self.meta),
        }


@dataclass(frozen=True, slots=True)
class PostedLeg:
    account_id: int
    account_code: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class EntryResult:
    entry_id: int
    seq: int
    reference: str
    kind: str
    posted_at: datetime
    business_date: date
    legs: tuple[PostedLeg, ...]
    memo: str
    customer_id: int | None
    reverses_entry_id: int | None = None
    replayed: bool = False
    #: (account id, debits posted, credits posted) of each account the entry moved, as this entry
    #: left them inside the posting transaction (empty for a replay): callers need not re-read them.
    totals: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class HoldRequest:
    idempotency_key: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: Money
    actor_id: int | None
    terminal_id: str
    expires_at: datetime | None = None
    memo: str = ""
    customer_id: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "debit": self.debit_account_id, "credit": self.credit_account_id,
            "amount": self.amount.minor, "currency": self.amount.currency, "actor_id": self.actor_id,
            "memo": self.memo, "customer_id": self.customer_id, "meta": dict(self.meta),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


@dataclass(frozen=True, slots=True)
class HoldResult:
    hold_id: int
    status: str
    amount: Money
    debit_account_id: int
    credit_account_id: int
    expires_at: datetime | None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Balance:
    account_id: int
    code: str
    kind: str
    currency: str
    status: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def posted(self) -> Money:
        """Balance on the account's normal side (credit-normal kinds are credits − debits)."""
        sign = 1 if AccountKind(self.kind) in CREDIT_NORMAL else -1
        return Money(sign * (self.credits_posted - self.debits_posted), self.currency)

    @property
    def held(self) -> Money:
        """Amount reserved by pending holds against this account's balance."""
        pending = self.debits_pending if AccountKind(self.kind) in CREDIT_NORMAL else self.credits_pending
        return Money(pending, self.currency)

    @property
    def available(self) -> Money:
        return self.posted - self.held


# -- helpers ---------------------------------------------------------------------------------
def _require_int(value: object, what: str) -> None:
    if type(value) is not int:
        raise TypeError(f"{what} must be an int of minor units, not {type(value).__name__}")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_hash(data: Any) -> str:
    return json_hash(canonical_json(data))


def json_hash(canonical: str) -> str:
    """The request hash of a request already in canonical JSON (``request_hash`` without encoding it twice)."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def _differences(stored: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(stored) | set(new) if stored.get(k) != new.get(k))


def reference_for(seq: int, business_date: date) -> str:
    """Human reference printed on receipts, e.g. ``R20261123-000001234``."""
    return f"R{business_date:%Y%m%d}-{seq:09d}"
