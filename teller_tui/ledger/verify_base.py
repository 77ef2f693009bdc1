"""What ``teller ledger verify`` reports and the checker its checks run on.

:class:`Checker` runs one set-based query per check (dialect helpers for SQLite and PostgreSQL)
and keeps at most ``samples`` offending rows per problem; :class:`VerifyReport` is the result.
The checks themselves: :mod:`teller_tui.ledger.verify_checks` (storage, entries, accounts,
trial balance), :mod:`teller_tui.ledger.verify_sequence` (numbers and dates per branch),
:mod:`teller_tui.ledger.verify_rules` (contents, days, reversals, holds, closed accounts),
:mod:`teller_tui.ledger.verify_content` (hash chains) and :mod:`teller_tui.ledger.verify_links`
(the audit trail); :func:`teller_tui.ledger.verify.verify_ledger` runs them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from teller_tui.common.money import currency as currency_info
from teller_tui.common.text import clean_text

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
    "12": "each branch numbers its entries 1, 2, 3… with no gap; no entry is dated before its branch's predecessor",
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


class Checker:
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


def money_text(minor: Any, currency: str | None) -> str:
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


