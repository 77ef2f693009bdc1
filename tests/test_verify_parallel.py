"""Invariants 15/16 scanned in parallel find exactly what one serial scan finds.

The content and chain scan is cut into seq ranges checked by worker processes (each with its
own connection); the parent checks the chain link across each border. A tamper in a middle
range, at a range border (only the border check can see it), and in the last entry must give
the same violations, counts and samples either way; and the incremental mode (``--since-head``)
trusts a kept head and still finds what comes after it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from teller_tui.db.engine import make_database
from teller_tui.ledger.chain import entry_hash
from teller_tui.ledger.verify import verify_ledger
from teller_tui.ledger.verify_content import ExpectedHead, _ranges, check_content

from test_ledger_chain import forge_request, good_db, heads_of, rechain, tampered  # noqa: F401  (fixture)

RANGES = 4


def scan(path: Path, *, workers: int, ranges: int | None, since: list[ExpectedHead] | None = None) -> list[Any]:
    found: list[Any] = []
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            check_content(s, lambda *a: found.append(("put", *a)), tally=lambda *a: found.append(("tally", *a)),
                          samples=3, workers=workers, ranges=ranges, parallel_min=0, since=since or [])
    finally:
        db.dispose()
    return found


def one(path: Path, sql: str, *args: Any) -> Any:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, args).fetchone()
    finally:
        con.close()


def borders(path: Path) -> list[tuple[int, int]]:
    lo, hi = one(path, "SELECT MIN(seq), MAX(seq) FROM journal_entry")
    return _ranges(lo, hi, RANGES)


def rehash_entry(con: sqlite3.Connection, seq: int) -> None:
    """Recompute one entry's own hash (keeping its stored prev_hash): it looks untouched to
    itself; only the next entry of its branch, which recorded the old hash, can tell."""
    cols = ("id, seq, reference, kind, idempotency_key, request_hash, request_json, memo, actor_id, terminal_id, "
            "branch_code, business_date, posted_at, customer_id, reverses_entry_id, hold_id, prev_hash")
    row = con.execute(f"SELECT {cols} FROM journal_entry WHERE seq = ?", (seq,)).fetchone()
    values = dict(zip([c.strip() for c in cols.split(",")], row, strict=True))
    values["business_date"] = date.fromisoformat(values["business_date"])
    values["posted_at"] = datetime.fromisoformat(values["posted_at"]).replace(tzinfo=UTC)
    legs = con.execute("SELECT account_id, currency, amount FROM posting WHERE entry_id = ? ORDER BY id",
                       (values["id"],)).fetchall()
    con.execute("UPDATE journal_entry SET hash = ? WHERE id = ?",
                (entry_hash(values, legs, values["prev_hash"]), values["id"]))


def same_everywhere(path: Path) -> list[Any]:
    serial = scan(path, workers=1, ranges=None)
    parallel = scan(path, workers=2, ranges=RANGES)
    assert parallel == serial
    assert scan(path, workers=1, ranges=RANGES) == serial  # the border logic without processes
    return serial


def test_good_ledger_is_clean_both_ways(good_db: Path) -> None:
    assert len(borders(good_db)) == RANGES
    assert same_everywhere(good_db) == []


def test_tamper_in_a_middle_range(good_db: Path, tmp_path: Path) -> None:
    (lo, hi) = borders(good_db)[1]
    seq = (lo + hi) // 2
    path = tampered(good_db, tmp_path, "UPDATE posting SET amount = amount + 100 WHERE id = (SELECT MIN(p.id) "
                                       f"FROM posting p JOIN journal_entry e ON e.id = p.entry_id WHERE e.seq = {seq})")
    found = same_everywhere(path)
    invariants = {f[1] for f in found}
    assert invariants == {"15", "16"}
    assert all(f"-{seq:09d}" in f[3] for f in found if f[0] == "put")


def test_tamper_at_a_range_border(good_db: Path, tmp_path: Path) -> None:
    """The last entry of range 2 is edited (memo, request forged) and its own hash recomputed:
    only the first entry of range 3, which recorded the old hash, shows it."""
    border = borders(good_db)[2][0]
    branch_before, branch_at = (one(good_db, "SELECT branch_code FROM journal_entry WHERE seq = ?", s)[0]
                                for s in (border - 1, border))
    assert branch_before == branch_at  # the link crosses the border
    entry_id = one(good_db, "SELECT id FROM journal_entry WHERE seq = ?", border - 1)[0]

    def edit(con: sqlite3.Connection) -> None:
        con.execute("UPDATE journal_entry SET memo = 'moved' WHERE id = ?", (entry_id,))
        forge_request(con, entry_id, memo="moved")
        rehash_entry(con, border - 1)

    path = tampered(good_db, tmp_path, fn=edit)
    found = same_everywhere(path)
    assert [(f[1], f[3].split(":")[0]) for f in found] == [("16", f"entry {entry_id} " + one(
        path, "SELECT reference FROM journal_entry WHERE id = ?", entry_id)[0])]


def test_deleted_entry_before_a_border(good_db: Path, tmp_path: Path) -> None:
    border = borders(good_db)[3][0]
    path = tampered(good_db, tmp_path, f"DELETE FROM posting WHERE entry_id = (SELECT id FROM journal_entry "
                                       f"WHERE seq = {border - 1})",
                    f"DELETE FROM journal_entry WHERE seq = {border - 1}")
    found = same_everywhere(path)
    assert [f[1] for f in found] == ["16", "16"]
    assert "recorded another hash for its predecessor" in found[0][3]  # the link across the border
    assert "the head names seq" in found[1][3]  # and the head counts one entry more than the branch has


def test_tamper_in_the_last_entry(good_db: Path, tmp_path: Path) -> None:
    last = one(good_db, "SELECT MAX(seq) FROM journal_entry")[0]
    path = tampered(good_db, tmp_path, f"UPDATE journal_entry SET memo = 'x' WHERE seq = {last}")
    found = same_everywhere(path)
    assert {(f[1], f[2]) for f in found} >= {("15", "entries that differ from their stored request"),
                                             ("16", "entries altered after posting (their hash does not match their "
                                                    "content and postings)")}
    assert all(f"-{last:09d}" in f[3] for f in found)


def test_many_findings_are_counted_beyond_the_samples(good_db: Path, tmp_path: Path) -> None:
    path = tampered(good_db, tmp_path, "UPDATE journal_entry SET memo = memo || '!'")
    serial, parallel = scan(path, workers=1, ranges=None), scan(path, workers=2, ranges=RANGES)
    assert parallel == serial  # the first 3 samples and the same counts either way
    puts = [f for f in parallel if f[0] == "put"]
    assert puts == [f for f in serial if f[0] == "put"]
    n = one(path, "SELECT COUNT(*) FROM journal_entry")[0]
    for inv in ("15", "16"):
        total = sum(1 for f in puts if f[1] == inv) + sum(f[3] for f in parallel if f[0] == "tally" and f[1] == inv)
        assert total == n


def test_verify_ledger_with_workers_matches(good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import teller_tui.ledger.verify_content as vc

    monkeypatch.setattr(vc, "PARALLEL_MIN_ENTRIES", 0)
    path = tampered(good_db, tmp_path, "UPDATE posting SET account_id = account_id + 1 WHERE id = 7")
    reports = []
    for workers in (1, 2):
        db = make_database(f"sqlite:///{path}")
        try:
            with db.read() as s:
                reports.append(verify_ledger(s, history=True, workers=workers))
        finally:
            db.dispose()
    serial, parallel = ([(v.invariant, v.problem, v.count, v.samples) for v in r.violations] for r in reports)
    assert serial == parallel and {"15", "16"} <= {v[0] for v in serial}


def test_since_head_trusts_the_kept_head_and_checks_after_it(good_db: Path, tmp_path: Path) -> None:
    heads = heads_of(good_db)
    b001 = next(h for h in heads if h.branch_code == "B001")
    kept = [ExpectedHead("B001", b001.seq - 10, one(good_db, "SELECT hash FROM journal_entry WHERE seq = ?",
                                                    b001.seq - 10)[0])] + [h for h in heads if h.branch_code != "B001"]
    assert scan(good_db, workers=1, ranges=None, since=kept) == []
    # an edit after the kept head is found, in the same words as a full scan
    after = tampered(good_db, tmp_path, f"UPDATE journal_entry SET memo = 'y' WHERE seq = {b001.seq - 5}")
    incremental = scan(after, workers=1, ranges=None, since=kept)
    assert incremental and incremental == [f for f in scan(after, workers=1, ranges=None)]
    # the whole history rewritten with recomputed hashes: the kept head is no longer in the chain
    (tmp_path / "r").mkdir()

    def forge(con: sqlite3.Connection) -> None:
        con.execute("UPDATE journal_entry SET memo = 'z' WHERE seq = 3")
        forge_request(con, one(good_db, "SELECT id FROM journal_entry WHERE seq = 3")[0], memo="z")
        rechain(con)

    rewritten = tampered(good_db, tmp_path / "r", fn=forge)
    found = scan(rewritten, workers=1, ranges=None, since=kept)
    assert any(f[1] == "16" and "kept head" in f[3] for f in found), found
