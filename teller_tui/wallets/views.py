"""The wallets of a customer as the profile shows them: balances, class limits and usage.

``wallet_views(session, rows, on, tiers, now=)`` turns wallet rows into :class:`WalletView` read
models (number masked, balance, held, available — holds past their time no longer count as held — points, and the class limits in force on
``on`` with what the wallet used against them, counted by :mod:`teller_tui.wallets.limits`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from teller_tui.common.errors import NotFound
from teller_tui.common.masks import mask_wallet
from teller_tui.common.money import Money
from teller_tui.ledger.core import live_balance
from teller_tui.models import LedgerAccount, Wallet
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.limits import class_limits, wallet_usage
from teller_tui.wallets.blocks import blocked_ids

__all__ = ["WalletLimits", "WalletView", "wallet_views"]


@dataclass(frozen=True, slots=True)
class WalletLimits:
    """Tier limits and what the wallet used against them (None = no limit)."""

    tier: int
    balance_cap: Money | None
    per_txn: Money | None
    daily: Money | None
    yearly: Money | None
    used_today: Money  # outgoing (debits of the wallet) today
    used_year: Money  # outgoing this calendar year
    incoming_today: Money = field(default_factory=lambda: Money(0))


@dataclass(frozen=True, slots=True)
class WalletView:
    wallet_id: int
    number: str
    number_masked: str
    tier: int
    status: str  # active | frozen | closed
    currency: str
    balance: Money  # posted
    held: Money
    available: Money
    limits: WalletLimits | None
    opened_at: datetime
    points: int = 0
    blocked: bool = False  # lost or stolen phone: nothing in or out (teller_tui.wallets.blocks)


def wallet_views(session: Session, wallet_rows: Iterable[Wallet], on: date, tiers: TierTable, *,
                 now: datetime) -> list[WalletView]:
    """Read models of ``wallet_rows`` with the class limits in force on ``on`` (business day)."""
    out = []
    rows = list(wallet_rows)
    blocked = blocked_ids(session, (int(w.id) for w in rows if w.id is not None))
    for w in rows:
        assert w.id is not None
        acct = session.get(LedgerAccount, w.account_id)
        if acct is None:
            raise NotFound("No such ledger account", code="no_account")
        bal = live_balance(session, acct, now)
        points = 0
        if w.points_account_id is not None:
            pacct = session.get(LedgerAccount, w.points_account_id)
            if pacct is not None:
                points = live_balance(session, pacct, now).posted.minor
        limits = None
        try:
            t = class_limits(tiers, w.tier, on)
        except NotFound:  # a missing limit set must not hide the wallet
            t = None
        if t is not None:
            used = wallet_usage(session, w.account_id, on, w.currency)
            limits = WalletLimits(w.tier, t.balance_cap, t.per_txn, t.daily, t.yearly, used.out_today,
                                  used.out_year, used.in_today)
        out.append(WalletView(w.id, w.number, mask_wallet(w.number), w.tier, w.status, w.currency,
                              bal.posted, bal.held, bal.available, limits, w.opened_at, points, w.id in blocked))
    return out
