"""The remote approval queue across two OS processes on one SQLite file.

A teller process asks for approval (the funds are held) and then polls its request; this
process, acting as the supervisor's terminal, must see the request in ``pending()`` within two
seconds (a deadline loop, no timing assertions beyond it), approves it, and the teller process
sees the decision and the posted entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from approvals_fixtures import SUP_PW, build_env

from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent

TELLER_SCRIPT = r"""
import json, sys, time
from datetime import datetime
from teller_tui.audit.trail import Actor
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from teller_tui.services import make_services
from teller_tui.common.settings import load_settings

args = json.loads(sys.argv[1])
clock = FakeClock(datetime.fromisoformat(args["now"]))
services = make_services(load_settings(home=args["home"], database_url=args["url"], locale="en",
                                       terminal_id="T01"), clock=clock)
teller = Actor(args["staff_id"], "wang", "T01", "teller", "B001")
try:
    services.cash.cash_in(teller, args["wallet_id"], Money.of("50000"), idempotency_key="proc-key-1")
    raise SystemExit("expected an approval to be needed")
except ApprovalRequired as exc:
    spec = exc.details["spec"]
view = services.approvals.request(teller, spec, source_of_funds="salary")
print(json.dumps({"request_id": view.id, "held": services.approvals.get(view.id).hold_id is not None}), flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    seen = services.approvals.get(view.id)
    if seen.final:
        txn = services.cash.cash_in(teller, args["wallet_id"], Money.of("50000"), idempotency_key="proc-key-1")
        print(json.dumps({"status": seen.status, "reference": seen.entry_reference, "approver": seen.approver,
                          "replayed": txn.replayed, "txn_reference": txn.reference}), flush=True)
        break
    time.sleep(0.05)
else:
    print(json.dumps({"status": "timeout"}), flush=True)
"""


def test_request_seen_and_decided_across_processes(tmp_path: Path, db_path: Path) -> None:
    clock = FakeClock()
    env = build_env(tmp_path / "home", db_path, clock)
    args = {"now": clock.now().isoformat(), "home": str(tmp_path / "home"), "url": f"sqlite:///{db_path}",
            "staff_id": env.teller.staff_id, "wallet_id": env.wallet_id}
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, "-c", TELLER_SCRIPT, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": pythonpath, "TELLER_HOME": str(tmp_path / "home")})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first, proc.stderr.read() if proc.stderr else ""
        asked: dict[str, Any] = json.loads(first)
        assert asked["held"]

        # The supervisor's terminal polls (as its screen does, every ~1 s) and must see it within 2 s.
        deadline = time.monotonic() + 2.0
        seen = []
        while time.monotonic() < deadline:
            seen = [v for v in env.approvals.pending() if v.id == asked["request_id"]]
            if seen:
                break
            time.sleep(0.05)
        assert seen, "the request did not reach the supervisor's queue within 2 s"
        assert seen[0].amount == Money.of("50000") and seen[0].requester == "wang"

        env.clock.advance(seconds=30)
        env.approvals.decide(env.supervisor, asked["request_id"], approve=True, password=SUP_PW,
                             code=env.li_code(), reason="ID and source of funds seen")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    decided = json.loads(out.strip().splitlines()[-1])
    assert decided["status"] == "consumed", err
    assert decided["approver"] == "li"
    assert decided["replayed"] and decided["txn_reference"] == decided["reference"]
    assert env.wallet_balance().posted == Money.of("50000")
    assert [r.reference for r in env.approvals.large_value_reports()] == [decided["reference"]]
    env.services.close()
