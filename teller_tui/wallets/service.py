"""Wallets: open (the minimal issuance step), freeze/unfreeze, look up.

Public API::

    svc = WalletService(db, clock, settings, ledger, audit)     # services.wallets
    info = svc.open_wallet(session, actor, customer_id, tier)   # inside the caller's write txn
    info = svc.open_wallet_now(actor, customer_id, tier)        # its own transaction
    info = svc.freeze(actor, wallet_id, reason)                 # any teller, immediate
    info = svc.unfreeze(actor, wallet_id, reason)               # supervisor/admin only
    info = svc.get_wallet(wallet_id)                            # -> WalletInfo (NotFound)
    info = svc.find_by_number(number)                           # -> WalletInfo | None

Rules: a person holds at most one wallet of each class 1-3 that is not closed (Conflict);
class 4 (anonymous) wallets are not limited here. Opening creates the wallet's ledger account
(kind WALLET, ``wallet:<number>``) and its points account (kind POINTS, ``points:<number>``, PTS).
Freezing sets both ``wallet.status`` and the ledger account status, so the ledger itself
refuses debits of a frozen wallet; a closed wallet refuses everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class WalletInfo:
    wallet_id: int
    number: str
    customer_id: int
    tier: int
    status: str
    currency: str
    account_id: int
    points_account_id: int | None
    opened_at: datetime


def wallet_number_for(seq: int) -> str:
    """The 16-digit wallet number for sequence ``seq`` (prefix, sequence, Luhn check digit)."""
    from teller_tui.wallets.identity import make_wallet_number

    return make_wallet_number(seq)


def _info(w: Any) -> WalletInfo:
    return WalletInfo(w.id, w.number, w.customer_id, w.tier, w.status, w.currency, w.account_id,
                      w.points_account_id, w.opened_at)


class WalletService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit

    # -- opening ---------------------------------------------------------------------------
    def open_wallet(self, session: Session, actor: Actor, customer_id: int, tier: int, *,
                    number: str | None = None, currency: str = "CNY",
                    explanations: Mapping[str, Any] | None = None, audit: bool = True) -> WalletInfo:
        from sqlalchemy import func, select

        from teller_tui.ledger.accounts import AccountKind, points_code, wallet_code
        from teller_tui.models import Customer, Wallet

        if tier not in (1, 2, 3, 4):
            raise ValidationError("A wallet class is 1, 2, 3 or 4", code="tier")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("No such customer", code="no_customer")
        if tier in (1, 2, 3):
            clash = session.execute(select(Wallet.number).where(
                Wallet.customer_id == customer_id, Wallet.tier == tier, Wallet.status != "closed")).first()
            if clash is not None:
                raise Conflict(f"This customer already has a class {tier} wallet ({clash[0]})",
                               code="wallet_tier_exists")
        if number is None:
            seq = int(session.execute(select(func.coalesce(func.max(Wallet.id), 0))).scalar_one()) + 1
            number = wallet_number_for(seq)
            while session.execute(select(Wallet.id).where(Wallet.number == number)).first() is not None:
                seq += 1
                number = wallet_number_for(seq)
        branch = customer.branch_code or actor.branch_code
        acct = self.ledger.open_account(session, code=wallet_code(number), name=f"Wallet {number}",
                                        kind=AccountKind.WALLET, currency=currency, branch_code=branch)
        pts = self.ledger.open_account(session, code=points_code(number), name=f"Points {number}",
                                       kind=AccountKind.POINTS, currency="PTS", branch_code=branch)
        wallet = Wallet(number=number, customer_id=customer_id, tier=tier, status="active", currency=currency,
                        account_id=acct, points_account_id=pts, opened_at=self.clock.now(),
                        opened_by=actor.staff_id, explanations_json=json.dumps(dict(explanations or {}),
                                                                                ensure_ascii=False))
        session.add(wallet)
        session.flush()
        if audit:
            self.audit.append(session, actor, "wallet_open", subject=number,
                              detail={"customer": customer.customer_no, "tier": tier})
        return _info(wallet)

    def open_wallet_now(self, actor: Actor, customer_id: int, tier: int, **kwargs: Any) -> WalletInfo:
        return self.db.write_retrying(lambda s: self.open_wallet(s, actor, customer_id, tier, **kwargs))

    # -- status ----------------------------------------------------------------------------
    def freeze(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        reason = _clean(reason)
        if not reason:
            raise ValidationError("Give a reason for freezing the wallet", code="reason")
        return self.db.write_retrying(lambda s: self._set_status(s, actor, wallet_id, "frozen", reason))

    def unfreeze(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        if actor.role not in SUPERVISOR_ROLES:
            raise PermissionDenied("Only a supervisor can unfreeze a wallet", code="unfreeze_role")
        reason = _clean(reason)
        if not reason:
            raise ValidationError("Give a reason for unfreezing the wallet", code="reason")
        return self.db.write_retrying(lambda s: self._set_status(s, actor, wallet_id, "active", reason))

    def _set_status(self, session: Session, actor: Actor, wallet_id: int, status: str, reason: str) -> WalletInfo:
        from sqlalchemy import update

        from teller_tui.models import Wallet

        wallet = session.get(Wallet, wallet_id)
        if wallet is None:
            raise NotFound("No such wallet", code="no_wallet")
        if wallet.status == "closed":
            raise Conflict("This wallet is closed", code="wallet_closed")
        if wallet.status == status:
            return _info(wallet)
        before = wallet.status
        self.ledger.set_status(session, wallet.account_id, status)
        if wallet.points_account_id is not None:
            self.ledger.set_status(session, wallet.points_account_id, status)
        session.execute(update(Wallet).where(Wallet.id == wallet_id).values(status=status))
        session.refresh(wallet)
        self.audit.append(session, actor, "wallet_freeze" if status == "frozen" else "wallet_unfreeze",
                          subject=wallet.number, detail={"from": before, "to": status, "reason": reason})
        return _info(wallet)

    # -- lookup ----------------------------------------------------------------------------
    def get_wallet(self, wallet_id: int) -> WalletInfo:
        from teller_tui.models import Wallet

        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound("No such wallet", code="no_wallet")
            return _info(w)

    def find_by_number(self, number: str) -> WalletInfo | None:
        from sqlalchemy import select

        from teller_tui.models import Wallet

        number = "".join(ch for ch in number if ch.isdigit())
        with self.db.read() as s:
            w = s.execute(select(Wallet).where(Wallet.number == number)).scalar()
            return None if w is None else _info(w)


def _clean(text: str, limit: int = 200) -> str:
    """User text as data: control characters removed, trimmed, bounded."""
    import unicodedata

    out = "".join(" " if ch in "\t\n" else ch for ch in text
                  if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\t\n")
    return " ".join(out.split())[:limit]


def wallet_views(session: Session, wallet_rows: Any, on: Any, tiers: Any = None) -> list[Any]:
    from teller_tui.desk.customers import WalletLimits, WalletView
    from teller_tui.ledger.core import _balance
    from teller_tui.desk.receipts import mask_wallet as mask_wallet_number
    from teller_tui.models import LedgerAccount
    from teller_tui.common.money import Money

    out = []
    for w in wallet_rows:
        acct = session.get(LedgerAccount, w.account_id)
        bal = _balance(acct)
        points = 0
        if w.points_account_id is not None:
            pacct = session.get(LedgerAccount, w.points_account_id)
            if pacct is not None:
                points = _balance(pacct).posted.minor
        limits = None
        try:
            t = class_limits(tiers, w.tier, on)
        except NotFound:  # a missing limit set must not hide the wallet
            t = None
        if t is not None:
            used = wallet_usage(session, w.account_id, on, w.currency)
            limits = WalletLimits(w.tier, t.balance_cap, t.per_txn, t.daily, t.yearly, used.out_today,
                                  used.out_year, used.in_today)
        out.append(WalletView(w.id, w.number, mask_wallet_number(w.number), w.tier, w.status, w.currency,
                              bal.posted, bal.held, bal.available, limits, w.opened_at, points))
    return out
