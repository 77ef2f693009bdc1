"""Cash in, cash out, wallet-to-wallet transfer and same-day reversal at the counter.

Public API (stable; the desk UI codes against it)::

    svc = CashService(db, clock, settings, ledger, audit, tiers=None)   # services.cash
    p = svc.preview_cash_in(actor, wallet_id, amount)                   # -> Preview
    p = svc.preview_cash_out(actor, wallet_id, amount)                  # -> Preview
    p = svc.preview_transfer(actor, from_wallet_id, to_wallet_id, amount)  # -> Preview
    p = svc.preview_reversal(actor, entry_id)                           # -> Preview
    r = svc.cash_in(actor, wallet_id, amount, memo="", idempotency_key=key)    # -> TxnResult
    r = svc.cash_out(actor, wallet_id, amount, memo="", idempotency_key=key, approved_by=None)
    r = svc.transfer(actor, from_wallet_id, to_wallet_id, amount, memo="", idempotency_key=key,
                     approved_by=None)
    r = svc.reverse(actor, entry_id, reason, idempotency_key=key)       # -> TxnResult
    text = svc.receipt_for(reference, width=80, locale=None)            # reprint -> str
    key = new_idempotency_key()                                         # UI: once per form

``Preview`` never raises for business rules: ``refusal`` holds the hard refusal (frozen wallet,
tier limit, insufficient funds ...) and ``approval_reasons`` the reasons a supervisor must approve.
The posting methods raise: :class:`~teller_tui.common.errors.LimitExceeded` (hard tier limits, funds),
:class:`~teller_tui.common.errors.Conflict` (frozen/closed wallet, reversal rules, key reused for another
request), :class:`~teller_tui.common.errors.ApprovalRequired` (``reasons``/``rules`` and
``details["spec"]``, an :class:`~teller_tui.approvals.workflow.ApprovalSpec`; retry with ``approval_id=`` once
the approval flow granted it: the approval is consumed in the posting transaction, bound to the
request), ValidationError, NotFound. ``approved_by`` is accepted and ignored (superseded).

Idempotency: the UI creates ``idempotency_key`` when the form opens and reuses it for retries and
double submits; the second call returns the original :class:`TxnResult` with ``replayed=True``
and posts nothing (limits are not re-checked for a replay).

Rules (choices documented):

* tier limits (balance cap, per-transaction, daily, yearly; teller_tui.wallets.classes) are HARD limits
  (LimitExceeded). Per-transaction / daily / yearly limits apply to money leaving a wallet
  (cash out, transfer out); the balance cap to money coming in.
* what needs a supervisor is decided by the approval policy (data/approval_policy.toml, evaluated
  by teller_tui.approvals.workflow): teller limits per role (data/teller_limits.toml) -> rule
  ``teller_cash_limit``; one cash transaction >= 50,000.00 CNY, or the same customer's same-day
  cumulative cash in one direction reaching it -> rule ``large_cash`` (and a large-value report);
  every reversal -> rule ``reversal``.
* reversal: only the teller's own cash_in / cash_out / transfer, on the same business day, once.
* transfers across branches add inter-branch clearing legs (``interbranch:<branch>:<cur>``,
  kind SETTLEMENT) so each branch's trial balance stays zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common.money import Money
from teller_tui.wallets.limits import check_money_in, check_payment_out

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings
    from teller_tui.approvals.workflow import ApprovalService
    from teller_tui.wallets.classes import TierTable


@dataclass(frozen=True, slots=True)
class Preview:
    """What the confirmation dialog shows before anything is posted."""

    kind: str  # cash_in | cash_out | transfer | reversal
    customer_name: str
    wallet_number: str
    amount: Money
    amount_words: str
    balance_before: Money
    balance_after: Money
    approval_reasons: list[str] = field(default_factory=list)
    approval_rules: list[str] = field(default_factory=list)
    refusal: str | None = None
    refusal_code: str | None = None
    counterparty_name: str = ""  # transfer: the receiving customer
    counterparty_wallet: str = ""
    customer_id: int | None = None
    wallet_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None and not self.approval_reasons


@dataclass(frozen=True, slots=True)
class TxnResult:
    reference: str
    entry_id: int
    kind: str
    amount: Money
    new_balance: Money  # of the (source) wallet after the entry
    posted_at: datetime
    business_date: date
    receipt_text: str  # 80 columns, active locale
    receipt_path: Path | None
    replayed: bool = False
    wallet_number: str = ""


_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str, build: Any) -> Any:
    """A hot-path statement built once, on first use (bind parameters carry the values)."""
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


CASH_KINDS = ("cash_in", "cash_out")
REVERSIBLE_KINDS = ("cash_in", "cash_out", "transfer")
STAFF_CASH_ROLES = frozenset({"teller", "supervisor", "admin"})


def new_idempotency_key(prefix: str = "desk") -> str:
    """A fresh key; the UI makes one when a form opens and reuses it for every submit."""
    import uuid

    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class RoleLimits:
    cash_out_per_txn: Money | None
    cash_out_daily: Money | None


@dataclass(frozen=True, slots=True)
class TellerLimits:
    large_cash: Money
    roles: dict[str, RoleLimits]

    @classmethod
    def load(cls, path: Path | None = None) -> TellerLimits:
        import tomllib

        from teller_tui.common.money import parse_money
        from teller_tui.common.paths import data_file

        path = path or data_file("teller_limits.toml")
        with path.open("rb") as fh:
            raw = tomllib.load(fh)

        def m(v: Any) -> Money | None:
            return None if v in (None, "", "0") else parse_money(str(v))

        roles = {name: RoleLimits(m(r.get("cash_out_per_txn")), m(r.get("cash_out_daily")))
                 for name, r in raw.get("role", {}).items()}
        threshold = m(raw.get("large_cash", {}).get("threshold")) or Money.of("50000")
        return cls(threshold, roles)

    def for_role(self, role: str) -> RoleLimits:
        return self.roles.get(role, RoleLimits(Money(0), Money(0)))


@dataclass
class WalletSide:
    """One wallet of a transaction, as read inside the transaction."""

    wallet: Any
    account: Any
    customer: Any

    @property
    def balance(self) -> int:
        return int(self.account.credits_posted - self.account.debits_posted)

    @property
    def available(self) -> int:
        return int(self.account.credits_posted - self.account.debits_posted - self.account.debits_pending)


@dataclass
class _Check:
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


def _fmt(m: Money) -> str:
    try:
        from teller_tui.common.formatting import format_money

        return format_money(m)
    except Exception:  # noqa: BLE001
        return f"{m.plain()} {m.currency}"


def _words(m: Money) -> str:
    try:
        from teller_tui.common.formatting import amount_in_words

        return amount_in_words(m)
    except Exception:  # noqa: BLE001
        return ""


def _tr(message: str) -> str:
    try:
        from teller_tui.common.i18n import _

        return _(message)
    except ImportError:  # pragma: no cover
        return message


class CashService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 *, tiers: TierTable, teller_limits: TellerLimits, approvals: ApprovalService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers = tiers
        self.teller_limits = teller_limits
        self.approvals = approvals

    def _today(self, session: Session, actor: Actor) -> date:
        from teller_tui.ledger.business_day import current_business_date

        return current_business_date(session, actor.branch_code, self.clock)

    # -- the one replaceable drawer lookup ---------------------------------------------------
    def _drawer_account(self, session: Session, actor: Actor) -> int:
        """The ledger account of the actor's open cash drawer (teller_tui.branch.drawers): refused with a
        clear reason (Conflict) when no drawer is open for the actor on the current business day."""
        from teller_tui.branch.drawer_lookup import require_open_drawer

        return require_open_drawer(session, actor).account_id

    # -- reading -----------------------------------------------------------------------------
    def wallet_side(self, session: Session, wallet_id: int) -> WalletSide:
        from teller_tui.common.errors import NotFound
        from teller_tui.models import Customer, LedgerAccount, Wallet

        w = session.get(Wallet, wallet_id)
        if w is None:
            raise NotFound(_tr("No such wallet"), code="no_wallet")
        acct = session.get(LedgerAccount, w.account_id)
        session.refresh(acct)
        return WalletSide(w, acct, session.get(Customer, w.customer_id))

    def _side(self, session: Session, wallet_id: int) -> WalletSide:
        """The wallet, its ledger account totals and its customer in one Core select, read inside
        the caller's transaction (plain attribute objects, nothing from the identity map)."""
        from types import SimpleNamespace

        from sqlalchemy import bindparam, select

        from teller_tui.common.errors import NotFound
        from teller_tui.models import Customer, LedgerAccount, Wallet

        w, a, c = Wallet.__table__, LedgerAccount.__table__, Customer.__table__  # type: ignore[attr-defined]
        wcols = (w.c.id, w.c.number, w.c.customer_id, w.c.tier, w.c.status, w.c.currency, w.c.account_id)
        acols = (a.c.code, a.c.branch_code, a.c.debits_posted, a.c.credits_posted, a.c.debits_pending,
                 a.c.credits_pending)
        row = session.execute(_stmt("wallet_side", lambda: select(*wcols, *acols, c.c.id.label("c_id"),
                                                                  c.c.full_name)
                                    .select_from(w.join(a, a.c.id == w.c.account_id)
                                                 .outerjoin(c, c.c.id == w.c.customer_id))
                                    .where(w.c.id == bindparam("wid"))), {"wid": wallet_id}).first()
        if row is None:
            raise NotFound(_tr("No such wallet"), code="no_wallet")
        m = row._mapping
        wallet = SimpleNamespace(**{col.name: m[col] for col in wcols})
        account = SimpleNamespace(id=row.account_id, **{col.name: m[col] for col in acols})
        customer = SimpleNamespace(id=row.c_id, full_name=row.full_name) if row.c_id is not None else None
        return WalletSide(wallet, account, customer)

    def _unindexed(self, column: str) -> str:
        """``column`` as an expression SQLite's planner will not drive an index with.

        Without statistics SQLite picks ix_entry_date_kind for "business_date = ? AND kind = ?",
        which walks every entry of that kind today (thousands at a busy branch) instead of the
        few of one customer or teller (ix_entry_customer_date / ix_entry_actor_date). Unary ``+``
        is SQLite's documented way to keep a term out of index selection; PostgreSQL plans by
        statistics and gets the column as is."""
        return f"+{column}" if self.db.dialect == "sqlite" else column

    def _cash_today_for_customer(self, session: Session, customer_id: int, kind: str, on: date) -> int:
        from sqlalchemy import text

        total = session.execute(_stmt(f"customer_cash_today:{self.db.dialect}", lambda: text(
            "SELECT coalesce(sum(abs(p.amount)), 0) FROM journal_entry e "
            "JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
            f"WHERE e.customer_id = :c AND e.business_date = :d AND {self._unindexed('e.kind')} = :k "
            "AND a.kind = 'drawer' "
            "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")),
            {"c": customer_id, "d": on, "k": kind}).scalar_one()
        return int(total)

    def _cash_out_today_for_actor(self, session: Session, staff_id: int | None, on: date) -> int:
        from sqlalchemy import text

        if staff_id is None:
            return 0
        total = session.execute(_stmt(f"actor_cash_out_today:{self.db.dialect}", lambda: text(
            "SELECT coalesce(sum(-p.amount), 0) FROM journal_entry e "
            "JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
            f"WHERE e.actor_id = :s AND e.business_date = :d AND {self._unindexed('e.kind')} = 'cash_out' "
            "AND a.kind = 'drawer' "
            "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")),
            {"s": staff_id, "d": on}).scalar_one()
        return int(total)

    # -- rules -------------------------------------------------------------------------------
    def check_limits(self, session: Session, actor: Actor, kind: str, amount: Money, src: WalletSide,
                     dst: WalletSide | None = None) -> _Check:
        from teller_tui.common.errors import Conflict, LimitExceeded, PermissionDenied, ValidationError

        chk = _Check()
        today = self._today(session, actor)
        if amount.minor <= 0:
            chk.refuse(ValidationError(_tr("The amount must be more than zero"), code="amount_zero"))
            return chk
        if kind in CASH_KINDS and actor.role not in STAFF_CASH_ROLES:
            chk.refuse(PermissionDenied(_tr("This sign-in cannot handle cash"), code="cash_role"))
            return chk
        if amount.currency != src.wallet.currency:
            chk.refuse(ValidationError(_tr("The wallet holds another currency"), code="currency_mismatch"))
            return chk
        out_side = src if kind in ("cash_out", "transfer") else None
        in_side = src if kind == "cash_in" else dst
        for side in (s for s in (src, dst) if s is not None):
            if side.wallet.status == "closed":
                chk.refuse(Conflict(_tr("Wallet {number} is closed").format(number=side.wallet.number),
                                    code="wallet_closed"))
        if out_side is not None and out_side.wallet.status == "frozen":
            chk.refuse(Conflict(_tr("Wallet {number} is frozen: no payments out").format(
                number=out_side.wallet.number), code="wallet_frozen"))
        if dst is not None and dst.wallet.id == src.wallet.id:
            chk.refuse(ValidationError(_tr("Choose two different wallets"), code="same_wallet"))
        if chk.refusal is not None:
            return chk
        # Hard class limits (one owner: teller_tui.wallets.limits).
        if out_side is not None:
            if amount.minor > out_side.available:
                chk.refuse(LimitExceeded(_tr("Insufficient funds: available {amount}").format(
                    amount=_fmt(Money(max(out_side.available, 0), amount.currency))), code="insufficient_funds"))
            else:
                try:
                    check_payment_out(session, self.tiers, tier=out_side.wallet.tier,
                                      account_id=out_side.wallet.account_id, amount=amount, on=today)
                except LimitExceeded as exc:
                    chk.refuse(exc)
        if in_side is not None and chk.refusal is None:
            try:
                check_money_in(self.tiers, tier=in_side.wallet.tier,
                               balance_after=Money(in_side.balance + amount.minor, amount.currency), on=today)
            except LimitExceeded as exc:
                chk.refuse(exc)
        if chk.refusal is not None:
            return chk
        # Limits a supervisor may lift: evaluated by the approval policy (data/approval_policy.toml).
        from teller_tui.approvals.workflow import Facts

        before = self._cash_today_for_customer(session, src.wallet.customer_id, kind, today) \
            if kind in CASH_KINDS else 0
        paid = self._cash_out_today_for_actor(session, actor.staff_id, today) if kind == "cash_out" else 0
        for hit in self.approvals.evaluate(Facts(kind, today, amount, actor.role, Money(paid, amount.currency),
                                                 Money(before, amount.currency))):
            chk.need(hit.rule, hit.reason)
        chk.customer_before = before
        return chk

    # -- previews ----------------------------------------------------------------------------
    def _preview(self, actor: Actor, kind: str, wallet_id: int, amount: Money, to_wallet_id: int | None = None
                 ) -> Preview:
        from teller_tui.common.errors import DomainError

        with self.db.read() as s:
            src = self.wallet_side(s, wallet_id)
            dst = self.wallet_side(s, to_wallet_id) if to_wallet_id is not None else None
            chk = self.check_limits(s, actor, kind, amount, src, dst)
            sign = 1 if kind == "cash_in" else -1
            before = Money(src.balance, src.wallet.currency)
            after = Money(src.balance + sign * amount.minor, src.wallet.currency)
            refusal = chk.refusal
            return Preview(
                kind=kind, customer_name=src.customer.full_name, wallet_number=src.wallet.number, amount=amount,
                amount_words=_words(amount) if amount.currency == "CNY" else "", balance_before=before,
                balance_after=after, approval_reasons=list(chk.reasons), approval_rules=list(chk.rules),
                refusal=str(refusal) if refusal is not None else None,
                refusal_code=getattr(refusal, "code", None) if isinstance(refusal, DomainError) else None,
                counterparty_name=dst.customer.full_name if dst else "",
                counterparty_wallet=dst.wallet.number if dst else "",
                customer_id=src.wallet.customer_id, wallet_id=src.wallet.id)

    def preview_cash_in(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, "cash_in", wallet_id, amount)

    def preview_cash_out(self, actor: Actor, wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, "cash_out", wallet_id, amount)

    def preview_transfer(self, actor: Actor, from_wallet_id: int, to_wallet_id: int, amount: Money) -> Preview:
        return self._preview(actor, "transfer", from_wallet_id, amount, to_wallet_id)

    def preview_reversal(self, actor: Actor, entry_id: int) -> Preview:
        from teller_tui.common.errors import DomainError

        with self.db.read() as s:
            try:
                original, wallet_id, amount = self._reversal_target(s, actor, entry_id)
                refusal = None
            except DomainError as exc:
                refusal = exc
                wallet_id, amount = self._entry_wallet(s, entry_id)
            src = self.wallet_side(s, wallet_id)
            # Undoing money in takes it out again and vice versa.
            delta = -amount.minor
            if refusal is None and src.balance + delta < 0:
                refusal = None  # the ledger refuses at posting; show the shortfall in the preview
            spec = self._reversal_spec(s, actor, entry_id, wallet_id, amount, "") if refusal is None else None
            return Preview(kind="reversal", customer_name=src.customer.full_name, wallet_number=src.wallet.number,
                           amount=abs(amount), amount_words=_words(abs(amount)),
                           balance_before=Money(src.balance, amount.currency),
                           balance_after=Money(src.balance + delta, amount.currency),
                           refusal=str(refusal) if refusal else None,
                           refusal_code=getattr(refusal, "code", None), customer_id=src.wallet.customer_id,
                           wallet_id=src.wallet.id, approval_reasons=list(spec.reasons) if spec else [],
                           approval_rules=list(spec.rules) if spec else [])

    # -- posting -----------------------------------------------------------------------------
    def cash_in(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *, idempotency_key: str,
                approved_by: int | None = None, approval_id: int | None = None) -> TxnResult:
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        return self._execute(actor, "cash_in", wallet_id, None, amount, memo, idempotency_key, approval_id)

    def cash_out(self, actor: Actor, wallet_id: int, amount: Money, memo: str = "", *, idempotency_key: str,
                 approved_by: int | None = None, approval_id: int | None = None) -> TxnResult:
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        return self._execute(actor, "cash_out", wallet_id, None, amount, memo, idempotency_key, approval_id)

    def transfer(self, actor: Actor, from_wallet_id: int, to_wallet_id: int, amount: Money, memo: str = "", *,
                 idempotency_key: str, approved_by: int | None = None, approval_id: int | None = None) -> TxnResult:
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        return self._execute(actor, "transfer", from_wallet_id, to_wallet_id, amount, memo, idempotency_key,
                             approval_id)

    def posting_legs(self, session: Session, actor: Actor, kind: str, amount: Money, src: WalletSide,
                     dst: WalletSide | None) -> tuple[Any, ...]:
        from teller_tui.ledger import credit, debit
        from teller_tui.ledger.accounts import AccountKind, interbranch_code

        if kind == "cash_in":
            drawer = self._drawer_account(session, actor)
            return (debit(drawer, amount), credit(src.wallet.account_id, amount))
        if kind == "cash_out":
            drawer = self._drawer_account(session, actor)
            return (debit(src.wallet.account_id, amount), credit(drawer, amount))
        assert dst is not None
        a, b = src.account.branch_code, dst.account.branch_code
        if a == b:
            return (debit(src.wallet.account_id, amount), credit(dst.wallet.account_id, amount))
        ib_a = self.ledger.open_account(session, code=interbranch_code(a, amount.currency),
                                        name=f"Inter-branch clearing {a}", kind=AccountKind.SETTLEMENT,
                                        currency=amount.currency, branch_code=a)
        ib_b = self.ledger.open_account(session, code=interbranch_code(b, amount.currency),
                                        name=f"Inter-branch clearing {b}", kind=AccountKind.SETTLEMENT,
                                        currency=amount.currency, branch_code=b)
        return (debit(src.wallet.account_id, amount), credit(ib_a, amount), debit(ib_b, amount),
                credit(dst.wallet.account_id, amount))

    def _execute(self, actor: Actor, kind: str, wallet_id: int, to_wallet_id: int | None, amount: Money,
                 memo: str, key: str, approval_id: int | None) -> TxnResult:
        from teller_tui.common.errors import ValidationError
        from teller_tui.ledger.business_day import open_business_date
        from teller_tui.ledger import EntryRequest
        from teller_tui.desk.receipts import clean_text

        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if not key:
            raise ValidationError("An idempotency key is required", code="idempotency_key")
        memo = clean_text(memo, 200)

        def work(s: Session) -> tuple[Any, bool]:
            from sqlalchemy import bindparam, select

            from teller_tui.models import JournalEntry, LedgerAccount

            src = self._side(s, wallet_id)
            dst = self._side(s, to_wallet_id) if to_wallet_id is not None else None
            je = JournalEntry.__table__  # type: ignore[attr-defined]
            found = s.execute(_stmt("entry_by_key", lambda: select(je.c.id, je.c.hold_id).where(
                je.c.idempotency_key == bindparam("key"))), {"key": key}).first()
            if found is not None and found.hold_id is not None:
                # A supervisor approved the queued request and the hold was posted under this key.
                existing = self.ledger.entry_by_key(s, key)
                assert existing is not None
                return existing, self.receipt_data(s, existing.entry_id)
            replay = found is not None
            grant = None
            chk = None
            legs = self.posting_legs(s, actor, kind, amount, src, dst)
            if not replay:
                chk = self.check_limits(s, actor, kind, amount, src, dst)
                if chk.refusal is not None:
                    raise chk.refusal
                grant = self.approvals.check(s, self._approval_spec(actor, kind, amount, memo, key, src, dst, legs,
                                                                    chk), approval_id=approval_id)
            meta: dict[str, Any] = {"wallet": src.wallet.number}
            if dst is not None:
                meta["to_wallet"] = dst.wallet.number
            if grant is not None:
                meta["approval_id"] = grant.approval_id
                meta["approved_by"] = grant.approver_id
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=key, kind=kind, legs=legs, actor_id=actor.staff_id, terminal_id=actor.terminal_id,
                branch_code=actor.branch_code, memo=memo, customer_id=src.wallet.customer_id, meta=meta,
                business_date=open_business_date(s, actor.branch_code)))
            if grant is not None and not result.replayed:
                self.approvals.attach_entry(s, grant.approval_id, result.entry_id)
                if grant.report and kind in CASH_KINDS and chk is not None:
                    self.approvals.record_large_value(
                        s, customer_id=src.wallet.customer_id, direction="in" if kind == "cash_in" else "out",
                        amount=amount, teller=actor, reference=result.reference, entry_id=result.entry_id,
                        txn_at=result.posted_at, business_date=result.business_date, grant=grant,
                        cumulative=Money(chk.customer_before + amount.minor, amount.currency))
            balances: dict[int, int] = {}
            if not result.replayed:
                # The source account's totals after the entry (still locked by this transaction).
                la = LedgerAccount.__table__  # type: ignore[attr-defined]
                totals = s.execute(_stmt("account_totals", lambda: select(la.c.credits_posted, la.c.debits_posted)
                                         .where(la.c.id == bindparam("acct"))), {"acct": src.wallet.account_id}).one()
                src.account.credits_posted, src.account.debits_posted = totals.credits_posted, totals.debits_posted
                balances[src.wallet.account_id] = src.balance
                detail: dict[str, Any] = {"amount": amount.plain(), "currency": amount.currency,
                                          "reference": result.reference, "balance_after": Money(
                                              src.balance, amount.currency).plain()}
                if dst is not None:
                    detail["to_wallet"] = dst.wallet.number
                if grant is not None:
                    detail["approval_id"] = grant.approval_id
                    detail["approved_by"] = grant.approver_id
                self.audit.append(s, actor, kind, subject=src.wallet.number, detail=detail)
            data = self.receipt_data(s, result.entry_id, balances=balances)
            return result, data

        result, data = self.db.write_retrying(work)
        return self.finish(result, data)

    @staticmethod
    def _posted_from_hold(session: Session, entry_id: int) -> bool:
        from teller_tui.models import JournalEntry

        entry = session.get(JournalEntry, entry_id)
        return entry is not None and entry.hold_id is not None

    def _approval_spec(self, actor: Actor, kind: str, amount: Money, memo: str, key: str, src: WalletSide,
                       dst: WalletSide | None, legs: tuple[Any, ...], chk: _Check) -> Any:
        """What a supervisor approves (bound by hash); with a hold plan for the remote queue."""
        from teller_tui.approvals.workflow import ApprovalSpec, HoldPlan

        hold = None
        if len(legs) == 2:
            debit_leg = next(leg for leg in legs if leg.amount > 0)
            credit_leg = next(leg for leg in legs if leg.amount < 0)
            hold = HoldPlan(debit_leg.account_id, credit_leg.account_id, kind, key, memo)
        accounts = (src.wallet.number,) if dst is None else (src.wallet.number, dst.wallet.number)
        return ApprovalSpec(kind=kind, requester_id=actor.staff_id, branch_code=actor.branch_code, amount=amount,
                            accounts=accounts, customer_id=src.wallet.customer_id, reason=memo,
                            rules=tuple(chk.rules), reasons=tuple(chk.reasons),
                            customer_name=src.customer.full_name if src.customer else "", hold=hold)

    def finish(self, result: Any, data: Any) -> TxnResult:
        from teller_tui.desk.receipts import render_receipt, save_receipt

        text = render_receipt(data.data, width=80)
        path: Path | None = None
        try:
            path = save_receipt(self.settings.receipts_dir, result.reference, text)
        except OSError:
            path = None  # the posting stands; the receipt can be reprinted
        return TxnResult(result.reference, result.entry_id, result.kind, data.amount,
                         data.new_balance if data.new_balance is not None else Money(0), result.posted_at,
                         result.business_date, text, path, result.replayed, data.wallet_number_full)

    # -- reversal ------------------------------------------------------------------------------
    def _entry_wallet(self, session: Session, entry_id: int) -> tuple[int, Money]:
        """(wallet id, signed amount to that wallet: + money in) of a desk entry's main wallet."""
        from sqlalchemy import text

        from teller_tui.common.errors import NotFound

        rows = session.execute(text(
            "SELECT w.id, p.amount, p.currency FROM posting p JOIN wallet w ON w.account_id = p.account_id "
            "WHERE p.entry_id = :e ORDER BY p.id"), {"e": entry_id}).all()
        if not rows:
            raise NotFound(_tr("This entry has no wallet"), code="no_wallet_entry")
        # The first wallet leg: the source of a transfer, the wallet of cash in/out.
        wid, amt, cur = rows[0]
        return int(wid), Money(-int(amt), cur)

    def _reversal_target(self, session: Session, actor: Actor, entry_id: int) -> tuple[Any, int, Money]:
        from sqlalchemy import select

        from teller_tui.common.errors import Conflict, NotFound, PermissionDenied
        from teller_tui.models import JournalEntry

        e = session.get(JournalEntry, entry_id)
        if e is None:
            raise NotFound(_tr("No such transaction"), code="no_entry")
        if e.kind not in REVERSIBLE_KINDS:
            raise Conflict(_tr("Only cash in, cash out and transfers can be reversed here"), code="reverse_kind")
        if e.actor_id is None or e.actor_id != actor.staff_id:
            raise PermissionDenied(_tr("You can reverse only your own transactions"), code="reverse_not_own")
        if e.business_date != self._today(session, actor):
            raise Conflict(_tr("Only today's transactions can be reversed"), code="reverse_not_today")
        done = session.execute(select(JournalEntry.reference).where(JournalEntry.reverses_entry_id == entry_id)).scalar()
        if done is not None:
            raise Conflict(_tr("Already reversed by {reference}").format(reference=done), code="already_reversed")
        wid, amount = self._entry_wallet(session, entry_id)
        return e, wid, amount

    def _reversal_spec(self, session: Session, actor: Actor, entry_id: int, wallet_id: int, amount: Money,
                       reason: str) -> Any:
        """The approval policy's verdict on a reversal, as an approval spec (no rules: none needed)."""
        from teller_tui.approvals.workflow import ApprovalSpec, Facts

        side = self.wallet_side(session, wallet_id)
        hits = self.approvals.evaluate(Facts("reversal", self._today(session, actor), abs(amount), actor.role))
        return ApprovalSpec(kind="reversal", requester_id=actor.staff_id, branch_code=actor.branch_code,
                            amount=abs(amount), accounts=(side.wallet.number,), customer_id=side.wallet.customer_id,
                            subject=f"entry:{entry_id}", reason=reason, rules=tuple(h.rule for h in hits),
                            reasons=tuple(h.reason for h in hits),
                            customer_name=side.customer.full_name if side.customer else "")

    def reverse(self, actor: Actor, entry_id: int, reason: str, *, idempotency_key: str,
                approval_id: int | None = None) -> TxnResult:
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        from teller_tui.common.errors import ValidationError
        from teller_tui.desk.receipts import clean_text

        reason = clean_text(reason, 200)
        if not reason:
            raise ValidationError(_tr("Give a reason for the reversal"), code="reason")

        def work(s: Session) -> tuple[Any, Any]:
            existing = self.ledger.entry_by_key(s, idempotency_key)
            if existing is not None and existing.reverses_entry_id == entry_id:
                return existing, self.receipt_data(s, existing.entry_id)
            original, wallet_id, amount = self._reversal_target(s, actor, entry_id)
            grant = self.approvals.check(s, self._reversal_spec(s, actor, entry_id, wallet_id, amount, reason),
                                         approval_id=approval_id)
            result = self.ledger.reverse(s, entry_id, idempotency_key=idempotency_key, actor_id=actor.staff_id,
                                         terminal_id=actor.terminal_id, memo=reason)
            if grant is not None:
                self.approvals.attach_entry(s, grant.approval_id, result.entry_id)
            side = self.wallet_side(s, wallet_id)
            self.audit.append(s, actor, "reversal", subject=side.wallet.number, detail={
                "amount": abs(amount).plain(), "currency": amount.currency, "reference": result.reference,
                "reverses": original.reference, "reason": reason,
                "approval_id": grant.approval_id if grant else None,
                "balance_after": Money(side.balance, amount.currency).plain()})
            return result, self.receipt_data(s, result.entry_id)

        result, data = self.db.write_retrying(work)
        return self.finish(result, data)

    # -- receipts ------------------------------------------------------------------------------
    def receipt_data(self, session: Session, entry_id: int, copy_label: str = "", *,
                     balances: dict[int, int] | None = None) -> Any:
        """What the receipt prints for an entry, read with two Core selects.

        ``balances``: wallet balances (account id -> minor units) just read inside the posting
        transaction, which still holds the account; otherwise the balance after the entry is
        summed from the postings up to it (a reprint shows the balance of its day)."""
        from sqlalchemy import bindparam, func, select

        from teller_tui.models import Customer, JournalEntry, Posting, Staff, Wallet
        from teller_tui.desk.receipts import ReceiptData, mask_name, mask_wallet

        je = JournalEntry.__table__  # type: ignore[attr-defined]
        st = Staff.__table__  # type: ignore[attr-defined]
        p, w, c = Posting.__table__, Wallet.__table__, Customer.__table__  # type: ignore[attr-defined]

        def entry_stmt() -> Any:
            orig = je.alias("orig")
            return (select(je.c.kind, je.c.reference, je.c.posted_at, je.c.business_date, je.c.branch_code,
                           je.c.terminal_id, je.c.memo, st.c.username.label("teller"),
                           orig.c.reference.label("reverses"))
                    .select_from(je.outerjoin(st, st.c.id == je.c.actor_id)
                                 .outerjoin(orig, orig.c.id == je.c.reverses_entry_id))
                    .where(je.c.id == bindparam("entry")))

        e = session.execute(_stmt("receipt_entry", entry_stmt), {"entry": entry_id}).one()
        legs = session.execute(_stmt("receipt_legs", lambda: select(
            w.c.number, w.c.account_id, c.c.full_name, p.c.amount, p.c.currency)
            .select_from(p.join(w, w.c.account_id == p.c.account_id).outerjoin(c, c.c.id == w.c.customer_id))
            .where(p.c.entry_id == bindparam("entry")).order_by(p.c.id)), {"entry": entry_id}).all()
        main, other = legs[0], (legs[1] if len(legs) > 1 else None)
        cur = main.currency
        if balances is not None and main.account_id in balances:
            bal = balances[main.account_id]
        else:
            bal = session.execute(_stmt("receipt_balance", lambda: select(func.coalesce(-func.sum(p.c.amount), 0))
                                        .where(p.c.account_id == bindparam("acct"), p.c.entry_id <= bindparam("entry"))),
                                  {"acct": main.account_id, "entry": entry_id}).scalar_one()
        data = ReceiptData(
            kind=e.kind, reference=e.reference, posted_at=e.posted_at, business_date=e.business_date,
            branch_code=e.branch_code, terminal_id=e.terminal_id, teller=e.teller or "",
            customer_name=mask_name(main.full_name or ""), wallet_number=mask_wallet(main.number),
            amount=Money(abs(int(main.amount)), cur), new_balance=Money(int(bal), cur), memo=e.memo,
            counterparty_name=mask_name(other.full_name or "") if other is not None else "",
            counterparty_wallet=mask_wallet(other.number) if other is not None else "",
            reverses_reference=e.reverses or "",
            bank_name=getattr(self.settings, "bank_name", "") or "", copy_label=copy_label)
        return _WithNumber(data, main.number)

    def receipt_for(self, reference: str, width: int = 80, locale: str | None = None) -> str:
        """Re-render a receipt (marked as a reprint) for a posted entry's reference."""
        from sqlalchemy import select

        from teller_tui.common.errors import NotFound
        from teller_tui.models import JournalEntry
        from teller_tui.desk.receipts import render_receipt, reprint_label

        with self.db.read() as s:
            entry_id = s.execute(select(JournalEntry.id).where(JournalEntry.reference == reference.strip())).scalar()
            if entry_id is None:
                raise NotFound(_tr("No transaction with reference {reference}").format(reference=reference[:40]),
                               code="no_entry")
            wrapped = self.receipt_data(s, entry_id, copy_label=reprint_label(locale))
        return render_receipt(wrapped.data, width=width, locale=locale)


@dataclass(frozen=True, slots=True)
class _WithNumber:
    data: Any
    wallet_number_full: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.data, name)
