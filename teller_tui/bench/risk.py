"""False positives of the risk scan: alerts raised on a clean history (target: none).

The history is :func:`teller_tui.bench.risk_history.build_history` without planted patterns, 100,000
postings in the full run (1 % of ``--postings``, at least 400), on a fresh SQLite file with a fake clock;
the scan is ``services.risk.scan`` over the rules' lookback. The planted-pattern run (every case found)
is tests/test_risk_workload.py.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from teller_tui.bench.runner import Row

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context

NAME = "risk"
TITLE = "risk scan: false positives on a clean history"


def run(ctx: Context) -> list[Row]:
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.bench.risk_history import false_positives
    from teller_tui.common.clock import FakeClock
    from teller_tui.common.settings import load_settings
    from teller_tui.db import schema
    from teller_tui.db.engine import make_database
    from teller_tui.services import make_services

    postings = max(400, min(100_000, ctx.opts.postings // 100))
    home = ctx.workdir / "risk"
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'risk.db'}"
    database = make_database(url)
    schema.upgrade(database)
    clock = FakeClock()
    services = make_services(load_settings(home=home, database_url=url, locale="en"), clock=clock,
                             database=database, box=SecretBox.ephemeral())
    ctx.status(f"risk: building a clean history of {postings:,} postings")
    try:
        started = time.perf_counter()
        found = false_positives(services, clock, postings=postings)
        seconds = time.perf_counter() - started
    finally:
        services.close()
    return [Row(NAME, f"risk alerts on a clean {postings:,}-posting history (false positives)", f"{found:,}",
                ratio="target 0", verdict="PASS" if found == 0 else "MISS",
                detail="" if found == 0 else f"{found} alert(s) on clean data",
                values={"measured": found, "limit": 0, "unit": "alerts", "seconds": round(seconds, 1),
                        "postings": postings})]
