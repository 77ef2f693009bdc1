"""The tamper-evident audit trail: one hash chain per stream.

Each record's hash is SHA-256 over its canonical content and the previous record's hash in the
same *stream* (the actor's branch, or ``BANK`` for a branch-less actor and for every record
written before streams existed), so editing, inserting, deleting or reordering a record breaks
its stream's chain at that point. Each stream's head row (``audit_stream_head``) holds its last
record's seq and hash and its record count (the last ``stream_seq``, gap-free) and is locked by
the stream's appends only: branches append in parallel. The bank-wide ``seq`` stays unique: a
sequence on PostgreSQL (never held; a rolled-back append leaves a gap in ``seq``, never in a
``stream_seq``), the ``audit_head`` counter on SQLite (writers are serialized there anyway).
:func:`verify` (:mod:`teller_tui.audit.verify`) walks every stream and compares each head with
its last record, which catches a truncated tail. Deleting a tail *and* rewriting its head is
caught only against heads kept outside the database, which is why the branch's head is printed
on the end-of-day report and every stream's by ``teller audit head`` and ``teller heads export``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from teller_tui.audit.hashing import GENESIS, canonical_detail, record_hash
from teller_tui.audit.verify import AuditVerification, StreamHead, iter_records, parse_expected, stream_heads, verify
from teller_tui.common.clock import Clock
from teller_tui.db import lean
from teller_tui.db.scopes import require_keys, stream_key
from teller_tui.models import BANK_STREAM, AuditRecord, AuditStreamHead

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["BANK_STREAM", "GENESIS", "Actor", "AuditTrail", "AuditVerification", "AuditView", "StreamHead",
           "iter_records", "parse_expected", "record_hash", "stream_heads", "stream_of", "verify"]

_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str, build: Any) -> Any:
    """A hot-path statement built once, on first use (bind parameters carry the values)."""
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, and where: passed to every service call that changes state."""

    staff_id: int | None
    username: str
    terminal_id: str
    role: str = "teller"
    branch_code: str = "B001"


@dataclass(frozen=True, slots=True)
class AuditView:
    seq: int
    at: datetime
    actor: str
    terminal_id: str
    action: str
    subject: str
    outcome: str
    detail: dict[str, Any]
    hash: str


def stream_of(actor: Actor) -> str:
    """The stream an actor's records go to: their branch (or the bank stream)."""
    return (actor.branch_code or BANK_STREAM)[:16]


class AuditTrail:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def append(self, session: Session, actor: Actor, action: str, *, subject: str = "", outcome: str = "ok",
               detail: Mapping[str, Any] | None = None) -> AuditView:
        """Append one record to the actor's stream inside the caller's transaction.

        Locks the stream's head row only (other streams append meanwhile), then takes the
        bank-wide ``seq``. Core statements (no ORM objects, no identity map, so nothing read here
        can be stale); pending ORM changes are flushed first, as before."""
        stream = stream_of(actor)
        require_keys(session, (stream_key(stream),))  # the stream's key before its head row (db/scopes.py)
        session.flush()
        sh, ar = AuditStreamHead.__table__, AuditRecord.__table__  # type: ignore[attr-defined]
        lock = _stmt("stream_lock", lambda: select(sh.c.entries, sh.c.hash, sh.c.last_at).where(
            sh.c.stream == bindparam("stream")).with_for_update())
        head = lean.first(session, lock, {"stream": stream})
        dialect = lean.dialect_name(session)
        if head is None:  # the stream's first record; a racing first record of the same stream waits on the row
            insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(sh)
            session.execute(insert.values(stream=stream, seq=0, entries=0, hash=GENESIS)
                            .on_conflict_do_nothing(index_elements=[sh.c.stream]))
            head = lean.one(session, lock, {"stream": stream})
        seq = _next_seq(session, dialect)
        # Time never runs backwards along a stream, even if a terminal's clock does.
        at = self.clock.now()
        if head.last_at is not None and at < head.last_at:
            at = head.last_at
        at = at.astimezone(UTC)
        detail_json = canonical_detail(detail)
        digest = record_hash(seq=seq, at=at, actor_id=actor.staff_id, actor=actor.username,
                             terminal_id=actor.terminal_id, action=action, subject=subject, outcome=outcome,
                             detail_json=detail_json, prev_hash=head.hash)
        entries = int(head.entries) + 1
        lean.run(session, _stmt("record_insert", ar.insert), dict(
            seq=seq, at=at, actor_id=actor.staff_id, actor=actor.username, terminal_id=actor.terminal_id,
            action=action, subject=subject, outcome=outcome, detail_json=detail_json, prev_hash=head.hash,
            hash=digest, stream=stream, stream_seq=entries), insert=True)
        lean.run(session, _stmt("stream_move", lambda: sh.update().where(sh.c.stream == bindparam("s")).values(
            seq=bindparam("q"), entries=bindparam("n"), hash=bindparam("h"), last_at=bindparam("at"))),
            {"s": stream, "q": seq, "n": entries, "h": digest, "at": at})
        return AuditView(seq, at, actor.username, actor.terminal_id, action, subject, outcome, dict(detail or {}),
                         digest)

    @staticmethod
    def head(session: Session, stream: str | None = None) -> tuple[int, str]:
        """``stream``'s head (its last record's seq and hash; ``(0, GENESIS)`` before its first
        record), or without a stream the last record bank-wide."""
        heads = [h for h in stream_heads(session) if stream is None or h.stream == stream]
        if not heads:
            return 0, GENESIS
        last = max(heads, key=lambda h: h.seq)
        return last.seq, last.hash

    @staticmethod
    def heads(session: Session) -> list[StreamHead]:
        """Every stream's head, by stream name."""
        return stream_heads(session)

    @staticmethod
    def recent(session: Session, *, limit: int = 50, action: str | None = None,
               subject: str | None = None) -> list[AuditView]:
        stmt = select(AuditRecord).order_by(col(AuditRecord.seq).desc()).limit(limit)
        if action:
            stmt = stmt.where(col(AuditRecord.action) == action)
        if subject:
            stmt = stmt.where(col(AuditRecord.subject) == subject)
        return [AuditView(r.seq, r.at, r.actor, r.terminal_id, r.action, r.subject, r.outcome,
                          json.loads(r.detail_json), r.hash) for r in session.execute(stmt).scalars()]


def _next_seq(session: Session, dialect: str) -> int:
    """The bank-wide number of the next record. PostgreSQL: ``nextval`` (never held: streams do
    not wait for each other). SQLite: the ``audit_head`` counter (no gap)."""
    if dialect == "postgresql":
        return int(lean.scalar_one(session, _stmt("seq_pg", lambda: text("SELECT nextval('audit_record_seq')"))))
    return int(lean.scalar_one(session, _stmt("seq_sqlite", lambda: text(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq"))))
