"""Audit streams: one hash chain per branch (migration 0100_audit_streams).

* Two branches append on PostgreSQL without waiting on each other's audit head: one transaction
  holds an append open on branch A while branch B's append commits (a lock timeout makes a
  regression fail instead of hang); the negative control (same branch) does wait.
* A tamper in one stream is found and named by its stream; the others stay intact.
* Records written before the migration form the ``BANK`` stream with their hashes unchanged, and
  heads kept before the upgrade still verify.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from teller_tui.audit.trail import BANK_STREAM, Actor, AuditTrail, record_hash, verify
from teller_tui.db import schema
from teller_tui.db.ddl import drop_append_only_statements
from teller_tui.db.engine import make_database
from teller_tui.db.scopes import branch_key
from teller_tui.maintenance.heads import current_heads, heads_lines, read_heads_file

A = Actor(1, "alice", "T01", "teller", "B001")
B = Actor(2, "bob", "T02", "teller", "B002")
HQ = Actor(None, "system:hq", "T00", "system", "")


def _scope(actor: Actor) -> Any:
    return lambda _s: [branch_key(actor.branch_code)]


def _hold_open_then_append(db: Any, trail: AuditTrail, first: Actor, second: Actor) -> bool:
    """``first`` appends and holds its transaction open; ``second`` appends and commits meanwhile
    (lock_timeout 5 s). True if ``second`` committed while ``first`` was still open."""
    appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with db.write(_scope(first)) as s:
                trail.append(s, first, "cash_in", subject="wallet:a")
                appended.set()
                release.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            appended.set()

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert appended.wait(30) and not errors
        try:
            with db.write(_scope(second)) as s:
                s.execute(text("SET LOCAL lock_timeout = '5s'"))
                trail.append(s, second, "cash_in", subject="wallet:b")
            committed = True
        except Exception as exc:  # the lock timeout: second waited on first's audit head
            assert "lock timeout" in str(exc).lower() or "LockNotAvailable" in type(exc.__cause__ or exc).__name__, exc
            committed = False
        still_open = t.is_alive()
    finally:
        release.set()
        t.join(30)
    assert not errors, errors
    return committed and still_open


@pytest.mark.slow
def test_two_branches_append_in_parallel_on_postgresql(pg_app_url: str, clock: Any) -> None:
    db = make_database(pg_app_url)
    trail = AuditTrail(clock)
    try:
        assert _hold_open_then_append(db, trail, A, B)  # B001 held open, B002 commits
        # Negative control: two appends of one branch do wait (the same stream head row, and
        # the same branch key) -- the helper above can fail.
        assert not _hold_open_then_append(db, trail, A, A)
        with db.read() as s:
            res = verify(s)
        assert res.ok, res.problem
        heads = {h.stream: h for h in res.streams}
        assert heads["B001"].entries == 2 and heads["B002"].entries == 1  # the timed-out append left nothing
        # A head only moves forward one record at a time, for every role (db/guards.py): it cannot
        # be moved back over records, nor deleted and made again.
        for sql in ("UPDATE audit_stream_head SET seq = seq - 1, entries = entries - 1 WHERE stream = 'B001'",
                    "UPDATE audit_stream_head SET hash = repeat('a', 64) WHERE stream = 'B001'",
                    "DELETE FROM audit_stream_head WHERE stream = 'B002'",
                    "INSERT INTO audit_stream_head (stream, seq, entries, hash) VALUES ('B009', 5, 1, repeat('b', 64))"):
            with pytest.raises(Exception, match="audit stream"):
                with db.write() as s:
                    s.execute(text(sql))
    finally:
        db.dispose()


def _streams_db(db: Any, clock: Any) -> AuditTrail:
    trail = AuditTrail(clock)
    for i in range(4):
        for actor in (A, B, HQ):
            clock.advance(seconds=1)
            with db.write() as s:
                trail.append(s, actor, "cash_in", subject=f"wallet:{i}", detail={"i": i})
    return trail


def _tamper(path: Path, tmp_path: Path, *sql: str) -> Path:
    copy = tmp_path / "t.db"
    shutil.copyfile(path, copy)
    con = sqlite3.connect(copy)
    for stmt in drop_append_only_statements("sqlite", "audit_record"):
        con.execute(stmt)
    for stmt in sql:
        con.execute(stmt)
    con.commit()
    con.close()
    return copy


def _verify(path: Path, **kw: Any) -> Any:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify(s, **kw)
    finally:
        db.dispose()


def test_streams_interleave_and_a_tamper_is_named_by_stream(db: Any, clock: Any, db_path: Path,
                                                            tmp_path: Path) -> None:
    _streams_db(db, clock)
    with db.read() as s:
        res = verify(s)
        kept = heads_lines(current_heads(s), datetime.now(UTC))
        assert AuditTrail.head(s, "B002")[0] == 11 and AuditTrail.head(s)[0] == 12
    db.dispose()
    assert res.ok and res.records == 12
    heads = {h.stream: h for h in res.streams}
    assert {n: h.entries for n, h in heads.items()} == {"B001": 4, "B002": 4, BANK_STREAM: 4}
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT seq, stream, stream_seq FROM audit_record ORDER BY seq").fetchall()
    con.close()
    assert rows[:3] == [(1, "B001", 1), (2, "B002", 1), (3, BANK_STREAM, 1)] and rows[-1] == (12, BANK_STREAM, 4)
    # An edit in B002's third record (seq 8): found, named by stream.
    bad = _verify(_tamper(db_path, tmp_path, "UPDATE audit_record SET outcome = 'denied' WHERE seq = 8"))
    assert not bad.ok and bad.first_bad_seq == 8 and bad.stream == "B002"
    assert bad.problem.startswith("stream B002: record 8 was altered")
    # B002's last record deleted: its head still names it.
    bad = _verify(_tamper(db_path, tmp_path, "DELETE FROM audit_record WHERE seq = 11"))
    assert not bad.ok and bad.stream == "B002" and "truncated" in bad.problem
    # ...and with the stream's head rewritten too: consistent inside the database, but the
    # heads exported before (one line per stream) find it, naming the stream.
    path = _tamper(db_path, tmp_path, "DELETE FROM audit_record WHERE seq = 11",
                   "UPDATE audit_stream_head SET seq = 8, entries = 3, hash = (SELECT hash FROM audit_record "
                   "WHERE seq = 8), last_at = (SELECT at FROM audit_record WHERE seq = 8) WHERE stream = 'B002'")
    assert _verify(path).ok
    heads_file = tmp_path / "heads.txt"
    heads_file.write_text("\n".join(kept) + "\n", encoding="utf-8")
    audit_heads, _ledger = read_heads_file(heads_file)
    assert sorted(h.split(":")[0] for h in audit_heads) == ["B001", "B002", BANK_STREAM]
    assert _verify(db_path, expect_head=audit_heads).ok
    res = _verify(path, expect_head=audit_heads)
    assert not res.ok and "outside the database" in res.problem
    # A record moved to another stream (renumbered there as an attacker would) breaks both.
    path = _tamper(db_path, tmp_path, "UPDATE audit_record SET stream = 'B001', stream_seq = 5 WHERE seq = 11")
    res = _verify(path)
    assert not res.ok and res.first_bad_seq == 11


def test_records_before_the_migration_are_the_bank_stream(tmp_path: Path, template_db: Path, clock: Any) -> None:
    """Downgrade below 0100, write a bank-wide chain the old way (one audit_head), upgrade: the
    old records are the BANK stream with their hashes, kept heads still hold, appends go on."""
    from alembic import command

    path = tmp_path / "mig.db"
    shutil.copyfile(template_db, path)
    db = make_database(f"sqlite:///{path}")
    try:
        cfg = schema.alembic_config(db)
        with db.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0100_audit_streams@-1")
        con = sqlite3.connect(path)
        assert "stream" not in {r[1] for r in con.execute("PRAGMA table_info(audit_record)")}
        prev = con.execute("SELECT hash FROM audit_head WHERE id = 1").fetchone()[0]
        start = int(con.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()[0])
        for seq in range(start + 1, start + 4):
            at = datetime(2026, 1, 1, 9, seq, tzinfo=UTC)
            detail = json.dumps({"n": seq}, separators=(",", ":"))
            digest = record_hash(seq=seq, at=at, actor_id=1, actor="alice", terminal_id="T01", action="cash_in",
                                 subject="wallet:1", outcome="ok", detail_json=detail, prev_hash=prev)
            con.execute("INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, "
                        "detail_json, prev_hash, hash) VALUES (?, ?, 1, 'alice', 'T01', 'cash_in', 'wallet:1', 'ok', "
                        "?, ?, ?)", (seq, at.strftime("%Y-%m-%d %H:%M:%S.%f"), detail, prev, digest))
            con.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))
            prev = digest
        con.commit()
        con.close()
        old_head = f"{start + 3}:{prev}"
        schema.upgrade(db)
        trail = AuditTrail(clock)
        for actor in (A, HQ):
            with db.write() as s:
                trail.append(s, actor, "cash_out", subject="wallet:2")
        with db.read() as s:
            res = verify(s, expect_head=[old_head])
        assert res.ok, res.problem
        heads = {h.stream: h for h in res.streams}
        assert heads[BANK_STREAM].entries == start + 4 and heads["B001"].entries == 1
        assert heads[BANK_STREAM].seq == start + 5  # the bank counter went on after the old records
    finally:
        db.dispose()
