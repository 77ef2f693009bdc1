"""Customer self-service at a kiosk: sign in with wallet PIN, balance, history, transfers.

Public API::

    limits = KioskLimits.load()                   # teller_tui.kiosk.limits (data/kiosk.toml)
    svc = KioskService(db, clock, settings, ledger, audit, cash=, limits=, box=, guard=, pacer=, throttle=)
    actor = svc.ensure_identity("K01")            # the kiosk's own Staff row (role "kiosk", "kiosk-k01")
    session = svc.sign_in(actor, "13812345678", "123456", code=None)   # -> KioskSession (kiosk.views)
        # CodeRequired (enrolled authenticator, no code), AuthenticationFailed (one message), PinLocked
        # after ``pin_attempts`` wrong tries with one number until ``kiosk_pin_lock_minutes`` or a teller.
    acct = svc.account(actor, session)            # -> KioskAccount (balance, limits left today)
    rows = svc.history(actor, session, wallet_id)  # -> list[KioskHistoryRow] (own wallet only)
    p = svc.preview_transfer(actor, session, from_wallet_id, "13912345678", amount)  # -> TransferPreview
    r = svc.transfer(actor, session, from_wallet_id, payee, amount, idempotency_key=key)  # -> KioskReceipt
    text = svc.history_text(actor, session, wallet_id)   # printable statement
    svc.sign_out(actor, session)   # PIN change: kiosk.pin_change; a teller unlocks: kiosk.pins.CustomerPinService

Every :class:`KioskService` method checks, in the core, that the actor has role ``"kiosk"``
(:func:`teller_tui.auth.roles.require_role`) and that the session is one this service issued
after a correct PIN, for this kiosk, not ended and not idle longer than
``settings.kiosk_idle_seconds``. A session is bound to ONE customer: every wallet id passed in
must be one of that customer's wallets; a payee is shown only masked (``张*明 138****5678``).

Transfers are ordinary ledger postings (kind ``transfer``) made by the kiosk's identity, with the
kiosk as the terminal, checked against the wallet's class limits (the cash service's rules) and
the kiosk limits (the smaller applies), audited, with a receipt.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlmodel import col

from teller_tui.audit.trail import Actor
from teller_tui.auth import passwords
from teller_tui.auth.roles import KIOSK_ROLE, require_role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.cases.refusals import record_refusal
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.ledger.core import live_balance
from teller_tui.common.errors import (
    AuthenticationFailed, DomainError, LimitExceeded, NotFound, PermissionDenied, ValidationError,
)
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.masks import mask_name, mask_phone, mask_wallet
from teller_tui.common.money import Money
from teller_tui.desk.cash import CashService
from teller_tui.desk.cash_types import EntryReceipt, WalletSide
from teller_tui.db.roles import check_kiosk_host_role
from teller_tui.kiosk.identity import register_kiosk_row
from teller_tui.kiosk.guard import ResponsePacer, SignInGuard, TerminalThrottle
from teller_tui.kiosk.limits import KioskLimits
from teller_tui.kiosk.lookup import find_payee, find_sign_in
from teller_tui.kiosk.signin import check_sign_in
from teller_tui.notify.postings import notify_entry
from teller_tui.kiosk.statement import render_statement
from teller_tui.kiosk.transfer_scope import require_payee, transfer_scope
from teller_tui.kiosk.views import (
    KioskAccount, KioskHistoryRow, KioskReceipt, KioskSession, KioskWallet, TransferPreview,
)
from teller_tui.ledger import EntryRequest, EntryResult, entry_facts
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import Customer, LedgerAccount, Staff, Wallet
from teller_tui.models.cases import CustomerNeeds
from teller_tui.models.enums import WalletStatus
from teller_tui.models.types import UTCDateTime
from teller_tui.wallets.activation import grant_first_use
from teller_tui.wallets.limits import class_limits, room_today
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger

__all__ = ["KioskService", "kiosk_username"]


@dataclass
class _Live:
    session: KioskSession
    last_used: datetime


def kiosk_username(terminal_id: str) -> str:
    """``K01`` -> ``kiosk-k01`` (a valid staff user name)."""
    clean = "".join(ch for ch in terminal_id.lower() if ch.isascii() and (ch.isalnum() or ch in "._-"))
    return f"kiosk-{clean or 'x'}"[:32]


# -- the service ------------------------------------------------------------------------------------
class KioskService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail, *,
                 cash: CashService, limits: KioskLimits, box: SecretBox, guard: SignInGuard, pacer: ResponsePacer,
                 throttle: TerminalThrottle) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.cash = cash
        self.limits = limits
        self.box = box
        self.guard, self.pacer, self.throttle = guard, pacer, throttle
        self._sessions: dict[str, _Live] = {}
        self._lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------------
    def ensure_identity(self, terminal_id: str | None = None) -> Actor:
        """The kiosk's own Staff row (role ``kiosk``, user ``kiosk-<terminal>``), created on first start.

        It has no password: nobody can sign in to the teller workstation as a kiosk.
        """
        terminal = (terminal_id or self.settings.terminal_id).strip()[:32] or "K01"
        username = kiosk_username(terminal)
        with self.db.write() as s:
            check_kiosk_host_role(s.connection())  # no kiosk-only database login (README "Kiosks")
            row = s.execute(select(Staff).where(col(Staff.username) == username)).scalar_one_or_none()
            if row is None:
                row = register_kiosk_row(s, username, f"Kiosk {terminal}"[:80], self.settings.branch_code,
                                         self.clock.now())
                actor = Actor(row.id, row.username, terminal, KIOSK_ROLE, row.branch_code)
                self.audit.append(s, actor, "kiosk_identity_create", subject=f"staff:{username}",
                                  detail={"terminal": terminal})
            elif row.role != KIOSK_ROLE:
                raise PermissionDenied(_("The user name {name} belongs to a person, not a kiosk.").format(
                    name=username), code="kiosk_identity")
            elif row.disabled:
                raise PermissionDenied(_("This kiosk has been disabled by an administrator."),
                                       code="kiosk_disabled")
            return Actor(row.id, row.username, terminal, KIOSK_ROLE, row.branch_code)

    # -- guards -----------------------------------------------------------------------------------
    def _require(self, actor: Actor, session: KioskSession | None) -> KioskSession:
        require_role(actor, KIOSK_ROLE)
        if not isinstance(session, KioskSession):
            raise PermissionDenied(_("Sign in with your PIN first."), code="kiosk_no_session")
        now = self.clock.now()
        with self._lock:
            live = self._sessions.get(session.token)
            if (live is None or live.session != session or session.kiosk_staff_id != actor.staff_id
                    or session.terminal_id != actor.terminal_id):
                raise PermissionDenied(_("Sign in with your PIN first."), code="kiosk_no_session")
            if now - live.last_used > timedelta(seconds=self.settings.kiosk_idle_seconds):
                del self._sessions[session.token]
                raise PermissionDenied(_("Your session ended. Please sign in again."), code="kiosk_expired")
            live.last_used = now
        return live.session

    def _own_wallet(self, session: KioskSession, wallet_id: int) -> int:
        if wallet_id not in session.wallet_ids:
            raise PermissionDenied(_("That is not one of your wallets."), code="kiosk_not_own")
        return wallet_id

    # -- sign-in ----------------------------------------------------------------------------------
    @guarded("kiosk")
    def sign_in(self, actor: Actor, identifier: str, pin: str, code: str | None = None) -> KioskSession:
        """Check the wallet PIN (and the authenticator code where enrolled); open a session.

        An unknown number and a wrong PIN give the same answer, count and lock the same way and take
        the same (minimum) time; each terminal is throttled (see :mod:`teller_tui.kiosk.guard`)."""
        require_role(actor, KIOSK_ROLE)
        with self.pacer.paced():
            customer_id, wallet_ids, name_masked, now = check_sign_in(
                self.db, self.clock, self.settings, self.audit, self.box, self.guard, self.throttle,
                actor, identifier, pin, code, outbox=self.cash.outbox)
        session = KioskSession(secrets.token_urlsafe(24), customer_id, wallet_ids, actor.terminal_id,
                               actor.staff_id, name_masked, now)
        with self._lock:
            self._sessions[session.token] = _Live(session, now)
        return session

    @guarded("kiosk")
    def live_session(self, actor: Actor, session: KioskSession) -> KioskSession:
        return self._require(actor, session)  # live: this kiosk's, signed in, not idle (for kiosk.pin_change)

    @guarded("kiosk")
    def sign_out(self, actor: Actor, session: KioskSession | None) -> None:
        """End the session (idempotent; also for an expired one)."""
        require_role(actor, KIOSK_ROLE)
        if session is None:
            return
        with self._lock:
            self._sessions.pop(session.token, None)

    def active_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    # -- reading ----------------------------------------------------------------------------------
    def _today(self, s: Session, actor: Actor) -> date:
        return current_business_date(s, actor.branch_code, self.clock)

    @staticmethod
    def _kiosk_out_today(s: Session, account_id: int, on: date) -> int:
        """Paid out of the wallet today by any kiosk (reversed entries left out)."""
        total = s.execute(text(
            "SELECT coalesce(sum(p.amount), 0) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
            "JOIN staff st ON st.id = e.actor_id "
            "WHERE p.account_id = :a AND p.amount > 0 AND e.business_date = :d AND st.role = 'kiosk' "
            "AND e.reverses_entry_id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)"),
            {"a": account_id, "d": on}).scalar_one()
        return int(total)

    def _wallet_view(self, s: Session, actor: Actor, wallet: Wallet) -> KioskWallet:
        assert wallet.id is not None
        acct = s.get(LedgerAccount, wallet.account_id)
        assert acct is not None
        s.refresh(acct)
        bal = live_balance(s, acct, self.clock.now())  # holds past their time are not held (invariant 17)
        balance = bal.posted.minor
        available = bal.available.minor
        cur = wallet.currency
        limits = self.limits
        on = self._today(s, actor)
        tier = class_limits(self.cash.tiers, wallet.tier, on)
        per_txn = min(limits.per_txn.minor, tier.per_txn.minor if tier.per_txn is not None else limits.per_txn.minor)
        room = room_today(s, self.cash.tiers, tier=wallet.tier, account_id=wallet.account_id, on=on, currency=cur)
        left = limits.daily.minor - self._kiosk_out_today(s, wallet.account_id, on)
        if room is not None:
            left = min(left, room.minor)
        if wallet.status != "active":
            left = 0
        return KioskWallet(int(wallet.id), mask_wallet(wallet.number), int(wallet.tier), wallet.status,
                           Money(balance, cur), Money(max(available, 0), cur), Money(per_txn, cur),
                           Money(max(left, 0), cur))

    @guarded("kiosk")
    def account(self, actor: Actor, session: KioskSession) -> KioskAccount:
        """The signed-in customer's wallets: balance and what may still be sent today."""
        session = self._require(actor, session)
        with self.db.read() as s:
            c = s.get(Customer, session.customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            views = []
            for wid in session.wallet_ids:
                w = s.get(Wallet, wid)
                if w is not None and w.customer_id == session.customer_id and w.status != WalletStatus.CLOSED:
                    views.append(self._wallet_view(s, actor, w))
            needs = s.get(CustomerNeeds, session.customer_id)
            assisted = bool(needs and (needs.needs_assistance or needs.elderly))
            return KioskAccount(session.name_masked, mask_phone(c.phone), tuple(views), assisted)

    @guarded("kiosk")
    def history(self, actor: Actor, session: KioskSession, wallet_id: int, *, limit: int | None = None
                ) -> list[KioskHistoryRow]:
        """The wallet's latest entries, newest first. Only amounts and kinds: no other customer's data."""
        session = self._require(actor, session)
        self._own_wallet(session, wallet_id)
        n = max(1, min(int(limit or self.limits.history_rows), 200))
        conv = UTCDateTime()
        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None or w.customer_id != session.customer_id:
                raise PermissionDenied(_("That is not one of your wallets."), code="kiosk_not_own")
            acct = s.get(LedgerAccount, w.account_id)
            assert acct is not None
            balance = int(acct.credits_posted - acct.debits_posted)
            rows = s.execute(text(
                "SELECT e.id, sum(p.amount) AS amt, e.reference, e.posted_at, e.kind FROM posting p "
                "JOIN journal_entry e ON e.id = p.entry_id WHERE p.account_id = :a "
                "GROUP BY e.id, e.reference, e.posted_at, e.kind ORDER BY e.id DESC LIMIT :n"),
                {"a": w.account_id, "n": n}).all()
            out = []
            for r in rows:
                amount = -int(r.amt)  # credit to the wallet = money in
                raw = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
                posted = conv.process_result_value(raw, None)
                assert posted is not None
                kind = r.kind
                if kind == EntryKind.TRANSFER:
                    kind = "transfer_in" if amount > 0 else "transfer_out"
                out.append(KioskHistoryRow(r.reference, posted, kind, Money(amount, w.currency),
                                           Money(balance, w.currency)))
                balance -= amount
            return out

    @guarded("kiosk")
    def history_text(self, actor: Actor, session: KioskSession, wallet_id: int, *, width: int = 80,
                     locale: str | None = None) -> str:
        """A printable statement of :meth:`history` (masked; cell-aligned for CJK)."""
        rows = self.history(actor, session, wallet_id)
        with self.db.read() as s:
            wallet = s.get(Wallet, wallet_id)
            assert wallet is not None  # history() checked it is the customer's
            number = mask_wallet(wallet.number)
        return render_statement(rows, name_masked=session.name_masked, number_masked=number,
                                locale=locale or get_locale(), width=width)

    # -- transfers --------------------------------------------------------------------------------
    def _kiosk_check(self, s: Session, actor: Actor, src_wallet: Any, amount: Money) -> None:
        limits = self.limits
        if amount.currency != limits.per_txn.currency:
            raise ValidationError(_("The wallet holds another currency"), code="currency_mismatch")
        if amount > limits.per_txn:
            raise LimitExceeded(_("Above the kiosk limit per transfer ({limit}); please go to the counter.")
                                .format(limit=format_money(limits.per_txn)), code="kiosk_per_txn")
        used = self._kiosk_out_today(s, src_wallet.account_id, self._today(s, actor))
        if used + amount.minor > limits.daily.minor:
            raise LimitExceeded(_("Above the kiosk daily limit ({limit}; used {used}); please go to the counter.")
                                .format(limit=format_money(limits.daily), used=format_money(Money(used, amount.currency))),
                                code="kiosk_daily")

    def _checked(self, s: Session, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str,
                 amount: Money) -> tuple[WalletSide, WalletSide, Customer]:
        """(src side, dst side, payee customer) after every rule; raises the first refusal."""
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if amount.minor <= 0:
            raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
        src = self.cash.wallet_side(s, from_wallet_id)
        if src.wallet.customer_id != session.customer_id:
            raise PermissionDenied(_("That is not one of your wallets."), code="kiosk_not_own")
        dst_wallet, dst_customer = find_payee(s, payee)
        if dst_wallet.id == src.wallet.id:
            raise ValidationError(_("Choose two different wallets"), code="same_wallet")
        assert dst_wallet.id is not None
        dst = self.cash.wallet_side(s, dst_wallet.id)
        if require_payee(s, dst):  # its keys before any check reads its limits; taken just now: read again
            dst = self.cash.wallet_side(s, dst_wallet.id)
        self._kiosk_check(s, actor, src.wallet, amount)
        chk = self.cash.check_limits(s, actor, "transfer", amount, src, dst)
        if chk.refusal is not None:
            raise chk.refusal
        if chk.rules:
            # Nothing a supervisor approves happens at a kiosk.
            raise PermissionDenied(_("This transfer needs the counter; please see a teller."),
                                   code="kiosk_needs_approval")
        return src, dst, dst_customer

    @guarded("kiosk")
    def preview_transfer(self, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str,
                         amount: Money) -> TransferPreview:
        """What the confirmation shows: the payee masked (``张*明 138****5678``), the balance after.

        A payee that cannot be found raises NotFound; a business refusal is in ``refusal``.
        """
        session = self._require(actor, session)
        self._own_wallet(session, from_wallet_id)
        with self.db.read() as s:
            src = self.cash.wallet_side(s, from_wallet_id)
            dst_wallet, dst_customer = find_payee(s, payee)
            refusal: str | None = None
            code: str | None = None
            try:
                self._checked(s, actor, session, from_wallet_id, payee, amount)
            except (LimitExceeded, ValidationError, PermissionDenied, DomainError) as exc:
                refusal, code = str(exc), exc.code
            return TransferPreview(mask_wallet(src.wallet.number), mask_name(dst_customer.full_name),
                                   mask_phone(dst_customer.phone), mask_wallet(dst_wallet.number), amount,
                                   Money(src.balance - amount.minor, amount.currency), refusal, code)

    @guarded("kiosk")
    def transfer(self, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str, amount: Money, *,
                 idempotency_key: str) -> KioskReceipt:
        """Post the transfer (one ledger entry by the kiosk identity), audit it, make the receipt."""
        session = self._require(actor, session)
        self._own_wallet(session, from_wallet_id)
        if not idempotency_key:
            raise ValidationError("An idempotency key is required", code="idempotency_key")

        def work(s: Session) -> tuple[EntryResult, EntryReceipt]:
            existing = self.ledger.entry_by_key(s, idempotency_key)
            if existing is not None:
                return existing, self.cash.receipt_data(s, existing.entry_id)
            src, dst, _customer = self._checked(s, actor, session, from_wallet_id, payee, amount)
            legs = self.cash.posting_legs(s, actor, EntryKind.TRANSFER, amount, src, dst)
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=idempotency_key, kind=EntryKind.TRANSFER, legs=legs, actor_id=actor.staff_id,
                terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo="",
                customer_id=src.wallet.customer_id, dating=Dating.AFTER_HOURS,
                meta={"wallet": src.wallet.number, "to_wallet": dst.wallet.number, "channel": "kiosk"}))
            if not result.replayed:
                grant_first_use(s, self.ledger, self.audit, actor, src.wallet.id)  # the wallet's activation earns it
            s.flush()
            s.refresh(src.account)
            self.audit.append(s, actor, "kiosk_transfer", subject=src.wallet.number, detail={
                **entry_facts((result, actor.staff_id)), "amount": amount.plain(), "currency": amount.currency, "reference": result.reference,
                "to_wallet": dst.wallet.number, "balance_after": Money(src.balance, amount.currency).plain()})
            notify_entry(s, self.cash.outbox, result)  # payer and payee told in this transaction
            return result, self.cash.receipt_data(s, result.entry_id)

        try:
            result, data = self.db.write_retrying(work, scope=transfer_scope(actor, from_wallet_id, payee))
        except DomainError as exc:  # kept so that "why did my transfer fail?" can be answered at the counter
            record_refusal(self.db, self.audit, actor, exc, "kiosk", EntryKind.TRANSFER, from_wallet_id, amount)
            raise
        txn = self.cash.finish(result, EntryReceipt(replace(data.data, channel="kiosk"), data.wallet_number_full))
        return KioskReceipt(txn.reference, txn.amount, txn.new_balance, txn.posted_at, txn.receipt_text,
                            txn.replayed)
