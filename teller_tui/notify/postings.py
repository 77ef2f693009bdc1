"""What a posting tells its customers: THE one builder of ``posting`` notifications.

Public API::

    notify_entry(s, outbox, result)   # inside the posting's own transaction, after ledger.post / post_hold
    notify_entry(s, outbox, result, wallets={account_id: (number, customer_id)})  # the caller knows them

Every channel that moves a customer's money calls it in the posting transaction: the counter
(``CashService``), the kiosk's transfers, a held request the approvals service posts
when a supervisor approves it from the queue, and linked top-up/withdrawal. Each wallet the entry
touches tells its customer once: the paying wallet first (key ``entry:<id>``), then the payee
(``entry:<id>:in``) unless it is the same customer. Kinds that are not a customer's own transaction
(rewards, reversals, branch cash) tell nobody here; a replayed entry tells nobody again.

A caller that already holds every wallet the entry moved (the counter: it read them to check the
limits) passes them as ``wallets`` (account id -> (wallet number, customer id)); the balances then
come from the totals the ledger returned, and nothing is read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.common.clock import BRANCH_TZ
from teller_tui.common.formatting import format_money
from teller_tui.common.masks import mask_wallet
from teller_tui.common.money import Money
from teller_tui.ledger import EntryResult
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import LedgerAccount, Wallet
from teller_tui.notify.outbox import Outbox

__all__ = ["NOTIFIED_KINDS", "notify_entry"]


class _Moved(NamedTuple):
    account_id: int
    number: str
    customer_id: int
    credits_posted: int
    debits_posted: int

#: Entry kind -> (the action of a wallet paying out, of a wallet paid in).
NOTIFIED_KINDS: dict[str, tuple[str, str]] = {
    EntryKind.CASH_IN: ("cash_in", "cash_in"),
    EntryKind.CASH_OUT: ("cash_out", "cash_out"),
    EntryKind.TRANSFER: ("transfer_out", "transfer_in"),
    EntryKind.LINKED_TOP_UP: ("linked_top_up", "linked_top_up"),
    EntryKind.LINKED_WITHDRAW: ("linked_withdraw", "linked_withdraw"),
}


def notify_entry(s: Session, outbox: Outbox, result: EntryResult, *,
                 wallets: Mapping[int, tuple[str, int]] | None = None) -> list[int]:
    """Queue the ``posting`` notification of each customer whose wallet ``result`` moved; the row ids.

    ``wallets``: every wallet the entry moved, as the caller read them (see the module docstring)."""
    actions = NOTIFIED_KINDS.get(result.kind)
    if actions is None or result.replayed:
        return []
    by_account = {leg.account_id: leg for leg in result.legs}
    totals = {acct: (dr, cr) for acct, dr, cr in result.totals}
    rows: Sequence[Any]
    if wallets is not None and all(acct in totals for acct in wallets):
        rows = [_Moved(acct, number, customer_id, totals[acct][1], totals[acct][0])
                for acct, (number, customer_id) in wallets.items()]
    else:
        rows = s.execute(select(col(Wallet.account_id), col(Wallet.number), col(Wallet.customer_id),
                                col(LedgerAccount.credits_posted), col(LedgerAccount.debits_posted))
                         .join(LedgerAccount, col(LedgerAccount.id) == col(Wallet.account_id))
                         .where(col(Wallet.account_id).in_(list(by_account)))).all()
    # The paying wallet (debited: a positive leg) first, so it keeps the entry's own key.
    rows = sorted(rows, key=lambda r: (by_account[r.account_id].amount <= 0, r.account_id))
    at = result.posted_at.astimezone(BRANCH_TZ).strftime("%Y-%m-%d %H:%M")
    ids: list[int] = []
    told: set[int] = set()
    for n, r in enumerate(rows):
        if r.customer_id in told:
            continue
        told.add(r.customer_id)
        leg = by_account[r.account_id]
        amount = Money(abs(leg.amount), leg.currency)
        balance = Money(int(r.credits_posted - r.debits_posted), leg.currency)
        ids += outbox.enqueue(s, event="posting", event_key=f"entry:{result.entry_id}" + (":in" if n else ""),
                              customer_id=r.customer_id, params={
                                  "action": actions[0] if leg.amount > 0 else actions[1],
                                  "wallet": mask_wallet(r.number), "amount": format_money(amount, outbox.locale),
                                  "balance": format_money(balance, outbox.locale), "reference": result.reference,
                                  "at": at})
    return ids
