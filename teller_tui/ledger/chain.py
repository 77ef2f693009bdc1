"""The ledger's hash chain (RELIABILITY invariant 16), one chain per branch.

Each journal entry stores ``prev_hash`` (the hash of the previous entry of the same branch, or
:data:`GENESIS`) and ``hash``: SHA-256 over the entry's columns, its postings in storage order
and ``prev_hash``. Editing, inserting or deleting an entry or a posting therefore breaks the
chain at that entry; rewriting the whole tail with recomputed hashes is found against a head
kept outside the database (``teller ledger head``, ``teller heads export``, the end-of-day
report).

Why per branch: each branch's head row (``ledger_chain_head``) is its ledger head: posting locks
it (:func:`lock_branch_head`) and takes from it the entry's place in the branch (``branch_seq``,
gap-free), the time and business date it may not precede, and the hash it links to. Branches
therefore write in parallel; the bank-wide ``seq`` comes from :func:`next_entry_seq` (a sequence
on PostgreSQL, so no row is held across branches).

The posting path computes one hash per entry from the values it is about to write (no read
back, no update of the entry afterwards: entries are append-only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from teller_tui.db import lean
from teller_tui.db.scopes import branch_key, require_keys
from teller_tui.models import LedgerChainHead

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["GENESIS", "ChainHead", "LockedHead", "branch_heads", "day_text", "entry_hash", "hash_parts", "link_entry",
           "lock_branch_head", "moment_text", "next_entry_seq"]

GENESIS = "0" * 64

_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str, build: Any) -> Any:
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


def _moment(value: datetime) -> str:
    if value.tzinfo is None:  # a naive value read back from SQLite is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _day(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def entry_hash(values: Mapping[str, Any], legs: Iterable[tuple[int, str, int]], prev_hash: str) -> str:
    """The hash of one entry: its columns (``values``, named as in ``journal_entry``), its
    postings as ``(account_id, currency, amount)`` in storage order, and ``prev_hash``.

    Values are hashed as they are (no coercion): a posting amount turned into 1.5 or "150"
    by an edit hashes differently from the integer that was posted."""
    return hash_parts(values["seq"], values["reference"], values["kind"], values["idempotency_key"],
                      values["request_hash"], values["memo"], values["actor_id"], values["terminal_id"],
                      values["branch_code"], _day(values["business_date"]), _moment(values["posted_at"]),
                      values["customer_id"], values["reverses_entry_id"], values["hold_id"], legs, prev_hash)


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_sha256 = hashlib.sha256


def hash_parts(seq: Any, reference: Any, kind: Any, key: Any, request_hash: Any, memo: Any, actor_id: Any,
               terminal_id: Any, branch_code: Any, day: str, moment: str, customer_id: Any, reverses: Any,
               hold_id: Any, legs: Iterable[tuple[int, str, int]], prev_hash: str) -> str:
    """:func:`entry_hash` from the column values in table order, with the business date as
    ``YYYY-MM-DD`` and the posting time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC) already
    formatted: THE hash format, shared by the posting path and the verifier's fast scan
    (:mod:`teller_tui.ledger.verify_scan`), which reads those two as text."""
    body = [int(seq), reference, kind, key, request_hash, memo, actor_id, terminal_id, branch_code, day, moment,
            customer_id, reverses, hold_id, [[account, currency, amount] for account, currency, amount in legs],
            prev_hash]
    return _sha256(_ENCODE(body).encode()).hexdigest()


def day_text(value: date | str) -> str:
    """A business date as hashed (``YYYY-MM-DD``)."""
    return _day(value)


def moment_text(value: datetime) -> str:
    """A posting time as hashed (``YYYY-MM-DDTHH:MM:SS.ffffffZ``, UTC)."""
    return _moment(value)


@dataclass(frozen=True, slots=True)
class LockedHead:
    """A branch's head as read under its row lock, at the start of a posting."""

    branch_code: str
    entries: int
    hash: str
    last_at: datetime | None
    last_date: date | None


def lock_branch_head(session: Session, branch: str) -> LockedHead:
    """Lock the branch's head row (made on the branch's first entry) and read it. Two postings of
    one branch serialize here; other branches' postings do not wait."""
    require_keys(session, (branch_key(branch),))  # the branch's key before its head row (db/scopes.py)
    ch = LedgerChainHead.__table__  # type: ignore[attr-defined]
    lock = _stmt("chain_lock", lambda: select(ch.c.entries, ch.c.hash, ch.c.last_at, ch.c.last_date).where(
        ch.c.branch_code == bindparam("branch")).with_for_update())
    head = lean.first(session, lock, {"branch": branch})
    if head is None:  # the branch's first entry; a racing first entry of the same branch waits on the row
        insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(ch)
        session.execute(insert.values(branch_code=branch, last_seq=0, entries=0, hash=GENESIS)
                        .on_conflict_do_nothing(index_elements=[ch.c.branch_code]))
        head = lean.one(session, lock, {"branch": branch})
    return LockedHead(branch, int(head.entries), str(head.hash), head.last_at,
                      _as_date(head.last_date) if head.last_date is not None else None)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def next_entry_seq(session: Session, dialect: str) -> int:
    """The bank-wide number of the next entry. PostgreSQL: ``nextval`` (never held: branches do
    not wait for each other; a rolled-back posting leaves a gap). SQLite: the ``ledger_head``
    counter (writers are serialized by ``BEGIN IMMEDIATE``: no gap)."""
    if dialect == "postgresql":
        return int(lean.scalar_one(session, _stmt("seq_pg", lambda: text("SELECT nextval('journal_entry_seq')"))))
    return int(lean.scalar_one(session, _stmt("seq_sqlite", lambda: text(
        "UPDATE ledger_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq"))))


def link_entry(session: Session, head: LockedHead, values: dict[str, Any],
               legs: Iterable[tuple[int, str, int]]) -> None:
    """Chain an entry that is about to be inserted after ``head`` (locked by
    :func:`lock_branch_head` in this transaction): set ``branch_seq``, ``prev_hash`` and ``hash``
    in ``values`` and move the head to it."""
    ch = LedgerChainHead.__table__  # type: ignore[attr-defined]
    values["branch_seq"] = head.entries + 1
    values["prev_hash"] = head.hash
    values["hash"] = digest = entry_hash(values, legs, head.hash)
    lean.run(session, _stmt("chain_move", lambda: ch.update().where(ch.c.branch_code == bindparam("b")).values(
        last_seq=bindparam("s"), entries=bindparam("n"), hash=bindparam("h"), last_at=bindparam("at"),
        last_date=bindparam("d"))),
        {"b": head.branch_code, "s": values["seq"], "n": head.entries + 1, "h": digest,
         "at": values["posted_at"], "d": values["business_date"]})


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A branch's chain head as stored: the last entry's seq, the number of entries, the hash."""

    branch_code: str
    last_seq: int
    entries: int
    hash: str


def branch_heads(session: Session) -> list[ChainHead]:
    """Every branch's stored chain head, by branch code."""
    ch = LedgerChainHead.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(ch.c.branch_code, ch.c.last_seq, ch.c.entries, ch.c.hash)
                           .order_by(ch.c.branch_code)).all()
    return [ChainHead(str(r.branch_code), int(r.last_seq), int(r.entries), str(r.hash)) for r in rows]
