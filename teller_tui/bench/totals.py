"""Trial balance and the home screen's totals over the big ledger, in the core.

* trial balance: ``teller_tui.ledger.trial_balance`` (per currency) and
  ``teller_tui.ledger.verify.trial_balance_rows`` (what ``teller ledger trial-balance`` prints),
  each in its own read transaction;
* home-screen totals: ``services.drawers.status(actor)``, what ``screens.home.day_summary``
  calls for the signed-in teller (business day, drawer state, today's transaction count).

p95 of repeated calls (after one warm-up call) against 50 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row, limit_row, median, percentile

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context

NAME = "totals"
TITLE = "trial balance and home-screen totals over the big ledger"


def _time(fn: Callable[[], Any], n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run(ctx: Context) -> list[Row]:
    from teller_tui.ledger import trial_balance
    from teller_tui.ledger.verify import trial_balance_rows

    data = ctx.ledger()
    services = data.services()
    actor = data.actor("teller1")
    n = 10 if ctx.opts.quick else 30
    postings = data.info.get("postings", ctx.opts.postings)

    def tb() -> None:
        with services.db.read() as s:
            totals = trial_balance(s)
            trial_balance_rows(s)
        if any(totals.values()):
            raise AssertionError(f"trial balance is not zero: {totals}")

    def home() -> None:
        status = services.drawers.status(actor)
        if status.state != "open":
            raise AssertionError(f"teller1's drawer is {status.state}")

    rows = []
    for label, fn in ((f"trial balance (per currency and per branch/kind), {postings:,} postings", tb),
                      (f"home-screen totals (drawers.status: day, drawer, today's count), {postings:,} postings",
                       home)):
        ms = _time(fn, n)
        row = limit_row(NAME, f"{label} (p95 of {n})", percentile(ms, 95), 50.0, unit="ms", p50_ms=median(ms))
        row.reference = f"p50 {median(ms):.2f} ms"
        rows.append(row)
    return rows
