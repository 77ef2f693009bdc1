"""The tamper-evident audit trail.

Each record's hash is SHA-256 over its canonical content and the previous record's hash,
so editing, inserting, deleting or reordering a record breaks the chain at that point. The
``audit_head`` row holds the last sequence number and hash and is locked by every append
(the chain stays linear under concurrency); :func:`verify` also compares it with the last
record, which catches a truncated tail. Deleting the tail *and* rewriting the head is caught
only against a head kept outside the database, which is why the head is printed on the
end-of-day report and by ``teller audit head``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from teller_tui.common.clock import Clock
from teller_tui.models import AuditHead, AuditRecord

if TYPE_CHECKING:
    from sqlmodel import Session

GENESIS = "0" * 64

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


def _canonical_detail(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(*, seq: int, at: datetime, actor_id: int | None, actor: str, terminal_id: str, action: str,
                subject: str, outcome: str, detail_json: str, prev_hash: str) -> str:
    body = json.dumps([seq, at.isoformat(), actor_id, actor, terminal_id, action, subject, outcome, detail_json,
                       prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class AuditTrail:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def append(self, session: Session, actor: Actor, action: str, *, subject: str = "", outcome: str = "ok",
               detail: Mapping[str, Any] | None = None) -> AuditView:
        """Append one record inside the caller's transaction.

        Core statements on the head and record tables (no ORM objects, no identity map, so
        nothing read here can be stale); pending ORM changes are flushed first, as before."""
        session.flush()
        ah, ar = AuditHead.__table__, AuditRecord.__table__  # type: ignore[attr-defined]
        head = session.execute(_stmt("head_lock", lambda: select(ah.c.seq, ah.c.hash).where(ah.c.id == 1)
                                     .with_for_update())).one()
        seq = head.seq + 1
        # Time never runs backwards along the chain, even if a terminal's clock does.
        last_at = session.execute(_stmt("record_at", lambda: select(ar.c.at).where(ar.c.seq == bindparam("seq"))),
                                  {"seq": head.seq}).scalar()
        at = self.clock.now()
        if last_at is not None and at < last_at:
            at = last_at
        at = at.astimezone(UTC)
        detail_json = _canonical_detail(detail)
        digest = record_hash(seq=seq, at=at, actor_id=actor.staff_id, actor=actor.username,
                             terminal_id=actor.terminal_id, action=action, subject=subject, outcome=outcome,
                             detail_json=detail_json, prev_hash=head.hash)
        session.execute(_stmt("record_insert", ar.insert), dict(
            seq=seq, at=at, actor_id=actor.staff_id, actor=actor.username, terminal_id=actor.terminal_id,
            action=action, subject=subject, outcome=outcome, detail_json=detail_json, prev_hash=head.hash,
            hash=digest))
        session.execute(_stmt("head_update", lambda: ah.update().where(ah.c.id == 1)), {"seq": seq, "hash": digest})
        return AuditView(seq, at, actor.username, actor.terminal_id, action, subject, outcome, dict(detail or {}),
                         digest)

    @staticmethod
    def head(session: Session) -> tuple[int, str]:
        ah = AuditHead.__table__  # type: ignore[attr-defined]
        head = session.execute(select(ah.c.seq, ah.c.hash).where(ah.c.id == 1)).one()
        return int(head.seq), str(head.hash)

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


@dataclass(frozen=True, slots=True)
class AuditVerification:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def iter_records(session: Session, batch: int = 5000) -> Iterator[AuditRecord]:
    last_id = 0
    while True:
        rows = session.execute(select(AuditRecord).where(col(AuditRecord.id) > last_id)
                               .order_by(col(AuditRecord.id)).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id
        session.expunge_all()


def _digest(rec: AuditRecord) -> str:
    return record_hash(seq=rec.seq, at=rec.at, actor_id=rec.actor_id, actor=rec.actor, terminal_id=rec.terminal_id,
                       action=rec.action, subject=rec.subject, outcome=rec.outcome, detail_json=rec.detail_json,
                       prev_hash=rec.prev_hash)


def _record_at(session: Session, seq: int) -> AuditRecord | None:
    return session.execute(select(AuditRecord).where(col(AuditRecord.seq) == seq)).scalar()


def _broken_link(session: Session, rec: AuditRecord, head: tuple[int, str]) -> tuple[int, str]:
    """Record ``rec`` is intact but does not link to its predecessor: which record was changed?

    If the next record (or the head, for the last record) still links to ``rec``, then ``rec``
    is as it was written and its predecessor was altered and re-hashed. Otherwise ``rec`` itself
    was rewritten, link included."""
    after = _record_at(session, rec.seq + 1)
    intact = after.prev_hash == rec.hash if after is not None else head == (rec.seq, rec.hash)
    if intact:
        return rec.seq - 1, (f"record {rec.seq - 1} was altered and its hash recomputed (record {rec.seq} "
                             f"recorded another hash for it)")
    return rec.seq, f"record {rec.seq} was rewritten (it does not link to record {rec.seq - 1})"


def parse_expected(values: Iterable[str]) -> list[tuple[int | None, str]]:
    """Heads kept outside the database: ``HASH`` or ``SEQ:HASH`` (as ``teller audit head`` and
    ``teller heads export`` print them). Raises ValueError on anything else."""
    found: list[tuple[int | None, str]] = []
    for value in values:
        text = value.strip().lower()
        seq, _, digest = text.rpartition(":")
        if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest) or (seq and not seq.isdigit()):
            raise ValueError(f"not an audit head (HASH or SEQ:HASH): {value!r}")
        found.append((int(seq) if seq else None, digest))
    return found


def _check_expected(session: Session, expected: Iterable[tuple[int | None, str]],
                    last_seq: int) -> tuple[int | None, str] | None:
    """Each head kept outside must still be in the chain (the chain only grows)."""
    for seq, digest in sorted(expected, key=lambda e: e[0] or 0):
        if seq is None:
            found = session.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.hash) == digest)).scalar()
            if found is None:
                return None, ("no record has the head hash kept outside the database: the chain was "
                                  "rewritten or truncated")
            continue
        if seq == 0:  # exported before the first record
            if digest != GENESIS:
                return 1, "the head kept outside the database for record 0 is not the start of a chain"
            continue
        rec = _record_at(session, seq)
        if rec is None:
            return last_seq + 1, (f"record {seq}, the head kept outside the database, is missing: the chain "
                                  f"was truncated after record {last_seq}")
        if rec.hash != digest:
            return seq, (f"record {seq} differs from the head kept outside the database: the chain was "
                         f"rewritten at or before record {seq}")
    return None


def verify(session: Session, *, expect_head: str | Iterable[str] | None = None) -> AuditVerification:
    """Walk the chain in storage order; name the first record that differs.

    Records are read in insertion (primary key) order, so a record moved or renumbered
    shows as a sequence break even if its own hash was recomputed. ``expect_head``: heads
    kept outside the database (``HASH`` or ``SEQ:HASH``, one or several); each must still be
    in the chain, which finds a tail rewritten with recomputed hashes.
    """
    expected = parse_expected([expect_head] if isinstance(expect_head, str) else expect_head or [])
    head = AuditTrail.head(session)
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for rec in iter_records(session):
        count += 1
        if rec.seq != expected_seq:
            problem = (f"record {expected_seq} is missing or out of place" if rec.seq > expected_seq
                       else "records are out of order")
            return AuditVerification(False, count, rec.seq, rec.hash, rec.seq,
                                     f"{problem}: expected seq {expected_seq}, found {rec.seq}")
        if _digest(rec) != rec.hash:
            return AuditVerification(False, count, rec.seq, rec.hash, rec.seq,
                                     f"record {rec.seq} was altered (its hash does not match its content)")
        if rec.prev_hash != prev_hash:
            bad, problem = _broken_link(session, rec, head)
            return AuditVerification(False, count, rec.seq, rec.hash, bad, problem)
        prev_hash = rec.hash
        expected_seq += 1
    head_seq, head_hash = head
    last_seq = expected_seq - 1
    if (head_seq, head_hash) != (last_seq, prev_hash):
        if head_seq == last_seq:
            return AuditVerification(False, count, last_seq, prev_hash, last_seq,
                                     f"record {last_seq} was altered and its hash recomputed (the head "
                                     "recorded another hash for it)")
        # Truncated: the first missing record; extra records after the head: the first of them.
        bad = last_seq + 1 if head_seq > last_seq else head_seq + 1
        return AuditVerification(False, count, last_seq, prev_hash, bad,
                                 f"the chain ends at record {last_seq} but the head says {head_seq}: "
                                 "records were truncated or the head was edited")
    outside = _check_expected(session, expected, last_seq)
    if outside is not None:
        return AuditVerification(False, count, last_seq, prev_hash, outside[0], outside[1])
    return AuditVerification(True, count, last_seq, prev_hash)
