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

Why one module of this size: it is one job, a catalogue of independent checks (one short
function per invariant, each a single query) run by one driver; splitting the catalogue
would only scatter the numbered list that RELIABILITY.md mirrors.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from teller_tui.common.errors import StorageError
from teller_tui.common.money import CURRENCIES, MAX_MINOR, currency as currency_info
from teller_tui.common.text import clean_text
from teller_tui.db.ddl import APPEND_ONLY_TABLES
from teller_tui.db.engine import verify_sqlite_pragmas
from teller_tui.ledger.accounts import BALANCE_RULES
from teller_tui.ledger.verify_sequence import check_sequence
from teller_tui.ledger.verify_content import ExpectedHead, check_content
from teller_tui.ledger.verify_links import check_links

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

#: Short titles, keyed like RELIABILITY.md ("S" is the Storage section, "A" the cross-check
#: with the audit trail in :mod:`teller_tui.ledger.verify_links`).
INVARIANTS: dict[str, str] = {
    "1": "every entry has at least two postings and balances to zero per currency",
    "2": "amounts are integers of minor units in a known currency",
    "3": "a customer wallet never goes below zero",
    "4": "a cash drawer or vault never pays out cash it does not hold",
    "5": "cached balances equal the sum of their postings and holds",
    "6": "trial balance is zero per currency, globally and per branch",
    "7": "postings and entries are append-only; an entry is reversed at most once, by its mirror",
    "8": "one entry per idempotency key, and its stored request matches its hash",
    "9": "a hold resolves exactly once, and never after it expired",
    "10": "multi-leg operations are atomic: no orphan posting, no entry without postings",
    "11": "frozen or closed wallets take no debits; a wallet closes only at zero",
    "12": "entry sequence numbers increase by one; no entry is dated before its predecessor",
    "13": "over/short postings carry a supervisor approval",
    "14": "no entry is dated into a business day that had already closed",
    "15": "every entry is exactly what its stored request asked for",
    "16": "entries are hash-chained per branch, and the chain matches its heads",
    "A": "the ledger and the audit trail agree: each money-moving record has its entry, and each entry its record",
    "S": "storage: SQLite pragmas, append-only triggers",
}

NOTES = {
    "11": "freezes are not recorded in the ledger, so debits while frozen are checked by the ledger at "
          "posting time only; closed accounts and wallet/ledger status agreement are checked here",
    "13": "drawer counts are not in the ledger: checked that every over_short entry carries an approval "
          "reference (meta.approval_id, or a non-empty meta.approver)",
}


@dataclass
class Violation:
    invariant: str
    problem: str
    count: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return INVARIANTS.get(self.invariant, self.invariant)


@dataclass
class VerifyReport:
    violations: list[Violation]
    stats: dict[str, int]
    seconds: float
    notes: dict[str, str] = field(default_factory=dict)
    checked: tuple[str, ...] = tuple(INVARIANTS)
    #: Wall time of each group of checks (``teller ledger verify --timings``, ``teller bench``).
    timings: dict[str, float] = field(default_factory=dict)

    def render_timings(self) -> str:
        return "\n".join(f"  time [{name}]: {seconds:.3f} s" for name, seconds in self.timings.items())

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def broken(self) -> list[str]:
        """Invariant keys with at least one violation, in order."""
        seen: list[str] = []
        for v in self.violations:
            if v.invariant not in seen:
                seen.append(v.invariant)
        return seen

    def summary(self) -> str:
        s = self.stats
        scope = (f"{s.get('entries', 0):,} entries, {s.get('postings', 0):,} postings, "
                 f"{s.get('accounts', 0):,} accounts, {s.get('holds', 0):,} holds")
        if self.ok:
            return f"ledger verify: OK, {len(self.checked)} checks hold over {scope} ({self.seconds:.1f} s)"
        return (f"ledger verify: FAILED, invariant(s) {', '.join(self.broken)} broken over {scope} "
                f"({self.seconds:.1f} s)")

    def render(self, *, notes: bool = True) -> str:
        lines = [self.summary()]
        for v in self.violations:
            lines.append(f"  [{v.invariant}] {v.title}: {v.problem} ({v.count} found)")
            # Samples quote database values (memos, references): through the one sanitizer.
            lines.extend(f"      {clean_text(sample)}" for sample in v.samples)
            if v.count > len(v.samples):
                lines.append(f"      … and {v.count - len(v.samples)} more")
        if notes:
            lines.extend(f"  note [{k}]: {text}" for k, text in self.notes.items())
        return "\n".join(lines)


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


