"""Wallets: open (the minimal issuance step), freeze/unfreeze, look up.

Public API::

    svc = WalletService(db, clock, settings, ledger, audit)     # services.wallets
    info = svc.open_wallet(session, actor, customer_id, tier)   # inside the caller's write txn
    info = svc.open_wallet_now(actor, customer_id, tier)        # its own transaction
    info = svc.freeze(actor, wallet_id, reason)                 # any teller, immediate
    info = svc.unfreeze(actor, wallet_id, reason)               # SUPERVISION_ROLES only
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
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import SUPERVISION_ROLES
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import Ledger
from teller_tui.ledger.accounts import AccountKind, points_code, wallet_code
from teller_tui.ledger.business_day import current_business_date
from teller_tui.models import Customer, Wallet
from teller_tui.models.enums import WalletStatus
from teller_tui.wallets.identity.cards import make_wallet_number
from teller_tui.auth.permissions import guarded

__all__ = ["WalletInfo", "WalletService", "wallet_info", "wallet_number_for"]

#: Classes of which a person may hold only one wallet that is not closed (class 4 is anonymous).
ONE_PER_PERSON_TIERS = (1, 2, 3)


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
    return make_wallet_number(seq)


def wallet_info(w: Wallet) -> WalletInfo:
    """The read model of a wallet row."""
    assert w.id is not None, "a wallet row read from or flushed to the database"
    return WalletInfo(w.id, w.number, w.customer_id, w.tier, w.status, w.currency, w.account_id,
                      w.points_account_id, w.opened_at)


class WalletService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit

    # -- opening ---------------------------------------------------------------------------
    def open_wallet(self, session: Session, actor: Actor, customer_id: int, tier: int, *,
                    number: str | None = None, currency: str = "CNY",
                    explanations: Mapping[str, Any] | None = None, audit: bool = True) -> WalletInfo:
        if tier not in (1, 2, 3, 4):
            raise ValidationError("A wallet class is 1, 2, 3 or 4", code="tier")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("No such customer", code="no_customer")
        if tier in ONE_PER_PERSON_TIERS:
            clash = session.execute(select(col(Wallet.number)).where(
                col(Wallet.customer_id) == customer_id, col(Wallet.tier) == tier,
                col(Wallet.status) != WalletStatus.CLOSED)).first()
            if clash is not None:
                raise Conflict(f"This customer already has a class {tier} wallet ({clash[0]})",
                               code="wallet_tier_exists", tier=tier, wallet=clash[0])
        if number is None:
            seq = int(session.execute(select(func.coalesce(func.max(col(Wallet.id)), 0))).scalar_one()) + 1
            number = wallet_number_for(seq)
            while session.execute(select(col(Wallet.id)).where(col(Wallet.number) == number)).first() is not None:
                seq += 1
                number = wallet_number_for(seq)
        branch = customer.branch_code or actor.branch_code
        acct = self.ledger.open_account(session, code=wallet_code(number), name=f"Wallet {number}",
                                        kind=AccountKind.WALLET, currency=currency, branch_code=branch)
        pts = self.ledger.open_account(session, code=points_code(number), name=f"Points {number}",
                                       kind=AccountKind.POINTS, currency="PTS", branch_code=branch)
        wallet = Wallet(number=number, customer_id=customer_id, tier=tier, status=WalletStatus.ACTIVE, currency=currency,
                        account_id=acct, points_account_id=pts, opened_at=self.clock.now(),
                        opened_on=current_business_date(session, branch, self.clock), opened_by=actor.staff_id, explanations_json=json.dumps(dict(explanations or {}),
                                                                                ensure_ascii=False))
        session.add(wallet)
        session.flush()
        if audit:
            self.audit.append(session, actor, "wallet_open", subject=number,
                              detail={"customer": customer.customer_no, "tier": tier})
        return wallet_info(wallet)

    @guarded("wallets")
    def open_wallet_now(self, actor: Actor, customer_id: int, tier: int, **kwargs: Any) -> WalletInfo:
        return self.db.write_retrying(lambda s: self.open_wallet(s, actor, customer_id, tier, **kwargs))

    # -- status ----------------------------------------------------------------------------
    @guarded("wallets")
    def freeze(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError("Give a reason for freezing the wallet", code="reason")
        return self.db.write_retrying(lambda s: self._set_status(s, actor, wallet_id, WalletStatus.FROZEN, reason))

    @guarded("wallets")
    def unfreeze(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        if actor.role not in SUPERVISION_ROLES:
            raise PermissionDenied("Only a supervisor can unfreeze a wallet", code="unfreeze_role")
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError("Give a reason for unfreezing the wallet", code="reason")
        return self.db.write_retrying(lambda s: self._set_status(s, actor, wallet_id, WalletStatus.ACTIVE, reason))

    def _set_status(self, session: Session, actor: Actor, wallet_id: int, status: str, reason: str) -> WalletInfo:
        wallet = session.get(Wallet, wallet_id)
        if wallet is None:
            raise NotFound("No such wallet", code="no_wallet")
        if wallet.status == WalletStatus.CLOSED:
            raise Conflict("This wallet is closed", code="wallet_closed")
        if wallet.status == status:
            return wallet_info(wallet)
        before = wallet.status
        self.ledger.set_status(session, wallet.account_id, status)
        if wallet.points_account_id is not None:
            self.ledger.set_status(session, wallet.points_account_id, status)
        session.execute(update(Wallet).where(col(Wallet.id) == wallet_id).values(status=status))
        session.refresh(wallet)
        self.audit.append(session, actor, "wallet_freeze" if status == WalletStatus.FROZEN else "wallet_unfreeze",
                          subject=wallet.number, detail={"from": before, "to": status, "reason": reason})
        return wallet_info(wallet)

    # -- lookup ----------------------------------------------------------------------------
    def get_wallet(self, wallet_id: int) -> WalletInfo:
        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound("No such wallet", code="no_wallet")
            return wallet_info(w)

    def find_by_number(self, number: str) -> WalletInfo | None:
        number = "".join(ch for ch in number if ch.isdigit())
        with self.db.read() as s:
            w = s.execute(select(Wallet).where(col(Wallet.number) == number)).scalar()
            return None if w is None else wallet_info(w)
