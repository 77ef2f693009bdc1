"""What a counter posting tells its customers (queued in the posting's transaction; teller_tui.risk.outbox)."""

from __future__ import annotations

from sqlmodel import Session

from teller_tui.common.clock import BRANCH_TZ
from teller_tui.common.formatting import format_money
from teller_tui.common.masks import mask_wallet
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import WalletSide
from teller_tui.desk.wallet_sides import read_wallet_side
from teller_tui.ledger import EntryResult
from teller_tui.ledger.kinds import EntryKind
from teller_tui.risk.outbox import Outbox

__all__ = ["notify_posting"]


def notify_posting(s: Session, outbox: Outbox, kind: str, amount: Money, src: WalletSide, dst: WalletSide | None,
                   result: EntryResult, balance_after: int) -> None:
    """The paying (or paid-in) customer, and a transfer's payee, each get a ``posting`` notification."""
    at = result.posted_at.astimezone(BRANCH_TZ).strftime("%Y-%m-%d %H:%M")
    base = {"amount": format_money(amount, outbox.locale), "reference": result.reference, "at": at}
    action = {EntryKind.CASH_IN: "cash_in", EntryKind.CASH_OUT: "cash_out"}.get(EntryKind(kind), "transfer_out")
    outbox.enqueue(s, event="posting", event_key=f"entry:{result.entry_id}", customer_id=src.wallet.customer_id,
                   params={**base, "action": action, "wallet": mask_wallet(src.wallet.number),
                           "balance": format_money(Money(balance_after, amount.currency), outbox.locale)})
    if dst is not None and dst.wallet.customer_id != src.wallet.customer_id and dst.wallet.id is not None:
        paid_in = read_wallet_side(s, dst.wallet.id, result.posted_at).balance
        outbox.enqueue(s, event="posting", event_key=f"entry:{result.entry_id}:in", customer_id=dst.wallet.customer_id,
                       params={**base, "action": "transfer_in", "wallet": mask_wallet(dst.wallet.number),
                               "balance": format_money(Money(paid_in, amount.currency), outbox.locale)})
