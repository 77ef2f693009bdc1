"""The verdict the cash service builds for a request (:class:`CashCheck`) and the drawer-cash rule.

``CashService.check_limits`` fills one :class:`CashCheck` per request: the first hard refusal
and every reason a supervisor must approve. The preview shows exactly this verdict, and the
posting re-checks it inside its transaction. Refusals name amounts formatted for people and
never an internal account code ("your drawer", "the wallet").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from teller_tui.branch.drawer_lookup import require_open_drawer
from teller_tui.common.errors import Conflict, DomainError, LimitExceeded
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import CASH_KINDS, LimitsLeft, WalletSide
from teller_tui.ledger.business_day import open_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.risk.blocking import RISK_APPROVAL_RULE, PostingGate, WalletParty
from teller_tui.wallets.limits import class_limits, room_today

if TYPE_CHECKING:
    from datetime import date

    from sqlmodel import Session

    from teller_tui.audit.trail import Actor
    from teller_tui.wallets.classes import TierTable

    from teller_tui.ledger import Ledger

__all__ = ["CashCheck", "apply_risk_blocks", "check_drawer_cash", "counter_refusal", "fmt", "limits_left"]


@dataclass
class CashCheck:
    refusal: Exception | None = None
    reasons: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    customer_before: int = 0
    review: list[str] = field(default_factory=list)  # for the supervisor's queue only (ApprovalSpec.review)

    def need(self, rule: str, reason: str, review: str = "") -> None:
        if rule not in self.rules:
            self.rules.append(rule)
        if reason not in self.reasons:
            self.reasons.append(reason)
        if review:
            self.review.append(review)

    def refuse(self, exc: Exception) -> None:
        if self.refusal is None:
            self.refusal = exc


def fmt(m: Money) -> str:
    """Money for a refusal message (formatted; plain figures for a currency without a format)."""
    try:
        return format_money(m)
    except Exception:  # noqa: BLE001
        return f"{m.plain()} {m.currency}"


def check_drawer_cash(session: Session, ledger: Ledger, actor: Actor, amount: Money, chk: CashCheck,
                      drawer_account_id: int | None = None) -> None:
    """Refuse a cash-out the actor's drawer cannot pay: no open drawer, or not enough cash in it
    (holds past their time left out). ``drawer_account_id`` when the caller already looked it up."""
    if drawer_account_id is None:
        try:
            drawer_account_id = require_open_drawer(session, actor).account_id
        except DomainError as exc:
            chk.refuse(exc)
            return
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
        chk.need(RISK_APPROVAL_RULE, block.reason, block.review)
    return True


def counter_refusal(session: Session, actor: Actor, kind: str) -> DomainError | None:
    """What refuses any amount at the counter now: cash needs the actor's open drawer (so an open
    business day), a transfer an open business day. The preview shows it before the teller confirms."""
    if kind in CASH_KINDS:
        try:
            require_open_drawer(session, actor)
        except DomainError as exc:
            return exc
        return None
    if open_business_date(session, actor.branch_code) is None:
        return Conflict(_("No business day is open at this branch."), code="no_business_day")
    return None


def limits_left(session: Session, tiers: TierTable, kind: str, src: WalletSide, on: date) -> LimitsLeft:
    """What the wallet's class still allows: out of it today (daily and yearly limits left) and in one
    payment, for money leaving it; up to the balance limit for money coming in. ``None``: no limit."""
    wallet = src.wallet
    t = class_limits(tiers, wallet.tier, on)
    if kind == EntryKind.CASH_IN:
        room = None if t.balance_cap is None else Money(max(t.balance_cap.minor - src.balance, 0), wallet.currency)
        return LimitsLeft(balance_room=room)
    today = room_today(session, tiers, tier=wallet.tier, account_id=wallet.account_id, on=on,
                       currency=wallet.currency)
    return LimitsLeft(today=today, per_payment=t.per_txn)
