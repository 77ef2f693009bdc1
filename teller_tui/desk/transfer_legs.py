"""The ledger legs of a wallet-to-wallet transfer.

Transfers across branches add inter-branch clearing legs (``interbranch:<branch>:<cur>``, kind
SETTLEMENT) so each branch's trial balance stays zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.common.money import Money
from teller_tui.desk.cash_types import WalletSide
from teller_tui.ledger import Leg, Ledger, credit, debit
from teller_tui.ledger.accounts import AccountKind, interbranch_code

if TYPE_CHECKING:
    from sqlmodel import Session


def transfer_legs(session: Session, ledger: Ledger, amount: Money, src: WalletSide, dst: WalletSide) -> tuple[Leg, ...]:
    a, b = src.account.branch_code, dst.account.branch_code
    if a == b:
        return (debit(src.wallet.account_id, amount), credit(dst.wallet.account_id, amount))
    ib_a = ledger.open_account(session, code=interbranch_code(a, amount.currency),
                               name=f"Inter-branch clearing {a}", kind=AccountKind.SETTLEMENT,
                               currency=amount.currency, branch_code=a)
    ib_b = ledger.open_account(session, code=interbranch_code(b, amount.currency),
                               name=f"Inter-branch clearing {b}", kind=AccountKind.SETTLEMENT,
                               currency=amount.currency, branch_code=b)
    return (debit(src.wallet.account_id, amount), credit(ib_a, amount), debit(ib_b, amount),
            credit(dst.wallet.account_id, amount))
