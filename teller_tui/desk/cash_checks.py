"""The verdict the cash service builds for a request (:class:`CashCheck`) and the drawer-cash rule.

``CashService.check_limits`` fills one :class:`CashCheck` per request: the first hard refusal
and every reason a supervisor must approve. The preview shows exactly this verdict, and the
posting re-checks it inside its transaction. Refusals name amounts formatted for people and
never an internal account code ("your drawer", "the wallet").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from teller_tui.common.errors import Conflict, LimitExceeded
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import WalletSide
from teller_tui.risk.blocking import RISK_APPROVAL_RULE, PostingGate, WalletParty

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.ledger import Ledger

__all__ = ["CashCheck", "apply_risk_blocks", "check_drawer_cash", "fmt"]


@dataclass
class CashCheck:
    refusal: Exception | None = None
    reasons: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    customer_before: int = 0

    def need(self, rule: str, reason: str) -> None:
        if rule not in self.rules:
            self.rules.append(rule)
        self.reasons.append(reason)

    def refuse(self, exc: Exception) -> None:
        if self.refusal is None:
            self.refusal = exc


def fmt(m: Money) -> str:
    """Money for a refusal message (formatted; plain figures for a currency without a format)."""
    try:
        return format_money(m)
    except Exception:  # noqa: BLE001
        return f"{m.plain()} {m.currency}"


def check_drawer_cash(session: Session, ledger: Ledger, drawer_account_id: int, amount: Money,
                      chk: CashCheck) -> None:
    """Refuse a cash-out larger than the cash in the teller's drawer (holds past their time left out)."""
    cash = ledger.balance(session, drawer_account_id).available
    if amount > cash:
        chk.refuse(LimitExceeded(_("Not enough cash in your drawer: it holds {amount}.").format(
            amount=fmt(Money(max(cash.minor, 0), cash.currency))), code="insufficient_cash"))


def apply_risk_blocks(session: Session, gate: PostingGate, amount: Money, src: WalletSide, dst: WalletSide | None,
                      chk: CashCheck) -> bool:
    """The risk rules marked blocking (:mod:`teller_tui.risk.blocking`): a "refuse" rule refuses (False:
    stop checking), an "approve" rule adds the approval rule ``risk_hold`` with its reason."""
    parties = [WalletParty(side.wallet.id, side.wallet.account_id, side.wallet.customer_id)
               for side in (src, dst) if side is not None and side.wallet.id is not None]
    for block in gate.blocks(session, parties=parties, amount=amount):
        if block.mode == "refuse":
            chk.refuse(Conflict(block.reason, code="risk_blocked", rule=block.rule))
            return False
        chk.need(RISK_APPROVAL_RULE, block.reason)
    return True
