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
one entry and one hash per branch).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Date, Integer, String, text
from sqlalchemy.types import TypeEngine

from teller_tui.ledger.chain import GENESIS, branch_heads, entry_hash
from teller_tui.ledger.core import reference_for
from teller_tui.models.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

__all__ = ["ExpectedHead", "check_content", "parse_expected_heads"]

#: put(invariant, problem, sample): how findings reach the report (verify._Checker.put).
Put = Callable[[str, str, str], None]

PROBLEM_15 = "entries that differ from their stored request"
PROBLEM_15_DATE = "entries not dated by a business day of their branch that was open when they were posted"
PROBLEM_16_CONTENT = "entries altered after posting (their hash does not match their content and postings)"
PROBLEM_16_LINK = "entries whose branch chain is broken (an entry before them was altered or removed)"
PROBLEM_16_HEAD = "a branch's chain head does not match its last entry (entries removed, or the head edited)"
PROBLEM_16_OUTSIDE = "the chain differs from a head kept outside the database (the tail was rewritten)"

#: Request fields compared with the entry's columns of the same name.
_FIELDS = ("kind", "actor_id", "branch_code", "memo", "customer_id", "reverses_entry_id", "hold_id")


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


_ENTRY_COLUMNS: dict[str, TypeEngine[Any]] = dict(id=Integer(), seq=BigInteger(), reference=String(), kind=String(), idempotency_key=String(),
                      request_hash=String(), request_json=String(), memo=String(), actor_id=Integer(),
                      terminal_id=String(), branch_code=String(), business_date=Date(), posted_at=UTCDateTime(),
                      customer_id=Integer(), reverses_entry_id=Integer(), hold_id=Integer(), prev_hash=String(),
                      hash=String(), account_id=Integer(), currency=String(), amount=BigInteger())


def _entries(conn: Connection) -> Iterable[tuple[Any, list[tuple[int, str, int]]]]:
    """Each entry with its postings (account, currency, amount) in storage order, by seq."""
    stmt = text("""
        SELECT e.id, e.seq, e.reference, e.kind, e.idempotency_key, e.request_hash, e.request_json, e.memo,
               e.actor_id, e.terminal_id, e.branch_code, e.business_date, e.posted_at, e.customer_id,
               e.reverses_entry_id, e.hold_id, e.prev_hash, e.hash, p.account_id, p.currency, p.amount
        FROM journal_entry e LEFT JOIN posting p ON p.entry_id = e.id
        ORDER BY e.seq, e.id, p.id""").columns(**_ENTRY_COLUMNS)
    current: Any = None
    legs: list[tuple[int, str, int]] = []
    for row in conn.execution_options(stream_results=True).execute(stmt):
        if current is None or row.id != current.id:
            if current is not None:
                yield current, legs
            current, legs = row, []
        if row.account_id is not None:
            legs.append((row.account_id, row.currency, row.amount))
    if current is not None:
        yield current, legs


def _label(row: Any) -> str:
    return f"entry {row.id} {row.reference}"


def _request_differences(row: Any, legs: list[tuple[int, str, int]], reference: str) -> list[str]:
    try:
        req = json.loads(row.request_json)
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        return ["its stored request is not readable"]
    diffs = []
    for name in _FIELDS:
        want, got = req.get(name), getattr(row, name)
        if want != got:
            diffs.append(f"{name} is {got!r}, the request says {want!r}")
    try:
        want_legs = sorted((a, m, c) for a, m, c in req.get("legs") or [])
    except (TypeError, ValueError):
        want_legs = [(-1, 0, "unreadable")]
    got_legs = sorted((a, m, c) for a, c, m in legs)
    if got_legs != want_legs:
        diffs.append(f"postings {_legs(got_legs)}, the request says {_legs(want_legs)}")
    want_date = req.get("business_date")
    if want_date is not None and str(want_date) != row.business_date.isoformat():
        diffs.append(f"business date {row.business_date}, the request says {want_date}")
    if row.reference != reference:
        diffs.append(f"reference {row.reference!r}, seq and business date give {reference!r}")
    return diffs


def _legs(legs: list[tuple[int, int, str]]) -> str:
    return "[" + ", ".join(f"account {a} {m!r} {c}" for a, m, c in legs) + "]"


