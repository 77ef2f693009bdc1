"""Linked bank cards and accounts (a wallet's funding source), and money moved with them.

Public API::

    svc = FundingService(db, clock, settings, ledger, audit, tiers, box=box, risk_gate=gate, outbox=outbox,
                         approvals=approvals)                                                 # services.funding
    chk = svc.check_number("card", "6222 0212 3456 7891 234")   # -> LinkCheck (masked, bank), ValidationError
    view = svc.link(session, actor, customer_id, wallet_id, kind, number, holder_name)  # caller's txn
    view = svc.link_now(actor, customer_id, wallet_id, kind, number, holder_name)       # own txn
    svc.unlink(actor, linked_id)
    r = svc.top_up_from_linked(actor, wallet_id, amount, idempotency_key=key, approval_id=None)  # -> FundingResult
    r = svc.withdraw_to_linked(actor, wallet_id, amount, idempotency_key=key, approval_id=None)  # -> FundingResult
    token = svc.token_for(number)            # keyed hash (HMAC-SHA256), never the number

The number itself is never stored: only its mask (:func:`~teller_tui.common.masks.mask_card`) and
a token, HMAC-SHA256 under a key derived (HMAC with a fixed label) from the SecretBox key file
``<home>/secret.key``. The same number always gives the same token, so one card cannot be linked
to two customers; a copy of the database alone reveals nothing about the number.

Postings go through the ledger: top-up debits the branch settlement account
(``settlement:<branch>:CNY``, kind SETTLEMENT) and credits the wallet; withdrawal the reverse.
Both are idempotent by ``idempotency_key`` (the second call returns the original result with
``replayed=True`` and re-checks nothing). Class limits are the ones every channel uses
(:mod:`teller_tui.wallets.limits`): balance cap for money in; per-transaction, daily and yearly
for money out. A frozen or closed wallet is refused both ways (the linked flows are teller-initiated).
The risk rules marked blocking are checked in the posting transaction like a counter posting's
(:class:`~teller_tui.risk.blocking.PostingGate`); a block of either mode refuses (code ``risk_blocked``).
The customer's notification is queued in the same transaction.

Approval where the policy says (``data/approval_policy.toml``, actions ``linked_top_up`` and
``linked_withdraw``; shipped: a withdrawal of 20,000.00 or more): after the limits are checked, inside
the posting transaction, :meth:`ApprovalService.check` raises ``ApprovalRequired`` carrying the spec
(wallet and linked account, amount, memo, customer); the teller's retry with ``approval_id`` consumes
it. Nothing is held while a queued request waits (the money stays in the wallet, and every limit and
the balance are checked again when the approved request posts).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.approvals.policy import Facts, PolicyHit
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.auth.roles import STAFF_ROLES, require_role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, LimitExceeded, NotFound, ValidationError
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.masks import mask_card, mask_name
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text, reject_control_text
from teller_tui.db.engine import Database
from teller_tui.ledger import EntryRequest, EntryResult, Ledger, credit, debit, entry_facts
from teller_tui.ledger.accounts import AccountKind, settlement_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.models import Customer, LinkedAccount, Wallet
from teller_tui.models.enums import LinkedAccountKind, WalletStatus
from teller_tui.notify.outbox import Outbox
from teller_tui.notify.postings import notify_entry
from teller_tui.risk.blocking import PostingGate, WalletParty
from teller_tui.wallets.activation import grant_first_use
from teller_tui.wallets.blocks import refuse_if_blocked
from teller_tui.wallets.classes import EVIDENCE_OWN_BANK_ACCOUNT, TierTable
from teller_tui.wallets.identity.cards import validate_bank_account, validate_bank_card
from teller_tui.wallets.identity.names import validate_name
from teller_tui.wallets.limits import check_money_in, check_payment_out
from teller_tui.auth.permissions import guarded

_TOKEN_LABEL = b"teller-tui linked-account token v1"


@dataclass(frozen=True, slots=True)
class LinkCheck:
    kind: str  # card | account
    masked: str
    bank_code: str
    bank_name: str  # in the active locale; "" for an account whose bank the teller names
    token: str


@dataclass(frozen=True, slots=True)
class LinkedView:
    linked_id: int
    customer_id: int
    wallet_id: int | None
    kind: str
    bank_name: str
    masked: str
    holder_name: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class FundingResult:
    reference: str
    entry_id: int
    kind: str  # linked_top_up | linked_withdraw
    amount: Money
    new_balance: Money
    posted_at: datetime
    business_date: date
    wallet_number: str
    linked_masked: str
    bank_name: str
    replayed: bool = False


class FundingService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 tiers: TierTable, *, box: SecretBox, risk_gate: PostingGate, outbox: Outbox,
                 approvals: ApprovalService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers, self.risk_gate, self.outbox, self.approvals = tiers, risk_gate, outbox, approvals
        self.box = box
        self._token_key: bytes | None = None

    # -- tokens and checks ------------------------------------------------------------------
    def _key(self) -> bytes:
        if self._token_key is None:
            self._token_key = self.box.derive_key(_TOKEN_LABEL)
        return self._token_key

    def token_for(self, digits: str) -> str:
        """The keyed hash stored in place of a card or account number."""
        return hmac.new(self._key(), digits.encode("ascii"), hashlib.sha256).hexdigest()

    def check_number(self, kind: str, number: str, bank_name: str = "") -> LinkCheck:
        """Validate a card (Luhn, bank from BIN) or account number; nothing is stored."""
        if kind == LinkedAccountKind.CARD:
            card = validate_bank_card(number)
            name = "" if card.bank.code == "unknown" else card.bank.name(get_locale())
            return LinkCheck(LinkedAccountKind.CARD, card.masked, card.bank.code, name or _("Unknown bank"),
                             self.token_for(card.number))
        if kind == LinkedAccountKind.ACCOUNT:
            digits = validate_bank_account(number)
            bank = " ".join(bank_name.split())
            if not bank:
                raise ValidationError(_("Enter the bank that holds the account"), code="bank_empty", field="bank_name")
            reject_control_text(bank, _("Bank"))
            return LinkCheck(LinkedAccountKind.ACCOUNT, mask_card(digits), "", bank[:80], self.token_for(digits))
        raise ValidationError(_("Choose a card or an account"), code="link_kind")

    # -- linking ------------------------------------------------------------------------------
    def link(self, session: Session, actor: Actor, customer_id: int, wallet_id: int | None, kind: str,
             number: str, holder_name: str, *, bank_name: str = "", audit: bool = True) -> LinkedView:
        check = self.check_number(kind, number, bank_name)
        holder = validate_name(holder_name)
        if session.get(Customer, customer_id) is None:
            raise NotFound(_("No such customer"), code="no_customer")
        existing = session.exec(select(LinkedAccount).where(LinkedAccount.token == check.token)).first()
        if existing is not None:
            if existing.customer_id != customer_id:
                raise Conflict(_("This card or account is already linked to another customer"),
                               code="linked_elsewhere")
            if existing.removed_at is None and existing.wallet_id == wallet_id:
                return _linked(existing)
            existing.wallet_id, existing.removed_at, existing.holder_name = wallet_id, None, holder
            existing.added_at = self.clock.now()
            row = existing
        else:
            row = LinkedAccount(customer_id=customer_id, wallet_id=wallet_id, kind=check.kind,
                                bank_name=check.bank_name, masked=check.masked, token=check.token,
                                holder_name=holder, added_at=self.clock.now())
            session.add(row)
        session.flush()
        if audit:
            self.audit.append(session, actor, "linked_account_add", subject=check.masked,
                              detail={"customer_id": customer_id, "wallet_id": wallet_id, "kind": kind,
                                      "bank": check.bank_name})
        return _linked(row)

    @guarded("funding")
    def link_now(self, actor: Actor, customer_id: int, wallet_id: int | None, kind: str, number: str,
                 holder_name: str, *, bank_name: str = "") -> LinkedView:
        require_role(actor, *STAFF_ROLES)
        return self.db.write_retrying(lambda s: self.link(s, actor, customer_id, wallet_id, kind, number,
                                                          holder_name, bank_name=bank_name))

    @guarded("funding")
    def unlink(self, actor: Actor, linked_id: int) -> None:
        require_role(actor, *STAFF_ROLES)

        def work(s: Session) -> None:
            row = s.get(LinkedAccount, linked_id)
            if row is None or row.removed_at is not None:
                raise NotFound(_("No such linked account"), code="no_linked")
            self._check_not_last_own(s, actor, row)
            row.removed_at = self.clock.now()
            self.audit.append(s, actor, "linked_account_remove", subject=row.masked,
                              detail={"customer_id": row.customer_id, "wallet_id": row.wallet_id})

        self.db.write_retrying(work)

    def _check_not_last_own(self, s: Session, actor: Actor, row: LinkedAccount) -> None:
        """Classes 1 and 2 need the customer's own bank account (wallet_tiers.toml ``evidence``):
        its last one cannot be unlinked while such a wallet is open; the wallet's class changes first."""
        customer = s.get(Customer, row.customer_id)
        if customer is None or row.holder_name != customer.full_name:
            return  # not the customer's own account: never the evidence
        others = s.exec(select(LinkedAccount.id).where(
            LinkedAccount.customer_id == customer.id, col(LinkedAccount.removed_at).is_(None),
            LinkedAccount.holder_name == customer.full_name, LinkedAccount.id != row.id)).first()
        if others is not None:
            return
        on = current_business_date(s, actor.branch_code, self.clock)
        for wallet in s.exec(select(Wallet).where(Wallet.customer_id == customer.id,
                                                  Wallet.status != WalletStatus.CLOSED)).all():
            if EVIDENCE_OWN_BANK_ACCOUNT in self.tiers.tier(wallet.tier, on=on).evidence:
                raise Conflict(_("This is the customer's only own bank account and wallet {number} is class "
                                 "{tier}, which needs one: change the wallet's class first").format(
                                     number=wallet.number, tier=wallet.tier), code="last_own_account")

    def linked_for_wallet(self, wallet_id: int) -> LinkedView | None:
        with self.db.read() as s:
            row = _active_link(s, wallet_id)
            return None if row is None else _linked(row)

    # -- money ----------------------------------------------------------------------------------
    @guarded("funding")
    def top_up_from_linked(self, actor: Actor, wallet_id: int, amount: Money, *, idempotency_key: str,
                           memo: str = "", approval_id: int | None = None) -> FundingResult:
        """Settlement -> wallet. Balance cap applies."""
        require_role(actor, *STAFF_ROLES)
        return self._move(actor, wallet_id, amount, idempotency_key, memo, incoming=True, approval_id=approval_id)

    @guarded("funding")
    def withdraw_to_linked(self, actor: Actor, wallet_id: int, amount: Money, *, idempotency_key: str,
                           memo: str = "", approval_id: int | None = None) -> FundingResult:
        """Wallet -> settlement. Per-transaction, daily and yearly limits apply."""
        require_role(actor, *STAFF_ROLES)
        return self._move(actor, wallet_id, amount, idempotency_key, memo, incoming=False, approval_id=approval_id)

    def _move(self, actor: Actor, wallet_id: int, amount: Money, key: str, memo: str, *,
              incoming: bool, approval_id: int | None) -> FundingResult:
        if not isinstance(amount, Money) or amount.minor <= 0:
            raise ValidationError(_("Enter an amount above zero"), code="amount")
        kind = "linked_top_up" if incoming else "linked_withdraw"
        memo = clean_text(memo, limit=200)

        def work(s: Session) -> FundingResult:
            wallet = s.get(Wallet, wallet_id)
            if wallet is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            link = _active_link(s, wallet_id)
            if link is None:
                raise Conflict(_("This wallet has no linked card or account"), code="no_linked")
            done = self.ledger.entry_by_key(s, key)
            if done is not None:
                done_legs = {leg.account_id: leg.amount for leg in done.legs}
                signed = amount.minor if not incoming else -amount.minor
                if done.kind != kind or done_legs.get(wallet.account_id) != signed:
                    raise Conflict(_("This request was already used for a different transaction"),
                                   code="idempotency_conflict")
                return self._result(s, wallet, link, done, amount, replayed=True)
            refuse_if_blocked(s, wallet.id, wallet.number)
            if wallet.status != WalletStatus.ACTIVE:
                raise Conflict(_("This wallet is {status}: nothing can be moved").format(
                    status=_status_label(wallet.status)), code=f"wallet_{wallet.status}")
            if amount.currency != wallet.currency:
                raise ValidationError(_("The wallet holds {currency}").format(currency=wallet.currency),
                                      code="currency")
            branch = actor.branch_code
            settle = self.ledger.open_account(s, code=settlement_code(branch, wallet.currency),
                                              name=f"Settlement {branch}", kind=AccountKind.SETTLEMENT,
                                              currency=wallet.currency, branch_code=branch)
            on = current_business_date(s, branch, self.clock)  # usage counts by the open business day
            bal = self.ledger.balance(s, wallet.account_id)
            if incoming:
                check_money_in(self.tiers, tier=wallet.tier, balance_after=bal.posted + amount, on=on)
                legs = (debit(settle, amount), credit(wallet.account_id, amount))
            else:
                check_payment_out(s, self.tiers, tier=wallet.tier, account_id=wallet.account_id, amount=amount,
                                  on=on)
                if amount > bal.available:
                    raise LimitExceeded(_("Not enough money in the wallet"), code="insufficient_funds")
                legs = (debit(wallet.account_id, amount), credit(settle, amount))
            self.risk_gate.refuse_any(s, parties=party(wallet), amount=amount)
            hits = linked_hits(self.approvals, actor, kind, amount, on)
            customer = s.get(Customer, wallet.customer_id)
            spec = ApprovalSpec(kind=kind, requester_id=actor.staff_id, branch_code=branch, amount=amount,
                                accounts=(wallet.number, link.masked) if not incoming else (link.masked, wallet.number),
                                customer_id=wallet.customer_id, subject=f"linked:{link.id}", reason=memo,
                                rules=tuple(h.rule for h in hits), reasons=tuple(h.reason for h in hits),
                                customer_name=mask_name(customer.full_name) if customer else "")
            self.approvals.check(s, spec, approval_id=approval_id)
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=key, kind=kind, legs=legs, actor_id=actor.staff_id,
                terminal_id=actor.terminal_id, branch_code=branch, memo=memo or link.masked,
                customer_id=wallet.customer_id, meta={"linked_id": link.id},
                dating=Dating.COUNTER))
            if not result.replayed:
                grant_first_use(s, self.ledger, self.audit, actor, int(wallet.id or 0))  # the wallet's activation earns it
                notify_entry(s, self.outbox, result)
            self.audit.append(s, actor, kind, subject=wallet.number,
                              detail={**entry_facts((result, actor.staff_id)), "amount": amount.plain(),
                                      "linked": link.masked, "ref": result.reference, "approval_id": approval_id})
            return self._result(s, wallet, link, result, amount, replayed=result.replayed)

        return self.db.write_retrying(work)

    def _result(self, s: Session, wallet: Wallet, link: LinkedAccount, entry: EntryResult, amount: Money, *,
                replayed: bool) -> FundingResult:
        bal = self.ledger.balance(s, wallet.account_id)
        return FundingResult(entry.reference, entry.entry_id, entry.kind, amount, bal.posted, entry.posted_at,
                             entry.business_date, wallet.number, link.masked, link.bank_name, replayed)


