"""What a PostgreSQL write transaction locks first: the whole bank, or only its branch and customers.

Service code checks limits and then posts (tier caps, daily totals, a drawer's cash, approvals);
under READ COMMITTED two terminals could both pass a check. Every write transaction therefore
starts with transaction-scoped advisory locks, taken before any row is read:

* a write with no scope takes the bank-wide key :data:`PG_WRITE_LOCK_KEY` **exclusively**: it runs
  alone, as every write did before branches could write in parallel (staff administration,
  business days and drawers: the paths listed in :data:`BANK_WIDE`);
* a write with a scope (:data:`WriteScope`: counter and kiosk postings, approvals and their holds,
  the expiry sweep, sign-in and credential checks, consents) takes the bank-wide key **shared**,
  then its own keys exclusively: the branch it posts at (the teller's drawer, the business day,
  the teller's daily totals, the branch's ledger chain and audit stream), every customer whose
  wallets it reads or moves (balances, tier caps, daily and yearly usage, consents, approvals)
  and any named row (a person's staff row, a kiosk's sign-in counter). Keys are taken in one
  statement in a fixed order (branch keys, then customer keys, then named keys, each by number),
  so two writes never wait on each other in a cycle: a transfer between customers of two
  branches takes both in that order, whichever side asked.

Two postings that share no key run at the same time; two that share one run one after the
other, exactly as under SQLite's ``BEGIN IMMEDIATE``; an unscoped write waits for all of them and
they for it. The scope function runs inside the transaction before the locks and may read only
what never changes (a wallet's customer): everything it protects is read after the locks.

Keys a write finds it needs only once it runs (a kiosk's payee found by phone, a request expired
inside a posting whose audit record goes to another branch's stream): :func:`require_keys` takes
them *without waiting* (``pg_try_advisory_xact_lock``); if one is held elsewhere the transaction
gives up with :class:`ScopeWidened` (a conflict) and :meth:`Database.write_retrying` starts it again
with those keys added to its scope, taken up front in the fixed order. Nobody ever waits for a
key while holding one taken out of order, so two writes never deadlock on keys. The ledger's
branch head (:func:`teller_tui.ledger.chain.lock_branch_head`) and every audit append
(:meth:`teller_tui.audit.trail.AuditTrail.append`) require their branch's key this way: a
transaction that writes two branches' ledgers or audit streams (a supervisor of branch A approving
at B, a cross-branch transfer, a sweep expiring holds of several branches) holds both keys, in
order, before it locks either head row.

What stays bank-wide (a write with no scope) is listed, with why, in :data:`BANK_WIDE`: schema
changes, staff administration, the business day and drawers, rare kiosk and display set-up, and
the services off the posting path that have not declared their scope yet.

Branch, customer and named keys use the two-integer advisory key space (class 1, 2, 3),
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

__all__ = ["BANK_WIDE", "BRANCH", "CUSTOMER", "NAMED", "PG_WRITE_LOCK_KEY", "LockKey", "ScopeWidened", "WriteScope",
           "branch_key", "customer_key", "fixed_scope", "held_keys", "lock_bank", "lock_scope", "named_key",
           "require_keys", "scope_keys", "stream_key", "widened"]

#: Advisory lock key (per database) that a write with no scope takes exclusively, a scoped one shared.
PG_WRITE_LOCK_KEY = 0x7E11E4_0001
BRANCH = 1
CUSTOMER = 2
NAMED = 3  # a row named by text that no branch or customer owns (a kiosk's sign-in counter of a number)

#: ``Session.info`` entries: the keys a scoped transaction holds; whether :func:`require_keys` checks.
_HELD = "teller_scope_keys"
_GUARD = "teller_scope_guard"

#: The writes that still take the bank-wide key exclusively (``Database.write()`` with no scope), by
#: module, and why. Everything on the posting path is scoped: counter cash and reversals
#: (desk.cash_scope), kiosk sign-in, transfers and the customer display (kiosk.scopes,
#: kiosk.transfer_scope), approvals at the counter and from the queue, their holds and the expiry
#: sweep (approvals.scopes), credential checks and a person's own password, authenticator and
#: session events (auth.service: their staff row's named key), counter consents (consent.scopes),
#: refused attempts (cases.refusals). Tests count the rest: ``Database.bank_writes``.
BANK_WIDE: dict[str, str] = {
    "db.migrations, teller db, maintenance": "schema changes and repairs: nothing else may run",
    "auth.admin, approvals.staff_admin, approvals.staff_unlock": (
        "staff rows and roles are bank-wide (unique user names, one role table, cross-branch approvers); rare"),
    "branch.business_day, branch.drawers, branch.handover, branch.vault, branch.custody, branch.setup": (
        "the day and the drawers: closing a day reads every drawer of the branch and the end-of-day report "
        "reads across branches; a few per teller per day"),
    "kiosk.service.ensure_identity, kiosk.pins, kiosk.pinpad pair/set_new_pin, consent pairing/policy/PIN reset": (
        "a kiosk's staff row (once per start), display pairing, a teller lifting a PIN lock or a PIN reset "
        "(clears the sign-in counters of every number of the customer); rare"),
    "wallets, desk.customers/profile/wallet_statement, offline, risk, cases, kb, training": (
        "customer and wallet records, linked accounts, the offline upload's bookkeeping, risk rules and "
        "notifications, cases, the knowledge base, training: not on the posting path, not declared yet"),
    "demo, bench": "data builders: run alone",
}


class ScopeWidened(Exception):
    """A scoped transaction found it needs keys it did not take and could not take them without
    waiting: it is rolled back and retried with ``keys`` added to its scope (taken up front)."""

    def __init__(self, keys: Iterable[LockKey]) -> None:
        self.keys = sorted(set(keys))
        super().__init__(f"write scope widened by {self.keys}")


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


def named_key(name: str) -> LockKey:
    """The key of a row named by ``name`` (CRC-32: a collision only serializes more than needed)."""
    return NAMED, _int4(zlib.crc32(name.encode()))


def stream_key(stream: str) -> LockKey:
    """The key of a branch's ledger chain and audit stream (the ``BANK`` stream has its own)."""
    return branch_key(stream)


