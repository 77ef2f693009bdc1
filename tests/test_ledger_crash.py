"""A writer killed with SIGKILL at random points loses nothing it acknowledged and leaves no
partial entry: integrity_check is ok and every invariant holds after each kill."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from teller_tui.ledger.verify import verify_ledger

from ledger_fixtures import independent_invariants
from test_ledger_concurrency import WORKER, fund

SEED = 7
ROUNDS = 5


@pytest.mark.slow
def test_sigkill_at_random_points(db, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    fund(db)
    db.dispose()
    rnd = random.Random(SEED)
    acknowledged: set[str] = set()
    for round_ in range(ROUNDS):
        stop_after = rnd.randint(3, 80)
        proc = subprocess.Popen([sys.executable, str(WORKER), str(db_path), "0", "0", str(SEED * 100 + round_),
                                 "forever"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        acks = 0
        for line in proc.stdout:
            event = json.loads(line)
            if "ack" in event:
                acknowledged.add(event["ack"])
                acks += 1
            if acks >= stop_after:
                break
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: it is usually inside its next transaction
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"seed {SEED} round {round_}: {proc.stderr.read()[-2000:]}"
        proc.stdout.close()
        proc.stderr.close()

        with db.read() as s:
            conn = s.connection()
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok", f"seed {SEED} round {round_}"
            keys = {r[0] for r in conn.execute(text("SELECT idempotency_key FROM journal_entry"))}
            partial = conn.execute(text(
                "SELECT e.id FROM journal_entry e LEFT JOIN posting p ON p.entry_id = e.id GROUP BY e.id "
                "HAVING COUNT(p.id) < 2 OR COALESCE(SUM(p.amount), 0) <> 0")).all()
            report = verify_ledger(s, history=True)
        missing = acknowledged - keys
        assert not missing, f"seed {SEED} round {round_}: acknowledged but lost: {sorted(missing)[:5]}"
        assert partial == [], f"seed {SEED} round {round_}: partial entries {partial}"
        assert report.ok, f"seed {SEED} round {round_}:\n{report.render()}"
        assert independent_invariants(db) == [], f"seed {SEED} round {round_}"
        db.dispose()
    assert len(acknowledged) >= ROUNDS * 3
