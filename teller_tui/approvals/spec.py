"""What exactly is to be approved: :class:`ApprovalSpec` and the request hash that binds an approval to it.

The hash covers action, amount, currency, accounts, the ledger legs, customer, subject, the (cleaned) reason,
requester, branch and the hold (what it debits and credits, its kind, memo and key), so an approval given for
one request cannot be used for another, and a hold cannot be pointed at other accounts after approval. :class:`HoldPlan` says how a
remote request holds its funds while it waits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from teller_tui.approvals.actions import action_title
from teller_tui.common.formatting import format_money
from teller_tui.common.messages import rendered_now
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.consent.spec import ConsentSpec

__all__ = ["ApprovalSpec", "HoldPlan"]


@dataclass(frozen=True, slots=True)
class HoldPlan:
    """How to hold the funds while a remote approval is pending (two accounts, one amount)."""

    debit_account_id: int
    credit_account_id: int
    kind: str  # the journal entry kind when posted (cash_out, cash_in, transfer)
    idempotency_key: str  # the form's key: the posted entry keeps it (the hold uses key + ":hold")
    memo: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalSpec:
    """Exactly what is to be approved. The hash covers action, amount, currency, accounts, legs,
    customer, subject, reason, requester, branch and hold; the rest is shown, not bound. ``reasons`` and
    ``summary`` are on the teller's screen (neutral wording); ``review`` on the supervisor's only."""

    kind: str
    requester_id: int | None
    branch_code: str
    amount: Money | None = None
    accounts: tuple[str, ...] = ()  # wallet numbers or account codes, in order (from, to)
    customer_id: int | None = None
    subject: str = ""  # e.g. "entry:42", "wallet:0012...", "staff:wang", "drawer:B001:T01"
    reason: str = ""  # the teller's memo / reason
    rules: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    summary: str = ""  # one line for the supervisor's queue
    customer_name: str = ""
    hold: HoldPlan | None = None
    legs: tuple[tuple[int, int], ...] = ()  # (ledger account id, signed minor amount) of the entry to post
    #: What the supervisor reviews (the risk or watch-list rule behind a neutral ``reasons``): shown on the
    #: supervisor's own screen (the approvals queue) only, never on the teller's, which a customer can see.
    review: tuple[str, ...] = ()
    #: A cash-out or transfer at the counter: what the customer agreed to and the consent's id. The
    #: queue (ApprovalService.request) uses the consent up when it holds the funds; the id is bound.
    consent: ConsentSpec | None = None
    consent_id: int | None = None

    def canonical(self) -> dict[str, Any]:
        bound: dict[str, Any] = {} if self.consent_id is None else {"consent_id": self.consent_id}
        return {**bound,
            "action": self.kind,
            "amount": self.amount.minor if self.amount is not None else None,
            "currency": self.amount.currency if self.amount is not None else None,
            "accounts": list(self.accounts),
            "customer_id": self.customer_id,
            "subject": self.subject,
            "reason": clean_text(self.reason, limit=200),  # the hash binds the cleaned reason
            "requester_id": self.requester_id,
            "branch": self.branch_code,
            "legs": [list(leg) for leg in self.legs],
            "hold": None if self.hold is None else {
                "debit": self.hold.debit_account_id, "credit": self.hold.credit_account_id, "kind": self.hold.kind,
                "memo": clean_text(self.hold.memo, limit=200), "key": self.hold.idempotency_key},
        }

    def request_hash(self) -> str:
        body = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()

    def display_summary(self) -> str:
        if self.summary:  # in the reader's language when it was made from a message
            return clean_text(rendered_now(self.summary), limit=200)
        parts = [action_title(self.kind)]
        if self.amount is not None:
            parts.append(format_money(self.amount))
        if self.accounts:
            parts.append(" → ".join(self.accounts))
        if self.customer_name:
            parts.append(self.customer_name)
        elif self.subject:
            parts.append(self.subject)
        return clean_text(" · ".join(parts), limit=200)
