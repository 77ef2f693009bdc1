"""``teller ledger verify``: storage (S), entries (1, 2, 10), accounts (2, 3, 4, 5), trial balance (6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.common.errors import StorageError
from teller_tui.common.money import CURRENCIES, MAX_MINOR
from teller_tui.db.ddl import APPEND_ONLY_TABLES
from teller_tui.db.checks import read_sqlite_pragmas
from teller_tui.db.engine import verify_sqlite_pragmas
from teller_tui.ledger.accounts import BALANCE_RULES
from teller_tui.ledger.verify_base import Violation, money_text

if TYPE_CHECKING:
    from teller_tui.ledger.verify_base import Checker

__all__ = ["check_accounts", "check_entries", "check_storage", "check_trial_balance"]


# -- storage ---------------------------------------------------------------------------------
def check_storage(c: Checker, integrity: bool) -> None:
    if c.dialect == "sqlite":
        raw = c.conn.connection.dbapi_connection
        assert raw is not None
        got = read_sqlite_pragmas(raw)
        try:
            verify_sqlite_pragmas(got)
        except StorageError as exc:
            c.add("S", "unsafe SQLite settings", [str(exc)])
        triggers = {r[0] for r in c.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        wanted = [f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete")]
        missing = [name for name in wanted if name not in triggers]
        c.add("7", "append-only triggers are missing (the database was tampered with)",
              [f"trigger {name} missing" for name in missing])
        if integrity:
            bad = [r[0] for r in c.rows("PRAGMA integrity_check") if r[0] != "ok"]
            c.add("S", "PRAGMA integrity_check failed", bad)
    elif c.dialect == "postgresql":
        triggers = {r[0] for r in c.rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")}
        wanted = [f"{t}_{suffix}" for t in APPEND_ONLY_TABLES for suffix in ("append_only", "no_truncate")]
        missing = [name for name in wanted if name not in triggers]
        c.add("7", "append-only triggers are missing or disabled (the database was tampered with)",
              [f"trigger {name} missing" for name in missing])


# -- entries (1, 2, 10) ----------------------------------------------------------------------
def check_entries(c: Checker, known: str) -> None:
    # One pass over postings grouped by entry and currency (index order, no sort): unbalanced
    # groups, single-posting entries, non-integer or absurd amounts, unknown currencies.
    rows = c.rows(f"""
        SELECT entry_id, currency, total, n, nonint, huge FROM (
            SELECT entry_id, currency, SUM(amount) AS total, COUNT(*) AS n,
                   MAX(CASE WHEN {c.not_int('amount')} THEN 1 ELSE 0 END) AS nonint,
                   MAX(CASE WHEN amount > {MAX_MINOR} OR amount < -{MAX_MINOR} THEN 1 ELSE 0 END) AS huge
            FROM posting GROUP BY entry_id, currency) AS g
        WHERE total <> 0 OR nonint = 1 OR huge = 1 OR currency IS NULL OR currency NOT IN ({known})""")
    buckets: dict[str, Violation] = {}

    def put(inv: str, problem: str, text: str) -> None:
        v = buckets.get(problem)
        if v is None:
            v = buckets[problem] = Violation(inv, problem)
            c.violations.append(v)
        v.count += 1
        if len(v.samples) < c.samples:
            v.samples.append(text)

    for r in rows:
        label = f"entry {r.entry_id}"
        if r.nonint or r.huge or r.currency not in CURRENCIES:
            what = "a non-integer amount" if r.nonint else (
                "an amount beyond the maximum" if r.huge else f"unknown currency {r.currency!r}")
            put("2", "postings that are not integer minor units of a known currency", f"{label}: {what}")
        if r.n == 1 and r.total != 0:
            put("10", "entries with a single posting (a partial entry)", f"{label}: a single {r.currency} posting")
        if r.total != 0:
            put("1", "entries that do not balance",
                f"{label}: {r.currency} postings sum to {money_text(r.total, r.currency)} ({r.n} posting(s))")

    # Entries without postings, and postings whose entry is missing. Counting first keeps
    # the clean case to two index-only scans; the culprits are looked up only on a mismatch.
    c.check("10", "entries without postings (a partial entry)", """
        SELECT e.id, e.reference FROM journal_entry e
        WHERE NOT EXISTS (SELECT 1 FROM posting p WHERE p.entry_id = e.id) ORDER BY e.id""",
            lambda r: f"entry {r.id} {r.reference}: no postings")
    empty = next((v.count for v in c.violations if v.problem.startswith("entries without postings")), 0)
    with_postings = int(c.scalar("SELECT COUNT(DISTINCT entry_id) FROM posting") or 0)
    entries = int(c.scalar("SELECT COUNT(*) FROM journal_entry") or 0)
    if with_postings != entries - empty:
        c.check("10", "orphan postings (their entry does not exist)", """
            SELECT p.entry_id, COUNT(*) AS n FROM posting p
            WHERE NOT EXISTS (SELECT 1 FROM journal_entry e WHERE e.id = p.entry_id)
            GROUP BY p.entry_id ORDER BY p.entry_id""",
                lambda r: f"{r.n} posting(s) point to missing entry {r.entry_id}")


# -- accounts (2, 3, 4, 5) -------------------------------------------------------------------
def check_accounts(c: Checker, known: str, history: bool) -> None:
    """Merge three streams ordered by account id: accounts (cached totals), posting sums and
    pending-hold sums. With ``history`` the posting sums also carry the extremes of each
    account's running balance, entry by entry (a window function; slower)."""
    hint = " NOT INDEXED" if c.dialect == "sqlite" and not history else ""
    if history:
        posting_sql = """
            WITH pe AS (
                SELECT account_id, entry_id, SUM(amount) AS s,
                       SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS dr,
                       SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS cr,
                       MIN(currency) AS cmin, MAX(currency) AS cmax
                FROM posting GROUP BY account_id, entry_id
            ), run AS (
                SELECT account_id, dr, cr, cmin, cmax,
                       SUM(s) OVER (PARTITION BY account_id ORDER BY entry_id ROWS UNBOUNDED PRECEDING) AS bal
                FROM pe
            )
            SELECT account_id, SUM(dr) AS dr, SUM(cr) AS cr, MIN(bal) AS minbal, MAX(bal) AS maxbal,
                   MIN(cmin) AS cmin, MAX(cmax) AS cmax
            FROM run GROUP BY account_id ORDER BY account_id"""
    else:
        posting_sql = f"""
            SELECT account_id, SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS dr,
                   SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS cr,
                   NULL AS minbal, NULL AS maxbal, MIN(currency) AS cmin, MAX(currency) AS cmax
            FROM posting{hint} GROUP BY account_id ORDER BY account_id"""
    hold_sql = """
        SELECT account_id, SUM(dp) AS dp, SUM(cp) AS cp FROM (
            SELECT debit_account_id AS account_id, amount AS dp, 0 AS cp FROM ledger_hold WHERE status = 'pending'
            UNION ALL
            SELECT credit_account_id AS account_id, 0 AS dp, amount AS cp FROM ledger_hold WHERE status = 'pending'
        ) AS h GROUP BY account_id ORDER BY account_id"""
    account_sql = f"""
        SELECT id, code, kind, currency, status, debits_posted, credits_posted, debits_pending, credits_pending,
               debits_must_not_exceed_credits AS dnec, credits_must_not_exceed_debits AS cned,
               CASE WHEN {c.not_int('debits_posted')} OR {c.not_int('credits_posted')}
                      OR {c.not_int('debits_pending')} OR {c.not_int('credits_pending')} THEN 1 ELSE 0 END AS nonint
        FROM ledger_account ORDER BY id"""
    problems = {
        "2": "accounts with non-integer totals, an unknown currency or kind, or postings in another currency",
        "3": "wallets (or points) below zero, or with their limit switched off",
        "4": "drawers or vaults that paid out cash they did not hold, or with their limit switched off",
        "5": "cached balances that differ from their postings or pending holds",
        "10": "postings or holds on accounts that do not exist",
    }
    found: dict[str, Violation] = {}

    def note(inv: str, text: str) -> None:
        v = found.get(inv)
        if v is None:
            v = found[inv] = Violation(inv, problems[inv])
        v.count += 1
        if len(v.samples) < c.samples:
            v.samples.append(text)

    kinds = {k.value for k in BALANCE_RULES}
    sums = iter(c.rows(posting_sql))
    holds = iter(c.rows(hold_sql))
    p = next(sums, None)
    h = next(holds, None)
    flagged_running: list[tuple[str, int, str, str]] = []
    for r in c.rows(account_sql):
        while p is not None and p.account_id < r.id:
            note("10", f"postings refer to account id {p.account_id}, which does not exist")
            p = next(sums, None)
        while h is not None and h.account_id < r.id:
            note("10", f"pending holds refer to account id {h.account_id}, which does not exist")
            h = next(holds, None)
        dr = cr = 0
        minbal = maxbal = None
        cmin = cmax = None
        if p is not None and p.account_id == r.id:
            dr, cr, minbal, maxbal, cmin, cmax = int(p.dr), int(p.cr), p.minbal, p.maxbal, p.cmin, p.cmax
            p = next(sums, None)
        dp = cp = 0
        if h is not None and h.account_id == r.id:
            dp, cp = int(h.dp), int(h.cp)
            h = next(holds, None)
        cur = r.currency
        label = f"account {r.code} (id {r.id})"
        if r.nonint or cur not in CURRENCIES or r.kind not in kinds:
            note("2", f"{label}: kind {r.kind!r}, currency {cur!r}" + (", a total is not an integer" if r.nonint else ""))
            if r.nonint or r.kind not in kinds:
                continue
        if cmin is not None and (cmin != cur or cmax != cur):
            note("2", f"{label} holds {cur} but has postings in {sorted({cmin, cmax} - {cur})}")
        if (r.debits_posted, r.credits_posted) != (dr, cr):
            note("5", f"{label}: cached debits/credits {money_text(r.debits_posted, cur)} / "
                      f"{money_text(r.credits_posted, cur)}, postings sum to {money_text(dr, cur)} / {money_text(cr, cur)}")
        if (r.debits_pending, r.credits_pending) != (dp, cp):
            note("5", f"{label}: cached pending debits/credits {money_text(r.debits_pending, cur)} / "
                      f"{money_text(r.credits_pending, cur)}, pending holds sum to {money_text(dp, cur)} / {money_text(cp, cur)}")
        want = BALANCE_RULES[r.kind]
        if (bool(r.dnec), bool(r.cned)) != want:
            note("3" if want[0] else "4", f"{label}: its balance-limit flag was switched off")
        # Judge the limits on what the postings say (a tampered cache is reported above).
        if want[0]:
            if maxbal is not None and maxbal > 0:
                flagged_running.append(("3", int(r.id), label, cur))
            elif dr + dp > cr:
                note("3", f"{label}: debits {money_text(dr, cur)} + held {money_text(dp, cur)} exceed credits "
                          f"{money_text(cr, cur)}")
        if want[1]:
            if minbal is not None and minbal < 0:
                flagged_running.append(("4", int(r.id), label, cur))
            elif cr + cp > dr:
                note("4", f"{label}: paid out {money_text(cr, cur)} + held {money_text(cp, cur)} but took in "
                          f"{money_text(dr, cur)}")
    for rest, what in ((p, "postings"), (h, "pending holds")):
        it = sums if what == "postings" else holds
        while rest is not None:
            note("10", f"{what} refer to account id {rest.account_id}, which does not exist")
            rest = next(it, None)
    for inv, account_id, label, cur in flagged_running:
        first = _first_overdraft(c, account_id, debit_limited=(inv == "3"))
        note(inv, f"{label}: balance went to {money_text(first[1], cur)} at entry {first[0]}" if first
             else f"{label}: its running balance crossed zero")
    for inv in sorted(found, key=lambda k: (len(k), k)):
        c.violations.append(found[inv])


