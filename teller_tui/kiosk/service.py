"""Customer self-service at a kiosk: sign in with wallet PIN, balance, history, transfers.

Public API::

    limits = KioskLimits.load()                                   # data/kiosk.toml
    svc = KioskService(db, clock, settings, ledger, audit, cash=services.cash)   # services.kiosk
    actor = svc.ensure_identity("K01")            # the kiosk's own Staff row (role "kiosk", "kiosk-k01")
    session = svc.sign_in(actor, "13812345678", "123456", code=None)   # -> KioskSession
        # raises CodeRequired (an AuthenticationFailed) when the customer enrolled an
        # authenticator and no code was given; AuthenticationFailed otherwise (one message),
        # PinLocked after ``pin_attempts`` wrong PINs/codes in a row.
    acct = svc.account(actor, session)            # -> KioskAccount (balance, limits left today)
    rows = svc.history(actor, session, wallet_id)  # -> list[KioskHistoryRow] (own wallet only)
    p = svc.preview_transfer(actor, session, from_wallet_id, "13912345678", amount)  # -> TransferPreview
    r = svc.transfer(actor, session, from_wallet_id, payee, amount, idempotency_key=key)  # -> KioskReceipt
    text = svc.history_text(actor, session, wallet_id)   # printable statement
    svc.sign_out(actor, session)

    pins = CustomerPinService(db, clock, settings, audit)   # services.customer_pins (teller side)
    pins.unlock_customer_pin(actor, customer_id)             # teller/supervisor/admin only

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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common.i18n import _
from teller_tui.common.errors import AuthenticationFailed, DomainError, LimitExceeded, NotFound, PermissionDenied, ValidationError
from teller_tui.common.money import Money
from teller_tui.wallets.limits import class_limits, room_today

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.desk.cash import CashService
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings

__all__ = [
    "CodeRequired",
    "CustomerPinService",
    "KioskAccount",
    "KioskHistoryRow",
    "KioskLimits",
    "KioskReceipt",
    "KioskService",
    "KioskSession",
    "KioskWallet",
    "PinLocked",
    "TransferPreview",
    "kiosk_username",
]

KIOSK_ROLE = "kiosk"


def _fmt(m: Money) -> str:
    from teller_tui.common.formatting import format_money

    return format_money(m)


class CodeRequired(AuthenticationFailed):
    """The PIN was right and the customer has an authenticator: ask for the code."""


class PinLocked(AuthenticationFailed):
    """Too many wrong PINs: only a teller at the counter can unlock it."""


# -- configuration --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KioskLimits:
    per_txn: Money
    daily: Money
    pin_attempts: int = 5
    history_rows: int = 20

    @classmethod
    def load(cls, path: Path | None = None) -> KioskLimits:
        import tomllib

        from teller_tui.common.money import parse_money
        from teller_tui.common.paths import data_file

        path = path or data_file("kiosk.toml")
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        currency = str(raw.get("currency", "CNY"))
        per_txn = parse_money(str(raw["per_transaction"]), currency)
        daily = parse_money(str(raw["daily"]), currency)
        attempts = int(raw.get("pin_attempts", 5))
        rows = int(raw.get("history_rows", 20))
        if per_txn > daily:
            raise ValidationError(f"{path.name}: per_transaction is above daily", code="kiosk_limits")
        if not 1 <= attempts <= 10 or not 1 <= rows <= 200:
            raise ValidationError(f"{path.name}: pin_attempts 1-10, history_rows 1-200", code="kiosk_limits")
        return cls(per_txn, daily, attempts, rows)


# -- read models ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KioskSession:
    """Issued by :meth:`KioskService.sign_in`; meaningless to any other service instance."""

    token: str = field(repr=False)
    customer_id: int
    wallet_ids: tuple[int, ...]
    terminal_id: str
    kiosk_staff_id: int | None
    name_masked: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class KioskWallet:
    wallet_id: int
    number_masked: str
    tier: int
    status: str
    balance: Money
    available: Money
    per_txn_limit: Money  # the smaller of the class and kiosk limits
    left_today: Money  # what may still be sent at a kiosk today (class and kiosk daily limits)


@dataclass(frozen=True, slots=True)
class KioskAccount:
    name_masked: str
    phone_masked: str
    wallets: tuple[KioskWallet, ...]


@dataclass(frozen=True, slots=True)
class KioskHistoryRow:
    reference: str
    posted_at: datetime
    kind: str  # cash_in | cash_out | transfer_in | transfer_out | reversal | ...
    amount: Money  # signed: + money in
    balance_after: Money


@dataclass(frozen=True, slots=True)
class TransferPreview:
    from_wallet_masked: str
    payee_name_masked: str
    payee_phone_masked: str
    payee_wallet_masked: str
    amount: Money
    balance_after: Money
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class KioskReceipt:
    reference: str
    amount: Money
    new_balance: Money
    posted_at: datetime
    receipt_text: str
    replayed: bool = False


@dataclass
class _Live:
    session: KioskSession
    last_used: datetime


def kiosk_username(terminal_id: str) -> str:
    """``K01`` -> ``kiosk-k01`` (a valid staff user name)."""
    clean = "".join(ch for ch in terminal_id.lower() if ch.isascii() and (ch.isalnum() or ch in "._-"))
    return f"kiosk-{clean or 'x'}"[:32]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# -- the service ------------------------------------------------------------------------------------
class KioskService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail, *,
                 cash: CashService, limits: KioskLimits, box: SecretBox) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.cash = cash
        self.limits = limits
        self.box = box
        self._sessions: dict[str, _Live] = {}
        self._lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------------
    def ensure_identity(self, terminal_id: str | None = None) -> Actor:
        """The kiosk's own Staff row (role ``kiosk``, user ``kiosk-<terminal>``), created on first start.

        It has no password: nobody can sign in to the teller workstation as a kiosk.
        """
        from sqlalchemy import select

        from teller_tui.audit.trail import Actor
        from teller_tui.models import Staff

        terminal = (terminal_id or self.settings.terminal_id).strip()[:32] or "K01"
        username = kiosk_username(terminal)
        with self.db.write() as s:
            row = s.execute(select(Staff).where(Staff.username == username)).scalar_one_or_none()
            if row is None:
                row = Staff(username=username, display_name=f"Kiosk {terminal}"[:80], role=KIOSK_ROLE,
                            branch_code=self.settings.branch_code, password_hash="", must_change_password=False,
                            created_at=self.clock.now())
                s.add(row)
                s.flush()
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
        from teller_tui.auth.roles import require_role

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
    def _find(self, s: Session, identifier: str) -> tuple[Any, tuple[int, ...]] | None:
        """(customer row, wallet ids usable at the kiosk) for a phone or wallet number, or None."""
        from sqlalchemy import select

        from teller_tui.models import Customer, Wallet

        raw = identifier.strip()
        digits = _digits(raw)
        if not digits or len(digits) > 20:
            return None
        wallet = s.execute(select(Wallet).where(Wallet.number == digits)).scalar_one_or_none() \
            if len(digits) == 16 else None
        if wallet is not None:
            if wallet.status == "closed":
                return None
            return s.get(Customer, wallet.customer_id), (int(wallet.id),)  # type: ignore[arg-type]
        phone = ("+" + digits) if raw.startswith("+") else digits
        rows = s.execute(select(Customer).where(Customer.phone == phone, Customer.pin_hash.is_not(None))  # type: ignore[union-attr]
                         ).scalars().all()
        if len(rows) != 1:
            return None
        customer = rows[0]
        ids = s.execute(select(Wallet.id).where(Wallet.customer_id == customer.id, Wallet.status != "closed")
                        .order_by(Wallet.tier, Wallet.id)).scalars().all()
        return customer, tuple(int(i) for i in ids)

    def sign_in(self, actor: Actor, identifier: str, pin: str, code: str | None = None) -> KioskSession:
        """Check the wallet PIN (and the authenticator code where enrolled); open a session."""
        from sqlalchemy import select

        from teller_tui.auth import passwords, totp
        from teller_tui.auth.roles import require_role
        from teller_tui.models import Customer
        from teller_tui.desk.receipts import mask_name

        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            found = self._find(s, identifier)
            customer_id = found[0].id if found else None
            stored = found[0].pin_hash if found else None
            wallet_ids = found[1] if found else ()
        pin_ok = passwords.verify_pin(stored, pin or "")  # argon2 outside any transaction
        if customer_id is None or not wallet_ids:
            if stored is None:
                passwords.verify_secret(None, pin or "")  # same time as a real check
            self._audit_failure(actor, "", "unknown")
            raise AuthenticationFailed(self._failure(), code="kiosk_signin")
        now = self.clock.now()
        attempts = self.limits.pin_attempts
        outcome: str
        with self.db.write() as s:
            c = s.execute(select(Customer).where(Customer.id == customer_id)).scalar_one()
            s.refresh(c)
            if c.pin_locked:
                outcome = "locked"
            elif not pin_ok or c.pin_hash != stored:
                outcome = "pin"
            elif c.totp_secret_enc is not None and not (code or "").strip():
                outcome = "code_required"
            elif c.totp_secret_enc is not None:
                secret = self.box.decrypt(c.totp_secret_enc, context=f"customer:{c.id}:totp")
                step = totp.verify_totp(secret, code or "", now=now, last_step=c.totp_last_step)
                if step is None or not self._claim_step(s, c.id, step):
                    outcome = "code"
                else:
                    outcome = "ok"
            else:
                outcome = "ok"
            if outcome in ("pin", "code"):
                c.pin_failed_attempts += 1
                if c.pin_failed_attempts >= attempts:
                    c.pin_locked = True
                    outcome = "locked_now"
            elif outcome == "ok":
                c.pin_failed_attempts = 0
            if outcome != "code_required":
                self.audit.append(s, actor, "kiosk_sign_in", subject=c.customer_no,
                                  outcome="ok" if outcome == "ok" else "fail",
                                  detail={"reason": outcome, "failed_attempts": c.pin_failed_attempts})
            name_masked = mask_name(c.full_name)
        if outcome == "code_required":
            raise CodeRequired(_("Enter the 6-digit code from your authenticator app."), code="kiosk_code")
        if outcome in ("locked", "locked_now"):
            raise PinLocked(_("Your PIN is locked after too many wrong tries. Please ask a teller at the "
                                "counter to unlock it."), code="kiosk_pin_locked")
        if outcome != "ok":
            raise AuthenticationFailed(self._failure(), code="kiosk_signin")
        session = KioskSession(secrets.token_urlsafe(24), int(customer_id), wallet_ids, actor.terminal_id,
                               actor.staff_id, name_masked, now)
        with self._lock:
            self._sessions[session.token] = _Live(session, now)
        return session

    @staticmethod
    def _failure() -> str:
        return _("Phone or wallet number, PIN or code not right. Please try again.")

    @staticmethod
    def _claim_step(s: Session, customer_id: int, step: int) -> bool:
        from sqlalchemy import text

        result = s.execute(text("UPDATE customer SET totp_last_step = :s "
                                "WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :s)"),
                           {"s": step, "id": customer_id})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def _audit_failure(self, actor: Actor, subject: str, reason: str) -> None:
        with self.db.write() as s:
            self.audit.append(s, actor, "kiosk_sign_in", subject=subject, outcome="fail", detail={"reason": reason})

    def sign_out(self, actor: Actor, session: KioskSession | None) -> None:
        """End the session (idempotent; also for an expired one)."""
        from teller_tui.auth.roles import require_role

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
        from teller_tui.ledger.business_day import current_business_date

        return current_business_date(s, actor.branch_code, self.clock)

    @staticmethod
    def _kiosk_out_today(s: Session, account_id: int, on: date) -> int:
        """Paid out of the wallet today by any kiosk (reversed entries left out)."""
        from sqlalchemy import text

        total = s.execute(text(
            "SELECT coalesce(sum(p.amount), 0) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
            "JOIN staff st ON st.id = e.actor_id "
            "WHERE p.account_id = :a AND p.amount > 0 AND e.business_date = :d AND st.role = 'kiosk' "
            "AND e.reverses_entry_id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)"),
            {"a": account_id, "d": on}).scalar_one()
        return int(total)

    def _wallet_view(self, s: Session, actor: Actor, wallet: Any) -> KioskWallet:
        from teller_tui.models import LedgerAccount
        from teller_tui.desk.receipts import mask_wallet

        acct = s.get(LedgerAccount, wallet.account_id)
        s.refresh(acct)
        balance = int(acct.credits_posted - acct.debits_posted)
        available = balance - int(acct.debits_pending)
        cur = wallet.currency
        limits = self.limits
        on = self._today(s, actor)
        tier = class_limits(self.cash.tiers, wallet.tier, on)
        per_txn = min(limits.per_txn.minor, tier.per_txn.minor)
        left = min(limits.daily.minor - self._kiosk_out_today(s, wallet.account_id, on),
                   room_today(s, self.cash.tiers, tier=wallet.tier, account_id=wallet.account_id, on=on,
                              currency=cur).minor)
        if wallet.status != "active":
            left = 0
        return KioskWallet(int(wallet.id), mask_wallet(wallet.number), int(wallet.tier), wallet.status,
                           Money(balance, cur), Money(max(available, 0), cur), Money(per_txn, cur),
                           Money(max(left, 0), cur))

    def account(self, actor: Actor, session: KioskSession) -> KioskAccount:
        """The signed-in customer's wallets: balance and what may still be sent today."""
        from teller_tui.common.masks import mask_phone
        from teller_tui.models import Customer, Wallet

        session = self._require(actor, session)
        with self.db.read() as s:
            c = s.get(Customer, session.customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            views = []
            for wid in session.wallet_ids:
                w = s.get(Wallet, wid)
                if w is not None and w.customer_id == session.customer_id and w.status != "closed":
                    views.append(self._wallet_view(s, actor, w))
            return KioskAccount(session.name_masked, mask_phone(c.phone), tuple(views))

    def history(self, actor: Actor, session: KioskSession, wallet_id: int, *, limit: int | None = None
                ) -> list[KioskHistoryRow]:
        """The wallet's latest entries, newest first. Only amounts and kinds: no other customer's data."""
        from sqlalchemy import text

        from teller_tui.models import LedgerAccount, Wallet
        from teller_tui.models.types import UTCDateTime

        session = self._require(actor, session)
        self._own_wallet(session, wallet_id)
        n = max(1, min(int(limit or self.limits.history_rows), 200))
        conv = UTCDateTime()
        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None or w.customer_id != session.customer_id:
                raise PermissionDenied(_("That is not one of your wallets."), code="kiosk_not_own")
            acct = s.get(LedgerAccount, w.account_id)
            balance = int(acct.credits_posted - acct.debits_posted)
            rows = s.execute(text(
                "SELECT e.id, sum(p.amount) AS amt, e.reference, e.posted_at, e.kind FROM posting p "
                "JOIN journal_entry e ON e.id = p.entry_id WHERE p.account_id = :a "
                "GROUP BY e.id, e.reference, e.posted_at, e.kind ORDER BY e.id DESC LIMIT :n"),
                {"a": w.account_id, "n": n}).all()
            out = []
            for r in rows:
                amount = -int(r.amt)  # credit to the wallet = money in
                posted = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
                posted = conv.process_result_value(posted, None)
                kind = r.kind
                if kind == "transfer":
                    kind = "transfer_in" if amount > 0 else "transfer_out"
                out.append(KioskHistoryRow(r.reference, posted, kind, Money(amount, w.currency),
                                           Money(balance, w.currency)))
                balance -= amount
            return out

    def history_text(self, actor: Actor, session: KioskSession, wallet_id: int, *, width: int = 80,
                     locale: str | None = None) -> str:
        """A printable statement of :meth:`history` (masked; cell-aligned for CJK)."""
        from teller_tui.common.formatting import format_datetime, format_money, pad
        from teller_tui.common.i18n import get_locale
        from teller_tui.desk.receipts import mask_wallet

        rows = self.history(actor, session, wallet_id)
        loc = locale or get_locale()
        zh = loc.startswith("zh")
        labels = {"cash_in": ("Cash in", "现金存入"), "cash_out": ("Cash out", "现金支取"),
                  "transfer_in": ("Transfer in", "转入"), "transfer_out": ("Transfer out", "转出"),
                  "reversal": ("Reversal", "冲正")}
        with self.db.read() as s:
            from teller_tui.models import Wallet

            number = mask_wallet(s.get(Wallet, wallet_id).number)
        out = ["钱包交易明细" if zh else "WALLET STATEMENT", ("客户 " if zh else "Customer ") + session.name_masked,
               ("钱包 " if zh else "Wallet ") + number, "=" * width]
        for r in rows:
            label = labels.get(r.kind, (r.kind, r.kind))[1 if zh else 0]
            out.append(pad(format_datetime(r.posted_at, loc), 20, clip=True) + " " + pad(label, 14, clip=True) + " "
                       + pad(format_money(r.amount, loc, sign=True), 18, "right", clip=True) + " "
                       + pad(format_money(r.balance_after, loc), 18, "right", clip=True))
        out.append("=" * width)
        return "\n".join(line.rstrip() for line in out) + "\n"

    # -- transfers --------------------------------------------------------------------------------
    def _payee(self, s: Session, session: KioskSession, payee: str) -> tuple[Any, Any]:
        """(wallet, customer) receiving a transfer, from a wallet number or a phone number."""
        from sqlalchemy import select

        from teller_tui.models import Customer, Wallet

        raw = (payee or "").strip()
        digits = _digits(raw)
        refusal = NotFound(_("No wallet found for that number. Check it and try again."), code="kiosk_payee")
        if not digits or len(digits) > 20:
            raise refusal
        if len(digits) == 16:
            w = s.execute(select(Wallet).where(Wallet.number == digits)).scalar_one_or_none()
            if w is None or w.status == "closed":
                raise refusal
            return w, s.get(Customer, w.customer_id)
        phone = ("+" + digits) if raw.startswith("+") else digits
        customers = s.execute(select(Customer).where(Customer.phone == phone)).scalars().all()
        if len(customers) != 1:
            if len(customers) > 1:
                raise NotFound(_("Several wallets use that phone number: enter the wallet number instead."),
                               code="kiosk_payee_ambiguous")
            raise refusal
        w = s.execute(select(Wallet).where(Wallet.customer_id == customers[0].id, Wallet.status == "active")
                      .order_by(Wallet.tier, Wallet.id)).scalars().first()
        if w is None:
            raise refusal
        return w, customers[0]

    def _kiosk_check(self, s: Session, actor: Actor, src_wallet: Any, amount: Money) -> None:
        limits = self.limits
        if amount.currency != limits.per_txn.currency:
            raise ValidationError(_("The wallet holds another currency"), code="currency_mismatch")
        if amount > limits.per_txn:
            raise LimitExceeded(_("Above the kiosk limit per transfer ({limit}); please go to the counter.")
                                .format(limit=_fmt(limits.per_txn)), code="kiosk_per_txn")
        used = self._kiosk_out_today(s, src_wallet.account_id, self._today(s, actor))
        if used + amount.minor > limits.daily.minor:
            raise LimitExceeded(_("Above the kiosk daily limit ({limit}; used {used}); please go to the counter.")
                                .format(limit=_fmt(limits.daily), used=_fmt(Money(used, amount.currency))),
                                code="kiosk_daily")

    def _checked(self, s: Session, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str,
                 amount: Money) -> tuple[Any, Any, Any]:
        """(src side, dst side, payee customer) after every rule; raises the first refusal."""
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if amount.minor <= 0:
            raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
        src = self.cash.wallet_side(s, from_wallet_id)
        if src.wallet.customer_id != session.customer_id:
            raise PermissionDenied(_("That is not one of your wallets."), code="kiosk_not_own")
        dst_wallet, dst_customer = self._payee(s, session, payee)
        if dst_wallet.id == src.wallet.id:
            raise ValidationError(_("Choose two different wallets"), code="same_wallet")
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

    def preview_transfer(self, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str,
                         amount: Money) -> TransferPreview:
        """What the confirmation shows: the payee masked (``张*明 138****5678``), the balance after.

        A payee that cannot be found raises NotFound; a business refusal is in ``refusal``.
        """
        from teller_tui.common.masks import mask_phone
        from teller_tui.desk.receipts import mask_name, mask_wallet

        session = self._require(actor, session)
        self._own_wallet(session, from_wallet_id)
        with self.db.read() as s:
            src = self.cash.wallet_side(s, from_wallet_id)
            dst_wallet, dst_customer = self._payee(s, session, payee)
            refusal: str | None = None
            try:
                self._checked(s, actor, session, from_wallet_id, payee, amount)
            except (LimitExceeded, ValidationError, PermissionDenied, DomainError) as exc:
                refusal = str(exc)
            return TransferPreview(mask_wallet(src.wallet.number), mask_name(dst_customer.full_name),
                                   mask_phone(dst_customer.phone), mask_wallet(dst_wallet.number), amount,
                                   Money(src.balance - amount.minor, amount.currency), refusal)

    def transfer(self, actor: Actor, session: KioskSession, from_wallet_id: int, payee: str, amount: Money, *,
                 idempotency_key: str) -> KioskReceipt:
        """Post the transfer (one ledger entry by the kiosk identity), audit it, make the receipt."""
        from teller_tui.ledger import EntryRequest

        session = self._require(actor, session)
        self._own_wallet(session, from_wallet_id)
        if not idempotency_key:
            raise ValidationError("An idempotency key is required", code="idempotency_key")

        def work(s: Session) -> tuple[Any, Any]:
            existing = self.ledger.entry_by_key(s, idempotency_key)
            if existing is not None:
                return existing, self.cash.receipt_data(s, existing.entry_id)
            src, dst, _customer = self._checked(s, actor, session, from_wallet_id, payee, amount)
            legs = self.cash.posting_legs(s, actor, "transfer", amount, src, dst)
            result = self.ledger.post(s, EntryRequest(
                idempotency_key=idempotency_key, kind="transfer", legs=legs, actor_id=actor.staff_id,
                terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo="",
                customer_id=src.wallet.customer_id, business_date=self._today(s, actor),
                meta={"wallet": src.wallet.number, "to_wallet": dst.wallet.number, "channel": "kiosk"}))
            s.flush()
            s.refresh(src.account)
            self.audit.append(s, actor, "kiosk_transfer", subject=src.wallet.number, detail={
                "amount": amount.plain(), "currency": amount.currency, "reference": result.reference,
                "to_wallet": dst.wallet.number, "balance_after": Money(src.balance, amount.currency).plain()})
            return result, self.cash.receipt_data(s, result.entry_id)

        result, data = self.db.write_retrying(work)
        txn = self.cash.finish(result, data)
        return KioskReceipt(txn.reference, txn.amount, txn.new_balance, txn.posted_at, txn.receipt_text,
                            txn.replayed)


# -- the teller side: unlocking a PIN -----------------------------------------------------------------
class CustomerPinService:
    """What a teller does about kiosk PINs at the counter."""

    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit

    def unlock_customer_pin(self, actor: Actor, customer_id: int) -> bool:
        """Clear the wrong-PIN counter and the lock; True when the PIN was locked."""
        from teller_tui.auth.roles import require_role
        from teller_tui.models import Customer

        require_role(actor, "teller", "supervisor", "admin")
        with self.db.write() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(_("No such customer"), code="no_customer")
            was_locked, attempts = bool(c.pin_locked), int(c.pin_failed_attempts)
            c.pin_locked = False
            c.pin_failed_attempts = 0
            self.audit.append(s, actor, "customer_pin_unlock", subject=c.customer_no,
                              detail={"was_locked": was_locked, "failed_attempts": attempts})
            return was_locked
