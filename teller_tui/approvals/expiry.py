"""Requests past their time expire with their holds (RELIABILITY invariant 17).

Nobody has to look at an expired request for its funds to come back:

* :meth:`ApprovalService.get` expires a request past its time when it is read (the teller's
  waiting screen polls it);
* :meth:`ApprovalService.release_overdue` does it inside a writer's transaction for the
  accounts it is about to judge or count (the desk's funds checks, the drawer count);
* :meth:`ApprovalService.expire_sweep` does it for every request: every running app calls it
  periodically (any role), and ``teller approvals sweep`` / ``teller maintenance run`` from cron.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.records import OPEN_STATUSES, lock_request
from teller_tui.approvals.scopes import request_keys
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import Role
from teller_tui.db.scopes import require_keys
from teller_tui.ledger import Ledger
from teller_tui.models import ApprovalRequest, Hold
from teller_tui.models.enums import ApprovalStatus, HoldStatus

__all__ = ["expire_request", "expire_requests", "overdue_requests"]


def overdue_requests(s: Session, now: datetime, *, account_ids: Sequence[int] | None = None,
                     limit: int | None = None) -> list[int]:
    """Ids of open requests past their time (only those holding funds on ``account_ids`` if given)."""
    stmt = select(col(ApprovalRequest.id)).where(col(ApprovalRequest.status).in_(OPEN_STATUSES),
                                                 col(ApprovalRequest.expires_at) <= now)
    if account_ids is not None:
        stmt = stmt.join(Hold, col(Hold.id) == col(ApprovalRequest.hold_id)).where(
            col(Hold.debit_account_id).in_(account_ids) | col(Hold.credit_account_id).in_(account_ids))
    stmt = stmt.order_by(col(ApprovalRequest.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [i for i in s.execute(stmt).scalars() if i is not None]


def expire_request(s: Session, ledger: Ledger, audit: AuditTrail, terminal_id: str, row: ApprovalRequest,
                   now: datetime) -> None:
    """Mark ``row`` expired and release its hold (expired, not voided), audited as the system."""
    row.status = ApprovalStatus.EXPIRED
    row.decided_at = row.decided_at or now
    if row.hold_id is not None and ledger.hold_status(s, row.hold_id).status == HoldStatus.PENDING:
        # This request's hold only (it expires at the same moment as the request: released as
        # expired), and only with the keys of its accounts (db/scopes.py: inside a posting that
        # found it overdue they may be another branch's drawer or another customer's wallet).
        assert row.id is not None
        require_keys(s, request_keys(s, [row.id]))
        ledger.void_hold(s, row.hold_id)
    actor = Actor(None, "system:approvals", terminal_id, Role.SYSTEM, row.branch_code)
    audit.append(s, actor, "approval_expire", subject=f"approval:{row.id}",
                 detail={"kind": row.kind, "hold_id": row.hold_id})


def expire_requests(s: Session, ledger: Ledger, audit: AuditTrail, terminal_id: str, ids: Sequence[int],
                    now: datetime) -> list[int]:
    """Lock each request and expire it if it is still open and past its time; the ids expired."""
    done = []
    for request_id in ids:
        row = lock_request(s, request_id)
        if row.status in OPEN_STATUSES and row.expires_at <= now:
            expire_request(s, ledger, audit, terminal_id, row, now)
            done.append(request_id)
    return done