def fixed_scope(keys: Iterable[LockKey]) -> WriteScope:
    """A scope known before the transaction starts."""
    frozen = list(keys)
    return lambda _session: frozen


def widened(scope: WriteScope, extra: Iterable[LockKey]) -> WriteScope:
    """``scope`` plus ``extra`` (keys a previous attempt found it needed)."""
    more = list(extra)
    return lambda session: [*scope(session), *more]


def held_keys(session: Session) -> frozenset[LockKey] | None:
    """The keys this transaction holds, or None if it is not scoped (alone, or SQLite)."""
    held = session.info.get(_HELD)
    return None if held is None else frozenset(held)


def require_keys(session: Session, keys: Iterable[LockKey]) -> None:
    """Inside a scoped transaction: make sure ``keys`` are held. Missing ones are tried without
    waiting; one held elsewhere raises :class:`ScopeWidened` (retried with it up front). A no-op
    for a transaction that runs alone (bank-wide key, SQLite) or with the check off (a test)."""
    held = session.info.get(_HELD)
    if held is None or not session.info.get(_GUARD, True):
        return
    missing = sorted(set(keys) - held)
    if not missing:
        return
    params: dict[str, int] = {}
    for i, (cls, key) in enumerate(missing):
        params[f"c{i}"], params[f"k{i}"] = cls, key
    got = session.execute(text("SELECT " + ", ".join(
        f"pg_try_advisory_xact_lock(:c{i}, :k{i})" for i in range(len(missing)))), params).one()
    held.update(k for k, ok in zip(missing, got, strict=True) if ok)
    if not all(got):
        raise ScopeWidened(missing)


def lock_bank(session: Session) -> None:
    """Run alone: the bank-wide key, exclusively."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK_KEY})


def lock_scope(session: Session, keys: Iterable[LockKey], *, enabled: bool = True,
               guard: bool = True) -> list[LockKey]:
    """The bank-wide key shared, then ``keys`` exclusively in their fixed order, in one statement
    (PostgreSQL evaluates the select list left to right). ``enabled=False`` (a test's negative
    control only) takes the shared key alone; ``guard=False`` (another) turns :func:`require_keys`
    off. Returns the keys taken, in order."""
    ordered = sorted(set(keys)) if enabled else []
    calls = ["pg_advisory_xact_lock_shared(:g)"] + [f"pg_advisory_xact_lock(:c{i}, :k{i})"
                                                     for i in range(len(ordered))]
    params: dict[str, int] = {"g": PG_WRITE_LOCK_KEY}
    for i, (cls, key) in enumerate(ordered):
        params[f"c{i}"], params[f"k{i}"] = cls, key
    session.execute(text("SELECT " + ", ".join(calls)), params)
    session.info[_HELD] = set(ordered)
    session.info[_GUARD] = guard and enabled
    return ordered
