"""The row scan behind invariants 15 and 16: one contiguous seq range, raw rows, no ORM.

:mod:`teller_tui.ledger.verify_content` splits the ledger into seq ranges and runs
:func:`scan_range` on each, in this process or in worker processes (each with its own
connection). A range is checked on its own: every entry against its stored request (15) and its
own hash (16; the hash covers the entry's stored ``prev_hash``, so no earlier entry is needed),
and each entry's link to the previous entry of its branch *inside the range*. What crosses a
range border — the first entry of each branch in the range against the last of that branch
before it, and the heads — is left to the caller (:class:`Scan` carries the branch ends).

Why raw rows: at millions of entries the per-row cost is the whole price. Rows come from the
DB-API cursor in batches of :data:`BATCH` (SQLite: a plain cursor; PostgreSQL: a server-side
named cursor), dates are read as text and reshaped by slicing when they have the shape the
posting path writes (anything else goes through SQLAlchemy's own parser, exactly as before), the
request is parsed once with the stdlib C decoder, and the hash is one C encoder call and one
SHA-256 (:func:`teller_tui.ledger.chain.hash_parts`, the posting path's own format).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.dialects import sqlite as sqlite_dialect

from teller_tui.ledger.chain import day_text, hash_parts, moment_text

__all__ = ["BATCH", "Finding", "RangeSpec", "Scan", "scan_range", "scan_rows"]

#: Rows fetched per round trip.
BATCH = 5_000

PROBLEM_15 = "entries that differ from their stored request"
PROBLEM_16_CONTENT = "entries altered after posting (their hash does not match their content and postings)"
PROBLEM_16_LINK = "entries whose branch chain is broken (an entry before them was altered or removed)"
PROBLEM_16_OUTSIDE = "the chain differs from a head kept outside the database (the tail was rewritten)"

#: Request fields compared with the entry's columns of the same name (column index in ``_SQL``).
_FIELDS = (("kind", 3), ("actor_id", 8), ("branch_code", 10), ("memo", 7), ("customer_id", 13),
           ("reverses_entry_id", 14), ("hold_id", 15))

_SQL = """
    SELECT e.id, e.seq, e.reference, e.kind, e.idempotency_key, e.request_hash, e.request_json, e.memo,
           e.actor_id, e.terminal_id, e.branch_code, e.business_date, e.posted_at, e.customer_id,
           e.reverses_entry_id, e.hold_id, e.prev_hash, e.hash, p.account_id, p.currency, p.amount
    FROM journal_entry e LEFT JOIN posting p ON p.entry_id = e.id
    WHERE e.seq >= {lo} AND e.seq <= {hi}
    ORDER BY e.seq, e.id, p.id"""

#: (seq, rank within the entry, invariant, problem, sample): sorted, findings read as a serial scan's.
Finding = tuple[int, int, str, str, str]


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """What a worker needs: where the database is, the seq range, and what to look for."""

    dialect: str  # "sqlite" or "postgresql"
    target: str  # SQLite file path, or a libpq connection string
    lo: int
    hi: int
    samples: int
    snapshot: str | None = None  # PostgreSQL: the parent's exported snapshot
    expected_seqs: frozenset[int] = frozenset()
    expected_hashes: frozenset[str] = frozenset()
    #: Incremental verification: per branch, entries up to this seq are trusted (not scanned).
    trusted_upto: tuple[tuple[str, int], ...] = ()


@dataclass
class Scan:
    """What one range found. ``branches``: branch -> [first seq, its stored prev_hash, its
    label, whether its own hash was right, last seq, last stored hash, last label, entries]."""

    findings: list[Finding] = field(default_factory=list)
    extra: dict[tuple[str, str], int] = field(default_factory=dict)  # counted beyond ``samples``
    branches: dict[str, list[Any]] = field(default_factory=dict)
    seen_at: dict[int, tuple[str, str]] = field(default_factory=dict)
    seen_hash: dict[str, tuple[str, int]] = field(default_factory=dict)
    kept: dict[tuple[str, str], int] = field(default_factory=dict)


_SQLITE = sqlite_dialect.dialect()
_PARSE_DATE: Any = sqlite_dialect.DATE().result_processor(_SQLITE, None)  # type: ignore[no-untyped-call]
_PARSE_DATETIME: Any = sqlite_dialect.DATETIME().result_processor(_SQLITE, None)  # type: ignore[no-untyped-call]
_DIGITS = frozenset("0123456789")


def _texts(day: Any, moment: Any) -> tuple[str, str]:
    """The business date and posting time as the hash has them."""
    if isinstance(day, str):
        if not (len(day) == 10 and day[4] == "-" and day[7] == "-" and _DIGITS.issuperset(day[:4] + day[5:7] + day[8:])):
            day = _PARSE_DATE(day)  # what SQLAlchemy reads; raises like before on garbage
    if isinstance(moment, str):
        if len(moment) == 26 and moment[10] == " " and moment[19] == "." and moment[4] == "-" and moment[13] == ":":
            return (day if isinstance(day, str) else day_text(day)), f"{moment[:10]}T{moment[11:]}Z"
        moment = _PARSE_DATETIME(moment)
    assert isinstance(moment, datetime), moment
    return (day if isinstance(day, str) else day_text(day)), moment_text(moment)


class _Sink:
    def __init__(self, scan: Scan, samples: int) -> None:
        self.scan, self.samples = scan, samples
        self.kept: dict[tuple[str, str], int] = scan.kept

    def put(self, seq: int, rank: int, inv: str, problem: str, sample: str) -> None:
        key = (inv, problem)
        n = self.kept.get(key, 0)
        if n < self.samples:
            self.kept[key] = n + 1
            self.scan.findings.append((seq, rank, inv, problem, sample))
        else:
            self.scan.extra[key] = self.scan.extra.get(key, 0) + 1


def _legs_text(legs: list[tuple[Any, Any, Any]]) -> str:
    return "[" + ", ".join(f"account {a} {m!r} {c}" for a, m, c in legs) + "]"


def _request_differences(row: tuple[Any, ...], legs: list[tuple[Any, Any, Any]], day: str) -> list[str]:
    try:
        req = json.loads(row[6])
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except (TypeError, ValueError):
        return ["its stored request is not readable"]
    diffs = []
    for name, index in _FIELDS:
        want, got = req.get(name), row[index]
        if want != got:
            diffs.append(f"{name} is {got!r}, the request says {want!r}")
    try:
        want_legs = sorted((a, m, c) for a, m, c in req.get("legs") or [])
    except (TypeError, ValueError):
        want_legs = [(-1, 0, "unreadable")]
    got_legs = sorted((a, m, c) for a, c, m in legs)
    if got_legs != want_legs:
        diffs.append(f"postings {_legs_text(got_legs)}, the request says {_legs_text(want_legs)}")
    want_date = req.get("business_date")
    if want_date is not None and str(want_date) != day:
        diffs.append(f"business date {day}, the request says {want_date}")
    seq = row[1]
    try:
        reference = f"R{day[:4]}{day[5:7]}{day[8:10]}-{seq:09d}"
    except (TypeError, ValueError):
        reference = f"R{day[:4]}{day[5:7]}{day[8:10]}-{seq}"
    if row[2] != reference:
        diffs.append(f"reference {row[2]!r}, seq and business date give {reference!r}")
    return diffs


def _grouped(batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, Any, Any]]]]:
    current: tuple[Any, ...] | None = None
    legs: list[tuple[Any, Any, Any]] = []
    for batch in batches:
        for row in batch:
            if current is None or row[0] != current[0]:
                if current is not None:
                    yield current, legs
                current, legs = row, []
            if row[18] is not None:
                legs.append((row[18], row[19], row[20]))
    if current is not None:
        yield current, legs


def scan_rows(batches: Iterator[list[tuple[Any, ...]]], spec: RangeSpec) -> Scan:
    """Check the entries in ``batches`` (rows of ``_SQL``, in its order); see the module docstring."""
    scan = Scan()
    sink = _Sink(scan, spec.samples)
    trusted = dict(spec.trusted_upto)
    branches = scan.branches
    for row, legs in _grouped(batches):
        seq, branch = row[1], row[10]
        label = f"entry {row[0]} {row[2]}"
        if trusted and seq <= trusted.get(branch, 0):
            if seq in spec.expected_seqs:
                scan.seen_at[seq] = (branch, row[17])
            continue
        day, moment = _texts(row[11], row[12])
        diffs = _request_differences(row, legs, day)
        if diffs:
            sink.put(seq, 0, "15", PROBLEM_15, f"{label}: " + "; ".join(diffs))
        digest = hash_parts(seq, row[2], row[3], row[4], row[5], row[7], row[8], row[9], branch, day, moment,
                            row[13], row[14], row[15], legs, row[16])
        ok = digest == row[17]
        if not ok:
            sink.put(seq, 1, "16", PROBLEM_16_CONTENT, f"{label}: altered after posting (branch {branch})")
        ends = branches.get(branch)
        if ends is None:
            branches[branch] = [seq, row[16], label, ok, seq, row[17], label, 1]
        else:
            if ok and row[16] != ends[5]:
                sink.put(seq, 1, "16", PROBLEM_16_LINK, f"{ends[6]}: altered and re-hashed, or an entry after it "
                                                        f"removed ({label} recorded another hash for its predecessor)")
            ends[4], ends[5], ends[6] = seq, row[17], label
            ends[7] += 1
        if seq in spec.expected_seqs:
            scan.seen_at[seq] = (branch, row[17])
        if row[17] in spec.expected_hashes:
            scan.seen_hash[row[17]] = (branch, seq)
    return scan


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            return
        yield batch


def scan_connection(raw: Any, spec: RangeSpec) -> Scan:
    """Scan ``spec``'s range on an open DB-API connection (in its current transaction)."""
    sql = _SQL.format(lo=int(spec.lo), hi=int(spec.hi))
    if spec.dialect == "sqlite":
        cursor = raw.cursor()
    else:
        cursor = raw.cursor(name=f"teller_verify_{spec.lo}")  # server-side: rows stream
        cursor.itersize = BATCH
    try:
        cursor.execute(sql)
        return scan_rows(_batches(cursor), spec)
    finally:
        cursor.close()


def scan_range(spec: RangeSpec) -> Scan:
    """A worker process's job: open its own read-only connection and scan one range.

    SQLite: the range's rows are append-only and below the parent's last seq, so the worker's
    own snapshot reads the same rows. PostgreSQL: the worker adopts the parent's exported
    snapshot, so it reads exactly what the parent reads."""
    if spec.dialect == "sqlite":
        raw = sqlite3.connect(f"file:{quote(spec.target)}?mode=ro", uri=True, timeout=10)
        try:
            return scan_connection(raw, spec)
        finally:
            raw.close()
    import psycopg  # PostgreSQL only; not imported for SQLite ledgers

    with psycopg.connect(spec.target, application_name="teller-verify") as pg:
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        if spec.snapshot:
            pg.execute("SET TRANSACTION SNAPSHOT %s" % _quoted(spec.snapshot))
        return scan_connection(pg, spec)


def _quoted(value: str) -> str:
    if not all(ch.isalnum() or ch == "-" for ch in value):
        raise ValueError(f"not a snapshot id: {value!r}")
    return f"'{value}'"
