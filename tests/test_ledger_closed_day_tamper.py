"""Invariant 14 in `teller ledger verify`: an entry dated into a business day after it closed.

The posting path refuses it (tests/test_business_dates.py); this is the verifier's side: a day
whose close is moved back before entries dated in it (by hand, in the database) is found, and the
entry named. Negative control: the same books before the edit pass.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from desk_harness import desk  # noqa: F401  (the desk fixture)
from test_ledger_audit_links import books, report_for, text_of
from test_ledger_chain import tampered


def test_entry_dated_into_a_closed_day_is_found(books: Path, tmp_path: Path) -> None:  # noqa: F811
    assert report_for(books).ok
    con = sqlite3.connect(books)
    first_at, = con.execute("SELECT MIN(posted_at) FROM journal_entry").fetchone()
    last_date, = con.execute("SELECT business_date FROM journal_entry ORDER BY seq DESC LIMIT 1").fetchone()
    # the report shows the first entries it finds: name the first one dated into that day
    last_id, last_ref = con.execute("SELECT id, reference FROM journal_entry WHERE business_date = ? "
                                    "ORDER BY seq LIMIT 1", (last_date,)).fetchone()
    con.close()
    closed = (datetime.fromisoformat(first_at) - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    path = tampered(books, tmp_path, f"UPDATE business_day SET status = 'closed', closed_at = '{closed}' "
                                     f"WHERE business_date = '{last_date}'")
    report = report_for(path)
    assert "14" in report.broken, report.render()
    assert f"entry {last_id} {last_ref}" in text_of(report, "14")