def check_content(session: Session, put: Put, expected: Iterable[ExpectedHead] = ()) -> None:
    """Invariants 15 and 16 over every entry (see the module docstring)."""
    conn = session.connection()
    expected = list(expected)
    by_seq = {e.seq for e in expected if e.seq is not None}
    by_hash = {e.hash for e in expected if e.seq is None}
    seen_at: dict[int, tuple[str, str]] = {}  # seq -> (branch, hash), only for expected seqs
    seen_hash: dict[str, tuple[str, int]] = {}  # hash -> (branch, seq), only for expected hashes
    last: dict[str, tuple[Any, str]] = {}  # branch -> (last row, its recomputed hash)
    counts: dict[str, int] = {}
    for row, legs in _entries(conn):
        diffs = _request_differences(row, legs, reference_for(row.seq, row.business_date))
        if diffs:
            put("15", PROBLEM_15, f"{_label(row)}: " + "; ".join(diffs))
        branch = row.branch_code
        prev_row, _ = last.get(branch, (None, GENESIS))
        prev_hash = prev_row.hash if prev_row is not None else GENESIS
        digest = entry_hash(row._mapping, legs, row.prev_hash)
        if digest != row.hash:
            put("16", PROBLEM_16_CONTENT, f"{_label(row)}: altered after posting (branch {branch})")
        elif row.prev_hash != prev_hash:
            if prev_row is None:
                put("16", PROBLEM_16_LINK, f"{_label(row)}: the first entry of branch {branch} links to another "
                                           "entry (earlier entries were removed)")
            else:
                put("16", PROBLEM_16_LINK, f"{_label(prev_row)}: altered and re-hashed, or an entry after it removed "
                                           f"({_label(row)} recorded another hash for its predecessor)")
        last[branch] = (row, digest)
        counts[branch] = counts.get(branch, 0) + 1
        if row.seq in by_seq:
            seen_at[row.seq] = (branch, row.hash)
        if row.hash in by_hash:
            seen_hash[row.hash] = (branch, row.seq)
    _check_heads(session, put, last, counts)
    _check_expected(put, expected, seen_at, seen_hash, last)
    _check_business_dates(conn, put)


def _check_heads(session: Session, put: Put, last: dict[str, tuple[Any, str]], counts: dict[str, int]) -> None:
    heads = {h.branch_code: h for h in branch_heads(session)}
    for branch in sorted(set(heads) | set(last)):
        head = heads.get(branch)
        row = last[branch][0] if branch in last else None
        if head is None:
            put("16", PROBLEM_16_HEAD, f"branch {branch}: {counts[branch]} entries but no chain head")
            continue
        if row is None:
            if head.entries:
                put("16", PROBLEM_16_HEAD, f"branch {branch}: the head names {head.entries} entries ending at seq "
                                           f"{head.last_seq}, none is left")
            continue
        if (head.last_seq, head.entries, head.hash) == (row.seq, counts[branch], row.hash):
            continue
        if head.last_seq > row.seq or head.entries > counts[branch]:
            what = (f"entries after {_label(row)} were removed: the head names seq {head.last_seq} "
                    f"({head.entries} entries), the branch ends at seq {row.seq} ({counts[branch]} entries)")
        elif head.last_seq == row.seq:
            what = f"{_label(row)}: altered and re-hashed (the head recorded another hash for it)"
        else:
            what = (f"entries after seq {head.last_seq} are not in the head (added outside the ledger?): "
                    f"the branch ends at {_label(row)}")
        put("16", PROBLEM_16_HEAD, f"branch {branch}: {what}")


def _check_expected(put: Put, expected: list[ExpectedHead], seen_at: dict[int, tuple[str, str]],
                    seen_hash: dict[str, tuple[str, int]], last: dict[str, tuple[Any, str]]) -> None:
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
            ends = last.get(head.branch_code or "", (None, ""))[0]
            tail = f", the branch ends at {_label(ends)}" if ends is not None else ""
            put("16", PROBLEM_16_OUTSIDE, f"{where}: the kept head names entry seq {head.seq}, which is missing "
                                          f"(the tail was removed{tail})")
        elif at[1] != head.hash or (head.branch_code is not None and at[0] != head.branch_code):
            put("16", PROBLEM_16_OUTSIDE, f"{where}: entry seq {head.seq} differs from the kept head: the chain "
                                          f"was rewritten at or before seq {head.seq}")


def _check_business_dates(conn: Connection, put: Put) -> None:
    """Entries of a branch that keeps business days (posted once it opened its first) must be
    dated by a day of that branch that was open at the time they were posted — or, when no day
    was open (self-service and automatic postings after the close, the documented rule of
    :mod:`teller_tui.ledger.business_day`), by a date after every day the branch had opened by then."""
    stmt = text("""
        SELECT e.id, e.reference, e.branch_code, e.business_date, e.posted_at FROM journal_entry e
        WHERE e.posted_at >= (SELECT MIN(f.opened_at) FROM business_day f WHERE f.branch_code = e.branch_code)
          AND NOT EXISTS (SELECT 1 FROM business_day d WHERE d.branch_code = e.branch_code
                          AND d.business_date = e.business_date AND d.opened_at <= e.posted_at
                          AND (d.closed_at IS NULL OR d.closed_at >= e.posted_at))
          AND NOT (
              NOT EXISTS (SELECT 1 FROM business_day o WHERE o.branch_code = e.branch_code
                          AND o.opened_at <= e.posted_at AND (o.closed_at IS NULL OR o.closed_at >= e.posted_at))
              AND e.business_date > (SELECT MAX(c.business_date) FROM business_day c
                                     WHERE c.branch_code = e.branch_code AND c.opened_at <= e.posted_at))
        ORDER BY e.seq""").columns(business_date=Date(), posted_at=UTCDateTime())
    for row in conn.execute(stmt):
        put("15", PROBLEM_15_DATE, f"{_label(row)}: dated {row.business_date}, posted {row.posted_at:%Y-%m-%d %H:%M} "
                                   f"UTC, when no business day of that date was open at branch {row.branch_code}")
