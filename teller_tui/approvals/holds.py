"""A remote approval's hold is exactly the request it stands for (issue 15: "approvals bind the whole request").

:func:`check_hold_plan` runs before a hold is created: the hold must move the spec's amount from and to
the accounts the spec names (the wallets shown to the supervisor, the requester's own open drawer) in
the direction its kind says, with the spec's memo and as its ledger legs. :func:`check_hold_row` runs
when an approval posts the hold: the stored hold must still be the one the approved request hashed.
Both refuse with :class:`~teller_tui.common.errors.Conflict` (code ``approval_hold_mismatch``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.common.errors import Conflict, ConsentRequired, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_wallet
from teller_tui.common.text import clean_text
from teller_tui.consent.gate import CONSENTED_KINDS, ConsentGate
from teller_tui.ledger import HoldRequest
from teller_tui.ledger.accounts import AccountKind, wallet_code
from teller_tui.models import Hold, LedgerAccount, Wallet
from teller_tui.models.drawers import Drawer
from teller_tui.models.enums import DrawerStatus

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from teller_tui.approvals.spec import ApprovalSpec, HoldPlan
    from teller_tui.audit.trail import Actor
    from teller_tui.ledger import Ledger
    from teller_tui.models import ApprovalRequest

__all__ = ["check_hold_plan", "check_hold_row", "create_request_hold", "use_queue_consent"]

#: Which side of each holdable kind is which: (debit side, credit side); "drawer" is the requester's own.
_SIDES: dict[str, tuple[str, str]] = {
    "cash_out": ("wallet0", "drawer"),
    "cash_in": ("drawer", "wallet0"),
    "transfer": ("wallet0", "wallet1"),
}


def _mismatch(what: str) -> Conflict:
    return Conflict(_("The held funds do not match the request. Nothing was held."), code="approval_hold_mismatch",
                    field=what)


def _expected_account(s: Session, actor: Actor, spec: ApprovalSpec, side: str) -> int:
    if side == "drawer":
        drawer_account = s.execute(select(col(Drawer.account_id)).where(
            col(Drawer.staff_id) == actor.staff_id, col(Drawer.branch_code) == actor.branch_code,
            col(Drawer.status) != DrawerStatus.CLOSED)).scalar()
        if drawer_account is None:
            raise _mismatch("drawer")
        return int(drawer_account)
    index = int(side[-1])
    if len(spec.accounts) <= index:
        raise _mismatch("accounts")
    account = s.execute(select(LedgerAccount).where(
        col(LedgerAccount.code) == wallet_code(spec.accounts[index]))).scalar_one_or_none()
    if account is None or account.kind != AccountKind.WALLET or account.id is None:
        raise _mismatch("accounts")
    return int(account.id)


def check_hold_plan(s: Session, actor: Actor, spec: ApprovalSpec, plan: HoldPlan) -> None:
    """Refuse a hold that is not exactly the request (see the module docstring)."""
    if spec.amount is None or spec.amount.minor <= 0:
        raise _mismatch("amount")
    sides = _SIDES.get(plan.kind)
    if plan.kind != spec.kind or sides is None:
        raise _mismatch("kind")
    if clean_text(plan.memo, limit=200) != clean_text(spec.reason, limit=200):
        raise _mismatch("memo")
    debit = _expected_account(s, actor, spec, sides[0])
    credit = _expected_account(s, actor, spec, sides[1])
    if (plan.debit_account_id, plan.credit_account_id) != (debit, credit):
        raise _mismatch("hold")
    if sorted(spec.legs) != sorted([(debit, spec.amount.minor), (credit, -spec.amount.minor)]):
        raise _mismatch("legs")
    # The customer named (and reported for large-value cash) owns the wallet the request is about.
    owner = s.execute(select(col(Wallet.customer_id)).where(col(Wallet.number) == spec.accounts[0])).scalar()
    if owner is None or owner != spec.customer_id:
        raise _mismatch("customer")


def check_hold_row(s: Session, row: ApprovalRequest, hold_id: int) -> None:
    """The hold about to be posted is the one the approved request bound (accounts, amount, kind)."""
    bound = json.loads(row.request_json)["request"]
    plan = bound.get("hold")
    hold = s.get(Hold, hold_id)
    if plan is None or hold is None:
        raise _mismatch("hold")
    if ((hold.debit_account_id, hold.credit_account_id, hold.amount, hold.currency, hold.kind)
            != (plan["debit"], plan["credit"], bound["amount"], bound["currency"], plan["kind"])):
        raise _mismatch("hold")


def create_request_hold(s: Session, ledger: Ledger, actor: Actor, spec: ApprovalSpec, plan: HoldPlan,
                        expires_at: datetime) -> int:
    """Hold the funds of a remote request until it is decided or expires; returns the hold id.
    The plan must match what the request binds (:func:`check_hold_plan`)."""
    if spec.amount is None:
        raise ValidationError(_("A hold needs an amount."), code="hold_amount")
    check_hold_plan(s, actor, spec, plan)
    hold = ledger.create_hold(s, HoldRequest(
        idempotency_key=f"{plan.idempotency_key}:hold", kind=plan.kind,
        debit_account_id=plan.debit_account_id, credit_account_id=plan.credit_account_id,
        amount=spec.amount, actor_id=actor.staff_id, terminal_id=actor.terminal_id,
        expires_at=expires_at, memo=clean_text(plan.memo, limit=200), customer_id=spec.customer_id,
        meta={"approval": spec.request_hash()}))
    if hold.replayed:
        raise Conflict(_("This request was already sent for approval."), code="approval_duplicate")
    return hold.hold_id


def use_queue_consent(s: Session, gate: ConsentGate, actor: Actor, spec: ApprovalSpec) -> None:
    """A cash-out or transfer sent to the queue holds the customer's money: it needs the customer's
    consent as at the counter. The consent must be this request's (same customer, source wallet,
    amount, payee and form key) and is used up here, with the request it is bound to
    (``spec.consent_id`` is in the request hash); a rejected or withdrawn request needs a new one."""
    if spec.kind not in CONSENTED_KINDS or not gate.applies(actor):
        return
    agreement = spec.consent
    if agreement is None or spec.consent_id is None:
        raise ConsentRequired(_("The customer must agree: their PIN on the customer display, or an ID "
                                "re-check"), spec=agreement)
    wallet = s.get(Wallet, agreement.wallet_id) if agreement.wallet_id is not None else None
    payee_ok = spec.kind != "transfer" or (len(spec.accounts) == 2 and mask_wallet(spec.accounts[1]) in agreement.payee)
    if not (agreement.kind == spec.kind and agreement.customer_id == spec.customer_id
            and agreement.amount == spec.amount and spec.hold is not None
            and agreement.binding == spec.hold.idempotency_key and wallet is not None
            and bool(spec.accounts) and wallet.number == spec.accounts[0] and payee_ok):
        raise ConsentRequired(_("The customer's consent does not match this request (changed, expired or "
                                "used): ask again"), spec=agreement, code="consent_stale")
    gate.require(s, actor, agreement, spec.consent_id)
