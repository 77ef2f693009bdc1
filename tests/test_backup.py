"""Backups a branch can rely on: an online backup taken while 4 processes post is consistent and
restorable; a backup that fails verification is never restored; `teller maintenance run` exits
non-zero with one line per problem."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from teller_tui.common.errors import StorageError
from teller_tui.db.engine import make_database
from teller_tui.ledger.verify import verify_ledger
from teller_tui.maintenance.backup import backup_sqlite, check_copy, prune_backups, restore_sqlite

from test_ledger_concurrency import SEED, WORKER, fund

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _entries(path: Path) -> int:
    with sqlite3.connect(path) as con:
        return int(con.execute("SELECT COUNT(*) FROM journal_entry").fetchone()[0])


@pytest.mark.slow
def test_backup_while_four_processes_post_then_restore(db: Any, db_path: Path, tmp_path: Path) -> None:
    fund(db)
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(db_path), str(i), "300", str(SEED), "immediate"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    backups = []
    first_lines = []
    try:
        # Take backups while the writers run (each is one consistent snapshot): wait until every
        # writer has acknowledged a posting, so the copies overlap their work.
        first_lines = [p.stdout.readline() for p in procs]  # type: ignore[union-attr]
        for n in range(3):
            backups.append(backup_sqlite(db_path, tmp_path / f"b{n}.db").path)
        still_running = sum(p.poll() is None for p in procs)
    finally:
        # Read on through the same buffered pipes (communicate() would bypass what readline buffered).
        outs = [(p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for p in procs:
            p.wait(timeout=300)
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    lines = first_lines + [line for out, _ in outs for line in out.splitlines()]
    acked = sum(1 for line in lines if line.strip() and "ack" in json.loads(line))
    assert acked > 0 and still_running > 0, "the backups were taken while writers were posting"
    for b in backups:
        check = check_copy(b)
        assert check.ok, check.problems
        assert oct(b.stat().st_mode & 0o777) == "0o600"
        assert not list(tmp_path.glob("*.partial")), "no temporary file left behind"
    counts = [_entries(b) for b in backups]
    assert counts == sorted(counts)  # later snapshots never have fewer entries
    live = _entries(db_path)
    assert live >= counts[-1]
    db.dispose()
    kept = restore_sqlite(backups[0], db_path, now=NOW)
    assert _entries(kept) == live and _entries(db_path) == counts[0]
    restored = make_database(f"sqlite:///{db_path}")
    with restored.read() as s:
        assert verify_ledger(s).ok
    restored.dispose()


def test_restore_refuses_a_tampered_backup_and_changes_nothing(db: Any, db_path: Path, tmp_path: Path) -> None:
    fund(db)
    backup = backup_sqlite(db_path, tmp_path / "good.db").path
    with sqlite3.connect(backup) as con:  # move money in the copy: balances no longer match postings
        con.execute("DROP TRIGGER IF EXISTS posting_no_update")
        triggers = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in triggers:
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE posting SET amount = amount + 100 WHERE id = (SELECT MAX(id) FROM posting)")
    assert not check_copy(backup).ok
    before = _entries(db_path)
    with db.read() as s:
        sums = s.execute(text("SELECT SUM(amount) FROM posting")).scalar()
    with pytest.raises(StorageError) as err:
        restore_sqlite(backup, db_path, now=NOW)
    assert err.value.code == "backup_invalid" and "ledger" in str(err.value)
    assert _entries(db_path) == before
    with db.read() as s:
        assert s.execute(text("SELECT SUM(amount) FROM posting")).scalar() == sums
    assert not list(db_path.parent.glob("*.pre-restore-*")), "nothing kept because nothing was replaced"


def test_backup_refuses_to_overwrite_and_names_a_missing_database(db: Any, db_path: Path, tmp_path: Path) -> None:
    fund(db)
    first = backup_sqlite(db_path, tmp_path / "b.db").path
    with pytest.raises(StorageError) as err:
        backup_sqlite(db_path, first)
    assert err.value.code == "backup_exists"
    with pytest.raises(StorageError) as err:
        backup_sqlite(tmp_path / "missing.db", tmp_path / "c.db")
    assert err.value.code == "db_missing"


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    for day in range(1, 6):
        (tmp_path / f"teller-2026120{day}T020000.db").write_bytes(b"x")
    gone = prune_backups(tmp_path, keep=2)
    assert [p.name for p in gone] == [f"teller-2026120{d}T020000.db" for d in (1, 2, 3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["teller-20261204T020000.db", "teller-20261205T020000.db"]


@pytest.mark.slow
def test_maintenance_run_exit_status(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "TELLER_HOME": str(home), "TELLER_LOCALE": "en"}
    teller = [sys.executable, "-m", "screens.cli"]
    built = subprocess.run([*teller, "demo", "--no-run", "--customers", "50"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    ok = subprocess.run([*teller, "maintenance", "run", "--keep", "1"], env=env, capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "ledger verify: OK" in ok.stdout and "verified" in ok.stdout and ok.stderr == ""
    assert len(list((home / "backups").glob("teller-*.db"))) == 1
    with sqlite3.connect(home / "teller.db") as con:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE posting SET amount = amount + 1 WHERE id = 1")
    bad = subprocess.run([*teller, "maintenance", "run", "--no-backup"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert lines and all(line.startswith("teller maintenance: ") for line in lines)
    assert any("ledger verify failed" in line for line in lines)
    assert "Traceback" not in bad.stderr
