"""A seeded workload with planted patterns: the scan finds every planted case, and nothing else; on a clean
history it raises no alert at all (the false-positive figure ``teller bench`` prints at 100,000 postings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.staff import system_actor
from teller_tui.bench.risk_history import build_history, false_positives
from teller_tui.common.clock import FakeClock
from teller_tui.common.settings import load_settings
from teller_tui.services import make_services

SEEDS = (23, 2026)


def _services(db: Any, clock: FakeClock, tmp_path: Path) -> Any:
    settings = load_settings(home=tmp_path / "home", locale="en")
    return make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_planted_case_is_found_and_nothing_else(db: Any, clock: FakeClock, tmp_path: Path, seed: int) -> None:
    services = _services(db, clock, tmp_path)
    planted = build_history(services, clock, seed=seed, postings=1_200, plant=True)
    assert {rule for rule, _subject in planted} == set(services.risk_rules.in_force(clock.now().date()))
    actor = system_actor(services.settings)
    services.risk.scan(actor)
    found = {(a.rule, a.subject) for a in services.risk.alerts(actor, status="open")}
    assert found == set(planted), f"seed {seed}: missed {set(planted) - found}, extra {found - set(planted)}"
    assert services.risk.scan(actor).new_alerts == (), f"seed {seed}: a second scan raised again"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_clean_history_raises_no_alert(db: Any, clock: FakeClock, tmp_path: Path, seed: int) -> None:
    services = _services(db, clock, tmp_path)
    assert false_positives(services, clock, seed=seed, postings=1_200) == 0
    with services.db.read() as s:
        from sqlalchemy import func, select

        from teller_tui.models import Posting

        assert s.execute(select(func.count()).select_from(Posting)).scalar_one() >= 1_000
