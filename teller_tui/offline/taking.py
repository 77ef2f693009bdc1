"""Taking one cash-in offline: the checks a terminal can make without the database, and the receipt.

The terminal cannot see balances, limits, freezes or the risk rules while the database is down, so
offline cash-in is deliberately small and simple:

* cash-in only (money into a wallet: nothing leaves the bank, so nothing can be overdrawn);
* only into a wallet this terminal saw while the database answered (the customer screen or a cash
  form; :meth:`~teller_tui.offline.service.OfflineService.remember`), not closed or blocked then,
  seen within ``offline_wallet_cache_hours``;
* only by a teller whose drawer was open when the terminal last saw their day (seen today, within
  ``offline_wallet_cache_hours``);
* up to the caps (minor units; settings ``offline_cap_per_wallet``, ``offline_cap_per_teller``,
  ``offline_cap_per_outage``), counted over the cash at this terminal not yet in the books
  (queued items and exceptions): an outage ends when its queue is posted or resolved.
Everything else (balance limits, freezes since, the day's large-cash rules) is checked by the
central books when the item is uploaded; a refusal then goes to the supervisor's exception list.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import datetime, timedelta

from teller_tui.common.errors import Conflict, LimitExceeded, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_name, mask_wallet
from teller_tui.common.money import Money
from teller_tui.desk.receipts import ReceiptData, render_receipt
from teller_tui.offline.store import OfflineStore
from teller_tui.offline.types import CachedWallet, Caps, OfflineContext, OfflineItem

__all__ = ["check_caps", "check_wallet", "new_offline_key", "new_offline_reference", "offline_receipt"]

_SAFE = re.compile(r"[^A-Za-z0-9]")


def new_offline_key() -> str:
    """The idempotency key an offline item is uploaded under (its own, made when it is taken)."""
    return f"offline-{uuid.uuid4().hex}"


def new_offline_reference(terminal_id: str) -> str:
    """``OFFLINE-<terminal>-<8 hex>``: what the customer's receipt says until the entry is posted."""
    return f"OFFLINE-{_SAFE.sub('', terminal_id)[:12] or 'T'}-{uuid.uuid4().hex[:8].upper()}"


def check_context(context: OfflineContext | None, now: datetime, max_age_hours: int) -> OfflineContext:
    """The teller's open drawer as last seen, no older than ``max_age_hours`` and seen on today's date."""
    if context is None or context.business_date is None:
        raise Conflict(_("Offline cash-in needs your open drawer, and this terminal has not seen it today: "
                         "wait for the database."), code="offline_no_drawer")
    if not context.drawer_open:
        raise Conflict(_("Offline cash-in needs your open drawer: your drawer was not open when the database "
                         "was last reached."), code="offline_no_drawer")
    if now - context.seen_at > timedelta(hours=max_age_hours) or context.seen_at.date() != now.date():
        raise Conflict(_("Offline cash-in needs your open drawer, and this terminal last saw it too long ago "
                         "(or on another day): wait for the database."), code="offline_context_stale")
    return context


def check_wallet(wallet: CachedWallet | None, now: datetime, max_age_hours: int) -> CachedWallet:
    if wallet is None or now - wallet.seen_at > timedelta(hours=max_age_hours):
        raise Conflict(_("Offline, only wallets this terminal has seen recently can take cash: open the "
                         "customer while the database answers."), code="offline_unknown_wallet")
    if wallet.status == "closed" or wallet.blocked:
        raise Conflict(_("Wallet {number} cannot take cash (closed or blocked).").format(
            number=mask_wallet(wallet.number)), code="offline_wallet_refused")
    return wallet


def check_caps(store: OfflineStore, conn: sqlite3.Connection, caps: Caps, item: OfflineItem) -> None:
    """Raise LimitExceeded when ``item`` would pass a cap (run inside the store's write transaction)."""
    amount = item.amount
    if amount.minor <= 0:
        raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
    checks = (
        (caps.per_wallet, store.unposted_total(conn, amount.currency, wallet_id=item.wallet_id),
         _("Offline cap per wallet reached: {left} left of {cap}.")),
        (caps.per_teller, store.unposted_total(conn, amount.currency, staff_id=item.taker.staff_id),
         _("Your offline cap reached: {left} left of {cap}.")),
        (caps.per_outage, store.unposted_total(conn, amount.currency),
         _("This terminal's offline cap reached: {left} left of {cap}.")),
    )
    for cap, used, text in checks:
        if used + amount.minor > cap:
            left = Money(max(cap - used, 0), amount.currency)
            raise LimitExceeded(text.format(left=format_money(left), cap=format_money(Money(cap, amount.currency))),
                                code="offline_cap")


def offline_receipt(item: OfflineItem, *, bank_name: str = "", width: int = 80) -> str:
    """The customer's receipt: the OFFLINE- reference, no balance (not known), marked pending confirmation."""
    data = ReceiptData(kind="cash_in", reference=item.reference, posted_at=item.taken_at,
                       business_date=item.business_date, branch_code=item.taker.branch_code,
                       terminal_id=item.taker.terminal_id, teller=item.taker.username,
                       customer_name=mask_name(item.customer_name), wallet_number=mask_wallet(item.wallet_number),
                       amount=item.amount, new_balance=None, memo=item.memo, bank_name=bank_name,
                       copy_label=_("PENDING CONFIRMATION · taken offline · no. {seq}").format(seq=item.seq))
    return render_receipt(data, width=width)
