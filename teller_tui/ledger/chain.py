"""The ledger's hash chain (RELIABILITY invariant 16), one chain per branch.

Each journal entry stores ``prev_hash`` (the hash of the previous entry of the same branch, or
:data:`GENESIS`) and ``hash``: SHA-256 over the entry's columns, its postings in storage order
and ``prev_hash``. Editing, inserting or deleting an entry or a posting therefore breaks the
chain at that entry; rewriting the whole tail with recomputed hashes is found against a head
kept outside the database (``teller ledger head``, ``teller heads export``, the end-of-day
report).

Why per branch: entries are numbered globally today (the ``ledger_head`` row), but each
branch's chain has its own head row (``ledger_chain_head``), so branches can later write in
parallel without one chain serializing them all.

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

from sqlalchemy import bindparam, select

from teller_tui.models import LedgerChainHead

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["GENESIS", "ChainHead", "branch_heads", "day_text", "entry_hash", "hash_parts", "link_entry", "moment_text"]

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


def link_entry(session: Session, values: dict[str, Any], legs: Iterable[tuple[int, str, int]]) -> None:
    """Chain an entry that is about to be inserted: lock its branch's head, set ``prev_hash`` and
    ``hash`` in ``values`` and move the head to it (inside the caller's write transaction)."""
    ch = LedgerChainHead.__table__  # type: ignore[attr-defined]
    branch = values["branch_code"]
    head = session.execute(_stmt("chain_lock", lambda: select(ch.c.entries, ch.c.hash).where(
        ch.c.branch_code == bindparam("branch")).with_for_update()), {"branch": branch}).first()
    if head is None:
        # A branch's first entry. The caller holds the ledger_head lock, so no other writer can
        # insert the same branch's row meanwhile.
        session.execute(_stmt("chain_new", ch.insert), {"branch_code": branch, "last_seq": 0, "entries": 0,
                                                        "hash": GENESIS})
        entries, prev = 0, GENESIS
    else:
        entries, prev = int(head.entries), str(head.hash)
    values["prev_hash"] = prev
    values["hash"] = digest = entry_hash(values, legs, prev)
    session.execute(_stmt("chain_move", lambda: ch.update().where(ch.c.branch_code == bindparam("b")).values(
        last_seq=bindparam("s"), entries=bindparam("n"), hash=bindparam("h"))),
        {"b": branch, "s": values["seq"], "n": entries + 1, "h": digest})


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
