"""What a supervisor approves for a desk transaction: the :class:`ApprovalSpec` bound (by hash) to it.

The approval policy (teller_tui.approvals.policy) decides which rules apply; these functions
describe the request so the approval can be checked and consumed in the posting transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from teller_tui.approvals.policy import PolicyHit
from teller_tui.approvals.spec import ApprovalSpec, HoldPlan
from teller_tui.common.masks import mask_name, mask_wallet
from teller_tui.common.money import Money
from teller_tui.consent.spec import ConsentSpec
from teller_tui.desk.cash_types import WalletSide
from teller_tui.ledger import Leg
from teller_tui.ledger.kinds import EntryKind

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor


def cash_spec(actor: Actor, kind: str, amount: Money, memo: str, key: str, src: WalletSide, dst: WalletSide | None,
              legs: tuple[Leg, ...], *, rules: Sequence[str], reasons: Sequence[str],
              review: Sequence[str] = (), consent: ConsentSpec | None = None,
              consent_id: int | None = None) -> ApprovalSpec:
    """Cash in / cash out / transfer; with a hold plan (two legs) for the remote approval queue."""
    hold = None
    if len(legs) == 2:
        debit_leg = next(leg for leg in legs if leg.amount > 0)
        credit_leg = next(leg for leg in legs if leg.amount < 0)
        hold = HoldPlan(debit_leg.account_id, credit_leg.account_id, kind, key, memo)
    accounts = (src.wallet.number,) if dst is None else (src.wallet.number, dst.wallet.number)
    return ApprovalSpec(kind=kind, requester_id=actor.staff_id, branch_code=actor.branch_code, amount=amount,
                        accounts=accounts, customer_id=src.wallet.customer_id, reason=memo,
                        rules=tuple(rules), reasons=tuple(reasons), review=tuple(review),
                        customer_name=src.customer.full_name if src.customer else "", hold=hold,
                        legs=tuple((leg.account_id, leg.amount) for leg in legs), consent=consent,
                        consent_id=consent_id)


def reversal_spec(actor: Actor, entry_id: int, side: WalletSide, amount: Money, reason: str,
                  hits: Sequence[PolicyHit]) -> ApprovalSpec:
    """The approval policy's verdict on a reversal (``hits``), as an approval spec (no rules: none needed)."""
    return ApprovalSpec(kind=EntryKind.REVERSAL, requester_id=actor.staff_id, branch_code=actor.branch_code,
                        amount=abs(amount), accounts=(side.wallet.number,), customer_id=side.wallet.customer_id,
                        subject=f"entry:{entry_id}", reason=reason, rules=tuple(h.rule for h in hits),
                        reasons=tuple(h.reason for h in hits),
                        customer_name=side.customer.full_name if side.customer else "")


def consent_spec(kind: str, amount: Money, key: str, src: WalletSide, dst: WalletSide | None) -> ConsentSpec:
    """What the customer agrees to on the display for a cash-out or transfer (masked, bound to the form's key)."""
    payee = f"{mask_name(dst.customer.full_name)} {mask_wallet(dst.wallet.number)}" if dst is not None else ""
    return ConsentSpec(kind, int(src.wallet.customer_id), int(src.wallet.id), mask_wallet(src.wallet.number),
                       amount=amount, payee=payee, binding=key)