def linked_hits(approvals: ApprovalService, actor: Actor, kind: str, amount: Money, on: date) -> list[PolicyHit]:
    """The approval rules a linked top-up or withdrawal hits (the preview shows them; the posting asks)."""
    return approvals.evaluate(Facts(kind, on=on, amount=amount, role=actor.role))


def party(wallet: Any) -> list[WalletParty]:
    """The wallet (an ORM row or a selected one) as the risk gate sees it."""
    return [WalletParty(int(wallet.id or 0), int(wallet.account_id), int(wallet.customer_id))]


def _active_link(s: Session, wallet_id: int) -> LinkedAccount | None:
    return s.exec(select(LinkedAccount).where(LinkedAccount.wallet_id == wallet_id,
                                              col(LinkedAccount.removed_at).is_(None))
                  .order_by(col(LinkedAccount.id).desc())).first()


def _linked(row: LinkedAccount) -> LinkedView:
    assert row.id is not None
    return LinkedView(row.id, row.customer_id, row.wallet_id, row.kind, row.bank_name, row.masked,
                      row.holder_name, row.added_at)


def _status_label(status: str) -> str:
    labels: dict[str, str] = {WalletStatus.FROZEN: _("frozen"), WalletStatus.CLOSED: _("closed"),
                              WalletStatus.ACTIVE: _("active")}
    return labels.get(status, status)
