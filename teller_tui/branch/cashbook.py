"""Bookkeeping of branch cash inside a caller's transaction: the drawer and vault accounts, one
ledger entry per movement, the drawer events with their denomination rows, and the vault's
holdings by denomination (which the vault's ledger balance always equals).

Plain functions over a session: the drawer and vault services and the set-up helpers share
them; none of them checks permissions (the callers do).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor
from teller_tui.branch.kinds import VAULT_IN_EVENTS, VAULT_OUT_EVENTS
from teller_tui.branch.views import VaultView
from teller_tui.common.errors import Conflict, NotFound
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.money import Money
from teller_tui.common.reference import denominations
from teller_tui.common.text import clean_text
from teller_tui.ledger import AccountKind, EntryRequest, EntryResult, Ledger, credit, debit
from teller_tui.ledger.accounts import drawer_code, vault_code
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.drawers import DenominationCount, DrawerEvent
from teller_tui.models.enums import DrawerEventKind

__all__ = [
    "check_vault_has", "drawer_account", "post_move", "record_event", "vault_account", "vault_holdings",
    "vault_view",
]


def vault_account(session: Session, ledger: Ledger, branch: str, currency: str = "CNY") -> int:
    """The branch vault's ledger account (opened on first use)."""
    return ledger.open_account(session, code=vault_code(branch, currency), name=f"Vault {branch}",
                               kind=AccountKind.VAULT, currency=currency, branch_code=branch)


def drawer_account(session: Session, ledger: Ledger, actor: Actor, currency: str = "CNY") -> int:
    """The teller's drawer account ``drawer:<branch>:<username>`` (opened on first use)."""
    return ledger.open_account(session, code=drawer_code(actor.branch_code, actor.username),
                               name=f"Drawer {actor.username}", kind=AccountKind.DRAWER,
                               currency=currency, branch_code=actor.branch_code)


def vault_holdings(session: Session, branch: str, currency: str = "CNY") -> dict[str, int]:
    """Pieces held in the vault, by denomination key (every counted movement in minus out)."""
    sign = case((col(DrawerEvent.kind).in_(VAULT_IN_EVENTS), 1), else_=-1)
    rows = session.exec(
        select(DenominationCount.denomination, func.sum(sign * col(DenominationCount.pieces)))
        .join(DrawerEvent, col(DrawerEvent.id) == col(DenominationCount.event_id))
        .where(DrawerEvent.branch_code == branch, DrawerEvent.currency == currency,
               col(DrawerEvent.kind).in_(VAULT_IN_EVENTS + VAULT_OUT_EVENTS),
               DenominationCount.side == "main")
        .group_by(col(DenominationCount.denomination))).all()
    return {k: int(n) for k, n in rows if n}


def check_vault_has(session: Session, branch: str, counts: Mapping[str, int], currency: str) -> None:
    """Refuse (``vault_short``) a movement out of the vault of pieces it does not hold."""
    held = vault_holdings(session, branch, currency)
    short = [k for k, n in counts.items() if n > held.get(k, 0)]
    if short:
        labels = {d.key: d for d in denominations(currency)}
        parts = [_("{label}: {held} held").format(label=labels[k].label_for(get_locale()), held=held.get(k, 0))
                 for k in short]
        raise Conflict(_("The vault does not hold those notes ({detail}).").format(detail="; ".join(parts)),
                       code="vault_short")


def vault_view(session: Session, ledger: Ledger, branch: str, currency: str = "CNY") -> VaultView:
    """The vault's ledger balance and its pieces (zero before the vault account exists)."""
    holdings = vault_holdings(session, branch, currency)
    try:
        acct = ledger.account_id(session, vault_code(branch, currency))
    except NotFound:
        return VaultView(branch, Money.zero(currency), holdings)
    b = ledger.balance(session, acct)
    return VaultView(branch, Money(b.debits_posted - b.credits_posted, currency), holdings)


def record_event(session: Session, *, at: datetime, drawer_id: int | None, branch: str, business_date: date,
                 kind: DrawerEventKind, currency: str, amount: int, actor: Actor, counts: Mapping[str, int],
                 entry_id: int | None = None, approver: str = "", change: Mapping[str, int] | None = None,
                 change_minor: int = 0, memo: str = "") -> int:
    """One drawer event and its denomination rows (``main`` pieces, ``change`` given back)."""
    ev = DrawerEvent(drawer_id=drawer_id, branch_code=branch, business_date=business_date, kind=kind,
                     currency=currency, amount_minor=amount, change_minor=change_minor, entry_id=entry_id,
                     actor_id=actor.staff_id, actor=actor.username[:64], approver=approver[:64],
                     at=at, memo=clean_text(memo, limit=200))
    session.add(ev)
    session.flush()
    assert ev.id is not None
    for side, data in (("main", counts), ("change", change or {})):
        for key, n in sorted(data.items()):
            if n:
                session.add(DenominationCount(event_id=ev.id, side=side, denomination=key, pieces=int(n)))
    session.flush()
    return ev.id


def post_move(session: Session, ledger: Ledger, actor: Actor, *, kind: EntryKind, debit_id: int, credit_id: int,
              amount: Money, key: str, memo: str, meta: Mapping[str, Any] | None = None,
              dating: Dating = Dating.COUNTER) -> EntryResult:
    """The ledger entry of one cash movement (two legs). The ledger dates it: the branch's open
    business day (drawer movements need one; deliveries into the vault use ``Dating.AFTER_HOURS``)."""
    return ledger.post(session, EntryRequest(
        idempotency_key=key, kind=kind, legs=(debit(debit_id, amount), credit(credit_id, amount)),
        actor_id=actor.staff_id, terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo=memo,
        meta=dict(meta or {}), dating=dating))
