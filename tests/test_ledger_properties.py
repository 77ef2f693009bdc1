"""Hypothesis drives the operations (and shrinks a failing sequence): after every one, each
ledger invariant holds per the verifier, an independent recomputation and the model."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from teller_tui.db.engine import make_database
from teller_tui.ledger.verify import verify_ledger

from ledger_fixtures import Workload, independent_invariants


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rnd=st.randoms(use_true_random=False), steps=st.integers(min_value=1, max_value=25))
def test_every_operation_sequence_keeps_the_invariants(template_db: Path, tmp_path: Path, rnd: random.Random,
                                                        steps: int) -> None:
    path = tmp_path / f"p{abs(hash(rnd)) % 10**9}.db"
    shutil.copyfile(template_db, path)
    db = make_database(f"sqlite:///{path}")
    try:
        wl = Workload(db, 0, wallets=3, rnd=rnd)
        for _ in range(steps):
            wl.step()
            wl.check_model()
            with db.read() as s:
                report = verify_ledger(s, samples=3, history=True)
            assert report.ok, f"{wl.log}\n{report.render()}"
            assert independent_invariants(db) == [], wl.log
    finally:
        db.dispose()
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
