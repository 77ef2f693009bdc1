"""Verification of the audit trail, one chain per stream (the actor's branch, or ``BANK``).

Records are read once in storage (primary key) order. Within a stream, appends are serialized by
the stream's head row, so a stream's records appear in storage order with ``stream_seq`` 1, 2, 3…
and a growing bank-wide ``seq``; each links to the stream's previous record. A record moved,
renumbered, deleted, inserted or edited therefore breaks its stream at that point, even with its
hash recomputed; each stream's head row (``audit_stream_head``) must name its last record, which
catches a truncated tail. Deleting a tail *and* rewriting the head is caught only against heads
kept outside the database (``--expect-head`` / ``--heads-file``): each must still be a record.
Every problem is named with its stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.audit.hashing import GENESIS, record_hash
from teller_tui.models import AuditRecord, AuditStreamHead

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["AuditVerification", "StreamHead", "iter_records", "parse_expected", "stream_heads", "verify"]


@dataclass(frozen=True, slots=True)
class StreamHead:
    """A stream's head as stored: its last record's bank-wide seq, its record count, the hash."""

    stream: str
    seq: int
    entries: int
    hash: str


def stream_heads(session: Session) -> list[StreamHead]:
    """Every stream's stored head, by stream name."""
    sh = AuditStreamHead.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(sh.c.stream, sh.c.seq, sh.c.entries, sh.c.hash).order_by(sh.c.stream)).all()
    return [StreamHead(str(r.stream), int(r.seq), int(r.entries), str(r.hash)) for r in rows]


@dataclass(frozen=True, slots=True)
class AuditVerification:
    ok: bool
    records: int
    head_seq: int  # the last record bank-wide (OK), or where the walk stopped
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    stream: str = ""  # the stream of the problem
    streams: tuple[StreamHead, ...] = ()  # each stream's verified head (OK)


@dataclass(slots=True)
class _Walk:
    """One stream as walked so far."""

    count: int = 0  # the last stream_seq seen
    last_seq: int = 0
    prev_hash: str = GENESIS
    first_seq: int | None = None
    beyond_head: int | None = None  # the seq of the first record past the stored head


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


def _broken_link(session: Session, rec: AuditRecord, prev_seq: int, head: StreamHead | None) -> tuple[int, str]:
    """Record ``rec`` is intact but does not link to its stream's previous record (``prev_seq``):
    which record was changed?

    If the stream's next record (or its head, for the last record) still links to ``rec``, then
    ``rec`` is as it was written and its predecessor was altered and re-hashed. Otherwise ``rec``
    itself was rewritten, link included."""
    after = session.execute(select(AuditRecord).where(col(AuditRecord.stream) == rec.stream,
                                                      col(AuditRecord.stream_seq) == rec.stream_seq + 1)).scalar()
    if after is not None:
        intact = after.prev_hash == rec.hash
    else:
        intact = head is not None and (head.seq, head.hash) == (rec.seq, rec.hash)
    if intact:
        return prev_seq, (f"record {prev_seq} was altered and its hash recomputed (record {rec.seq} "
                          f"recorded another hash for it)")
    linked = session.execute(select(AuditRecord).where(col(AuditRecord.hash) == rec.prev_hash)).scalar()
    if linked is not None and linked.stream == rec.stream:
        return rec.seq, (f"record {rec.seq} is out of place (it links to record {linked.seq}, not to record "
                         f"{prev_seq}): records were moved or reordered")
    return rec.seq, f"record {rec.seq} was rewritten (it does not link to record {prev_seq})"


def parse_expected(values: Iterable[str]) -> list[tuple[int | None, str]]:
    """Heads kept outside the database: ``HASH``, ``SEQ:HASH`` or ``STREAM:SEQ:HASH`` (as ``teller
    audit head`` and ``teller heads export`` print them; ``seq`` is bank-wide unique, so the
    stream is for the reader). Raises ValueError on anything else."""
    found: list[tuple[int | None, str]] = []
    for value in values:
        text = value.strip().lower()
        seq, _, digest = text.rpartition(":")
        stream, _, seq = seq.rpartition(":")
        if (len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest) or (seq and not seq.isdigit())
                or (stream and not seq)):
            raise ValueError(f"not an audit head (HASH, SEQ:HASH or STREAM:SEQ:HASH): {value!r}")
        found.append((int(seq) if seq else None, digest))
    return found


