"""The per-terminal journal of submissions in flight: written before sending, looked up by key after a
crash, so the teller is told plainly whether it was posted (and a key is never used twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from teller_tui.common.clock import FakeClock
from teller_tui.desk.inflight import InflightJournal
from teller_tui.ledger import Ledger

from ledger_fixtures import open_chart, transfer

NOW = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)


def _record(journal: InflightJournal, key: str, user: str = "teller1") -> None:
    journal.record("cash_in", key, username=user, wallet="8800 0000 0001", amount="¥500.00", now=NOW)


def test_record_pending_resolve(tmp_path: Path) -> None:
    journal = InflightJournal.for_terminal(tmp_path, "T01/../x")
    assert journal.directory == tmp_path / "inflight" / "T01_.._x"
    assert journal.pending() == []
    _record(journal, "cash_in-a")
    _record(journal, "cash_in-b", user="teller2")
    assert [s.key for s in journal.pending()] == ["cash_in-a", "cash_in-b"]
    assert [s.key for s in journal.pending("teller2")] == ["cash_in-b"]
    mode = (journal.directory / "cash_in-a.json").stat().st_mode & 0o777
    assert mode == 0o600 and journal.directory.stat().st_mode & 0o777 == 0o700
    journal.resolve("cash_in-a")
    journal.resolve("cash_in-a")  # twice is harmless
    assert [s.key for s in journal.pending()] == ["cash_in-b"]
    assert not list(journal.directory.glob(".*.tmp"))


def test_lookup_tells_posted_from_not_posted(db: Any, tmp_path: Path) -> None:
    ledger = Ledger(FakeClock())
    chart = open_chart(db, ledger, wallets=1, drawers=1)
    journal = InflightJournal.for_terminal(tmp_path, "T01")
    _record(journal, "cash_in-posted")
    _record(journal, "cash_in-lost")
    with db.write() as s:
        ref = ledger.post(s, transfer("cash_in-posted", "cash_in", chart.drawers[0], chart.wallets[0], 50_000))
    with db.read() as s:
        found = {sub.key: ledger.entry_by_key(s, sub.key) for sub in journal.pending()}
    posted = found["cash_in-posted"]
    assert posted is not None and posted.reference == ref.reference  # posted: its reference to reprint
    assert found["cash_in-lost"] is None  # not posted


def test_a_record_survives_sigkill(tmp_path: Path) -> None:
    """The record is on disk before the caller goes on: kill the writer right after it returns."""
    code = (
        "import sys, os, time\n"
        "from datetime import datetime, UTC\n"
        "from teller_tui.desk.inflight import InflightJournal\n"
        "j = InflightJournal.for_terminal(sys.argv[1], 'T01')\n"
        "j.record('cash_out', 'cash_out-k1', username='teller1', wallet='w', amount='¥1.00', now=datetime.now(UTC))\n"
        "print('recorded', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "recorded"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    pending = InflightJournal.for_terminal(tmp_path, "T01").pending()
    assert [(s.key, s.kind, s.username) for s in pending] == [("cash_out-k1", "cash_out", "teller1")]
