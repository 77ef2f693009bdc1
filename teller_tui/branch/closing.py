"""Closing a drawer: the over/short entry and the counted cash going back to the vault (inside the
close's transaction, once the approval is consumed; see :meth:`teller_tui.branch.drawers.DrawerService.close_drawer`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor
from teller_tui.branch.cashbook import post_move, record_event, vault_account
from teller_tui.common.money import Money
from teller_tui.ledger import AccountKind, EntryResult, Ledger
from teller_tui.ledger.accounts import over_short_code
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.drawers import DenominationCount, Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind

__all__ = ["counted_pieces", "post_over_short", "return_to_vault"]


def post_over_short(session: Session, ledger: Ledger, actor: Actor, drawer: Drawer, diff: Money, approver: str,
                    approval_id: int | None, *, holder: str = "") -> EntryResult:
    """Post the counted difference to cash over/short (inside the close or a hand-over, where
    ``holder`` is the giver whose custody it settles); return its entry."""
    cur = drawer.currency
    os_acct = ledger.open_account(session, code=over_short_code(actor.branch_code, cur),
                                  name=f"Cash over/short {actor.branch_code}", kind=AccountKind.OVER_SHORT,
                                  currency=cur, branch_code=actor.branch_code)
    if diff.minor < 0:  # short: the drawer gives up the missing cash to over/short
        dr, cr, amt = os_acct, drawer.account_id, Money(-diff.minor, cur)
    else:
        dr, cr, amt = drawer.account_id, os_acct, diff
    entry = post_move(session, ledger, actor, kind=EntryKind.OVER_SHORT, debit_id=dr, credit_id=cr, amount=amt,
                      key=f"drawer:{drawer.id}:over_short",
                      memo=("Cash short " if diff.minor < 0 else "Cash over ") + (holder or actor.username),
                      meta={"drawer": drawer.id, "approver": approver, "approval_id": approval_id})
    drawer.over_short_entry_id = entry.entry_id
    return entry


def counted_pieces(session: Session, drawer_id: int) -> dict[str, int]:
    """The pieces of the drawer's last blind count, by denomination."""
    count_event = session.exec(select(DrawerEvent.id).where(DrawerEvent.drawer_id == drawer_id,
                                                            DrawerEvent.kind == DrawerEventKind.BLIND_COUNT)
                               .order_by(col(DrawerEvent.id).desc())).first()
    return {k: int(n) for k, n in session.exec(
        select(DenominationCount.denomination, DenominationCount.pieces)
        .where(DenominationCount.event_id == count_event, DenominationCount.side == "main")).all()}


def return_to_vault(session: Session, ledger: Ledger, now: datetime, actor: Actor, drawer: Drawer,
                    approver: str) -> EntryResult:
    """Move the counted cash, piece by piece as counted, back to the vault; return its entry."""
    assert drawer.counted_minor is not None and drawer.id is not None
    cur = drawer.currency
    counts = counted_pieces(session, drawer.id)
    vault = vault_account(session, ledger, actor.branch_code, cur)
    entry = post_move(session, ledger, actor, kind=EntryKind.DRAWER_RETURN, debit_id=vault,
                      credit_id=drawer.account_id, amount=Money(drawer.counted_minor, cur),
                      key=f"drawer:{drawer.id}:return",
                      memo=f"Drawer return {actor.username}",
                      meta={"drawer": drawer.id})
    record_event(session, at=now, drawer_id=drawer.id, branch=actor.branch_code,
                 business_date=drawer.business_date, kind=DrawerEventKind.CLOSE_RETURN, currency=cur,
                 amount=drawer.counted_minor, actor=actor, counts=counts, entry_id=entry.entry_id,
                 approver=approver)
    return entry
