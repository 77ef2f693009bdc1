"""Seeded random workloads: after every step the verifier, an independent recomputation and
a model built from acknowledged operations must all agree. A failure names its seed."""

from __future__ import annotations

import pytest

from teller_tui.ledger.verify import verify_ledger

from ledger_fixtures import Workload, independent_invariants

SEEDS = [42, 1, 2, 3]  # the first (default) seed covers every path; the others add variety


@pytest.mark.parametrize("seed", SEEDS)
def test_random_workload_keeps_every_invariant(db, seed: int) -> None:
    steps = 120 if seed == SEEDS[0] else 45
    wl = Workload(db, seed)
    for i in range(steps):
        wl.step()
        wl.check_model()
        with db.read() as s:
            report = verify_ledger(s, samples=3)
        assert report.ok, f"seed {seed} step {i} ({wl.log[-1]}):\n{report.render()}"
        assert independent_invariants(db) == [], f"seed {seed} step {i}"
    # The workload really exercised the interesting paths.
    with db.read() as s:
        kinds = {r[0] for r in s.connection().exec_driver_sql("SELECT kind FROM journal_entry")}
        holds = {r[0] for r in s.connection().exec_driver_sql("SELECT status FROM ledger_hold")}
    if seed == SEEDS[0]:  # the default seed really exercises every path
        assert {"cash_in", "cash_out", "transfer", "reversal"} <= kinds and {"posted", "voided", "expired"} <= holds, (kinds, holds)
