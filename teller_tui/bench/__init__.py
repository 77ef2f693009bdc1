"""``teller bench``: the performance figures of PERFORMANCE.md, each next to a reference
measured in the same run on the same machine (ratios are what count; absolute times drift).

One module per figure; each exposes ``NAME``, ``TITLE`` and ``run(ctx) -> list[Row]``:

========== ==========================================================================
startup    first frame and usable sign-in (vs a Textual + SQLAlchemy app), kiosk, RSS
lookup     customer lookup in the core (phone prefix, ID fragment, 2/3-char names)
keystroke  keystroke to updated results in the lookup screen (Pilot press + pause)
posting    one cash-in through the full service vs the raw driver replaying its own statements
concurrency 16 processes x 500 postings on one SQLite file vs one process doing 8,000
verify     ``teller ledger verify`` over 10,000,000 postings (time, peak memory)
totals     trial balance and the home screen's totals at 10,000,000 postings
analytics  a month's promotion report by teller at 10,000,000 postings (target ≤ 2 s)
bounded    cash-out at 10,000,000 vs 1,000 postings; home totals on a 200,000- vs 1,000-entry day
pg         the posting and concurrency figures on PostgreSQL
failover   a primary and two synchronous standbys: SIGKILL the primary, promote; failover time,
           postings/s before (vs one server alone) and after
branches   branch scaling: 1/2/4/8/16 clients on 16 branches, SQLite and PostgreSQL (p95, max)
risk       risk-scan false positives on a clean 100,000-posting history (target: none)
========== ==========================================================================

:mod:`teller_tui.bench.runner` builds the data (:mod:`teller_tui.bench.data`; its bulk ledger history:
:mod:`teller_tui.bench.bulk`) in a temporary directory (or the kept one of ``--keep DIR``, reused when
it holds the same sizes), runs the figures and prints the table. Nothing here runs at import time, and
Textual is imported only inside the driver processes (``python -m teller_tui.bench.startup``,
``python -m teller_tui.bench.keystroke``), never by the ``teller bench`` process itself. Figure modules import what they measure
inside ``run`` (the runner imports every figure to list it; one figure's dependencies, such
as the demo builder or the PostgreSQL driver, must not load, or be timed, for another).
"""

from __future__ import annotations

#: Figure modules in the order they run (and appear in the table).
FIGURES = ("startup", "lookup", "keystroke", "posting", "concurrency", "verify", "totals", "analytics", "bounded", "pg",
           "branches", "failover", "risk")
