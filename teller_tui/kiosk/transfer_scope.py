"""What a kiosk transfer locks first on PostgreSQL (:mod:`teller_tui.db.scopes`): as a counter
transfer (:func:`teller_tui.desk.cash_scope.posting_scope`), the kiosk's branch, both wallets'
branches and both customers — never the bank-wide key.

The payee is typed (a wallet number or a phone number), so its wallet is found in the scope
function with plain Core reads (no ORM object is loaded before the locks, nothing can be stale).
A phone number may move to another customer meanwhile: the transfer checks, once it has found the
payee under the locks, that it holds the payee's keys (:func:`require_payee`), and if not the
transaction is retried with them up front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from teller_tui.db.scopes import LockKey, WriteScope, held_keys, require_keys, scope_keys
from teller_tui.desk.cash_scope import posting_scope
from teller_tui.kiosk.lookup import digits_of
from teller_tui.models import Customer, Wallet
from teller_tui.models.enums import WalletStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor
    from teller_tui.desk.cash_types import WalletSide

__all__ = ["payee_wallet_id", "require_payee", "transfer_scope"]


def payee_wallet_id(s: Session, payee: str) -> int | None:
    """The wallet a payee string names now (as :func:`teller_tui.kiosk.lookup.find_payee`), or None."""
    raw = (payee or "").strip()
    digits = digits_of(raw)
    w, c = Wallet.__table__, Customer.__table__  # type: ignore[attr-defined]
    if len(digits) == 16:
        return s.execute(select(w.c.id).where(w.c.number == digits)).scalar()
    if not digits or len(digits) > 20:
        return None
    phone = ("+" + digits) if raw.startswith("+") else digits
    owners = s.execute(select(c.c.id).where(c.c.phone == phone).limit(2)).scalars().all()
    if len(owners) != 1:
        return None
    return s.execute(select(w.c.id).where(w.c.customer_id == owners[0], w.c.status == WalletStatus.ACTIVE)
                     .order_by(w.c.tier, w.c.id).limit(1)).scalar()


def transfer_scope(actor: Actor, from_wallet_id: int, payee: str) -> WriteScope:
    """The kiosk's branch, both wallets' branches and customers."""

    def keys(s: Session) -> list[LockKey]:
        return list(posting_scope(actor, (from_wallet_id, payee_wallet_id(s, payee)))(s))

    return keys


def require_payee(s: Session, dst: WalletSide) -> bool:
    """Under the locks: the payee found is one whose keys this transfer holds (else retried with them).
    Call it before anything reads the payee's balance or limits. True when its keys were taken just now
    (free, so not waited for): what was read of the payee before must be read again under them."""
    before = held_keys(s)
    require_keys(s, scope_keys([str(dst.account.branch_code)], [dst.wallet.customer_id]))
    return held_keys(s) != before