class _Checker:
    def __init__(self, session: Session, samples: int) -> None:
        self.session = session
        self.conn: Connection = session.connection()
        self.dialect = self.conn.dialect.name
        self.samples = samples
        self.violations: list[Violation] = []
        if self.dialect == "sqlite":
            raw = self.conn.connection.dbapi_connection
            assert raw is not None
            raw.create_function("teller_sha256", 1, _sha256_hex, deterministic=True)

    # -- dialect helpers -------------------------------------------------------------------
    def sha(self, column: str) -> str:
        if self.dialect == "sqlite":
            return f"teller_sha256({column})"
        return f"encode(sha256(convert_to({column}, 'UTF8')), 'hex')"

    def not_int(self, column: str) -> str:
        """True when a stored amount is not an integer (SQLite's type affinity lets REAL in)."""
        return f"(typeof({column}) <> 'integer')" if self.dialect == "sqlite" else "(1 = 0)"

    def json_meta(self, column: str, key: str) -> str:
        if self.dialect == "sqlite":
            return f"json_extract({column}, '$.meta.{key}')"
        return f"(CAST({column} AS json) -> 'meta' ->> '{key}')"

    # -- running queries -------------------------------------------------------------------
    def rows(self, sql: str, params: dict[str, Any] | None = None) -> Iterable[Any]:
        result = self.conn.execution_options(stream_results=True).execute(text(sql), params or {})
        yield from result

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.conn.execute(text(sql), params or {}).scalar()

    def check(self, invariant: str, problem: str, sql: str, fmt: Callable[[Any], str],
              params: dict[str, Any] | None = None) -> Violation | None:
        """Run a query returning offending rows; record a violation if it returns any."""
        violation: Violation | None = None
        for row in self.rows(sql, params):
            if violation is None:
                violation = Violation(invariant, problem)
                self.violations.append(violation)
            violation.count += 1
            if len(violation.samples) < self.samples:
                violation.samples.append(fmt(row))
        return violation

    def put(self, invariant: str, problem: str, sample: str) -> None:
        """Count one offending row under (invariant, problem), keeping the first samples."""
        for v in self.violations:
            if v.invariant == invariant and v.problem == problem:
                break
        else:
            v = Violation(invariant, problem)
            self.violations.append(v)
        v.count += 1
        if len(v.samples) < self.samples:
            v.samples.append(sample)

    def tally(self, invariant: str, problem: str, count: int) -> None:
        """Count ``count`` more offending rows under (invariant, problem), without samples."""
        for v in self.violations:
            if v.invariant == invariant and v.problem == problem:
                break
        else:
            v = Violation(invariant, problem)
            self.violations.append(v)
        v.count += count

    def add(self, invariant: str, problem: str, samples: Sequence[str]) -> None:
        if samples:
            self.violations.append(Violation(invariant, problem, len(samples), list(samples[: self.samples])))


def _money(minor: Any, currency: str | None) -> str:
    try:
        exp = currency_info(currency or "").exponent
    except Exception:  # noqa: BLE001 - an unknown currency is itself reported elsewhere
        return f"{minor} (minor units) {currency}"
    if isinstance(minor, Decimal) and minor == minor.to_integral_value():
        minor = int(minor)  # PostgreSQL returns SUM(bigint) as numeric
    if type(minor) is not int:
        return f"{minor} (not whole minor units) {currency}"
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d} {currency}" if exp else f"{sign}{whole} {currency}"


#: Up to this many postings, the running balance of every account is checked entry by entry
#: (a window function); above it only when asked (``history=True``), as it is the slow part.
HISTORY_AUTO_LIMIT = 2_000_000


