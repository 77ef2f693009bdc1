"""What the periodic scan looks at, read once per scan into plain values (:class:`ScanData`).

* customer transactions on wallets (cash in and out, transfers, linked top-ups and withdrawals):
  one :class:`Txn` per wallet leg, ``amount`` positive when money leaves the wallet. Entries that
  were reversed, and reversals, are left out (the same rule as the class limits);
* the wallets and customers they touch, with which customers are *linked* (same phone, same
  address, or the same linked bank card or account: :func:`link_groups`);
* the audit records the patterns need: failed kiosk sign-ins and device replacements;
* for each wallet, its last transaction before the window (a dormant wallet waking up).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from teller_tui.common.money import Money
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import AuditRecord, Customer, JournalEntry, LinkedAccount, Posting, Wallet
from teller_tui.models.types import UTCDateTime

__all__ = ["AUDIT_ACTIONS", "CUSTOMER_KINDS", "AuditEvent", "CustomerFacts", "ScanData", "Txn", "WalletFacts",
           "aware", "link_groups", "load_customers", "load_scan_data"]

#: Entry kinds that are a customer's own transactions.
CUSTOMER_KINDS = (EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER, EntryKind.LINKED_TOP_UP,
                  EntryKind.LINKED_WITHDRAW)
AUDIT_ACTIONS = ("kiosk_sign_in", "device_replace")


@dataclass(frozen=True, slots=True)
class Txn:
    entry_id: int
    reference: str
    kind: str
    at: datetime
    wallet_id: int
    customer_id: int
    amount: int  # minor units; > 0 out of the wallet, < 0 into it
    currency: str

    @property
    def size(self) -> int:
        return abs(self.amount)


@dataclass(frozen=True, slots=True)
class WalletFacts:
    id: int
    number: str
    customer_id: int
    opened_at: datetime
    branch_code: str


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    id: int
    customer_no: str
    full_name: str
    name_latin: str
    phone: str
    address: str
    id_number: str | None
    birth_date: date | None
    risk_level: str
    branch_code: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: datetime
    action: str
    subject: str
    outcome: str
    terminal_id: str
    detail: dict[str, Any]


@dataclass
class ScanData:
    start: datetime  # the window scanned (context before it is loaded too)
    end: datetime
    large_value: Money  # the approval policy's large-cash threshold on the scan day
    txns: list[Txn] = field(default_factory=list)  # by time
    wallets: dict[int, WalletFacts] = field(default_factory=dict)
    customers: dict[int, CustomerFacts] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)  # by seq
    last_before: dict[int, datetime] = field(default_factory=dict)  # wallet -> last txn before the loaded txns
    groups: dict[int, int] = field(default_factory=dict)  # customer -> smallest id of its linked group
    watermarks: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (rule, subject) -> last alert end

    def by_wallet(self) -> dict[int, list[Txn]]:
        out: dict[int, list[Txn]] = defaultdict(list)
        for t in self.txns:
            out[t.wallet_id].append(t)
        return out

    def after_watermark(self, rule: str, subject: str, at: datetime) -> bool:
        """Whether ``at`` is later than the last alert this rule raised on ``subject`` (a pattern is
        raised once: what an earlier alert covered never starts another)."""
        mark = self.watermarks.get((rule, subject))
        return mark is None or at > mark

    def wallet_subject(self, wallet_id: int) -> str:
        return f"wallet:{self.wallets[wallet_id].number}"

    def customer_subject(self, customer_id: int) -> str:
        return f"customer:{self.customers[customer_id].customer_no}"


def _txns(s: Session, since: datetime, end: datetime) -> list[Txn]:
    e, p, w = JournalEntry, Posting, Wallet
    rev = aliased(JournalEntry)
    stmt = (select(col(e.id), col(e.reference), col(e.kind), col(e.posted_at), col(w.id), col(w.customer_id),
                   col(p.amount), col(p.currency))
            .join(p, col(p.entry_id) == col(e.id)).join(w, col(w.account_id) == col(p.account_id))
            .where(col(e.posted_at) >= since, col(e.posted_at) <= end, col(e.kind).in_(CUSTOMER_KINDS),
                   col(e.reverses_entry_id).is_(None),
                   ~exists().where(col(rev.reverses_entry_id) == col(e.id)))
            .order_by(col(e.posted_at), col(e.id)))
    return [Txn(int(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5]), int(r[6]), str(r[7]))
            for r in s.execute(stmt)]


def _chunks(ids: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    items = sorted(set(ids))
    for i in range(0, len(items), size):
        yield items[i:i + size]


def load_customers(s: Session, ids: Iterable[int] | None = None) -> dict[int, CustomerFacts]:
    """Customers by id (all of them when ``ids`` is None)."""
    out: dict[int, CustomerFacts] = {}
    batches: Iterable[list[int] | None] = [None] if ids is None else _chunks(ids)
    for batch in batches:
        stmt = select(Customer)
        if batch is not None:
            stmt = stmt.where(col(Customer.id).in_(batch))
        for c in s.execute(stmt).scalars():
            assert c.id is not None
            out[c.id] = CustomerFacts(c.id, c.customer_no, c.full_name, c.name_latin, c.phone, c.address,
                                      c.id_number, c.birth_date, c.risk_level, c.branch_code)
    return out


def link_groups(s: Session, customers: dict[int, CustomerFacts]) -> dict[int, int]:
    """Customer -> the smallest customer id it is linked to (itself when alone), through shared phone
    numbers, addresses (spaces and case ignored) and linked bank cards or accounts, transitively."""
    parent = {cid: cid for cid in customers}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(ids: list[int]) -> None:
        for other in ids[1:]:
            a, b = root(ids[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)

    keys: dict[str, list[int]] = defaultdict(list)
    for c in customers.values():
        if c.phone:
            keys["p:" + c.phone].append(c.id)
        address = "".join(c.address.split()).lower()
        if len(address) >= 6:
            keys["a:" + address].append(c.id)
    for batch in _chunks(customers):
        for cid, token in s.execute(select(col(LinkedAccount.customer_id), col(LinkedAccount.token)).where(
                col(LinkedAccount.customer_id).in_(batch))):
            keys["t:" + str(token)].append(int(cid))
    for ids in keys.values():
        if len(ids) > 1:
            join(ids)
    return {cid: root(cid) for cid in customers}


def load_scan_data(s: Session, *, start: datetime, context_from: datetime, end: datetime,
                   large_value: Money) -> ScanData:
    """Everything the patterns need for the window ``start``..``end`` (context read from ``context_from``)."""
    data = ScanData(start=start, end=end, large_value=large_value, txns=_txns(s, context_from, end))
    wallet_ids = {t.wallet_id for t in data.txns}
    ar = AuditRecord
    for r in s.execute(select(col(ar.seq), col(ar.at), col(ar.action), col(ar.subject), col(ar.outcome),
                              col(ar.terminal_id), col(ar.detail_json))
                       .where(col(ar.action).in_(AUDIT_ACTIONS), col(ar.at) >= context_from, col(ar.at) <= end)
                       .order_by(col(ar.seq))):
        data.audit.append(AuditEvent(int(r[0]), r[1], str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                                     json.loads(r[6] or "{}")))
    replaced = {e.subject for e in data.audit if e.action == "device_replace"}
    for batch in _chunks(wallet_ids) if wallet_ids else []:
        _add_wallets(s, data, col(Wallet.id).in_(batch))
    if replaced:
        _add_wallets(s, data, col(Wallet.number).in_(sorted(replaced)))
    data.customers = load_customers(s, {w.customer_id for w in data.wallets.values()})
    data.groups = link_groups(s, data.customers)
    e, p, w = JournalEntry, Posting, Wallet
    for batch in _chunks(wallet_ids) if wallet_ids else []:
        stmt = (select(col(w.id), func.max(col(e.posted_at))).join(p, col(p.account_id) == col(w.account_id))
                .join(e, and_(col(e.id) == col(p.entry_id), col(e.posted_at) < context_from,
                              col(e.kind).in_(CUSTOMER_KINDS)))
                .where(col(w.id).in_(batch)).group_by(col(w.id)))
        for wid, last in s.execute(stmt):
            if last is not None:
                data.last_before[int(wid)] = aware(last)
    return data


def _add_wallets(s: Session, data: ScanData, where: Any) -> None:
    for wallet, branch in s.execute(select(Wallet, col(Customer.branch_code)).join(
            Customer, col(Customer.id) == col(Wallet.customer_id)).where(where)):
        assert wallet.id is not None
        data.wallets[wallet.id] = WalletFacts(wallet.id, wallet.number, wallet.customer_id, wallet.opened_at,
                                              str(branch))


def aware(value: Any) -> datetime:
    """``max()`` over a UTC column comes back without the column type on SQLite: naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    out = UTCDateTime().process_result_value(value, None)
    assert out is not None
    return out
