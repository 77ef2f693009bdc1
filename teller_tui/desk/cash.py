"""Cash in, cash out, wallet-to-wallet transfer and same-day reversal at the counter. Public API::

    svc = CashService(db, clock, settings, ledger, audit, tiers=, teller_limits=, approvals=, risk_gate=, outbox=,
                      consent=)  # services.cash
    p = svc.preview_cash_in(actor, wallet_id, amount)                   # -> Preview
    p = svc.preview_cash_out(actor, wallet_id, amount)                  # -> Preview
    p = svc.preview_transfer(actor, from_wallet_id, to_wallet_id, amount)  # -> Preview
    p = svc.preview_reversal(actor, entry_id)                           # -> Preview
    r = svc.cash_in(actor, wallet_id, amount, memo="", idempotency_key=key)    # -> TxnResult
    r = svc.cash_out(actor, wallet_id, amount, memo="", idempotency_key=key, approval_id=None, consent_id=None)
    r = svc.transfer(actor, from_wallet_id, to_wallet_id, amount, memo="", idempotency_key=key)
    r = svc.reverse(actor, entry_id, reason, idempotency_key=key)       # -> TxnResult
    text = svc.receipt_for(reference, width=80, locale=None)            # reprint -> str
    key = new_idempotency_key()        # teller_tui.desk.cash_types; UI: once per form

``Preview`` never raises for business rules: ``refusal`` holds the hard refusal and
``approval_reasons`` what a supervisor must approve. Cash-out and transfer need the customer's consent
(ConsentRequired, teller_tui.consent.gate). Posting raises LimitExceeded (limits, funds), Conflict
(frozen/blocked/closed wallet, reversal rules, reused key), ApprovalRequired (``details["spec"]``, an
ApprovalSpec: retry with ``approval_id=``, consumed in the posting transaction), ValidationError, NotFound.

Idempotency: the form's ``idempotency_key`` (made when it opens) makes a retry return the original
:class:`TxnResult` with ``replayed=True``. Rules:

* class limits (teller_tui.wallets.limits) are HARD: per-transaction/daily/yearly on money leaving a
  wallet, the balance cap on money coming in.
* the approval policy (data/approval_policy.toml) decides what needs a supervisor: teller limits
  (``teller_cash_limit``), cash >= 50,000.00 CNY single or same-day cumulative (``large_cash``, and a
  large-value report), every reversal (``reversal``).
* risk rules marked ``block`` (data/risk_rules.toml; teller_tui.risk.blocking) refuse or ask for approval.
* reversal: only the teller's own cash_in / cash_out / transfer, on the same business day, once.
* cash at another branch's wallet and transfers across branches get inter-branch clearing legs from the
  ledger (``interbranch:<branch>:<cur>``, SETTLEMENT; teller_tui.ledger.clearing): each branch's trial
  balance stays 0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.branch.drawer_lookup import require_open_drawer
from teller_tui.cases.refusals import record_refusal
from teller_tui.ledger.business_day import Dating, current_business_date, open_business_date
from teller_tui.ledger.cash_day import cash_today
from teller_tui.common.errors import Conflict, DomainError, LimitExceeded, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.common.watermark import TRAINING_WATERMARK
from teller_tui.consent.gate import CONSENTED_KINDS
from teller_tui.desk.cash_checks import (CashCheck, apply_risk_blocks, check_drawer_cash, counter_refusal, fmt,
                                         limits_left)
from teller_tui.desk.cash_scope import posting_scope, reversal_scope
from teller_tui.desk.cash_types import CASH_KINDS, EntryReceipt, Preview, TxnResult, WalletSide
from teller_tui.desk.cash_record import record_posting
from teller_tui.desk.entry_receipts import entry_receipt, txn_result
from teller_tui.desk.preview import cash_preview, reversal_preview
from teller_tui.desk.receipts import render_receipt, reprint_label
from teller_tui.desk.approval_specs import cash_spec, consent_spec, reversal_spec
from teller_tui.desk.reversals import reversal_target
from teller_tui.desk.teller_limits import TellerLimits
from teller_tui.desk.wallet_sides import entry_wallet, read_wallet_side, select_wallet_side
from teller_tui.ledger import EntryRequest, EntryResult, Leg, credit, debit, entry_facts
from teller_tui.ledger.kinds import CASH_ENTRY_KINDS, EntryKind
from teller_tui.models import JournalEntry
from teller_tui.wallets.blocks import blocked_ids, blocked_refusal
from teller_tui.risk.blocking import PostingGate
from teller_tui.notify.outbox import Outbox
from teller_tui.wallets.activation import grant_first_use
from teller_tui.wallets.limits import check_money_in, check_payment_out
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.consent.gate import ConsentGate
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.wallets.classes import TierTable

STAFF_CASH_ROLES = frozenset(COUNTER_ROLES)  # people who may hand cash over the counter


class CashService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail, *,
                 tiers: TierTable, teller_limits: TellerLimits, approvals: ApprovalService, risk_gate: PostingGate,
                 outbox: Outbox, consent: ConsentGate) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers, self.teller_limits, self.approvals, self.risk_gate = tiers, teller_limits, approvals, risk_gate
        self.outbox, self.consent = outbox, consent

    def _today(self, session: Session, actor: Actor) -> date:
        return current_business_date(session, actor.branch_code, self.clock)

    def _drawer_account(self, session: Session, actor: Actor) -> int:
        """The ledger account of the actor's open cash drawer (teller_tui.branch.drawers): refused with a
        clear reason (Conflict) when no drawer is open for the actor on the current business day. The
        day's row is read locked, as the ledger dates the entry (the posting reads the day once)."""
        return require_open_drawer(session, actor, lock=True).account_id

    # -- reading -----------------------------------------------------------------------------
    def wallet_side(self, session: Session, wallet_id: int) -> WalletSide:
        return read_wallet_side(session, wallet_id, self.clock.now())

    # -- rules -------------------------------------------------------------------------------
    def check_limits(self, session: Session, actor: Actor, kind: str, amount: Money, src: WalletSide,
                     dst: WalletSide | None = None, *, drawer_account_id: int | None = None) -> CashCheck:
        """Every refusal and approval reason for the request (the preview shows exactly these).

        A cash-out is checked against the actor's drawer too (``drawer_account_id``, looked up
        when not given): a drawer short of cash is refused here, before the teller confirms."""
        chk = CashCheck()
        today = self._today(session, actor)
        if amount.minor <= 0:
            chk.refuse(ValidationError(_("The amount must be more than zero"), code="amount_zero"))
            return chk
        if kind in CASH_KINDS and actor.role not in STAFF_CASH_ROLES:
            chk.refuse(PermissionDenied(_("This sign-in cannot handle cash"), code="cash_role"))
            return chk
        if amount.currency != src.wallet.currency:
            chk.refuse(ValidationError(_("The wallet holds another currency"), code="currency_mismatch"))
            return chk
        out_side = src if kind in ("cash_out", "transfer") else None
        in_side = src if kind == "cash_in" else dst
        sides = [side for side in (src, dst) if side is not None]
        blocked = blocked_ids(session, [int(side.wallet.id or 0) for side in sides])  # one read for both
        for side in sides:
            if side.wallet.status == "closed":
                chk.refuse(Conflict(_("Wallet {number} is closed").format(number=side.wallet.number),
                                    code="wallet_closed"))
            elif int(side.wallet.id or 0) in blocked:  # lost phone: nothing in or out
                chk.refuse(blocked_refusal(side.wallet.number))
        if out_side is not None and out_side.wallet.status == "frozen":
            chk.refuse(Conflict(_("Wallet {number} is frozen: no payments out").format(
                number=out_side.wallet.number), code="wallet_frozen"))
        if dst is not None and dst.wallet.id == src.wallet.id:
            chk.refuse(ValidationError(_("Choose two different wallets"), code="same_wallet"))
        if chk.refusal is not None:
            return chk
        # Hard class limits (one owner: teller_tui.wallets.limits).
        if out_side is not None:
            if amount.minor > out_side.available:
                chk.refuse(LimitExceeded(_("Not enough money in the wallet: {amount} available.").format(
                    amount=fmt(Money(max(out_side.available, 0), amount.currency))), code="insufficient_funds"))
            else:
                try:
                    check_payment_out(session, self.tiers, tier=out_side.wallet.tier,
                                      account_id=out_side.wallet.account_id, amount=amount, on=today)
                except LimitExceeded as exc:
                    chk.refuse(exc)
        if kind == EntryKind.CASH_OUT and chk.refusal is None:
            check_drawer_cash(session, self.ledger, actor, amount, chk, drawer_account_id)
        if in_side is not None and chk.refusal is None:
            try:
                check_money_in(self.tiers, tier=in_side.wallet.tier,
                               balance_after=Money(in_side.balance + amount.minor, amount.currency), on=today)
            except LimitExceeded as exc:
                chk.refuse(exc)
        if chk.refusal is not None:
            return chk
        # Risk rules marked blocking (one owner: teller_tui.risk.blocking), inside the posting transaction.
        if not apply_risk_blocks(session, self.risk_gate, amount, src, dst, chk):
            return chk
        # Limits a supervisor may lift: evaluated by the approval policy (data/approval_policy.toml).
        before, paid = cash_today(session, customer_id=src.wallet.customer_id, kind=kind, on=today,
                                  staff_id=actor.staff_id if kind == "cash_out" else None) \
            if kind in CASH_KINDS else (0, 0)  # one read of two day rows (teller_tui.ledger.cash_day)
        for hit in self.approvals.evaluate(Facts(kind, today, amount, actor.role, Money(paid, amount.currency),
                                                 Money(before, amount.currency))):
            chk.need(hit.rule, hit.reason)
        chk.customer_before = before
        return chk

    # -- previews ----------------------------------------------------------------------------
    def _preview(self, actor: Actor, kind: str, wallet_id: int, amount: Money, to_wallet_id: int | None = None
                 ) -> Preview:
        with self.db.read() as s:
            src = self.wallet_side(s, wallet_id)
            dst = self.wallet_side(s, to_wallet_id) if to_wallet_id is not None else None
            chk = self.check_limits(s, actor, kind, amount, src, dst)
            counter = counter_refusal(s, actor, kind)  # a closed day or drawer first, whatever the amount
            return cash_preview(kind, src, dst, amount, refusal=counter or chk.refusal, reasons=chk.reasons,
                                rules=chk.rules, left=limits_left(s, self.tiers, kind, src, self._today(s, actor)))

    @guarded("cash")
    def preview_cash_in(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, EntryKind.CASH_IN, wallet_id, amount)

    @guarded("cash")
    def preview_cash_out(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, EntryKind.CASH_OUT, wallet_id, amount)

    @guarded("cash")
    def preview_transfer(self, actor: Actor, from_wallet_id: int, to_wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, EntryKind.TRANSFER, from_wallet_id, amount, to_wallet_id)

    @guarded("cash")
    def preview_reversal(self, actor: Actor, entry_id: int) -> Preview:
        with self.db.read() as s:
            refusal: DomainError | None = None
            try:
                _original, wallet_id, amount = reversal_target(s, actor, entry_id, self._today(s, actor))
            except DomainError as exc:
                refusal = exc
                wallet_id, amount = entry_wallet(s, entry_id)
            # A shortfall is not refused here: the ledger refuses at posting, the preview shows it.
            src = self.wallet_side(s, wallet_id)
            spec = self._reversal_spec(s, actor, entry_id, wallet_id, amount, "") if refusal is None else None
            return reversal_preview(src, amount, refusal=refusal, reasons=spec.reasons if spec else (),
                                    rules=spec.rules if spec else ())

    # -- posting -----------------------------------------------------------------------------
    @guarded("cash")
    def cash_in(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *, idempotency_key: str,
                approval_id: int | None = None) -> TxnResult:
        return self._execute(actor, EntryKind.CASH_IN, wallet_id, None, amount, memo, idempotency_key, approval_id)

    @guarded("cash")
    def cash_out(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *, idempotency_key: str,
                 approval_id: int | None = None, consent_id: int | None = None) -> TxnResult:
        return self._execute(actor, EntryKind.CASH_OUT, wallet_id, None, amount, memo, idempotency_key, approval_id,
                             consent_id)

    @guarded("cash")
    def transfer(self, actor: Actor, from_wallet_id: int, to_wallet_id: int, amount: Money, memo: str = "", *,
                 idempotency_key: str, approval_id: int | None = None, consent_id: int | None = None) -> TxnResult:
        return self._execute(actor, EntryKind.TRANSFER, from_wallet_id, to_wallet_id, amount, memo, idempotency_key,
                             approval_id, consent_id)

    def posting_legs(self, session: Session, actor: Actor, kind: str, amount: Money, src: WalletSide,
                     dst: WalletSide | None) -> tuple[Leg, ...]:
        if kind in (EntryKind.CASH_IN, EntryKind.CASH_OUT):
            drawer, wallet = self._drawer_account(session, actor), src.wallet.account_id
            return ((debit(drawer, amount), credit(wallet, amount)) if kind == EntryKind.CASH_IN
                    else (debit(wallet, amount), credit(drawer, amount)))
        assert dst is not None  # across branches the ledger adds the clearing legs (teller_tui.ledger.clearing)
        return (debit(src.wallet.account_id, amount), credit(dst.wallet.account_id, amount))

    def _execute(self, actor: Actor, kind: str, wallet_id: int, to_wallet_id: int | None, amount: Money,
                 memo: str, key: str, approval_id: int | None, consent_id: int | None = None) -> TxnResult:
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if not key:
            raise ValidationError("An idempotency key is required", code="idempotency_key")
        memo = clean_text(memo, limit=200)

        def work(s: Session) -> tuple[EntryResult, EntryReceipt]:
            src = select_wallet_side(s, wallet_id)
            if src.account.debits_pending:
                # Holds past their time release their funds before the funds check (invariant 17).
                self.approvals.release_overdue(s, [src.wallet.account_id])
                src = select_wallet_side(s, wallet_id)
            dst = select_wallet_side(s, to_wallet_id) if to_wallet_id is not None else None
            found = self.ledger.key_entry(s, key)  # read once: the ledger is told it found nothing
            if found is not None and found.hold_id is not None:
                # A supervisor approved the queued request and the hold was posted under this key.
                existing = self.ledger.entry_by_key(s, key)
                assert existing is not None
                return existing, self.receipt_data(s, existing.entry_id)
            replay = found is not None
            if kind not in CASH_KINDS:  # the day read once, locked as the ledger dates the entry (cash: the drawer)
                open_business_date(s, actor.branch_code, lock=True)
            grant = agreed = chk = None
            legs = self.posting_legs(s, actor, kind, amount, src, dst)
            if not replay:
                chk = self.check_limits(s, actor, kind, amount, src, dst,
                                        drawer_account_id=legs[1].account_id if kind == EntryKind.CASH_OUT else None)
                if chk.refusal is not None:
                    raise chk.refusal
                agreement = consent_spec(kind, amount, key, src, dst) if kind in CONSENTED_KINDS else None
                if agreement is not None:  # the customer's own consent first
                    agreed = self.consent.require(s, actor, agreement, consent_id)
                grant = self.approvals.check(s, cash_spec(actor, kind, amount, memo, key, src, dst, legs,
                                                          rules=chk.rules, reasons=chk.reasons, review=chk.review,
                                                          consent=agreement, consent_id=consent_id),
                                             approval_id=approval_id)
            meta: dict[str, Any] = {"wallet": src.wallet.number, **(agreed.facts() if agreed else {})}
            if dst is not None:
                meta["to_wallet"] = dst.wallet.number
            if grant is not None:
                meta["approval_id"] = grant.approval_id
                meta["approved_by"] = grant.approver_id
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=key, kind=kind, legs=legs, actor_id=actor.staff_id, terminal_id=actor.terminal_id,
                branch_code=actor.branch_code, memo=memo, customer_id=src.wallet.customer_id, meta=meta,
                dating=Dating.COUNTER), key_unused=found is None)
            if not result.replayed:
                grant_first_use(s, self.ledger, self.audit, actor, src.wallet.id)  # the wallet's activation earns it
            if grant is not None and not result.replayed:
                self.approvals.attach_entry(s, grant.approval_id, result.entry_id)
                if grant.report and kind in CASH_KINDS and chk is not None:
                    self.approvals.record_large_value(
                        s, customer_id=src.wallet.customer_id, direction=CASH_ENTRY_KINDS[EntryKind(kind)],
                        amount=amount, teller=actor, reference=result.reference, entry_id=result.entry_id,
                        txn_at=result.posted_at, business_date=result.business_date, grant=grant,
                        cumulative=Money(chk.customer_before + amount.minor, amount.currency))
            if result.replayed:
                return result, self.receipt_data(s, result.entry_id)
            return result, record_posting(s, self.audit, self.outbox, actor, kind, amount, src, dst, result,
                                          grant=grant, agreed=agreed, bank_name=self._bank_name,
                                          watermark=self._watermark)

        try:
            result, data = self.db.write_retrying(work, scope=posting_scope(actor, (wallet_id, to_wallet_id)))
        except DomainError as exc:  # the refusal is kept (own short transaction) so it can be explained later
            record_refusal(self.db, self.audit, actor, exc, "counter", kind, wallet_id, amount, to_wallet_id)
            raise
        return self.finish(result, data)

    def finish(self, result: EntryResult, receipt: EntryReceipt) -> TxnResult:
        """The posting's result with its receipt rendered (no file: teller_tui.desk.entry_receipts.txn_result)."""
        return txn_result(result, receipt)

    # -- reversal ------------------------------------------------------------------------------
    def _reversal_spec(self, session: Session, actor: Actor, entry_id: int, wallet_id: int, amount: Money,
                       reason: str) -> ApprovalSpec:
        """The approval policy's verdict on a reversal, as an approval spec (no rules: none needed)."""
        hits = self.approvals.evaluate(Facts("reversal", self._today(session, actor), abs(amount), actor.role))
        return reversal_spec(actor, entry_id, self.wallet_side(session, wallet_id), amount, reason, hits)

    @guarded("cash")
    def reverse(self, actor: Actor, entry_id: int, reason: str, *, idempotency_key: str,
                approval_id: int | None = None) -> TxnResult:
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError(_("Give a reason for the reversal"), code="reason")

        def work(s: Session) -> tuple[EntryResult, EntryReceipt]:
            existing = self.ledger.entry_by_key(s, idempotency_key)
            if existing is not None and existing.reverses_entry_id == entry_id:
                return existing, self.receipt_data(s, existing.entry_id)
            original, wallet_id, amount = reversal_target(s, actor, entry_id, self._today(s, actor))
            grant = self.approvals.check(s, self._reversal_spec(s, actor, entry_id, wallet_id, amount, reason),
                                         approval_id=approval_id)
            result = self.ledger.reverse(s, entry_id, idempotency_key=idempotency_key, actor_id=actor.staff_id,
                                         terminal_id=actor.terminal_id, memo=reason, dating=Dating.COUNTER)
            if grant is not None:
                self.approvals.attach_entry(s, grant.approval_id, result.entry_id)
            side = self.wallet_side(s, wallet_id)
            self.audit.append(s, actor, "reversal", subject=side.wallet.number, detail={
                **entry_facts((result, actor.staff_id)), "amount": abs(amount).plain(), "currency": amount.currency, "reference": result.reference,
                "reverses": original.reference, "reason": reason,
                "approval_id": grant.approval_id if grant else None,
                "balance_after": Money(side.balance, amount.currency).plain()})
            return result, self.receipt_data(s, result.entry_id)

        result, data = self.db.write_retrying(work, scope=reversal_scope(actor, entry_id))
        return self.finish(result, data)

    # -- receipts ------------------------------------------------------------------------------
    def receipt_data(self, session: Session, entry_id: int, copy_label: str = "", *,
                     balances: dict[int, int] | None = None) -> EntryReceipt:
        """What the receipt prints for an entry (:func:`teller_tui.desk.entry_receipts.entry_receipt`)."""
        return entry_receipt(session, entry_id, bank_name=self._bank_name, copy_label=copy_label,
                             balances=balances, watermark=self._watermark)

    @property
    def _bank_name(self) -> str:
        return getattr(self.settings, "bank_name", "") or ""

    @property
    def _watermark(self) -> str:
        return TRAINING_WATERMARK if self.settings.training else ""

    def receipt_for(self, reference: str, width: int = 80, locale: str | None = None, reprint: bool = True) -> str:
        """Re-render a receipt for a posted entry's reference, marked as a reprint unless ``reprint``
        is false (the first paper copy of a receipt just shown on screen, laid out for the roll)."""
        with self.db.read() as s:
            entry_id = s.execute(select(col(JournalEntry.id))
                                 .where(col(JournalEntry.reference) == reference.strip())).scalar()
            if entry_id is None:
                raise NotFound(_("No transaction with reference {reference}").format(reference=reference[:40]),
                               code="no_entry")
            data = self.receipt_data(s, entry_id).data
        if reprint:  # "REPRINT" in the language the receipt is printed in
            data = replace(data, copy_label=reprint_label(locale or data.locale or None))
        return render_receipt(data, width=width, locale=locale)
