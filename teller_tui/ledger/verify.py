"""Check every ledger invariant (RELIABILITY.md, "Ledger invariants" 1–16 and "Storage").

Invariants 15 (entries re-derived from their stored request) and 16 (the per-branch hash
chain) are one streaming pass in :mod:`teller_tui.ledger.verify_content`.

Each check is one set-based SQL query (``GROUP BY … HAVING``, window functions, joins of
aggregates against the cached totals) that returns only the offending rows, so memory stays
flat and ten million postings take seconds, not an ORM walk. Results stream: at most
``samples`` offending rows are kept per invariant, the rest are only counted.

Use it inside a read transaction (``Database.read()``) so every query sees one snapshot::

    with db.read() as session:
        report = verify_ledger(session)
    if not report.ok:
        print(report.render())

The catalogue of checks (one short function per invariant, each a single query) lives in
:mod:`~teller_tui.ledger.verify_checks`, :mod:`~teller_tui.ledger.verify_sequence` and
:mod:`~teller_tui.ledger.verify_rules`; the report and the checker in
:mod:`~teller_tui.ledger.verify_base`. This module runs them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from teller_tui.common.i18n import _
from teller_tui.common.money import CURRENCIES
from teller_tui.ledger.verify_base import INVARIANTS, NOTES, Checker, VerifyReport, Violation
from teller_tui.ledger.verify_checks import check_accounts, check_entries, check_storage, check_trial_balance
from teller_tui.ledger.cash_day import cash_day_mismatches
from teller_tui.ledger.usage import usage_mismatches
from teller_tui.ledger.verify_content import ExpectedHead, check_content
from teller_tui.ledger.verify_links import check_links
from teller_tui.ledger.verify_rules import check_closed, check_closed_days, check_contents, check_holds, check_reversals
from teller_tui.ledger.verify_sequence import check_sequence

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["HISTORY_AUTO_LIMIT", "INVARIANTS", "NOTES", "TrialBalanceRow", "VerifyReport", "Violation",
           "trial_balance_rows", "verify_ledger"]

#: Up to this many postings, the running balance of every account is checked entry by entry
#: (a window function); above it only when asked (``history=True``), as it is the slow part.
HISTORY_AUTO_LIMIT = 2_000_000


def verify_ledger(session: Session, *, samples: int = 10, integrity: bool = False,
                  history: bool | None = None, expected_heads: Iterable[ExpectedHead] = (),
                  workers: int | None = None, since_heads: Iterable[ExpectedHead] = (),
                  progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Check every invariant on the database behind ``session``; see the module docstring.

    ``integrity=True`` also runs SQLite's full ``PRAGMA integrity_check`` (slow on big files;
    ``quick_check`` is not run by default either, the crash tests do it). ``expected_heads``:
    branch chain heads kept outside the database (invariant 16, a rewritten tail). ``workers``:
    processes for the content and chain scan (default: one per CPU; 1 scans in this process).
    ``since_heads``: trusted heads (``--since-head``): 15 and 16 re-derive and re-hash only the
    entries after them (see :mod:`teller_tui.ledger.verify_content`). ``progress``: told a line as
    each group of checks ends (and as the content scan goes), for a long verify not to be silent.
    """
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = [started]

    def timed(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - mark[0]
        mark[0] = now
        if name != "counts":  # the counts are told as such, below
            say(_("checked {checks} in {seconds:.1f} s ({total:.0f} s so far)").format(
                checks=name, seconds=timings[name], total=now - started))

    c = Checker(session, samples)
    known = ", ".join(f"'{code}'" for code in sorted(CURRENCIES))
    stats = {
        "entries": int(c.scalar("SELECT COUNT(*) FROM journal_entry") or 0),
        "postings": int(c.scalar("SELECT COUNT(*) FROM posting") or 0),
        "accounts": int(c.scalar("SELECT COUNT(*) FROM ledger_account") or 0),
        "holds": int(c.scalar("SELECT COUNT(*) FROM ledger_hold") or 0),
    }
    timed("counts")
    say(_("{entries:,} entries, {postings:,} postings, {accounts:,} accounts to check").format(**stats))
    check_storage(c, integrity)
    timed("S, 7 storage")
    check_entries(c, known)
    timed("1, 2, 10 entries")
    if history is None:
        history = stats["postings"] <= HISTORY_AUTO_LIMIT
    check_accounts(c, known, history)
    timed("3, 4, 5, 11 accounts" + (" (history)" if history else ""))
    check_trial_balance(c)
    timed("6 trial balance")
    check_sequence(c)
    check_contents(c)
    timed("8, 12 sequence and keys")
    check_closed_days(c)
    timed("14 closed days")
    check_reversals(c)
    timed("7 reversals")
    usage_count, usage_samples = usage_mismatches(session, samples)  # 5: the usage days are a cache too
    c.add("5", "a wallet's usage day differs from its postings", usage_samples)
    if usage_count > len(usage_samples):
        c.violations[-1].count = usage_count
    timed("5 usage days")
    cash_count, cash_samples = cash_day_mismatches(session, samples)  # 5: so are the cash days
    c.add("5", "a teller's or customer's cash day differs from its postings", cash_samples)
    if cash_count > len(cash_samples):
        c.violations[-1].count = cash_count
    timed("5 cash days")
    check_holds(c)
    timed("9 holds")
    check_closed(c)
    timed("11, 13 closed and over/short")
    since = list(since_heads)
    scanned = check_content(session, c.put, expected_heads, tally=c.tally, samples=samples, workers=workers,
                            since=since, progress=lambda done, total: say(
                                _("content and chain: {done:,} of {total:,} entries re-derived and re-hashed")
                                .format(done=done, total=total)))
    timed("15, 16 content and chain")
    skipped = check_links(session, c.put)
    timed("A ledger/audit")

    notes = dict(NOTES)
    if since:
        notes["15/16"] = (f"incremental: {scanned:,} entries after the kept heads were re-derived and re-hashed; "
                          "the entries up to them are trusted (the heads file is kept off this host)")
    if skipped:
        notes["A"] = skipped
    if not history:
        notes["3/4"] = ("checked on current balances (posted + held); the running balance of each account "
                        "was not replayed: pass --history for that")
    return VerifyReport(violations=c.violations, stats=stats, seconds=time.perf_counter() - started,
                        notes=notes, timings=timings)


# -- trial balance rows (for ``teller ledger trial-balance``) ---------------------------------
@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    branch_code: str
    kind: str
    currency: str
    debits: int
    credits: int


def trial_balance_rows(session: Session, *, branch_code: str | None = None) -> list[TrialBalanceRow]:
    """Posted debits and credits per branch, account kind and currency (from the cached totals)."""
    sql = """SELECT branch_code, kind, currency, SUM(debits_posted) AS dr, SUM(credits_posted) AS cr
             FROM ledger_account {where} GROUP BY branch_code, kind, currency ORDER BY branch_code, kind, currency"""
    where = "WHERE branch_code = :b" if branch_code else ""
    rows = session.connection().execute(text(sql.format(where=where)), {"b": branch_code} if branch_code else {})
    return [TrialBalanceRow(r.branch_code, r.kind, r.currency, int(r.dr or 0), int(r.cr or 0)) for r in rows]
