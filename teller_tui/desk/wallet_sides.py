"""Reading the wallets of a transaction inside the caller's transaction.

Public API::

    side = read_wallet_side(session, wallet_id, now)  # ORM rows (refreshed account): previews, kiosk
    side = select_wallet_side(session, wallet_id)   # one Core select, plain attribute objects: posting
    wallet_id, signed = entry_wallet(session, entry_id)   # the main wallet of a desk entry
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, text

from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.db import lean
from teller_tui.desk.cash_types import WalletSide
from teller_tui.desk.statements import cached_statement
from teller_tui.ledger.holds import overdue_reserved
from teller_tui.models import Customer, LedgerAccount, Wallet

if TYPE_CHECKING:
    from sqlmodel import Session


def read_wallet_side(session: Session, wallet_id: int, now: datetime) -> WalletSide:
    """The wallet, its ledger account (refreshed) and its customer as ORM rows; NotFound if none.

    Its available balance leaves out holds past their time at ``now`` (invariant 17)."""
    w = session.get(Wallet, wallet_id)
    if w is None:
        raise NotFound(_("No such wallet"), code="no_wallet")
    acct = session.get(LedgerAccount, w.account_id)
    session.refresh(acct)
    overdue = overdue_reserved(session, [w.account_id], now).get(w.account_id, (0, 0))[0] \
        if acct is not None and acct.debits_pending else 0
    return WalletSide(w, acct, session.get(Customer, w.customer_id), overdue)


def select_wallet_side(session: Session, wallet_id: int) -> WalletSide:
    """The wallet, its ledger account totals and its customer in one Core select, read inside
    the caller's transaction (plain attribute objects, nothing from the identity map)."""
    w, a, c = Wallet.__table__, LedgerAccount.__table__, Customer.__table__  # type: ignore[attr-defined]
    wcols = (w.c.id, w.c.number, w.c.customer_id, w.c.tier, w.c.status, w.c.currency, w.c.account_id)
    acols = (a.c.code, a.c.branch_code, a.c.debits_posted, a.c.credits_posted, a.c.debits_pending,
             a.c.credits_pending)
    row = lean.first(session, cached_statement("wallet_side", lambda: select(*wcols, *acols, c.c.id.label("c_id"),
                                                                             c.c.full_name)
                                               .select_from(w.join(a, a.c.id == w.c.account_id)
                                                            .outerjoin(c, c.c.id == w.c.customer_id))
                                               .where(w.c.id == bindparam("wid"))), {"wid": wallet_id})
    if row is None:
        raise NotFound(_("No such wallet"), code="no_wallet")
    wallet = SimpleNamespace(**{col.name: getattr(row, col.name) for col in wcols})
    account = SimpleNamespace(id=row.account_id, **{col.name: getattr(row, col.name) for col in acols})
    customer = SimpleNamespace(id=row.c_id, full_name=row.full_name) if row.c_id is not None else None
    return WalletSide(wallet, account, customer)


def entry_wallet(session: Session, entry_id: int) -> tuple[int, Money]:
    """(wallet id, signed amount to that wallet: + money in) of a desk entry's main wallet."""
    rows = session.execute(text(
        "SELECT w.id, p.amount, p.currency FROM posting p JOIN wallet w ON w.account_id = p.account_id "
        "WHERE p.entry_id = :e ORDER BY p.id"), {"e": entry_id}).all()
    if not rows:
        raise NotFound(_("This entry has no wallet"), code="no_wallet_entry")
    # The first wallet leg: the source of a transfer, the wallet of cash in/out.
    wid, amt, cur = rows[0]
    return int(wid), Money(-int(amt), cur)
