"""Finding customers and wallets from what a kiosk user types: a phone number or a wallet number.

Public API::

    found = find_sign_in(session, "13812345678")     # -> (customer, usable wallet ids) | None
    wallet, customer = find_payee(session, "0012...")  # NotFound (one message) when there is none
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import _
from teller_tui.models import Customer, Wallet
from teller_tui.models.enums import WalletStatus
from teller_tui.wallets.blocks import blocked_ids, is_blocked

if TYPE_CHECKING:
    from sqlmodel import Session


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def find_sign_in(s: Session, identifier: str) -> tuple[Customer, tuple[int, ...]] | None:
    """(customer row, wallet ids usable at the kiosk) for a phone or wallet number, or None."""
    raw = identifier.strip()
    digits = digits_of(raw)
    if not digits or len(digits) > 20:
        return None
    wallet = s.execute(select(Wallet).where(col(Wallet.number) == digits)).scalar_one_or_none() \
        if len(digits) == 16 else None
    if wallet is not None:
        if wallet.status == WalletStatus.CLOSED or (wallet.id is not None and is_blocked(s, wallet.id)):
            return None  # a lost phone's wallet is not offered (same answer as an unknown number)
        owner = s.get(Customer, wallet.customer_id)
        if owner is None or wallet.id is None:
            return None
        return owner, (int(wallet.id),)
    phone = ("+" + digits) if raw.startswith("+") else digits
    rows = s.execute(select(Customer).where(col(Customer.phone) == phone, col(Customer.pin_hash).is_not(None))
                     ).scalars().all()
    if len(rows) != 1:
        return None
    customer = rows[0]
    ids = s.execute(select(col(Wallet.id)).where(col(Wallet.customer_id) == customer.id,
                                                  col(Wallet.status) != WalletStatus.CLOSED)
                    .order_by(col(Wallet.tier), col(Wallet.id))).scalars().all()
    blocked = blocked_ids(s, (int(i) for i in ids if i is not None))
    return customer, tuple(int(i) for i in ids if i is not None and int(i) not in blocked)


def find_payee(s: Session, payee: str) -> tuple[Wallet, Customer]:
    """(wallet, customer) receiving a transfer, from a wallet number or a phone number."""
    raw = (payee or "").strip()
    digits = digits_of(raw)
    refusal = NotFound(_("No wallet found for that number. Check it and try again."), code="kiosk_payee")
    if not digits or len(digits) > 20:
        raise refusal
    if len(digits) == 16:
        w = s.execute(select(Wallet).where(col(Wallet.number) == digits)).scalar_one_or_none()
        if w is None or w.status == WalletStatus.CLOSED:
            raise refusal
        owner = s.get(Customer, w.customer_id)
        if owner is None:
            raise refusal
        return w, owner
    phone = ("+" + digits) if raw.startswith("+") else digits
    customers = s.execute(select(Customer).where(col(Customer.phone) == phone)).scalars().all()
    if len(customers) != 1:
        if len(customers) > 1:
            raise NotFound(_("Several wallets use that phone number: enter the wallet number instead."),
                           code="kiosk_payee_ambiguous")
        raise refusal
    w = s.execute(select(Wallet).where(col(Wallet.customer_id) == customers[0].id, col(Wallet.status) == WalletStatus.ACTIVE)
                  .order_by(col(Wallet.tier), col(Wallet.id))).scalars().first()
    if w is None:
        raise refusal
    return w, customers[0]