def _first_overdraft(c: Checker, account_id: int, *, debit_limited: bool) -> tuple[str, int] | None:
    cond = "bal > 0" if debit_limited else "bal < 0"
    for r in c.rows(f"""
            SELECT entry_id, bal, e.reference FROM (
                SELECT entry_id, SUM(s) OVER (ORDER BY entry_id ROWS UNBOUNDED PRECEDING) AS bal
                FROM (SELECT entry_id, SUM(amount) AS s FROM posting WHERE account_id = :aid
                      GROUP BY entry_id) AS pe) AS run
            LEFT JOIN journal_entry e ON e.id = run.entry_id
            WHERE {cond} ORDER BY entry_id LIMIT 1""", {"aid": account_id}):
        # Shown on the account's normal side: a wallet 0.50 below zero reads -0.50.
        return (f"{r.entry_id} {r.reference or ''}".rstrip(), -int(r.bal) if debit_limited else int(r.bal))
    return None


# -- trial balance (6) -----------------------------------------------------------------------
def check_trial_balance(c: Checker) -> None:
    c.check("6", "the trial balance is not zero", """
        SELECT currency, SUM(debits_posted - credits_posted) AS total FROM ledger_account
        GROUP BY currency HAVING SUM(debits_posted - credits_posted) <> 0 ORDER BY currency""",
            lambda r: f"all branches: debits exceed credits by {money_text(r.total, r.currency)}")
    c.check("6", "a branch's trial balance is not zero", """
        SELECT branch_code, currency, SUM(debits_posted - credits_posted) AS total FROM ledger_account
        GROUP BY branch_code, currency HAVING SUM(debits_posted - credits_posted) <> 0
        ORDER BY branch_code, currency""",
            lambda r: f"branch {r.branch_code}: debits exceed credits by {money_text(r.total, r.currency)}")