def _check_expected(session: Session, expected: Iterable[tuple[int | None, str]],
                    last_seq: int) -> tuple[int | None, str, str] | None:
    """Each head kept outside must still be in the chain (the chains only grow)."""
    for seq, digest in sorted(expected, key=lambda e: e[0] or 0):
        if seq is None:
            found = session.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.hash) == digest)).scalar()
            if found is None:
                return None, "", ("no record has the head hash kept outside the database: the chain was "
                                  "rewritten or truncated")
            continue
        if seq == 0:  # exported before the stream's first record
            if digest != GENESIS:
                return 1, "", "the head kept outside the database for record 0 is not the start of a chain"
            continue
        rec = session.execute(select(AuditRecord).where(col(AuditRecord.seq) == seq)).scalar()
        if rec is None:
            return last_seq + 1, "", (f"record {seq}, the head kept outside the database, is missing: the chain "
                                      f"was truncated after record {last_seq}")
        if rec.hash != digest:
            return seq, rec.stream, (f"stream {rec.stream}: record {seq} differs from the head kept outside the "
                                     f"database: the chain was rewritten at or before record {seq}")
    return None


def _head_problem(name: str, walk: _Walk, head: StreamHead | None) -> tuple[int, str] | None:
    """The stream's stored head against the walk: None if it names the last record."""
    if head is None:
        return walk.first_seq or 0, f"stream {name}: records but no head (the head row was deleted)"
    if (head.entries, head.seq, head.hash) == (walk.count, walk.last_seq, walk.prev_hash):
        return None
    if head.entries == walk.count and head.hash != walk.prev_hash:
        return walk.last_seq, (f"stream {name}: record {walk.last_seq} was altered and its hash recomputed (the "
                               "head recorded another hash for it)")
    if head.entries > walk.count or (head.entries == walk.count and head.seq > walk.last_seq):
        bad = walk.last_seq + 1
    elif head.entries < walk.count:
        bad = walk.beyond_head or walk.last_seq
    else:
        bad = head.seq + 1
    return bad, (f"stream {name}: the chain ends at record {walk.last_seq} (its record {walk.count}) but the head "
                 f"says {head.seq} ({head.entries}): records were truncated or the head was edited")


def verify(session: Session, *, expect_head: str | Iterable[str] | None = None) -> AuditVerification:
    """Walk every stream's chain in storage order; name the first record that differs, and its stream.

    ``expect_head``: heads kept outside the database (``HASH``, ``SEQ:HASH`` or
    ``STREAM:SEQ:HASH``, one or several); each must still be in the chain, which finds a tail
    rewritten with recomputed hashes."""
    expected = parse_expected([expect_head] if isinstance(expect_head, str) else expect_head or [])
    heads = {h.stream: h for h in stream_heads(session)}
    walks: dict[str, _Walk] = {}
    count = 0
    last_seq, last_hash = 0, GENESIS
    for rec in iter_records(session):
        count += 1
        walk = walks.get(rec.stream)
        if walk is None:
            walk = walks[rec.stream] = _Walk(first_seq=rec.seq)

        def fail(bad: int, problem: str, rec: AuditRecord = rec) -> AuditVerification:
            return AuditVerification(False, count, rec.seq, rec.hash, bad, f"stream {rec.stream}: {problem}",
                                     rec.stream)

        want = walk.count + 1
        if rec.stream_seq != want:
            problem = (f"record {want} is missing or out of place" if rec.stream_seq > want
                       else "records are out of order")
            return fail(rec.seq, f"{problem}: expected stream_seq {want}, found {rec.stream_seq} (seq {rec.seq})")
        if rec.seq <= walk.last_seq:
            return fail(rec.seq, f"records are out of order: seq {rec.seq} follows seq {walk.last_seq}")
        if _digest(rec) != rec.hash:
            return fail(rec.seq, f"record {rec.seq} was altered (its hash does not match its content)")
        if rec.prev_hash != walk.prev_hash:
            return fail(*_broken_link(session, rec, walk.last_seq, heads.get(rec.stream)))
        head = heads.get(rec.stream)
        if head is not None and rec.stream_seq == head.entries + 1:
            walk.beyond_head = rec.seq
        walk.count, walk.last_seq, walk.prev_hash = rec.stream_seq, rec.seq, rec.hash
        if rec.seq > last_seq:
            last_seq, last_hash = rec.seq, rec.hash
    for name in sorted(set(heads) | set(walks)):
        walk = walks.get(name) or _Walk()
        found = _head_problem(name, walk, heads.get(name))
        if found is not None:
            return AuditVerification(False, count, walk.last_seq, walk.prev_hash, found[0], found[1], name)
    outside = _check_expected(session, expected, last_seq)
    if outside is not None:
        return AuditVerification(False, count, last_seq, last_hash, outside[0], outside[2], outside[1])
    return AuditVerification(True, count, last_seq, last_hash, streams=tuple(heads[n] for n in sorted(heads)))
