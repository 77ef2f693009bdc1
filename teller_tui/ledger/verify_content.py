"""Entry content checks for ``teller ledger verify``: invariants 15 and 16.

15. Every entry is exactly what its stored request asked for. The request (``request_json``,
    whose hash invariant 8 checks) is re-read and the entry re-derived from it: kind, actor,
    branch, memo, customer, reversal and hold links, the legs (account, amount, currency;
    compared as a multiset with the postings), the reference (from seq and business date), and
    the business date (the request's, when it names one; otherwise, for a branch that keeps
    business days, a day of that branch that was open when the entry was posted).
16. Entries are hash-chained per branch (:mod:`teller_tui.ledger.chain`): each entry's hash
    matches its content and postings, links to the branch's previous entry, and each branch's
    stored head matches its last entry; heads kept outside the database (``expected``) must
    still be in the chain, which finds a tail rewritten with recomputed hashes.

Both run in one streaming pass over entries joined to their postings in seq order (memory:
one batch of rows and a few values per branch). Above :data:`PARALLEL_MIN_ENTRIES` entries the
pass is cut into contiguous seq ranges scanned by ``os.cpu_count()`` worker processes, each with
its own read-only connection (:mod:`teller_tui.ledger.verify_scan`); each range reports the
first and last entry of every branch in it, and this module checks the chain link across every
border and the heads, then reports the findings in seq order, exactly as one serial pass would.

Incremental (``since``, ``teller ledger verify --since-head FILE``): a head exported by ``teller
heads export`` and kept off the host is trusted; per branch only the entries after it are
re-derived and re-hashed, the kept entry must still carry the kept hash, and the next entry must
link to it. Every other invariant still runs over the whole ledger (they are set-based SQL).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, text

from teller_tui.ledger.chain import GENESIS, ChainHead, branch_heads
from teller_tui.ledger.verify_scan import (
    PROBLEM_15, PROBLEM_16_CONTENT, PROBLEM_16_LINK, PROBLEM_16_OUTSIDE, Finding, RangeSpec, Scan, scan_connection,
    scan_range,
)
from teller_tui.models.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

__all__ = ["PROBLEM_15", "PROBLEM_16_CONTENT", "PROBLEM_16_LINK", "PROBLEM_16_OUTSIDE", "ExpectedHead",
           "check_content", "parse_expected_heads", "since_heads"]

#: put(invariant, problem, sample): how findings reach the report (verify_base.Checker.put).
Put = Callable[[str, str, str], None]
#: tally(invariant, problem, n): n more findings counted but not sampled (verify_base.Checker.tally).
Tally = Callable[[str, str, int], None]

PROBLEM_15_DATE = "entries not dated by a business day of their branch that was open when they were posted"
PROBLEM_16_HEAD = "a branch's chain head does not match its last entry (entries removed, or the head edited)"


@dataclass(frozen=True, slots=True)
class ExpectedHead:
    """A branch head kept outside the database: ``branch``, and ``seq`` when known."""

    branch_code: str | None
    seq: int | None
    hash: str


def parse_expected_heads(values: Iterable[str]) -> list[ExpectedHead]:
    """``HASH``, ``BRANCH:HASH`` or ``BRANCH:SEQ:HASH`` (as ``teller ledger head`` prints them)."""
    found = []
    for value in values:
        parts = value.strip().split(":")
        digest = parts[-1].lower()
        if len(parts) > 3 or len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest) \
                or (len(parts) == 3 and not parts[1].isdigit()):
            raise ValueError(f"not a ledger head (HASH, BRANCH:HASH or BRANCH:SEQ:HASH): {value!r}")
        found.append(ExpectedHead(parts[0] if len(parts) > 1 else None,
                                  int(parts[1]) if len(parts) == 3 else None, digest))
    return found


#: Below this many entries the scan runs in this process (starting workers costs more).
PARALLEL_MIN_ENTRIES = 50_000
#: Seq ranges per worker (a few, so a slow range does not leave the other workers idle).
RANGES_PER_WORKER = 3


def _label(row: Any) -> str:
    return f"entry {row.id} {row.reference}"


def _target(session: Session) -> tuple[str, str]:
    """(dialect, where a worker connects): the SQLite file, or a libpq connection string."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite":
        return "sqlite", os.path.abspath(url.database or "")
    return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)


