"""The receipt of a posted entry: read it (two Core selects), render it, wrap the result.

Public API::

    receipt = entry_receipt(session, entry_id, bank_name=..., copy_label="", balances=None)
    receipt = posted_receipt(session, result, teller=, terminal_id=, branch_code=, main=, other=, amount=,
                             balance=, consent=, bank_name=...)   # from what the posting just wrote: nothing read again
    txn = txn_result(result, receipt)                           # -> TxnResult (receipt rendered, no file)
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.sql.expression import Executable

from teller_tui.common.masks import mask_name, mask_wallet
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import EntryReceipt, TxnResult
from teller_tui.desk.receipts import ReceiptData, render_receipt
from teller_tui.desk.statements import cached_statement
from teller_tui.models import Customer, JournalEntry, Posting, Staff, Wallet
from teller_tui.notify.preferences import customer_prefs

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.ledger import EntryResult


def _entry_stmt() -> Executable:
    je, st = JournalEntry.__table__, Staff.__table__  # type: ignore[attr-defined]
    orig = je.alias("orig")
    return (select(je.c.kind, je.c.reference, je.c.posted_at, je.c.business_date, je.c.branch_code,
                   je.c.terminal_id, je.c.memo, je.c.request_json, st.c.username.label("teller"),
                   orig.c.reference.label("reverses"))
            .select_from(je.outerjoin(st, st.c.id == je.c.actor_id)
                         .outerjoin(orig, orig.c.id == je.c.reverses_entry_id))
            .where(je.c.id == bindparam("entry")))


def _legs_stmt() -> Executable:
    p, w, c = Posting.__table__, Wallet.__table__, Customer.__table__  # type: ignore[attr-defined]
    return (select(w.c.number, w.c.account_id, c.c.full_name, c.c.id.label("customer_id"), p.c.amount, p.c.currency)
            .select_from(p.join(w, w.c.account_id == p.c.account_id).outerjoin(c, c.c.id == w.c.customer_id))
            .where(p.c.entry_id == bindparam("entry")).order_by(p.c.id))


def _balance_stmt() -> Executable:
    p = Posting.__table__  # type: ignore[attr-defined]
    return (select(func.coalesce(-func.sum(p.c.amount), 0))
            .where(p.c.account_id == bindparam("acct"), p.c.entry_id <= bindparam("entry")))


def entry_receipt(session: Session, entry_id: int, *, bank_name: str, copy_label: str = "",
                  balances: dict[int, int] | None = None, watermark: str = "") -> EntryReceipt:
    """What the receipt prints for an entry, read with two Core selects.

    ``balances``: wallet balances (account id -> minor units) just read inside the posting
    transaction, which still holds the account; otherwise the balance after the entry is
    summed from the postings up to it (a reprint shows the balance of its day)."""
    e = session.execute(cached_statement("receipt_entry", _entry_stmt), {"entry": entry_id}).one()
    legs = session.execute(cached_statement("receipt_legs", _legs_stmt), {"entry": entry_id}).all()
    main, other = legs[0], (legs[1] if len(legs) > 1 else None)
    cur = main.currency
    if balances is not None and main.account_id in balances:
        bal = balances[main.account_id]
    else:
        bal = session.execute(cached_statement("receipt_balance", _balance_stmt),
                              {"acct": main.account_id, "entry": entry_id}).scalar_one()
    return _receipt(session, kind=e.kind, reference=e.reference, posted_at=e.posted_at,
                    business_date=e.business_date, branch_code=e.branch_code, terminal_id=e.terminal_id,
                    teller=e.teller or "", main=_Party(main.number, main.full_name, main.customer_id),
                    other=_Party(other.number, other.full_name, other.customer_id) if other is not None else None,
                    amount=Money(abs(int(main.amount)), cur), balance=Money(int(bal), cur), memo=e.memo,
                    reverses=e.reverses or "",
                    consent=str(json.loads(e.request_json or "{}").get("meta", {}).get("consent", "")),
                    bank_name=bank_name, copy_label=copy_label, watermark=watermark)


class _Party(NamedTuple):
    number: str
    full_name: str | None
    customer_id: int | None


def posted_receipt(session: Session, result: EntryResult, *, teller: str, terminal_id: str, branch_code: str,
                   main: tuple[str, str | None, int | None], other: tuple[str, str | None, int | None] | None,
                   amount: Money, balance: Money, consent: str, bank_name: str, watermark: str = "") -> EntryReceipt:
    """The receipt of an entry just posted in this transaction, from what the posting wrote (the
    result, the wallets it read: ``main``/``other`` as (number, customer name, customer id), the
    balance the ledger left) rather than read back: what :func:`entry_receipt` would read."""
    return _receipt(session, kind=result.kind, reference=result.reference, posted_at=result.posted_at,
                    business_date=result.business_date, branch_code=branch_code, terminal_id=terminal_id,
                    teller=teller, main=_Party(*main), other=_Party(*other) if other is not None else None,
                    amount=amount, balance=balance, memo=result.memo, reverses="",
                    consent=consent, bank_name=bank_name, copy_label="", watermark=watermark)


def _receipt(session: Session, *, kind: str, reference: str, posted_at: datetime, business_date: date,
             branch_code: str, terminal_id: str, teller: str, main: _Party, other: _Party | None, amount: Money,
             balance: Money, memo: str, reverses: str, consent: str, bank_name: str, copy_label: str,
             watermark: str) -> EntryReceipt:
    """THE one mapping of an entry onto what its receipt prints (names and wallets masked)."""
    prefs = customer_prefs(session, main.customer_id, "")  # the customer's language and large print
    data = ReceiptData(
        kind=kind, reference=reference, posted_at=posted_at, business_date=business_date,
        branch_code=branch_code, terminal_id=terminal_id, teller=teller,
        customer_name=mask_name(main.full_name or ""), wallet_number=mask_wallet(main.number),
        amount=amount, new_balance=balance, memo=memo,
        counterparty_name=mask_name(other.full_name or "") if other is not None else "",
        counterparty_wallet=mask_wallet(other.number) if other is not None else "",
        reverses_reference=reverses, bank_name=bank_name, copy_label=copy_label, watermark=watermark,
        consent=consent, locale=prefs.locale, large_print=prefs.large_print)
    return EntryReceipt(data, main.number)


def txn_result(result: EntryResult, receipt: EntryReceipt) -> TxnResult:
    """The posting's result with its receipt rendered (80 columns, the screen's layout).

    No file is written: the ledger gives the receipt again at any time (``receipt_for``), and a
    copy is saved only when a print does not happen (``PrintService.print_text(keep=...)``). A file
    per posting cost the teller's wait a file creation (0.1–0.2 ms in a directory a busy day has
    filled) and left a branch a directory that only grew."""
    text = render_receipt(receipt.data, width=80)
    return TxnResult(result.reference, result.entry_id, result.kind, receipt.amount,
                     receipt.new_balance if receipt.new_balance is not None else Money(0), result.posted_at,
                     result.business_date, text, result.replayed, receipt.wallet_number_full)
