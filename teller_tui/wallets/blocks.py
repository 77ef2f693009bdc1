"""The full block of a lost or stolen phone: nothing in, nothing out, on every channel.

Session-level helpers (the caller owns the transaction)::

    place_block(s, ledger, wallet, actor_id, reason, now)   # lifecycle.block_lost
    lift_block(s, ledger, wallet, actor_id, now, how=)      # lifecycle.replace_device (with its approval)
    is_blocked(s, wallet_id) -> bool; blocked_ids(s, ids) -> set[int]
    refuse_if_blocked(s, wallet_id, number)                 # Conflict(code="wallet_blocked")

Distinct from a freeze (payments out refused, money in still taken): a blocked wallet's ledger
accounts are frozen (the ledger refuses every debit) and every channel asks :func:`refuse_if_blocked`
before a credit — the counter's cash-in and transfers (``desk/cash.check_limits``, which the
kiosk's transfers also pass), linked-account funding, dispute corrections; kiosk sign-in does not
offer a blocked wallet at all. Only a device replacement (with its supervisor's approval) lifts
the block; "unfreeze" is refused while it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db import lean
from teller_tui.ledger import Ledger
from teller_tui.models import Wallet
from teller_tui.models.blocks import WalletBlock
from teller_tui.models.enums import WalletStatus

__all__ = ["blocked_ids", "blocked_refusal", "is_blocked", "lift_block", "place_block", "refuse_if_blocked"]


def _set_status(s: Session, ledger: Ledger, w: Wallet, status: str) -> None:
    for acct in (w.account_id, w.points_account_id):
        if acct is not None:
            ledger.set_status(s, acct, status)
    s.execute(update(Wallet).where(col(Wallet.id) == w.id).values(status=status))
    s.refresh(w)


def blocked_ids(s: Session, wallet_ids: Iterable[int]) -> set[int]:
    ids = [int(i) for i in wallet_ids]
    if not ids:
        return set()
    return {int(row[0]) for row in lean.all_rows(s, _blocked_stmt(), {"ids": ids})}


@cache
def _blocked_stmt() -> Any:
    wb = WalletBlock.__table__  # type: ignore[attr-defined]
    return select(wb.c.wallet_id).where(wb.c.wallet_id.in_(bindparam("ids", expanding=True)),
                                        wb.c.lifted_at.is_(None))


def is_blocked(s: Session, wallet_id: int) -> bool:
    return bool(blocked_ids(s, (wallet_id,)))


def blocked_refusal(number: str) -> Conflict:
    return Conflict(_("Wallet {number} is blocked (lost or stolen phone): nothing in or out until the "
                      "device is replaced").format(number=number), code="wallet_blocked")


def refuse_if_blocked(s: Session, wallet_id: int | None, number: str = "") -> None:
    if wallet_id is not None and is_blocked(s, wallet_id):
        raise blocked_refusal(number or str(wallet_id))


def place_block(s: Session, ledger: Ledger, w: Wallet, actor_id: int | None, reason: str, now: datetime) -> None:
    assert w.id is not None
    if w.status == WalletStatus.CLOSED:
        raise Conflict(_("The wallet is closed; closing is final"), code="illegal_transition")
    if is_blocked(s, w.id):
        raise Conflict(_("The wallet is already blocked"), code="wallet_blocked")
    s.add(WalletBlock(wallet_id=w.id, reason=clean_text(reason, limit=200), status_before=w.status,
                      blocked_at=now, blocked_by=actor_id))
    if w.status != WalletStatus.FROZEN:
        _set_status(s, ledger, w, WalletStatus.FROZEN)
    s.flush()


def lift_block(s: Session, ledger: Ledger, w: Wallet, actor_id: int | None, now: datetime, *, how: str) -> bool:
    """Lift the block (if any) and put the wallet's status back as it was; True if one was lifted."""
    assert w.id is not None
    row = s.execute(select(WalletBlock).where(col(WalletBlock.wallet_id) == w.id,
                                              col(WalletBlock.lifted_at).is_(None)).with_for_update()
                    ).scalar_one_or_none()
    if row is None:
        return False
    row.lifted_at, row.lifted_by, row.lifted_how = now, actor_id, how[:32]
    s.add(row)
    if row.status_before != w.status and w.status != WalletStatus.CLOSED:
        _set_status(s, ledger, w, row.status_before)
    s.flush()
    return True
