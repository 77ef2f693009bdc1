"""The counter's linked-account forms: top up a wallet from the customer's linked bank card or
account (兑换), withdraw to it (兑回): a preview for the confirmation dialog, then the posting
(:class:`teller_tui.wallets.funding.FundingService`) with its receipt rendered like a cash
receipt.

Public API::

    desk = LinkedFundingDesk(db, clock, settings, ledger, tiers, funding, approvals)   # services.linked_desk
    preview = desk.preview_top_up(actor, wallet_id, amount)             # -> Preview (refusal inside)
    preview = desk.preview_withdraw(actor, wallet_id, amount)
    txn = desk.top_up(actor, wallet_id, amount, memo, idempotency_key=key, approval_id=None)  # -> TxnResult
    txn = desk.withdraw(actor, wallet_id, amount, memo, idempotency_key=key, approval_id=None)

The limits are the ones every channel uses (:mod:`teller_tui.wallets.limits`, checked again by the
funding service when it posts). The approval policy's rules for ``linked_top_up`` and
``linked_withdraw`` (shipped: a withdrawal of 20,000.00 or more) are in the preview's
``approval_reasons``; the posting raises ``ApprovalRequired`` with the request, and the form's retry
passes ``approval_id`` (the cash form's flow).
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from teller_tui.approvals.service import ApprovalService
from teller_tui.audit.trail import Actor
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, DomainError, LimitExceeded, NotFound
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.desk.cash_types import Preview, TxnResult
from teller_tui.desk.entry_receipts import entry_receipt, txn_result
from teller_tui.desk.preview import amount_words
from teller_tui.desk.wallet_sides import read_wallet_side
from teller_tui.ledger import Ledger
from teller_tui.ledger.business_day import current_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.enums import WalletStatus
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.funding import FundingResult, FundingService, linked_hits, party
from teller_tui.wallets.limits import check_money_in, check_payment_out

__all__ = ["LinkedFundingDesk"]


class LinkedFundingDesk:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, tiers: TierTable,
                 funding: FundingService, approvals: ApprovalService) -> None:
        self.db, self.clock, self.settings, self.ledger = db, clock, settings, ledger
        self.tiers, self.funding, self.approvals = tiers, funding, approvals

    @guarded("linked_desk")
    def preview_top_up(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, wallet_id, amount, incoming=True)

    @guarded("linked_desk")
    def preview_withdraw(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, wallet_id, amount, incoming=False)

    @guarded("linked_desk")
    def top_up(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *,
               idempotency_key: str, approval_id: int | None = None) -> TxnResult:
        done = self.funding.top_up_from_linked(actor, wallet_id, amount, idempotency_key=idempotency_key, memo=memo,
                                               approval_id=approval_id)
        return self._receipt(done, idempotency_key)

    @guarded("linked_desk")
    def withdraw(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *,
                 idempotency_key: str, approval_id: int | None = None) -> TxnResult:
        done = self.funding.withdraw_to_linked(actor, wallet_id, amount, idempotency_key=idempotency_key, memo=memo,
                                               approval_id=approval_id)
        return self._receipt(done, idempotency_key)

    def _receipt(self, done: FundingResult, key: str) -> TxnResult:
        with self.db.read() as s:
            entry = self.ledger.entry_by_key(s, key)
            if entry is None:  # posted a moment ago under this key: cannot happen short of a restore
                raise NotFound(_("No transaction with reference {reference}").format(reference=done.reference),
                               code="no_entry")
            receipt = entry_receipt(s, entry.entry_id, bank_name=getattr(self.settings, "bank_name", "") or "")
        return replace(txn_result(entry, receipt), replayed=done.replayed)

    def _preview(self, actor: Actor, wallet_id: int, amount: Money, *, incoming: bool) -> Preview:
        kind = EntryKind.LINKED_TOP_UP if incoming else EntryKind.LINKED_WITHDRAW
        link = self.funding.linked_for_wallet(wallet_id)
        with self.db.read() as s:
            side = read_wallet_side(s, wallet_id, self.clock.now())
            balance = Money(side.balance, side.wallet.currency)
            after = balance + amount if incoming else balance - amount
            refusal: DomainError | None = None
            try:
                self._check(s, actor, side.wallet, amount, balance, after, link is not None, incoming)
            except DomainError as exc:
                refusal = exc
            hits = [] if refusal else linked_hits(self.approvals, actor, kind, amount,
                                                   current_business_date(s, actor.branch_code, self.clock))
        return Preview(kind=kind, customer_name=side.customer.full_name, wallet_number=side.wallet.number,
                       amount=amount, amount_words=amount_words(amount) if amount.currency == "CNY" else "",
                       balance_before=balance, balance_after=after,
                       refusal=str(refusal) if refusal else None, refusal_code=refusal.code if refusal else None,
                       approval_reasons=[h.reason for h in hits], approval_rules=[h.rule for h in hits],
                       counterparty_name=link.bank_name if link else "",
                       counterparty_wallet=link.masked if link else "",
                       customer_id=side.wallet.customer_id, wallet_id=side.wallet.id)

    def _check(self, s: Session, actor: Actor, wallet: object, amount: Money, balance: Money, after: Money,
               linked: bool, incoming: bool) -> None:
        if not linked:
            raise Conflict(_("This wallet has no linked card or account"), code="no_linked")
        status = getattr(wallet, "status")
        if status != WalletStatus.ACTIVE:
            label = {WalletStatus.FROZEN: _("frozen"), WalletStatus.CLOSED: _("closed")}.get(status, str(status))
            raise Conflict(_("This wallet is {status}: nothing can be moved").format(status=label),
                           code=f"wallet_{status}")
        on = current_business_date(s, actor.branch_code, self.clock)
        tier = int(getattr(wallet, "tier"))
        if incoming:
            check_money_in(self.tiers, tier=tier, balance_after=after, on=on)
        else:
            check_payment_out(s, self.tiers, tier=tier, account_id=int(getattr(wallet, "account_id")),
                              amount=amount, on=on)
            if amount > balance:
                raise LimitExceeded(_("Not enough money in the wallet"), code="insufficient_funds")
        self.funding.risk_gate.refuse_any(s, parties=party(wallet), amount=amount)  # as the posting will