def _ranges(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` cut into ``parts`` contiguous seq ranges (fewer when it is short)."""
    parts = max(1, min(parts, hi - lo + 1))
    step = (hi - lo + 1) / parts
    bounds = [lo + round(step * i) for i in range(parts)] + [hi + 1]
    return [(a, b - 1) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def since_heads(values: Iterable[ExpectedHead]) -> dict[str, ExpectedHead]:
    """The last kept head of each branch among ``values`` (a heads file lists them oldest first)."""
    found: dict[str, ExpectedHead] = {}
    for head in values:
        if head.branch_code is None or head.seq is None:
            raise ValueError("--since-head needs ledger heads as BRANCH:SEQ:HASH (as `teller heads export` writes)")
        old = found.get(head.branch_code)
        if old is None or head.seq >= (old.seq or 0):
            found[head.branch_code] = head
    return found


def check_content(session: Session, put: Put, expected: Iterable[ExpectedHead] = (), *,
                  tally: Tally | None = None, samples: int = 10, workers: int | None = None,
                  since: Iterable[ExpectedHead] = (), parallel_min: int | None = None,
                  ranges: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Invariants 15 and 16 over every entry (see the module docstring); returns the number of
    entries scanned.

    ``workers``: processes for the scan (default ``os.cpu_count()``; 1 scans here). ``since``:
    trusted heads (``--since-head``): per branch, entries up to the kept head are not re-hashed;
    the kept entry must still carry the kept hash and the next entry must link to it.
    ``ranges``: how many seq ranges (default: a few per worker; tests set it to put borders
    where they want them). ``progress(done, total)``: told the entries scanned as each range ends."""
    conn = session.connection()
    expected = list(expected)
    trusted = since_heads(since)
    expected += [h for h in trusted.values() if h.seq]
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    first, final, total = conn.execute(text("SELECT MIN(seq), MAX(seq), COUNT(*) FROM journal_entry")).one()
    heads = {h.branch_code: h for h in branch_heads(session)}
    lo = int(first or 1)
    if trusted and all(b in trusted for b in heads):
        lo = max(lo, min(int(h.seq or 0) for h in trusted.values()) + 1)
    hi = int(final or 0)
    if total < (PARALLEL_MIN_ENTRIES if parallel_min is None else parallel_min):
        workers = 1
    parts = ranges if ranges is not None else (1 if workers == 1 else workers * RANGES_PER_WORKER)
    dialect, target = _target(session)
    snapshot = None
    if workers > 1 and dialect == "postgresql":
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar())
    specs = [RangeSpec(dialect, target, a, b, samples, snapshot,
                       frozenset(e.seq for e in expected if e.seq is not None),
                       frozenset(e.hash for e in expected if e.seq is None),
                       tuple((b_, int(h.seq or 0)) for b_, h in trusted.items()))
             for a, b in (_ranges(lo, hi, parts) if hi >= lo else [])]
    scans: list[Scan] = []

    def told(scan: Scan) -> None:
        scans.append(scan)
        if progress is not None:
            progress(sum(sum(sc.branches[b][7] for b in sc.branches) for sc in scans), int(total or 0))

    if workers == 1 or len(specs) < 2:
        raw = conn.connection.dbapi_connection
        for spec in specs:
            told(scan_connection(raw, spec))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=get_context("spawn")) as pool:
            for scan in pool.map(scan_range, specs):  # in order, as each range ends
                told(scan)
    last, counts, seen_at, seen_hash = _merge(scans, put, tally, trusted, samples)
    if trusted:
        _trusted_prefix(conn, trusted, counts, seen_at)
    _check_heads(put, heads, last, counts)
    _check_expected(put, expected, seen_at, seen_hash, last)
    _check_business_dates(conn, put, lo if trusted else None)
    return sum(sum(s.branches[b][7] for b in s.branches) for s in scans)


def _merge(scans: list[Scan], put: Put, tally: Tally | None, trusted: dict[str, ExpectedHead], samples: int) -> tuple[
        dict[str, tuple[int, str, str]], dict[str, int], dict[int, tuple[str, str]], dict[str, tuple[str, int]]]:
    """Join the ranges: check each branch's link across every border, then report the findings
    in seq order, exactly as one scan of the whole ledger would have."""
    findings: list[Finding] = []
    extra: dict[tuple[str, str], int] = {}
    last: dict[str, tuple[int, str, str]] = {}  # branch -> (seq, stored hash, label) of its last entry
    counts: dict[str, int] = {}
    seen_at: dict[int, tuple[str, str]] = {}
    seen_hash: dict[str, tuple[str, int]] = {}
    for scan in scans:
        findings += scan.findings
        for key, n in scan.extra.items():
            extra[key] = extra.get(key, 0) + n
        for branch, (fseq, fprev, flabel, fok, lseq, lhash, llabel, n) in scan.branches.items():
            before = last.get(branch)
            kept = trusted.get(branch)
            want = before[1] if before else (kept.hash if kept else GENESIS)
            if fok and fprev != want:
                if before is not None:
                    what = (f"{before[2]}: altered and re-hashed, or an entry after it removed ({flabel} recorded "
                            "another hash for its predecessor)")
                elif kept is not None:
                    what = (f"{flabel}: does not link to the kept head of branch {branch} (seq {kept.seq}): "
                            "entries at or before it were altered or removed")
                else:
                    what = (f"{flabel}: the first entry of branch {branch} links to another entry (earlier entries "
                            "were removed)")
                findings.append((fseq, 1, "16", PROBLEM_16_LINK, what))
            last[branch] = (lseq, lhash, llabel)
            counts[branch] = counts.get(branch, 0) + n
        seen_at.update(scan.seen_at)
        seen_hash.update(scan.seen_hash)
    findings.sort(key=lambda f: (f[0], f[1]))
    shown: dict[tuple[str, str], int] = {}
    for _seq, _rank, inv, problem, sample in findings:
        n = shown[inv, problem] = shown.get((inv, problem), 0) + 1
        if n <= samples or tally is None:
            put(inv, problem, sample)
        else:
            extra[inv, problem] = extra.get((inv, problem), 0) + 1
    if tally is not None:
        for (inv, problem), n in sorted(extra.items()):
            tally(inv, problem, n)
    return last, counts, seen_at, seen_hash


def _trusted_prefix(conn: Connection, trusted: dict[str, ExpectedHead], counts: dict[str, int],
                    seen_at: dict[int, tuple[str, str]]) -> None:
    """Incremental mode: count each branch's entries up to its kept head (for the head check) and
    read the kept entries' stored hashes (for the kept-head check)."""
    for branch, head in trusted.items():
        n = conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE branch_code = :b AND seq <= :s"),
                         {"b": branch, "s": head.seq}).scalar()
        counts[branch] = counts.get(branch, 0) + int(n or 0)
        row = conn.execute(text("SELECT hash FROM journal_entry WHERE branch_code = :b AND seq = :s"),
                           {"b": branch, "s": head.seq}).first()
        if row is not None and head.seq is not None:
            seen_at[head.seq] = (branch, str(row.hash))


def _check_heads(put: Put, heads: dict[str, ChainHead], last: dict[str, tuple[int, str, str]],
                 counts: dict[str, int]) -> None:
    for branch in sorted(set(heads) | set(last)):
        head = heads.get(branch)
        end = last.get(branch)
        if head is None:
            put("16", PROBLEM_16_HEAD, f"branch {branch}: {counts[branch]} entries but no chain head")
            continue
        if end is None:
            if head.entries and not counts.get(branch):
                put("16", PROBLEM_16_HEAD, f"branch {branch}: the head names {head.entries} entries ending at seq "
                                           f"{head.last_seq}, none is left")
            continue
        seq, digest, label = end
        n = counts[branch]
        if (head.last_seq, head.entries, head.hash) == (seq, n, digest):
            continue
        if head.last_seq > seq or head.entries > n:
            what = (f"entries after {label} were removed: the head names seq {head.last_seq} "
                    f"({head.entries} entries), the branch ends at seq {seq} ({n} entries)")
        elif head.last_seq == seq:
            what = f"{label}: altered and re-hashed (the head recorded another hash for it)"
        else:
            what = (f"entries after seq {head.last_seq} are not in the head (added outside the ledger?): "
                    f"the branch ends at {label}")
        put("16", PROBLEM_16_HEAD, f"branch {branch}: {what}")


def _check_expected(put: Put, expected: list[ExpectedHead], seen_at: dict[int, tuple[str, str]],
                    seen_hash: dict[str, tuple[str, int]], last: dict[str, tuple[int, str, str]]) -> None:
    for head in expected:
        where = f"branch {head.branch_code}" if head.branch_code else "the ledger"
        if head.seq is None:
            found = seen_hash.get(head.hash)
            if found is None or (head.branch_code is not None and found[0] != head.branch_code):
                put("16", PROBLEM_16_OUTSIDE, f"{where}: no entry has the kept head hash {head.hash[:16]}…: "
                                              "its history was rewritten or truncated")
            continue
        at = seen_at.get(head.seq)
        if at is None:
            ends = last.get(head.branch_code or "")
            tail = f", the branch ends at {ends[2]}" if ends is not None else ""
            put("16", PROBLEM_16_OUTSIDE, f"{where}: the kept head names entry seq {head.seq}, which is missing "
                                          f"(the tail was removed{tail})")
        elif at[1] != head.hash or (head.branch_code is not None and at[0] != head.branch_code):
            put("16", PROBLEM_16_OUTSIDE, f"{where}: entry seq {head.seq} differs from the kept head: the chain "
                                          f"was rewritten at or before seq {head.seq}")


def _check_business_dates(conn: Connection, put: Put, since_seq: int | None = None) -> None:
    """Entries of a branch that keeps business days (posted once it opened its first) must be
    dated by a day of that branch that was open at the time they were posted — or, when no day
    was open (self-service and automatic postings after the close, the documented rule of
    :mod:`teller_tui.ledger.business_day`), by a date after every day the branch had opened by then."""
    stmt = text("""
        SELECT e.id, e.reference, e.branch_code, e.business_date, e.posted_at FROM journal_entry e
        WHERE e.seq >= :since AND e.posted_at >= (SELECT MIN(f.opened_at) FROM business_day f WHERE f.branch_code = e.branch_code)
          AND NOT EXISTS (SELECT 1 FROM business_day d WHERE d.branch_code = e.branch_code
                          AND d.business_date = e.business_date AND d.opened_at <= e.posted_at
                          AND (d.closed_at IS NULL OR d.closed_at >= e.posted_at))
          AND NOT (
              NOT EXISTS (SELECT 1 FROM business_day o WHERE o.branch_code = e.branch_code
                          AND o.opened_at <= e.posted_at AND (o.closed_at IS NULL OR o.closed_at >= e.posted_at))
              AND e.business_date > (SELECT MAX(c.business_date) FROM business_day c
                                     WHERE c.branch_code = e.branch_code AND c.opened_at <= e.posted_at))
        ORDER BY e.seq""").columns(business_date=Date(), posted_at=UTCDateTime())
    for row in conn.execute(stmt, {"since": since_seq or 0}):
        put("15", PROBLEM_15_DATE, f"{_label(row)}: dated {row.business_date}, posted {row.posted_at:%Y-%m-%d %H:%M} "
                                   f"UTC, when no business day of that date was open at branch {row.branch_code}")
