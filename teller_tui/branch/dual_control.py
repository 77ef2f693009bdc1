"""Dual control: who may hold a drawer, and the second person of every four-eyes branch action.

Every branch action that needs a second person (the opening float, a vault transfer, the drawer's
close with its over/short, the business day's close) goes through the approvals service like a
reversal or an unfreeze does: the action builds an :class:`~teller_tui.approvals.spec.ApprovalSpec`
(:meth:`FourEyes.spec`, the policy's rules for the action), and

* without an approval raises :class:`~teller_tui.common.errors.ApprovalRequired` carrying the spec,
  so the UI opens the same counter-or-queue dialog as everywhere else and retries with
  ``approval_id``;
* with credentials typed at this terminal (:class:`SupervisorCredentials`, kept for the command
  line and set-up code) gets a counter approval from the approvals service first
  (:meth:`FourEyes.obtain`), so the policy's approvers and their ceilings apply here too;
* consumes the approval inside its own transaction (:meth:`FourEyes.consume`), bound to the spec.

``drawer_open``, ``vault_transfer`` and ``drawer_close`` are dual control by nature: if the policy
file has no rule for them, the core still asks (with the policy's default approvers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.records import Grant
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor
from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.errors import PermissionDenied
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.models import Staff

__all__ = ["MANDATORY", "FourEyes", "counts_key", "require_staff"]

#: Actions that always need a second person, whatever the policy file says.
MANDATORY: dict[str, str] = {
    "drawer_open": N_("The opening float comes out of the vault: a supervisor must countersign."),
    "vault_transfer": N_("Cash moves between a drawer and the vault: a supervisor must countersign."),
    "drawer_close": N_("Closing returns the drawer's cash to the vault: a supervisor must countersign."),
    "drawer_handover": N_("The drawer's cash changes custodian: a third person must countersign the count."),
}


def require_staff(actor: Actor) -> int:
    """The actor's staff id, or PermissionDenied when the actor cannot hold a cash drawer."""
    if actor.staff_id is None or actor.role not in COUNTER_ROLES:
        raise PermissionDenied(_("Only a signed-in teller has a cash drawer."), code="forbidden")
    return actor.staff_id


def counts_key(counts: Mapping[str, int]) -> str:
    """The pieces, in a stable order, as the approval binds them."""
    return ",".join(f"{k}={n}" for k, n in sorted(counts.items()) if n)


@dataclass(frozen=True, slots=True)
class FourEyes:
    """The branch services' second person, through :class:`ApprovalService`."""

    approvals: ApprovalService

    def spec(self, actor: Actor, actions: tuple[str, ...], *, on: date, subject: str, amount: Money | None = None,
             accounts: tuple[str, ...] = (), summary: str = "", facts_amounts: Mapping[str, Money] | None = None
             ) -> ApprovalSpec:
        """What is to be approved: the policy's rules for ``actions`` (the first one names the request,
        unless a later one hits); a mandatory action without a rule still needs a second person."""
        rules: list[str] = []
        reasons: list[str] = []
        kind = actions[0]
        for action in actions:
            amount_for = (facts_amounts or {}).get(action, amount)
            hits = self.approvals.evaluate(Facts(action, on=on, amount=amount_for, role=actor.role))
            if not hits and action in MANDATORY:
                rules.append(action)
                reasons.append(message(MANDATORY[action]))
            for hit in hits:
                rules.append(hit.rule)
                reasons.append(hit.reason)
            if hits and action != actions[0]:
                kind = action
        return ApprovalSpec(kind=kind, requester_id=actor.staff_id, branch_code=actor.branch_code, amount=amount,
                            accounts=accounts, subject=subject, rules=tuple(rules), reasons=tuple(reasons),
                            summary=summary)

    def obtain(self, actor: Actor, spec: ApprovalSpec, supervisor: SupervisorCredentials | None,
               approval_id: int | None) -> int | None:
        """The approval to use: ``approval_id``, or one a supervisor present grants now with
        ``supervisor`` (a counter approval: the policy's approvers and ceilings apply)."""
        if approval_id is None and supervisor is not None and spec.rules:
            result = self.approvals.approve_at_counter(actor, spec, supervisor.username, supervisor.password,
                                                       supervisor.code)
            return result.approval_id
        return approval_id

    def consume(self, session: Session, spec: ApprovalSpec, approval_id: int | None) -> tuple[Grant | None, str]:
        """Inside the action's transaction: the grant (None when nothing was needed) and the
        approver's user name (raises ApprovalRequired with the spec when an approval is missing)."""
        grant = self.approvals.check(session, spec, approval_id=approval_id)
        if grant is None or grant.approver_id is None:
            return grant, ""
        row = session.get(Staff, grant.approver_id)
        return grant, str(row.username) if row is not None else ""
