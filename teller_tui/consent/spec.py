"""What the customer consents to, bound to the exact request, and what the display shows of it.

Public API::

    spec = ConsentSpec(kind="cash_out", customer_id=7, wallet_id=3, wallet="6200****1234",
                       amount=Money(50000), binding=idempotency_key)
    spec.digest()      # sha256 of every field: a changed request needs a new consent
    spec.summary()     # what the customer display shows (already masked)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teller_tui.common.i18n import N_
from teller_tui.common.money import Money

__all__ = ["CONSENT_KINDS", "CREDENTIAL_KINDS", "PolicyView", "ConsentGrant", "ConsentSpec", "ConsentStatus", "ConsentTicket", "KIND_TITLES"]

#: What the display says the customer is agreeing to (translated when shown, in the customer's language).
KIND_TITLES: dict[str, str] = {
    "cash_out": N_("Cash withdrawal from your wallet"),
    "transfer": N_("Transfer from your wallet"),
    "wallet_close": N_("Close your wallet"),
    "class_change": N_("Change your wallet's class"),
    "pin_reset": N_("Choose a new wallet PIN"),
    "pin_change": N_("Change your wallet PIN"),
    "totp_enrol": N_("Set up your authenticator app"),
    "totp_remove": N_("Remove your authenticator app"),
}
CONSENT_KINDS = tuple(KIND_TITLES)
#: Requests about the customer's own credentials, each with its own step on the display (never a
#: plain "PIN, Enter" consent, never asked for through the generic request, never an ID re-check).
CREDENTIAL_KINDS: tuple[str, ...] = ("pin_reset", "pin_change", "totp_enrol", "totp_remove")


@dataclass(frozen=True, slots=True)
class ConsentSpec:
    kind: str
    customer_id: int
    wallet_id: int | None
    wallet: str = ""  # masked wallet number
    amount: Money | None = None
    payee: str = ""  # masked name and wallet of the receiving customer (transfer)
    detail: str = ""  # class change: the new class
    binding: str = ""  # the request's own key (the form's idempotency key)

    def digest(self) -> str:
        fields = [self.kind, self.customer_id, self.wallet_id, self.wallet,
                  self.amount.minor if self.amount else None, self.amount.currency if self.amount else None,
                  self.payee, self.detail, self.binding]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "wallet": self.wallet,
                "amount": self.amount.minor if self.amount else None,
                "currency": self.amount.currency if self.amount else "", "payee": self.payee, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ConsentTicket:
    """A consent request just made at the terminal."""

    request_id: int
    display_paired: bool
    pin_required: bool  # the branch policy: no ID re-check


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    request_id: int
    status: str  # pending | granted | refused | cancelled | used | done
    method: str  # pin | id_check | ""
    pin_failures: int
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentGrant:
    """A used consent, as the posting records it (entry meta, audit, receipt)."""

    consent_id: int
    method: str

    def facts(self) -> dict[str, Any]:
        return {"consent_id": self.consent_id, "consent": self.method}


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The branch's consent policy as the supervisor's screen shows it."""

    branch_code: str
    pin_required: bool
    reason: str
    set_by: str  # user name ("" when never set)
    set_at: datetime | None
