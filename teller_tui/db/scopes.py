"""What a PostgreSQL write transaction locks first: the whole bank, or only its branch and customers.

Service code checks limits and then posts (tier caps, daily totals, a drawer's cash, approvals);
under READ COMMITTED two terminals could both pass a check. Every write transaction therefore
starts with transaction-scoped advisory locks, taken before any row is read:

* a write with no scope takes the bank-wide key :data:`PG_WRITE_LOCK_KEY` **exclusively**: it runs
  alone, as every write did before branches could write in parallel (staff administration,
  approvals, business days, kiosks: every path that has not declared what it depends on);
* a write with a scope (:data:`WriteScope`, the counter's cash-in, cash-out, transfer and
  reversal) takes the bank-wide key **shared**, then its own keys exclusively: the branch it
  posts at (the teller's drawer, the business day, the teller's daily totals) and every
  customer whose wallets it reads or moves (balances, tier caps, daily and yearly usage,
  consents, approvals). Keys are taken in one statement in a fixed order (branch keys, then
  customer keys, each by number), so two writes never wait on each other in a cycle: a transfer
  between customers of two branches takes both in that order, whichever side asked.

Two postings that share no key run at the same time; two that share one run one after the
other, exactly as under SQLite's ``BEGIN IMMEDIATE``; an unscoped write waits for all of them and
they for it. The scope function runs inside the transaction before the locks and may read only
what never changes (a wallet's customer): everything it protects is read after the locks.

Branch and customer keys use the two-integer advisory key space (class 1 = branch, 2 = customer),
apart from the bank-wide one-bigint key. A branch's key is a CRC-32 of its code: two codes that
collide only serialize more than needed. SQLite: ``BEGIN IMMEDIATE`` already serializes every
writer, so no key is taken (and the scope function is not run).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["BRANCH", "CUSTOMER", "PG_WRITE_LOCK_KEY", "LockKey", "WriteScope", "branch_key", "customer_key",
           "lock_bank", "lock_scope", "scope_keys"]

#: Advisory lock key (per database) that a write with no scope takes exclusively, a scoped one shared.
PG_WRITE_LOCK_KEY = 0x7E11E4_0001
BRANCH = 1
CUSTOMER = 2

#: (class, key): an advisory lock in PostgreSQL's two-int4 key space.
LockKey = tuple[int, int]
#: Reads a write's fixed facts inside its transaction and returns the lock keys it needs.
WriteScope = Callable[["Session"], Iterable[LockKey]]


def _int4(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def branch_key(code: str) -> LockKey:
    """The lock key of a branch (its drawers, business day, tellers' daily totals)."""
    return BRANCH, _int4(zlib.crc32(code.encode()))


def customer_key(customer_id: int) -> LockKey:
    """The lock key of a customer (their wallets' balances, limits, consents, approvals)."""
    return CUSTOMER, _int4(int(customer_id))


def scope_keys(branches: Iterable[str] = (), customers: Iterable[int | None] = ()) -> list[LockKey]:
    """The keys of these branches and customers (None customers skipped)."""
    return [branch_key(b) for b in branches if b] + [customer_key(c) for c in customers if c is not None]


def lock_bank(session: Session) -> None:
    """Run alone: the bank-wide key, exclusively."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK_KEY})


def lock_scope(session: Session, keys: Iterable[LockKey], *, enabled: bool = True) -> list[LockKey]:
    """The bank-wide key shared, then ``keys`` exclusively in their fixed order, in one statement
    (PostgreSQL evaluates the select list left to right). ``enabled=False`` (a test's negative
    control only) takes the shared key alone. Returns the keys taken, in order."""
    ordered = sorted(set(keys)) if enabled else []
    calls = ["pg_advisory_xact_lock_shared(:g)"] + [f"pg_advisory_xact_lock(:c{i}, :k{i})"
                                                     for i in range(len(ordered))]
    params: dict[str, int] = {"g": PG_WRITE_LOCK_KEY}
    for i, (cls, key) in enumerate(ordered):
        params[f"c{i}"], params[f"k{i}"] = cls, key
    session.execute(text("SELECT " + ", ".join(calls)), params)
    return ordered
