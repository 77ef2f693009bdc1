"""Carrying out an approved remote request: its hold is posted (split from :mod:`teller_tui.approvals.service`).

The supervisor decides; the teller may be gone. The hold becomes one ledger entry at the request's
branch under the request's own idempotency key, the customer is told in the same transaction (as
at the counter), and large-value cash is reported. The request ends ``consumed`` with the entry.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from teller_tui.approvals.holds import check_hold_row
from teller_tui.approvals.large_value import record_large_value
from teller_tui.approvals.policy import LARGE_CASH_RULE
from teller_tui.approvals.records import Grant, json_rules, request_notes, staff_actor
from teller_tui.audit.trail import AuditTrail
from teller_tui.common.money import Money
from teller_tui.ledger import EntryResult, Ledger
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.kinds import CASH_ENTRY_KINDS, EntryKind
from teller_tui.models import ApprovalRequest
from teller_tui.models.enums import ApprovalStatus
from teller_tui.notify.outbox import Outbox
from teller_tui.notify.postings import notify_entry

__all__ = ["post_request_hold"]


def post_request_hold(s: Session, ledger: Ledger, outbox: Outbox, audit: AuditTrail, row: ApprovalRequest,
                      hold_id: int, now: datetime) -> EntryResult:
    """Post the hold of the approved request ``row`` (locked) and report it if it is large-value cash."""
    check_hold_row(s, row, hold_id)
    notes = request_notes(row)
    key = notes.get("entry_key") or f"approval:{row.id}"
    # An automatic posting (the supervisor decides, the teller may be gone): dated by the open
    # business day, after the close by the next one (teller_tui.ledger.business_day).
    result = ledger.post_hold(s, hold_id, idempotency_key=key, actor_id=row.requester_id,
                              terminal_id=row.terminal, branch_code=row.branch_code, dating=Dating.AFTER_HOURS)
    row.status = ApprovalStatus.CONSUMED
    row.consumed_at = now
    row.entry_id = result.entry_id
    notify_entry(s, outbox, result)  # the customer is told in the posting's transaction, like at the counter
    rules = json_rules(row.rules_json)
    direction = CASH_ENTRY_KINDS.get(EntryKind(row.kind)) if row.kind in CASH_ENTRY_KINDS else None
    customer_id = json.loads(row.request_json)["request"].get("customer_id")
    if LARGE_CASH_RULE in rules and direction and customer_id is not None:
        assert row.id is not None
        teller = staff_actor(s, row.requester_id, row.terminal, row.branch_code)
        grant = Grant(row.id, row.approver_id, rules, notes.get("source_of_funds", ""), notes.get("purpose", ""))
        leg = next(leg for leg in result.legs if leg.amount > 0)
        record_large_value(s, audit, now=now, customer_id=customer_id, direction=direction,
                           amount=Money(leg.amount, leg.currency), teller=teller, reference=result.reference,
                           entry_id=result.entry_id, txn_at=result.posted_at, business_date=result.business_date,
                           grant=grant)
    return result
