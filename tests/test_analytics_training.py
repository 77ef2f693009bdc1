"""Training scores in the promotion report (issue 24): read from the training database, grouped by
the live teller of the same user name, checked against the training audit trail read directly."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from teller_tui.analytics.render import render_csv, render_json, render_table
from teller_tui.auth.staff import system_actor
from teller_tui.common.clock import local_date
from teller_tui.common.i18n import set_locale
from teller_tui.training.mode import training_settings
from teller_tui.training.report import attempts
from teller_tui.training.results import aware
from training_harness import Training, make_training


@pytest.fixture
def world(tmp_path: Any, db_path: Any, db: Any, template_db: Any, clock: Any) -> Iterator[Training]:
    set_locale("en")
    w = make_training(tmp_path, db_path, db, template_db, clock)
    yield w
    w.services.close()


def _play(world: Training, well: bool, scenario: str = "stolen-phone") -> None:
    t = world.services
    run = t.training.start(world.trainee, scenario)
    if well:
        wallet_id, _ = world.wallet_of(run.values["phone"])
        t.lifecycle.block_lost(world.trainee, wallet_id, "stolen")
        t.cases.open_case(world.trainee, run.customer_id, "lost_device", "stolen", wallet_id=wallet_id)
    t.training.finish(world.trainee, run.run_id)


def test_training_scores_by_teller_and_by_day_match_the_training_trail(world: Training) -> None:
    live = world.live.services
    first = local_date(world.clock.now())
    _play(world, well=False)
    world.clock.advance(days=1)
    _play(world, well=True)
    _play(world, well=False, scenario="payment-not-arrived")
    with world.services.db.read() as s:
        runs = attempts(s)
    assert len(runs) == 3
    actor = system_actor(live.settings)

    by_teller = live.analytics.promotion(actor, first, first + timedelta(days=1), "teller")
    [wang] = [r for r in by_teller.rows if r.label == "wang"]
    assert (wang.m.training_runs, wang.m.training_passes) == (3, sum(a.passed for a in runs))
    assert wang.m.training_score_sum == sum(a.score for a in runs)
    assert by_teller.total.m.training_runs == 3 and by_teller.training_available

    by_day = live.analytics.promotion(actor, first, first + timedelta(days=1), "day")
    want: dict[Any, list[int]] = {}
    for a in runs:
        want.setdefault(local_date(aware(a.at)), []).append(a.score)
    got = {r.key: (r.m.training_runs, r.m.training_score_sum) for r in by_day.rows if r.m.training_runs}
    assert got == {d: (len(v), sum(v)) for d, v in want.items()}

    # a range that ends before the second day holds only the first run
    first_only = live.analytics.promotion(actor, first, first, "teller")
    assert first_only.total.m.training_runs == len(want[first])

    csv_text = render_csv(by_teller)
    assert "training_mean_score" in csv_text.splitlines()[0]
    doc = json.loads(render_json(by_teller))
    assert doc["total"]["training_runs"] == 3 and doc["training_available"] is True
    assert "3 runs scored" in render_table(by_teller)


def test_a_training_database_that_cannot_be_read_is_named_not_counted_as_zero(world: Training) -> None:
    live = world.live.services
    _play(world, well=True)
    tsettings = training_settings(live.settings)
    path = tsettings.effective_database_url.removeprefix("sqlite:///")
    world.services.db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    shutil.copyfile(live.settings.effective_database_url.removeprefix("sqlite:///"), path)  # not a training DB
    day = local_date(world.clock.now())
    report = live.analytics.promotion(system_actor(live.settings), day, day, "teller")
    assert report.training_available is False and report.total.m.training_runs == 0
    assert "could not be read" in render_table(report)
    assert json.loads(render_json(report))["total"]["training_runs"] is None
