"""The audit chain: verify names the first bad record for every kind of tampering."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from teller_tui.audit.trail import Actor, AuditTrail, record_hash, verify
from teller_tui.db.ddl import drop_append_only_statements
from teller_tui.db.engine import make_database


@pytest.fixture
def chain(db, clock, db_path: Path) -> Path:  # type: ignore[no-untyped-def]
    trail = AuditTrail(clock)
    actor = Actor(1, "alice", "T01")
    for i in range(6):
        clock.advance(seconds=5)
        with db.write() as s:
            trail.append(s, actor, "cash_in", subject=f"wallet:{i}", detail={"amount": i * 100, "名": "张三"})
    with db.read() as s:
        assert verify(s).ok and verify(s).records == 6
    db.dispose()
    return db_path


def tamper(path: Path, tmp_path: Path, *sql: str) -> Path:
    copy = tmp_path / "t.db"
    for suffix in ("", "-wal"):
        if Path(str(path) + suffix).exists():
            shutil.copyfile(str(path) + suffix, str(copy) + suffix)
    con = sqlite3.connect(copy)
    for stmt in drop_append_only_statements("sqlite", "audit_record"):
        con.execute(stmt)
    for stmt in sql:
        con.execute(stmt)
    con.commit()
    con.close()
    return copy


def check(path: Path, **kw: str):  # type: ignore[no-untyped-def]
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify(s, **kw)
    finally:
        db.dispose()


def test_edited_record(chain: Path, tmp_path: Path) -> None:
    res = check(tamper(chain, tmp_path, "UPDATE audit_record SET outcome = 'denied' WHERE seq = 3"))
    assert not res.ok and res.first_bad_seq == 3 and "altered" in res.problem


def test_edited_record_with_recomputed_hash_is_named(chain: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(chain)
    row = con.execute("SELECT seq, at, actor_id, actor, terminal_id, action, subject, detail_json, prev_hash "
                      "FROM audit_record WHERE seq = 3").fetchone()
    con.close()
    from datetime import UTC, datetime

    at = datetime.fromisoformat(row[1]).replace(tzinfo=UTC)
    forged = record_hash(seq=3, at=at, actor_id=row[2], actor=row[3], terminal_id=row[4], action=row[5],
                         subject=row[6], outcome="denied", detail_json=row[7], prev_hash=row[8])
    res = check(tamper(chain, tmp_path, f"UPDATE audit_record SET outcome = 'denied', hash = '{forged}' WHERE seq = 3"))
    # Record 4 still holds record 3's original hash: record 3 is the one that differs (it used
    # to be reported as record 4, "does not link").
    assert not res.ok and res.first_bad_seq == 3 and "record 3 was altered and its hash recomputed" in res.problem


def test_deleted_record(chain: Path, tmp_path: Path) -> None:
    res = check(tamper(chain, tmp_path, "DELETE FROM audit_record WHERE seq = 3"))
    assert not res.ok and res.first_bad_seq == 4 and "record 3 is missing" in res.problem


def test_inserted_record(chain: Path, tmp_path: Path) -> None:
    # Make room for a forged record 3 by renumbering the later ones.
    res = check(tamper(chain, tmp_path,
                       "UPDATE audit_record SET seq = seq + 100 WHERE seq >= 3",
                       "UPDATE audit_record SET seq = seq - 99 WHERE seq >= 100",
                       "INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, "
                       "detail_json, prev_hash, hash) SELECT 3, at, actor_id, 'mallory', terminal_id, action, subject, "
                       "outcome, detail_json, hash, 'f' || substr(hash, 2) FROM audit_record WHERE seq = 2"))
    assert not res.ok and res.first_bad_seq == 4


def test_reordered_records(chain: Path, tmp_path: Path) -> None:
    cols = "at, actor_id, actor, terminal_id, action, subject, outcome, detail_json, prev_hash, hash"
    res = check(tamper(chain, tmp_path,
                       "CREATE TEMP TABLE r AS SELECT * FROM audit_record WHERE seq IN (3, 4)",
                       "UPDATE audit_record SET seq = -seq, hash = 'x' || hash WHERE seq IN (3, 4)",
                       f"UPDATE audit_record SET seq = 4, ({cols}) = (SELECT {cols} FROM r WHERE seq = 4) WHERE seq = -3",
                       f"UPDATE audit_record SET seq = 3, ({cols}) = (SELECT {cols} FROM r WHERE seq = 3) WHERE seq = -4"))
    assert not res.ok and res.first_bad_seq == 4 and "out of place" in res.problem


def test_truncated_tail(chain: Path, tmp_path: Path) -> None:
    res = check(tamper(chain, tmp_path, "DELETE FROM audit_record WHERE seq >= 5"))
    assert not res.ok and res.first_bad_seq == 5 and "truncated" in res.problem


def test_appended_record_without_head(chain: Path, tmp_path: Path) -> None:
    res = check(tamper(chain, tmp_path,
                       "INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, "
                       "detail_json, prev_hash, hash) SELECT 7, at, actor_id, actor, terminal_id, action, subject, "
                       "outcome, detail_json, hash, 'e' || substr(hash, 2) FROM audit_record WHERE seq = 6"))
    assert not res.ok and res.first_bad_seq in (7,)


def test_truncation_with_rewritten_head_needs_the_external_head(chain: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(chain)
    real_head = con.execute("SELECT hash FROM audit_stream_head WHERE stream = 'B001'").fetchone()[0]
    con.close()
    # The attacker knows the schema: the branch's stream head is moved back to record 5.
    path = tamper(chain, tmp_path, "DELETE FROM audit_record WHERE seq = 6",
                  "UPDATE audit_stream_head SET seq = 5, entries = 5, hash = (SELECT hash FROM audit_record "
                  "WHERE seq = 5) WHERE stream = 'B001'")
    assert check(path).ok  # undetectable from inside the database alone...
    res = check(path, expect_head=real_head)
    assert not res.ok and "outside the database" in res.problem  # ...but not against the kept head


def test_cli_audit_verify_and_head(chain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["teller_tui.commands.audit"])
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{chain}")
    assert cli.main(["audit", "head"]) == 0
    # One line per stream with records: SEQ HASH STREAM (only the actor's branch here).
    seq, digest, stream = capsys.readouterr().out.split()
    assert seq == "6" and len(digest) == 64 and stream == "B001"
    assert cli.main(["audit", "verify", "--expect-head", digest]) == 0
    assert "OK, 6 records" in capsys.readouterr().out
    assert cli.main(["audit", "verify", "--expect-head", "0" * 64]) == 3
    bad = tamper(chain, tmp_path, "UPDATE audit_record SET detail_json = '{}' WHERE seq = 2")
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{bad}")
    capsys.readouterr()
    assert cli.main(["audit", "verify"]) == 3
    assert "first bad record: seq 2" in capsys.readouterr().out


def _forged_hash(path: Path, seq: int, **changes: str) -> str:
    from datetime import UTC, datetime

    con = sqlite3.connect(path)
    row = con.execute("SELECT seq, at, actor_id, actor, terminal_id, action, subject, outcome, detail_json, prev_hash "
                      f"FROM audit_record WHERE seq = {seq}").fetchone()
    con.close()
    names = ["seq", "at", "actor_id", "actor", "terminal_id", "action", "subject", "outcome", "detail_json", "prev_hash"]
    values = dict(zip(names, row, strict=True))
    values.update(changes)
    values["at"] = datetime.fromisoformat(values["at"]).replace(tzinfo=UTC)
    return record_hash(**values)  # type: ignore[arg-type]


def test_edited_last_record_with_recomputed_hash_is_named(chain: Path, tmp_path: Path) -> None:
    forged = _forged_hash(chain, 6, outcome="denied")
    res = check(tamper(chain, tmp_path, f"UPDATE audit_record SET outcome = 'denied', hash = '{forged}' WHERE seq = 6"))
    assert not res.ok and res.first_bad_seq == 6 and "record 6 was altered" in res.problem


def test_record_rewritten_with_its_link_is_named(chain: Path, tmp_path: Path) -> None:
    """Record 4 re-linked to a made-up predecessor hash and re-hashed: record 4 is the one that
    differs (record 5 no longer links to it either), not record 3."""
    fake_prev = "a" * 64
    forged = _forged_hash(chain, 4, prev_hash=fake_prev)
    res = check(tamper(chain, tmp_path,
                       f"UPDATE audit_record SET prev_hash = '{fake_prev}', hash = '{forged}' WHERE seq = 4"))
    assert not res.ok and res.first_bad_seq == 4 and "rewritten" in res.problem


def test_kept_heads_with_sequence_numbers(chain: Path, tmp_path: Path, db, clock) -> None:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(chain)
    heads = {seq: h for seq, h in con.execute("SELECT seq, hash FROM audit_record")}
    con.close()
    # An old head still holds once the chain has grown past it.
    assert check(chain, expect_head=[f"3:{heads[3]}", heads[5], f"0:{'0' * 64}"]).ok
    # The whole tail from record 4 rewritten, every hash recomputed: the kept head of record 5
    # names record 5 (rewritten at or before it); the chain itself is consistent.
    def rewrite(con: sqlite3.Connection) -> None:
        prev = heads[3]
        for seq in (4, 5, 6):
            con.execute(f"UPDATE audit_record SET prev_hash = ? WHERE seq = {seq}", (prev,))
            if seq == 4:
                con.execute("UPDATE audit_record SET outcome = 'denied' WHERE seq = 4")
            con.commit()
            prev = _forged_hash(copy, seq)
            con.execute(f"UPDATE audit_record SET hash = ? WHERE seq = {seq}", (prev,))
        con.execute("UPDATE audit_stream_head SET hash = ? WHERE stream = 'B001'", (prev,))

    copy = tamper(chain, tmp_path)
    con = sqlite3.connect(copy)
    rewrite(con)
    con.commit()
    con.close()
    assert check(copy).ok
    res = check(copy, expect_head=f"5:{heads[5]}")
    assert not res.ok and res.first_bad_seq == 5 and "outside the database" in res.problem
    res = check(copy, expect_head=f"9:{heads[6]}")
    assert not res.ok and res.first_bad_seq == 7 and "truncated" in res.problem
    with pytest.raises(ValueError):
        check(copy, expect_head="5:xyz")