def verify_ledger(session: Session, *, samples: int = 10, integrity: bool = False,
                  history: bool | None = None, expected_heads: Iterable[ExpectedHead] = (),
                  workers: int | None = None, since_heads: Iterable[ExpectedHead] = ()) -> VerifyReport:
    """Check every invariant on the database behind ``session``; see the module docstring.

    ``integrity=True`` also runs SQLite's full ``PRAGMA integrity_check`` (slow on big files;
    ``quick_check`` is not run by default either, the crash tests do it). ``expected_heads``:
    branch chain heads kept outside the database (invariant 16, a rewritten tail). ``workers``:
    processes for the content and chain scan (default: one per CPU; 1 scans in this process).
    ``since_heads``: trusted heads (``--since-head``): 15 and 16 re-derive and re-hash only the
    entries after them (see :mod:`teller_tui.ledger.verify_content`).
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = [started]

    def timed(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - mark[0]
        mark[0] = now

    c = _Checker(session, samples)
    known = ", ".join(f"'{code}'" for code in sorted(CURRENCIES))
    stats = {
        "entries": int(c.scalar("SELECT COUNT(*) FROM journal_entry") or 0),
        "postings": int(c.scalar("SELECT COUNT(*) FROM posting") or 0),
        "accounts": int(c.scalar("SELECT COUNT(*) FROM ledger_account") or 0),
        "holds": int(c.scalar("SELECT COUNT(*) FROM ledger_hold") or 0),
    }
    timed("counts")
    _check_storage(c, integrity)
    timed("S, 7 storage")
    _check_entries(c, known)
    timed("1, 2, 10 entries")
    if history is None:
        history = stats["postings"] <= HISTORY_AUTO_LIMIT
    _check_accounts(c, known, history)
    timed("3, 4, 5, 11 accounts" + (" (history)" if history else ""))
    _check_trial_balance(c)
    timed("6 trial balance")
    check_sequence(c)
    _check_contents(c)
    timed("8, 12 sequence and keys")
    _check_closed_days(c)
    timed("14 closed days")
    _check_reversals(c)
    timed("7 reversals")
    _check_holds(c)
    timed("9 holds")
    _check_closed(c)
    timed("11, 13 closed and over/short")
    since = list(since_heads)
    scanned = check_content(session, c.put, expected_heads, tally=c.tally, samples=samples, workers=workers,
                            since=since)
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


# -- storage ---------------------------------------------------------------------------------
def _check_storage(c: _Checker, integrity: bool) -> None:
    if c.dialect == "sqlite":
        raw = c.conn.connection.dbapi_connection
        assert raw is not None
        got = {
            "journal_mode": raw.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": raw.execute("PRAGMA synchronous").fetchone()[0],
            "foreign_keys": raw.execute("PRAGMA foreign_keys").fetchone()[0],
            "busy_timeout": raw.execute("PRAGMA busy_timeout").fetchone()[0],
        }
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
def _check_entries(c: _Checker, known: str) -> None:
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
                f"{label}: {r.currency} postings sum to {_money(r.total, r.currency)} ({r.n} posting(s))")

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
def _check_accounts(c: _Checker, known: str, history: bool) -> None:
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
            note("5", f"{label}: cached debits/credits {_money(r.debits_posted, cur)} / "
                      f"{_money(r.credits_posted, cur)}, postings sum to {_money(dr, cur)} / {_money(cr, cur)}")
        if (r.debits_pending, r.credits_pending) != (dp, cp):
            note("5", f"{label}: cached pending debits/credits {_money(r.debits_pending, cur)} / "
                      f"{_money(r.credits_pending, cur)}, pending holds sum to {_money(dp, cur)} / {_money(cp, cur)}")
        want = BALANCE_RULES[r.kind]
        if (bool(r.dnec), bool(r.cned)) != want:
            note("3" if want[0] else "4", f"{label}: its balance-limit flag was switched off")
        # Judge the limits on what the postings say (a tampered cache is reported above).
        if want[0]:
            if maxbal is not None and maxbal > 0:
                flagged_running.append(("3", int(r.id), label, cur))
            elif dr + dp > cr:
                note("3", f"{label}: debits {_money(dr, cur)} + held {_money(dp, cur)} exceed credits "
                          f"{_money(cr, cur)}")
        if want[1]:
            if minbal is not None and minbal < 0:
                flagged_running.append(("4", int(r.id), label, cur))
            elif cr + cp > dr:
                note("4", f"{label}: paid out {_money(cr, cur)} + held {_money(cp, cur)} but took in "
                          f"{_money(dr, cur)}")
    for rest, what in ((p, "postings"), (h, "pending holds")):
        it = sums if what == "postings" else holds
        while rest is not None:
            note("10", f"{what} refer to account id {rest.account_id}, which does not exist")
            rest = next(it, None)
    for inv, account_id, label, cur in flagged_running:
        first = _first_overdraft(c, account_id, debit_limited=(inv == "3"))
        note(inv, f"{label}: balance went to {_money(first[1], cur)} at entry {first[0]}" if first
             else f"{label}: its running balance crossed zero")
    for inv in sorted(found, key=lambda k: (len(k), k)):
        c.violations.append(found[inv])


def _first_overdraft(c: _Checker, account_id: int, *, debit_limited: bool) -> tuple[str, int] | None:
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
def _check_trial_balance(c: _Checker) -> None:
    c.check("6", "the trial balance is not zero", """
        SELECT currency, SUM(debits_posted - credits_posted) AS total FROM ledger_account
        GROUP BY currency HAVING SUM(debits_posted - credits_posted) <> 0 ORDER BY currency""",
            lambda r: f"all branches: debits exceed credits by {_money(r.total, r.currency)}")
    c.check("6", "a branch's trial balance is not zero", """
        SELECT branch_code, currency, SUM(debits_posted - credits_posted) AS total FROM ledger_account
        GROUP BY branch_code, currency HAVING SUM(debits_posted - credits_posted) <> 0
        ORDER BY branch_code, currency""",
            lambda r: f"branch {r.branch_code}: debits exceed credits by {_money(r.total, r.currency)}")


# -- sequence, dates, idempotency, approvals, hold links (8, 9, 12, 13) ----------------------
def _check_closed_days(c: _Checker) -> None:
    c.check("14", "entries dated into a business day after it closed", """
        SELECT e.id, e.reference, e.business_date, e.posted_at, d.closed_at
        FROM journal_entry e JOIN business_day d
          ON d.branch_code = e.branch_code AND d.business_date = e.business_date
        WHERE d.status = 'closed' AND d.closed_at IS NOT NULL AND e.posted_at > d.closed_at
        ORDER BY e.seq""",
            lambda r: f"entry {r.id} {r.reference}: posted {r.posted_at}, dated {r.business_date}, "
                      f"a day closed at {r.closed_at}")


def _check_contents(c: _Checker) -> None:
    # One scan of the entries for what needs their content: the request hash, the approval
    # reference of over/short entries and the link to a posted hold.
    # The approval reference: meta.approval_id (an approvals-service id) or, as the drawer
    # service records it, meta.approver (the countersigning supervisor); empty is none.
    approval = (f"COALESCE({c.json_meta('request_json', 'approval_id')}, "
                f"NULLIF({c.json_meta('request_json', 'approver')}, ''))")
    rows = c.rows(f"""
        SELECT id, reference, kind, hold_id,
               CASE WHEN {c.sha('request_json')} = request_hash THEN 1 ELSE 0 END AS hash_ok,
               CASE WHEN kind <> 'over_short' OR {approval} IS NOT NULL THEN 1 ELSE 0 END AS approval_ok,
               CASE WHEN hold_id IS NULL OR EXISTS (SELECT 1 FROM ledger_hold h WHERE h.id = journal_entry.hold_id
                         AND h.status = 'posted' AND h.resolved_entry_id = journal_entry.id) THEN 1 ELSE 0 END AS hold_ok
        FROM journal_entry
        WHERE {c.sha('request_json')} <> request_hash OR (kind = 'over_short' AND {approval} IS NULL)
           OR (hold_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_hold h WHERE h.id = journal_entry.hold_id
                   AND h.status = 'posted' AND h.resolved_entry_id = journal_entry.id))
        ORDER BY id""")
    found: dict[str, Violation] = {}
    problems = {"8": "entries whose stored request does not match its hash (edited after posting)",
                "13": "over/short entries without a supervisor approval",
                "9": "entries that claim a hold which was not posted by them"}

    def put(inv: str, text: str) -> None:
        v = found.get(inv)
        if v is None:
            v = found[inv] = Violation(inv, problems[inv])
            c.violations.append(v)
        v.count += 1
        if len(v.samples) < c.samples:
            v.samples.append(text)

    for r in rows:
        label = f"entry {r.id} {r.reference}"
        if not r.hash_ok:
            put("8", f"{label}: request edited after posting")
        if not r.approval_ok:
            put("13", f"{label}: over/short posted without an approval (meta.approval_id / meta.approver)")
        if not r.hold_ok:
            put("9", f"{label}: posts hold {r.hold_id}, which is missing, not posted, or posted by another entry")

    c.check("8", "idempotency keys used by more than one entry", """
        SELECT idempotency_key, COUNT(*) AS n FROM journal_entry GROUP BY idempotency_key HAVING COUNT(*) > 1""",
            lambda r: f"key {r.idempotency_key!r} used by {r.n} entries")


# -- reversals (7) ----------------------------------------------------------------------------
def _check_reversals(c: _Checker) -> None:
    c.check("7", "an entry was reversed more than once", """
        SELECT reverses_entry_id, COUNT(*) AS n FROM journal_entry WHERE reverses_entry_id IS NOT NULL
        GROUP BY reverses_entry_id HAVING COUNT(*) > 1""",
            lambda r: f"entry {r.reverses_entry_id} has {r.n} reversals")
    c.check("7", "reversals that point at a missing entry, a reversal, or a later entry", """
        SELECT r.id, r.reference, r.reverses_entry_id, o.id AS oid, o.reverses_entry_id AS o_rev, o.seq AS oseq,
               r.seq AS rseq
        FROM journal_entry r LEFT JOIN journal_entry o ON o.id = r.reverses_entry_id
        WHERE r.reverses_entry_id IS NOT NULL
          AND (o.id IS NULL OR o.reverses_entry_id IS NOT NULL OR o.seq >= r.seq)
        ORDER BY r.id""",
            lambda r: f"entry {r.id} {r.reference} reverses entry {r.reverses_entry_id}: "
                      + ("missing" if r.oid is None else "itself a reversal" if r.o_rev is not None
                         else "posted later"))
    c.check("7", "reversals that do not mirror their original", """
        WITH pairs AS (SELECT id AS rid, reverses_entry_id AS oid FROM journal_entry
                       WHERE reverses_entry_id IS NOT NULL),
        legs AS (SELECT pairs.rid, p.account_id, p.currency, p.amount FROM pairs
                 JOIN posting p ON p.entry_id = pairs.rid
                 UNION ALL
                 SELECT pairs.rid, p.account_id, p.currency, p.amount FROM pairs
                 JOIN posting p ON p.entry_id = pairs.oid)
        SELECT DISTINCT rid FROM (SELECT rid FROM legs GROUP BY rid, account_id, currency
                                  HAVING SUM(amount) <> 0) AS bad ORDER BY rid""",
            lambda r: f"entry {r.rid} does not undo exactly the postings of the entry it reverses")


# -- holds (9) ----------------------------------------------------------------------------------
def _check_holds(c: _Checker) -> None:
    c.check("9", "holds whose resolution is inconsistent", """
        SELECT h.id, h.status, h.resolved_entry_id, h.resolved_at, h.expires_at, e.id AS eid, e.hold_id,
               e.posted_at
        FROM ledger_hold h LEFT JOIN journal_entry e ON e.id = h.resolved_entry_id
        WHERE (h.status = 'posted' AND (e.id IS NULL OR e.hold_id IS NULL OR e.hold_id <> h.id
                                        OR h.resolved_at IS NULL
                                        OR (h.expires_at IS NOT NULL AND e.posted_at >= h.expires_at)))
           OR (h.status = 'pending' AND (h.resolved_at IS NOT NULL OR h.resolved_entry_id IS NOT NULL))
           OR (h.status IN ('voided', 'expired') AND (h.resolved_at IS NULL OR h.resolved_entry_id IS NOT NULL))
           OR (h.status = 'expired' AND (h.expires_at IS NULL OR h.resolved_at < h.expires_at))
           OR h.status NOT IN ('pending', 'posted', 'voided', 'expired')
        ORDER BY h.id""", _hold_problem)
    c.check("9", "posted holds whose entry moved other amounts", """
        SELECT h.id, h.resolved_entry_id FROM ledger_hold h
        WHERE h.status = 'posted' AND h.resolved_entry_id IS NOT NULL AND (
            (SELECT COALESCE(SUM(p.amount), 0) FROM posting p WHERE p.entry_id = h.resolved_entry_id
             AND p.account_id = h.debit_account_id AND p.currency = h.currency) <> h.amount
         OR (SELECT COALESCE(SUM(p.amount), 0) FROM posting p WHERE p.entry_id = h.resolved_entry_id
             AND p.account_id = h.credit_account_id AND p.currency = h.currency) <> -h.amount)
        ORDER BY h.id""",
            lambda r: f"hold {r.id}: entry {r.resolved_entry_id} does not move exactly the held amount")
    c.check("9", "holds whose stored request does not match its hash", f"""
        SELECT id FROM ledger_hold WHERE {c.sha('request_json')} <> request_hash ORDER BY id""",
            lambda r: f"hold {r.id}: request edited after it was made")
    c.check("2", "holds with a non-integer amount", f"""
        SELECT id, amount FROM ledger_hold WHERE {c.not_int('amount')} ORDER BY id""",
            lambda r: f"hold {r.id}: amount {r.amount!r}")


def _hold_problem(r: Any) -> str:
    if r.status == "posted":
        if r.eid is None:
            return f"hold {r.id} is posted but its entry {r.resolved_entry_id} is missing"
        if r.hold_id != r.id:
            return f"hold {r.id} is posted by entry {r.eid}, which does not name it"
        if r.resolved_at is None:
            return f"hold {r.id} is posted but has no resolution time"
        return f"hold {r.id} was posted at {r.posted_at}, after it expired at {r.expires_at}"
    if r.status == "pending":
        return f"hold {r.id} is pending but was resolved (entry {r.resolved_entry_id}, at {r.resolved_at})"
    if r.status == "expired" and r.resolved_at is not None and r.expires_at is not None:
        if r.resolved_entry_id is None:
            return f"hold {r.id} expired at {r.resolved_at}, before its expiry time {r.expires_at}"
    return f"hold {r.id} is {r.status} with entry {r.resolved_entry_id} and resolution time {r.resolved_at}"


# -- closed and frozen (11) -----------------------------------------------------------------------
def _check_closed(c: _Checker) -> None:
    c.check("11", "closed accounts that are not at zero", """
        SELECT id, code, currency, debits_posted - credits_posted AS bal, debits_pending, credits_pending, closed_at
        FROM ledger_account WHERE status = 'closed'
          AND (debits_posted <> credits_posted OR debits_pending <> 0 OR credits_pending <> 0 OR closed_at IS NULL)
        ORDER BY id""",
            lambda r: f"account {r.code} is closed with balance {_money(r.bal, r.currency)}"
                      + (f", pending {r.debits_pending}/{r.credits_pending}" if r.debits_pending or r.credits_pending
                         else "") + ("" if r.closed_at else ", no closing time"))
    c.check("11", "postings to accounts after they were closed", """
        SELECT a.code, e.id, e.reference, e.posted_at, a.closed_at
        FROM ledger_account a JOIN posting p ON p.account_id = a.id JOIN journal_entry e ON e.id = p.entry_id
        WHERE a.status = 'closed' AND a.closed_at IS NOT NULL AND e.posted_at > a.closed_at
        ORDER BY e.id""",
            lambda r: f"entry {r.id} {r.reference} at {r.posted_at} posts to {r.code}, closed at {r.closed_at}")
    c.check("11", "wallets whose status differs from their ledger account (debits would not be refused)", """
        SELECT w.number, w.status, a.code, a.status AS astatus
        FROM wallet w JOIN ledger_account a ON a.id = w.account_id OR a.id = w.points_account_id
        WHERE w.status <> a.status ORDER BY w.id""",
            lambda r: f"wallet {r.number} is {r.status} but ledger account {r.code} is {r.astatus}")


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
