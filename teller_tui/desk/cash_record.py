"""What a counter posting records after the ledger wrote it, in the same transaction.

:func:`record_posting` writes the audit record (naming its entry), queues each customer's
notification from the wallets and totals the posting already holds, and builds the receipt
from what was just written: nothing the posting wrote is read back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teller_tui.common.money import Money
from teller_tui.desk.cash_types import EntryReceipt, WalletSide
from teller_tui.desk.entry_receipts import posted_receipt
from teller_tui.ledger import EntryResult, entry_facts
from teller_tui.notify.postings import notify_entry

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.approvals.records import Grant
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.consent.spec import ConsentGrant
    from teller_tui.notify.outbox import Outbox

__all__ = ["record_posting"]


def _party(side: WalletSide) -> tuple[str, str | None, int | None]:
    """(wallet number, customer name, customer id) of a wallet side, as a receipt names it."""
    return side.wallet.number, side.customer.full_name if side.customer is not None else None, side.wallet.customer_id


def record_posting(s: Session, audit: AuditTrail, outbox: Outbox, actor: Actor, kind: str, amount: Money,
                   src: WalletSide, dst: WalletSide | None, result: EntryResult, *, grant: Grant | None,
                   agreed: ConsentGrant | None, bank_name: str, watermark: str) -> EntryReceipt:
    """Audit, notify and make the receipt of a counter entry the ledger has just posted (not a replay)."""
    # The source account's totals as the ledger left them (its own UPDATE, under this
    # transaction's lock): not read again.
    after = {acct: (dr, cr) for acct, dr, cr in result.totals}
    src.account.debits_posted, src.account.credits_posted = after[src.wallet.account_id]
    detail: dict[str, Any] = {**entry_facts((result, actor.staff_id)), "amount": amount.plain(),
                              "currency": amount.currency, "reference": result.reference,
                              "balance_after": Money(src.balance, amount.currency).plain()}
    if dst is not None:
        detail["to_wallet"] = dst.wallet.number
    facts = agreed.facts() if agreed else {}
    detail.update(facts)
    if grant is not None:
        detail["approval_id"] = grant.approval_id
        detail["approved_by"] = grant.approver_id
    audit.append(s, actor, kind, subject=src.wallet.number, detail=detail)
    moved = {side.wallet.account_id: (side.wallet.number, side.wallet.customer_id)
             for side in (src, dst) if side is not None}  # every wallet the entry moved
    notify_entry(s, outbox, result, wallets=moved)  # same transaction (teller_tui.notify.postings)
    return posted_receipt(s, result, teller=actor.username, terminal_id=actor.terminal_id,
                          branch_code=actor.branch_code, main=_party(src),
                          other=_party(dst) if dst is not None else None, amount=amount,
                          balance=Money(src.balance, amount.currency), consent=str(facts.get("consent", "")),
                          bank_name=bank_name, watermark=watermark)
