"""A month's promotion report (``teller report promotion --by teller``) over the big ledger.

The ledger data set's wallets were all opened on one day before its history; for this figure
their ``opened_on`` is spread over the history's business days first (wallet id modulo the days),
so the month has openings whose activation the report must find. Then the report for the last
30 business dates of the history runs ``n`` times (after one warm-up): median against 2 s.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

from teller_tui.auth.staff import system_actor
from teller_tui.bench.runner import Row, limit_row, median

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context

NAME = "analytics"
TITLE = "a month's promotion report by teller over the big ledger"


def run(ctx: Context) -> list[Row]:
    from sqlalchemy import text

    data = ctx.ledger()
    services = data.services()
    postings = data.info.get("postings", ctx.opts.postings)
    with services.db.write() as s:
        first, last = s.execute(text("SELECT min(business_date), max(business_date) FROM journal_entry "
                                     "WHERE kind IN ('cash_in', 'cash_out', 'transfer')")).one()
        first, last = _as_date(first), _as_date(last)
        days = max(1, (last - first).days + 1)
        s.execute(text("UPDATE wallet SET opened_on = :d0"), {"d0": first})
        if services.db.dialect == "sqlite":
            s.execute(text("UPDATE wallet SET opened_on = date(:d0, '+' || (id % :n) || ' days')"),
                      {"d0": first.isoformat(), "n": days})
    start = max(first, last - timedelta(days=29))
    services.analytics.promotion(system_actor(services.settings), start, last, "teller")  # warm-up
    n = 3 if ctx.opts.quick else 5
    seconds = []
    report = None
    for _ in range(n):
        t = time.perf_counter()
        report = services.analytics.promotion(system_actor(services.settings), start, last, "teller")
        seconds.append(time.perf_counter() - t)
    assert report is not None
    row = limit_row(NAME, f"promotion report {start}..{last} by teller, {postings:,} postings (median of {n})",
                    median(seconds), 2.0, unit="s", fmt=lambda v: f"{v:,.2f} s", opened=report.total.m.opened,
                    txns=report.total.m.txns)
    row.reference = f"{report.total.m.opened:,} wallets opened, {report.total.m.txns:,} transactions in the month"
    return [row]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
