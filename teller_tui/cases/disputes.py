"""A transaction dispute resolved in the customer's favour: the correction goes through the ledger,
with a supervisor's approval bound to the case and the amount, and is linked to the case.

Public API::

    svc = DisputeService(db, clock, audit, ledger, approvals=, levels=)   # services.disputes
    spec = svc.correction_spec(actor, case, amount, resolution)        # what a supervisor approves
    detail = svc.resolve_with_correction(actor, case, amount, resolution, idempotency_key=key,
                                         approval_id=None)             # -> CaseDetail

Without ``approval_id`` the call raises :class:`~teller_tui.common.errors.ApprovalRequired` carrying the
spec in ``details["spec"]`` (rule ``dispute_correction`` of ``data/approval_policy.toml``): the UI gets
a four-eyes approval (``ApprovalService.approve_at_counter`` or ``request``/``decide``) and calls again
with ``approval_id=``. The approval is consumed in the posting transaction; a different amount,
wallet, case or resolution text does not match it.

The entry (kind ``dispute_correction``) debits the branch's dispute expense account
(``expense:<branch>:disputes:<currency>``) and credits the customer's wallet; it is dated by the
branch's open business day and names the case in its memo and meta. The amount may not exceed
what the linked entries moved on the case's wallet (when entries are linked), and a case is
corrected once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES, require_role
from teller_tui.cases.flow import DONE
from teller_tui.cases.records import add_event, case_detail, disputed_total, load_case, set_status
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.cases.views import CaseDetail, case_number
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, LimitExceeded, NotFound, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import AccountKind, EntryRequest, Ledger, credit, debit, entry_facts
from teller_tui.ledger.accounts import expense_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import Wallet
from teller_tui.wallets.blocks import refuse_if_blocked
from teller_tui.models.cases import CaseEventKind, CaseLink, CaseStatus, CaseType, ServiceCase

__all__ = ["DisputeService"]

ACTION = "dispute_correction"


class DisputeService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, ledger: Ledger, *,
                 approvals: ApprovalService, levels: ServiceLevels) -> None:
        self.db, self.clock, self.audit, self.ledger, self.approvals = db, clock, audit, ledger, approvals
        self.levels = levels

    @guarded("disputes")
    def correction_spec(self, actor: Actor, case: int | str, amount: Money, resolution: str) -> ApprovalSpec:
        """What a supervisor approves for this correction (the same spec the posting call checks)."""
        require_role(actor, *COUNTER_ROLES)
        with self.db.read() as s:
            row = load_case(s, actor, case)
            wallet = self._check(s, row, amount)
            return self._spec(s, actor, row, wallet, amount, resolution)

    @guarded("disputes")
    def resolve_with_correction(self, actor: Actor, case: int | str, amount: Money, resolution: str, *,
                                idempotency_key: str, approval_id: int | None = None) -> CaseDetail:
        require_role(actor, *COUNTER_ROLES)
        if not idempotency_key:
            raise ValidationError("An idempotency key is required", code="idempotency_key")
        text = clean_text(resolution, multiline=True, limit=1000)
        if not text:
            raise ValidationError(_("Write down how the case was resolved."), code="case_resolution")

        def work(s: Session) -> CaseDetail:
            now = self.clock.now()
            row = load_case(s, actor, case, for_update=True)
            existing = self.ledger.entry_by_key(s, idempotency_key)
            if existing is not None and row.correction_entry_id == existing.entry_id:
                return case_detail(s, row, now)  # a retry of the posted correction
            wallet = self._check(s, row, amount)
            spec = self._spec(s, actor, row, wallet, amount, text)
            grant = self.approvals.check(s, spec, approval_id=approval_id)
            expense = self.ledger.open_account(s, code=expense_code(actor.branch_code, "disputes", amount.currency),
                                               name="Dispute corrections", kind=AccountKind.EXPENSE,
                                               currency=amount.currency, branch_code=actor.branch_code)
            assert row.id is not None
            number = case_number(row.id)
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=idempotency_key, kind=EntryKind.DISPUTE_CORRECTION,
                legs=(debit(expense, amount), credit(wallet.account_id, amount)), actor_id=actor.staff_id,
                terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo=number,
                customer_id=row.customer_id, dating=Dating.COUNTER,
                meta={"case": number, "wallet": wallet.number,
                      "approval_id": grant.approval_id if grant else None,
                      "approved_by": grant.approver_id if grant else None}))
            if grant is not None:
                self.approvals.attach_entry(s, grant.approval_id, result.entry_id)
            set_status(s, row, actor, CaseStatus.RESOLVED, now, text, levels=self.levels)
            row.resolution, row.in_customer_favour = text, True
            row.resolved_at, row.resolved_by, row.correction_entry_id = now, actor.staff_id, result.entry_id
            s.add(CaseLink(case_id=row.id, entry_reference=result.reference, linked_at=now, linked_by=actor.staff_id))
            add_event(s, row, actor, CaseEventKind.CORRECTION, now, _("Correction {reference}: {amount} to the "
                                                                     "customer's wallet").format(
                reference=result.reference, amount=format_money(amount)))
            self.audit.append(s, actor, "case_correction", subject=number, detail={
                **entry_facts((result, actor.staff_id)), "amount": amount.plain(), "currency": amount.currency, "reference": result.reference,
                "wallet": wallet.number, "approval_id": grant.approval_id if grant else None})
            s.flush()
            return case_detail(s, row, now)

        return self.db.write_retrying(work)

    # -- internals -------------------------------------------------------------------------------
    @staticmethod
    def _check(s: Session, row: ServiceCase, amount: Money) -> Wallet:
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if row.type != CaseType.TRANSACTION_DISPUTE:
            raise Conflict(_("Only a transaction dispute can be resolved with a correction."),
                           code="case_not_dispute")
        if row.status in DONE:
            raise Conflict(_("This case is already resolved or closed."), code="case_transition")
        if row.correction_entry_id is not None:
            raise Conflict(_("This case already has its correction."), code="case_corrected")
        wallet = s.get(Wallet, row.wallet_id) if row.wallet_id is not None else None
        if wallet is None:
            raise NotFound(_("The case names no wallet to correct."), code="case_no_wallet")
        refuse_if_blocked(s, wallet.id, wallet.number)  # a lost phone's wallet takes nothing in either
        if amount.minor <= 0:
            raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
        if amount.currency != wallet.currency:
            raise ValidationError(_("The wallet holds another currency"), code="currency_mismatch")
        linked = _linked_references(s, row)
        most = disputed_total(s, row, linked)
        if most is not None and amount.minor > most.minor:
            raise LimitExceeded(_("The correction is more than the disputed transactions moved ({amount}).").format(
                amount=format_money(most)), code="case_correction_too_large")
        return wallet

    def _spec(self, s: Session, actor: Actor, row: ServiceCase, wallet: Wallet, amount: Money,
              resolution: str) -> ApprovalSpec:
        assert row.id is not None
        hits = self.approvals.evaluate(Facts(ACTION, current_business_date(s, actor.branch_code, self.clock),
                                             amount, actor.role))
        number = case_number(row.id)
        return ApprovalSpec(kind=ACTION, requester_id=actor.staff_id, branch_code=actor.branch_code, amount=amount,
                            accounts=(wallet.number,), customer_id=row.customer_id, subject=f"case:{number}",
                            reason=clean_text(resolution, limit=200), rules=tuple(h.rule for h in hits),
                            reasons=tuple(h.reason for h in hits),
                            summary=message(N_("Dispute correction · {amount} · {case}"), amount=amount, case=number))


def _linked_references(s: Session, row: ServiceCase) -> tuple[str, ...]:
    """The entries the customer disputes (the links made before any correction)."""
    refs = s.execute(select(col(CaseLink.entry_reference)).where(
        col(CaseLink.case_id) == row.id, col(CaseLink.entry_reference).is_not(None))).scalars().all()
    return tuple(r for r in refs if r is not None)
