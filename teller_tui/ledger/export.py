"""Exports of the journal: CSV (one row per posting) and a beancount ledger.

Both stream: rows are read in storage order and written as they come, so memory does not
grow with the number of postings (only with the number of accounts, for their names).

The beancount file passes ``bean-check`` and shows the app's balances: every account is
opened (dated at its opening, or its first posting if that is earlier on the business
calendar), each journal entry is one transaction (date = business date, narration = memo,
metadata ``ref``/``seq``/``kind``), amounts are decimals with the currency's exponent, and
a ``balance`` assertion per open account (the cached balance) closes the file, so
bean-check itself proves that the export and the app agree.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import text

from teller_tui.common.clock import local_date
from teller_tui.common.money import CURRENCIES
from teller_tui.common.text import clean_text
from teller_tui.ledger.accounts import AccountKind

if TYPE_CHECKING:
    from sqlmodel import Session

#: beancount root and fixed sub-path per account kind; the code's own parts follow.
BEANCOUNT_ROOTS: dict[str, tuple[str, ...]] = {
    AccountKind.WALLET.value: ("Liabilities", "Wallets"),
    AccountKind.POINTS.value: ("Liabilities", "Points"),
    AccountKind.DRAWER.value: ("Assets", "Cash", "Drawer"),
    AccountKind.VAULT.value: ("Assets", "Cash", "Vault"),
    AccountKind.SETTLEMENT.value: ("Assets", "Settlement"),
    AccountKind.INCOME.value: ("Income",),
    AccountKind.EXPENSE.value: ("Expenses",),
    AccountKind.OVER_SHORT.value: ("Income", "OverShort"),
    AccountKind.POINTS_POOL.value: ("Equity", "PointsPool"),
    AccountKind.EQUITY.value: ("Equity", "Opening"),
}
_PREFIXED = {AccountKind.WALLET.value: "W", AccountKind.POINTS.value: "W"}
_BAD_CHARS = re.compile(r"[^A-Za-z0-9-]+")


def bean_component(text: str) -> str:
    """A valid beancount account component: ASCII letters, digits and '-', starting with a
    capital letter or a digit ("fees" -> "Fees", "t-01" -> "T-01", "营业部" -> "X")."""
    out = _BAD_CHARS.sub("-", text).strip("-")
    out = re.sub(r"-{2,}", "-", out)
    if not out:
        return "X"
    if out[0].isdigit() or out[0].isupper():
        return out
    if out[0].isalpha():
        return out[0].upper() + out[1:]
    return "X" + out


def beancount_account(kind: str, code: str) -> str:
    """Map a ledger account to a beancount account name (see :data:`BEANCOUNT_ROOTS`)."""
    parts = code.split(":")
    if parts and parts[0] == kind:
        parts = parts[1:]
    root = BEANCOUNT_ROOTS.get(kind, ("Equity", "Other", bean_component(kind)))
    prefix = _PREFIXED.get(kind, "")
    comps = [bean_component(prefix + p if i == 0 and prefix else p) for i, p in enumerate(parts)] or ["Main"]
    return ":".join((*root, *comps))


def _text(value: str) -> str:
    """User text inside a beancount string: no control characters, quotes or backslashes."""
    return clean_text(value).replace("\\", "/").replace('"', "'")


def _decimal(minor: int, currency: str) -> str:
    exp = CURRENCIES[currency].exponent if currency in CURRENCIES else 0
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


def _as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    bean: str  # the beancount account name
    code: str  # the ledger account code
    kind: str
    currency: str
    status: str
    name: str
    opened: date
    closed: date | None
    balance: int  # debits - credits, posted (the app's cached figure)


def _accounts(session: Session) -> dict[int, _Account]:
    """Every account with a unique beancount name (a suffix resolves sanitising collisions)."""
    conn = session.connection()
    first_use: dict[int, date] = {}
    last_use: dict[int, date] = {}
    # Entries are dated monotonically (invariant 12), so an account's first and last entries
    # by id carry its first and last business dates; MIN/MAX(entry_id) are index-only.
    for row in conn.execute(text("""
            SELECT f.account_id, e1.business_date AS first_date, e2.business_date AS last_date
            FROM (SELECT account_id, MIN(entry_id) AS first_id, MAX(entry_id) AS last_id
                  FROM posting GROUP BY account_id) AS f
            JOIN journal_entry e1 ON e1.id = f.first_id JOIN journal_entry e2 ON e2.id = f.last_id""")):
        first_use[row.account_id] = _as_date(row.first_date)
        last_use[row.account_id] = _as_date(row.last_date)
    out: dict[int, _Account] = {}
    used: set[str] = set()
    for r in conn.execute(text("""
            SELECT id, code, name, kind, currency, status, opened_at, closed_at, debits_posted - credits_posted AS bal
            FROM ledger_account ORDER BY id""")):
        name = beancount_account(r.kind, r.code)
        if name in used:
            name = f"{name}-{r.id}"
        used.add(name)
        opened = local_date(_as_utc(r.opened_at))
        if r.id in first_use:
            opened = min(opened, first_use[r.id])
        closed = None
        if r.status == "closed" and r.closed_at is not None:
            closed = local_date(_as_utc(r.closed_at))
            if r.id in last_use:
                closed = max(closed, last_use[r.id])
            closed = max(closed, opened) + timedelta(days=1)
        out[r.id] = _Account(r.id, name, r.code, r.kind, r.currency, r.status, r.name, opened, closed, int(r.bal))
    return out


def _entry_rows(session: Session) -> Iterator[Any]:
    conn = session.connection().execution_options(stream_results=True)
    yield from conn.execute(text("""
        SELECT p.entry_id, p.account_id, p.currency, p.amount, e.seq, e.reference, e.kind, e.memo,
               e.business_date, e.posted_at, e.terminal_id, e.branch_code, r.reference AS reverses
        FROM posting p JOIN journal_entry e ON e.id = p.entry_id
        LEFT JOIN journal_entry r ON r.id = e.reverses_entry_id
        ORDER BY p.entry_id, p.id"""))


# -- beancount -------------------------------------------------------------------------------
def export_beancount(session: Session, out: TextIO, *, balances: bool = True, title: str = "Teller ledger") -> int:
    """Write the whole journal as a beancount file. Returns the number of transactions."""
    accounts = _accounts(session)
    currencies = sorted({a.currency for a in accounts.values()} | {"PTS"})
    start = min((a.opened for a in accounts.values()), default=date(2000, 1, 1))
    out.write(f'option "title" "{_text(title)}"\n')
    out.write('option "operating_currency" "CNY"\n\n')
    for code in currencies:
        info = CURRENCIES.get(code)
        label = "reward points" if code == "PTS" else code
        out.write(f'{start.isoformat()} commodity {code}\n  name: "{label}"\n')
        if info is not None:
            out.write(f"  precision: {info.exponent}\n")
    out.write("\n")
    for acct in accounts.values():
        out.write(f'{acct.opened.isoformat()} open {acct.bean} {acct.currency}\n'
                  f'  ledger_code: "{_text(acct.code)}"\n')
    out.write("\n")

    count = 0
    last_date = start
    current: int | None = None
    lines: list[str] = []

    def flush() -> None:
        nonlocal count
        if lines:
            out.write("\n".join(lines))
            out.write("\n\n")
            count += 1
            lines.clear()

    for row in _entry_rows(session):
        if row.entry_id != current:
            flush()
            current = row.entry_id
            day = _as_date(row.business_date)
            last_date = max(last_date, day)
            lines.append(f'{day.isoformat()} * "{_text(row.memo) or _text(row.kind)}"')
            lines.append(f'  ref: "{_text(row.reference)}"')
            lines.append(f"  seq: {int(row.seq)}")
            lines.append(f'  kind: "{_text(row.kind)}"')
            lines.append(f'  terminal: "{_text(row.terminal_id)}"')
            if row.reverses:
                lines.append(f'  reverses: "{_text(row.reverses)}"')
        acct = accounts[row.account_id]
        lines.append(f"  {acct.bean}  {_decimal(row.amount, row.currency)} {row.currency}")
    flush()

    if balances:
        when = (last_date + timedelta(days=1)).isoformat()
        for acct in accounts.values():
            if acct.closed is None:
                # "~ 0" makes the assertion exact (beancount's default tolerance is one unit
                # of the last digit, which would let a one-fen difference through).
                zero = _decimal(0, acct.currency)
                out.write(f"{when} balance {acct.bean}  {_decimal(acct.balance, acct.currency)} ~ {zero} "
                          f"{acct.currency}\n")
    closed = [a for a in accounts.values() if a.closed is not None]
    if closed:
        out.write("\n")
        for acct in closed:
            out.write(f"{acct.closed.isoformat()} close {acct.bean}\n")  # type: ignore[union-attr]
    return count


# -- CSV ----------------------------------------------------------------------------------------
CSV_COLUMNS = ("seq", "reference", "business_date", "posted_at_utc", "entry_kind", "account", "account_kind",
               "currency", "debit", "credit", "amount", "memo", "reverses", "terminal", "branch")


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas in user text (CSV injection)."""
    text = clean_text(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_csv(session: Session, out: TextIO) -> int:
    """One row per posting, in entry order. Returns the number of rows written."""
    codes = {r.id: (r.code, r.kind) for r in session.connection().execute(
        text("SELECT id, code, kind FROM ledger_account"))}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for row in _entry_rows(session):
        code, kind = codes.get(row.account_id, (f"#{row.account_id}", ""))
        amount = int(row.amount)
        posted = _as_utc(row.posted_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        writer.writerow((
            row.seq, row.reference, _as_date(row.business_date).isoformat(), posted, row.kind, code, kind,
            row.currency, _decimal(amount, row.currency) if amount > 0 else "",
            _decimal(-amount, row.currency) if amount < 0 else "", _decimal(amount, row.currency),
            _cell(row.memo), row.reverses or "", _cell(row.terminal_id), _cell(row.branch_code),
        ))
        n += 1
    return n
