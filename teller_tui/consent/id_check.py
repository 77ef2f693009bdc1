"""The teller's ID check before a customer's credentials change without the customer's PIN (the PIN
reset, an authenticator removed for a lost phone), and the supervisor's approval it also needs.

Public API::

    problem = credential_id_check(s, audit, actor, customer, document_seen=True, typed="19900307",
                                  purpose="pin_reset", now=now)   # None, or the refusal to raise after commit
    approvals.require(s, actor, action="pin_reset", customer=c, summary="...", approval_id=None)   # CredentialApprovals

What is asked: the characters of the document number that the teller's screens star
(:func:`teller_tui.common.masks.hidden_document_part`: a PRC resident ID's 8 birth-date digits, another
document's middle), read off the document the customer hands over; the last 4 characters, which every
masked number shows, no longer count. Failed checks (a wrong number) are audited (``customer_id_check``)
and at most :data:`ID_CHECK_LIMIT` in :data:`ID_CHECK_WINDOW` are allowed per customer: then every
check is refused (``id_checks_exhausted``) until the window has passed; the customer uses the PIN on
the display meanwhile. The approval itself is the caller's (an adapter over the approval service,
which lives in a higher layer, is passed in by the composition root: :class:`CredentialApprovals`).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select
from sqlmodel import col

from teller_tui.common.errors import DomainError, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.masks import hidden_document_part
from teller_tui.models import AuditRecord

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.models import Customer

__all__ = ["ID_CHECK_AUDIT", "ID_CHECK_LIMIT", "ID_CHECK_WINDOW", "CredentialApprovals", "credential_id_check",
           "failed_id_checks"]

#: Failed ID checks allowed per customer in :data:`ID_CHECK_WINDOW` (then refused until it passes).
ID_CHECK_LIMIT = 5
ID_CHECK_WINDOW = timedelta(hours=24)
ID_CHECK_AUDIT = "customer_id_check"


class CredentialApprovals(Protocol):
    """A supervisor's approval for a credential change by ID check (implemented over the approval
    service: :class:`teller_tui.desk.credential_approvals.CounterCredentialApprovals`)."""

    def require(self, s: Session, actor: Actor, *, action: str, customer: Customer, summary: str,
                approval_id: int | None) -> None:
        """ApprovalRequired when a rule for ``action`` is in force and no approval is given; else consume it."""


def failed_id_checks(s: Session, customer_no: str, now: datetime) -> int:
    return int(s.execute(select(func.count()).select_from(AuditRecord).where(
        col(AuditRecord.action) == ID_CHECK_AUDIT, col(AuditRecord.subject) == customer_no,
        col(AuditRecord.outcome) == "fail", col(AuditRecord.at) > now - ID_CHECK_WINDOW)).scalar() or 0)


def credential_id_check(s: Session, audit: AuditTrail, actor: Actor, c: Customer, *, document_seen: bool,
                        typed: str, purpose: str, now: datetime) -> DomainError | None:
    """Check and audit; the refusal is returned (the caller raises it after its transaction commits, so
    the failure is counted)."""
    if failed_id_checks(s, c.customer_no, now) >= ID_CHECK_LIMIT:
        audit.append(s, actor, ID_CHECK_AUDIT, subject=c.customer_no, outcome="denied",
                      detail={"purpose": purpose, "reason": "id_checks_exhausted"})
        return PermissionDenied(_("Too many failed ID checks for this customer today: the customer uses the "
                                  "PIN on the customer display, or comes back tomorrow."), code="id_checks_exhausted")
    if not document_seen:
        return ValidationError(_("Look at the customer's identity document first"), code="id_not_seen")
    want = hidden_document_part(c.id_number, c.id_type)
    got = "".join(ch for ch in (typed or "") if ch.isalnum()).upper()
    ok = bool(want) and hmac.compare_digest(got.encode(), want.encode())
    if ok:
        return None
    audit.append(s, actor, ID_CHECK_AUDIT, subject=c.customer_no, outcome="fail",
                 detail={"purpose": purpose, "reason": "id_mismatch",
                         "failures": failed_id_checks(s, c.customer_no, now) + 1, "limit": ID_CHECK_LIMIT})
    return ValidationError(_("The characters typed do not match the document on file"), code="id_mismatch")
