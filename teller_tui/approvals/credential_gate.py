"""The supervisor's approval of a customer's credential change by ID check (the PIN reset at the
counter, an authenticator removed for a lost phone): the policy's ``pin_reset`` and
``customer_totp_remove_id`` rules, asked through the app's approval dialog (counter or queue).

Public API::

    gate = CredentialApprovalGate(approvals, clock)     # built by services.make_services
    gate.require(s, actor, action="pin_reset", customer=c, summary="...", approval_id=None)

Implements :class:`teller_tui.consent.id_check.CredentialApprovals` (the consent layer cannot import
the approval service). The approval binds the action, the customer and the requesting teller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.common.masks import mask_name
from teller_tui.ledger.business_day import current_business_date

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.approvals.service import ApprovalService
    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import Clock
    from teller_tui.models import Customer

__all__ = ["CredentialApprovalGate"]


class CredentialApprovalGate:
    def __init__(self, approvals: ApprovalService, clock: Clock) -> None:
        self.approvals, self.clock = approvals, clock

    def require(self, s: Session, actor: Actor, *, action: str, customer: Customer, summary: str,
                approval_id: int | None) -> None:
        on = current_business_date(s, actor.branch_code, self.clock)
        hits = self.approvals.evaluate(Facts(action, on=on, role=actor.role))
        spec = ApprovalSpec(kind=action, requester_id=actor.staff_id, branch_code=actor.branch_code,
                            customer_id=customer.id, subject=f"customer:{customer.customer_no}:{action}",
                            rules=tuple(dict.fromkeys(h.rule for h in hits)), reasons=tuple(h.reason for h in hits),
                            summary=summary, customer_name=mask_name(customer.full_name))
        self.approvals.check(s, spec, approval_id=approval_id)
