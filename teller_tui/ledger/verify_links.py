"""The ledger and the audit trail agree (``teller ledger verify``, check "A").

Every service that moves money writes its entries and its audit record in one transaction, the
record naming each entry it wrote: ``detail.entries`` = [{reference, kind, amount (minor units),
currency, actor_id}] (:mod:`teller_tui.ledger.facts`). So, in both directions:

* every money-moving audit record's entries exist and are what the record says (same reference,
  kind, amount, currency and actor);
* every entry has an audit record naming it. A forged entry appended with a recomputed hash
  chain has none; a deleted entry leaves its record behind; an edited amount disagrees.

Records written before entries were named (older releases) are matched the older way: the
counter, kiosk, linked-account, vault and dispute records carry ``detail.reference`` (``ref`` for
linked accounts) and ``detail.amount`` (major units as text, or minor units for the vault), and
that check still runs on every such record. The approval, drawer, reward and forfeit records of
that time named no entry, so their entries cannot be checked: the migration that introduced
``entries`` (0008) appended one ``ledger_audit_links`` audit record naming the last entry then
(``entries_checked_after_seq``). Entries up to it are held to the older rule (the kinds above
must have their record); entries after it, of every kind, must have theirs. The record is in the
audit chain, so the cut-over cannot be moved without breaking it; only the first one counts.
History loaded in bulk without audit records (``teller demo``, ``teller bench``) is attested by a
``demo_build``/``bench_load`` record (``history_until_seq``): entries up to it are not checked.
A database without staff (the ledger used on its own, without the services) is not checked.

Each direction is one set-based query (JSON read by SQLite's ``json_each``/``json_extract`` or
PostgreSQL's ``jsonb``); only offending rows come back to Python.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from teller_tui.common.money import CURRENCIES

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

__all__ = ["AUDITED_KINDS", "CUTOVER_ACTION", "MONEY_ACTIONS", "check_links"]

Put = Callable[[str, str, str], None]

#: Entry kind -> the audit actions of older releases that named such an entry by ``reference``.
AUDITED_KINDS: dict[str, tuple[str, ...]] = {
    "cash_in": ("cash_in",), "cash_out": ("cash_out",), "transfer": ("transfer", "kiosk_transfer"),
    "reversal": ("reversal",), "linked_top_up": ("linked_top_up",), "linked_withdraw": ("linked_withdraw",),
    "vault_receive": ("vault_receive",), "vault_transfer": ("vault_transfer",),
    "dispute_correction": ("case_correction",),
}
#: Every audit action that may move money, and so names its entries (``detail.entries``).
MONEY_ACTIONS: tuple[str, ...] = tuple(sorted({a for acts in AUDITED_KINDS.values() for a in acts} | {
    "approval_approve", "drawer_open", "drawer_close", "drawer_handover_in", "drawer_sweep", "customer_onboard", "reward_first_use",
    "wallet_close"}))
#: Audit actions that attest bulk-loaded history (``detail.history_until_seq``).
HISTORY_ACTIONS = ("demo_build", "bench_load")
#: The migration's cut-over record (``detail.entries_checked_after_seq``).
CUTOVER_ACTION = "ledger_audit_links"

PROBLEM_NO_ENTRY = "money-moving audit records whose entry is missing or differs (reference, amount, actor)"
PROBLEM_NO_RECORD = "entries without the audit record their service writes"
NOTE_NO_AUDIT = "no staff (the ledger used without the services): ledger/audit cross-check skipped"
NOTE_CUTOVER = ("entries up to seq {seq} predate audit records naming every entry: of those, only counter, kiosk, "
                "linked-account, vault and dispute entries are matched with their records")


def _in(values: Any) -> str:
    return ", ".join(f"'{v}'" for v in sorted(set(values)))


class _Sql:
    """The dialect's spelling of JSON reads and null-safe comparison.

    ``guarded``: SQLite reads a record's detail only if ``json_valid`` (twice the parsing; used
    only after the fast pass met a detail that is not JSON, which the audit chain would flag)."""

    def __init__(self, conn: Connection, *, guarded: bool = False) -> None:
        self.pg = conn.dialect.name == "postgresql"
        self.doc = "CAST(r.detail_json AS jsonb)" if self.pg else \
            "(CASE WHEN json_valid(r.detail_json) THEN r.detail_json END)" if guarded else "r.detail_json"
        # Records of the older form (no ``entries``), found without parsing the JSON: canonical JSON
        # (sorted keys, no spaces) spells the key this way only as a key.
        # Ends a subquery so that it is computed once per row, not folded into the outer WHERE
        # (which would parse the JSON again for every use of a column).
        self.fence = "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"
        self.older_only = "strpos(r.detail_json, '\"entries\":') = 0" if self.pg else \
            "instr(r.detail_json, '\"entries\":') = 0"

    def key(self, doc: str, key: str) -> str:
        """A top-level value of ``doc`` as text (NULL when absent)."""
        return f"({doc} ->> '{key}')" if self.pg else f"CAST(json_extract({doc}, '$.{key}') AS TEXT)"

    def differs(self, a: str, b: str) -> str:
        return f"({a} IS DISTINCT FROM {b})" if self.pg else f"({a} IS NOT {b})"

    def facts_from(self) -> str:
        """``audit_record r`` joined with its ``entries`` (one row per named entry, ``j``)."""
        if self.pg:
            return (f"audit_record r CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN "
                    f"jsonb_typeof({self.doc} -> 'entries') = 'array' THEN {self.doc} -> 'entries' "
                    f"ELSE '[]'::jsonb END) AS j(value)")
        return f"audit_record r, json_each(COALESCE({self.doc}, '{{}}'), '$.entries') AS j"

    def fact(self, key: str) -> str:
        """One field of the named entry ``j`` as text (NULL unless ``j`` is an object)."""
        if self.pg:
            return f"(CASE WHEN jsonb_typeof(j.value) = 'object' THEN j.value ->> '{key}' END)"
        return f"(CASE WHEN j.type = 'object' THEN CAST(json_extract(j.value, '$.{key}') AS TEXT) END)"

    def major(self, minor: str) -> str:
        """Whole minor units (a number or its text) as major-unit text with two decimals, the form
        of the records' ``amount`` (NULL if it is not a whole number)."""
        if self.pg:
            return (f"(CASE WHEN CAST({minor} AS TEXT) ~ '^[0-9]+$' THEN "
                    f"CAST(CAST({minor} AS BIGINT) / 100 AS TEXT) || '.' || "
                    f"lpad(CAST(CAST({minor} AS BIGINT) % 100 AS TEXT), 2, '0') END)")
        # (|| binds tighter than / in SQLite.)
        return f"((CAST({minor} AS INTEGER) / 100) || '.' || substr('0' || (CAST({minor} AS INTEGER) % 100), -2))"


_ENTRY_SUMS = """(SELECT SUM(p.amount) FROM posting p WHERE p.entry_id = e.id AND p.amount > 0) AS eamount,
                 (SELECT SUM(p.amount) FROM posting p JOIN ledger_account a ON a.id = p.account_id
                  WHERE p.entry_id = e.id AND p.amount > 0 AND substr(a.code, 1, 12) <> 'interbranch:') AS eclient,
                 (SELECT MIN(p.currency) FROM posting p WHERE p.entry_id = e.id) AS ecur"""


def _minor(amount: Any, currency: str) -> int | None:
    """An older record's amount in minor units: an int is minor units, text is major units."""
    if isinstance(amount, str) and amount.lstrip("-").isdigit() and "." not in amount:
        return int(amount)  # read back as text: the vault's minor units
    try:
        exponent = CURRENCIES[currency].exponent if currency in CURRENCIES else 2
        return int(Decimal(str(amount)).scaleb(exponent))
    except (InvalidOperation, ValueError):
        return None


def _scalar(conn: Connection, sql: str) -> int:
    value = conn.execute(text(sql)).scalar()
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def check_links(session: Session, put: Put) -> str | None:
    """Run the cross-check; returns a note when it was skipped or limited."""
    conn = session.connection()
    if conn.execute(text("SELECT 1 FROM staff LIMIT 1")).first() is None:
        return NOTE_NO_AUDIT
    found: list[tuple[str, str, str]] = []
    try:  # the last check: on PostgreSQL a detail that is not JSON ends the (read-only) transaction
        note = _run(conn, _Sql(conn), lambda *a: found.append(a))
    except DBAPIError as exc:
        if "json" not in str(exc).lower():
            raise
        found.clear()
        if conn.dialect.name == "postgresql":
            put("A", PROBLEM_NO_ENTRY, "an audit record's detail is not JSON: run `teller audit verify`")
            return None
        note = _run(conn, _Sql(conn, guarded=True), lambda *a: found.append(a))
    for args in found:
        put(*args)
    return note


def _run(conn: Connection, q: _Sql, put: Put) -> str | None:
    history = _scalar(conn, f"SELECT MAX(CAST({q.key(q.doc, 'history_until_seq')} AS BIGINT)) FROM audit_record r "
                            f"WHERE r.action IN ({_in(HISTORY_ACTIONS)}) AND r.outcome = 'ok'")
    cutover = _scalar(conn, f"SELECT CAST({q.key(q.doc, 'entries_checked_after_seq')} AS BIGINT) FROM audit_record r "
                            f"WHERE r.action = '{CUTOVER_ACTION}' AND r.outcome = 'ok' ORDER BY r.seq LIMIT 1")
    _older_records(conn, q, put)
    _named_entries(conn, q, put)
    _entries_without_record(conn, q, put, history, cutover)
    return NOTE_CUTOVER.format(seq=cutover) if cutover > history else None


def _older_records(conn: Connection, q: _Sql, put: Put) -> None:
    """Records of the older form, naming their entry by ``reference``/``ref`` and ``amount`` only:
    the entry exists, of the record's kind, by the record's actor, moving the record's amount."""
    ref = f"COALESCE({q.key(q.doc, 'reference')}, {q.key(q.doc, 'ref')})"
    pairs = " OR ".join(f"(x.ekind = '{kind}' AND x.action IN ({_in(acts)}))" for kind, acts in AUDITED_KINDS.items())
    rows = conn.execution_options(stream_results=True).execute(text(f"""
        SELECT * FROM (
            SELECT r.seq AS rseq, r.action AS action, r.actor_id AS ractor, {ref} AS ref,
                   {q.key(q.doc, 'amount')} AS ramount, {q.key(q.doc, 'currency')} AS rcur,
                   e.id AS eid, e.kind AS ekind, e.actor_id AS eactor, {_ENTRY_SUMS}
            FROM audit_record r LEFT JOIN journal_entry e ON e.reference = {ref}
            WHERE r.action IN ({_in(a for acts in AUDITED_KINDS.values() for a in acts)}) AND r.outcome = 'ok'
              AND {q.older_only} {q.fence}) x
        WHERE x.ref IS NULL OR x.eid IS NULL OR NOT ({pairs}) OR {q.differs('x.eactor', 'x.ractor')}
           OR x.ramount IS NULL OR (x.ramount <> CAST(x.eamount AS TEXT) AND x.ramount <> {q.major('x.eamount')})
        ORDER BY x.rseq"""))
    for r in rows:
        label = f"audit record {r.rseq} ({r.action})"
        if r.ref is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: names no entry reference")
            continue
        if r.eid is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: entry {r.ref} is missing")
            continue
        diffs = []
        if r.action not in AUDITED_KINDS.get(r.ekind, ()):
            diffs.append(f"the entry is a {r.ekind}")
        if r.eactor != r.ractor:
            diffs.append(f"the entry's actor is {r.eactor}, the record's {r.ractor}")
        amount = _minor(r.ramount, str(r.rcur or r.ecur or "CNY")) if r.ramount is not None else None
        if amount is None or abs(amount) != int(r.eamount or 0):
            diffs.append(f"the entry moves {r.eamount} (minor units), the record says {r.ramount!r}")
        if diffs:
            put("A", PROBLEM_NO_ENTRY, f"{label}: entry {r.eid} {r.ref}: " + "; ".join(diffs))


def _named_entries(conn: Connection, q: _Sql, put: Put) -> None:
    """Each entry a record names (``detail.entries``) exists and is exactly what the record says."""
    rows = conn.execution_options(stream_results=True).execute(text(f"""
        SELECT * FROM (
            SELECT r.seq AS rseq, r.action AS action, {q.fact('reference')} AS ref, {q.fact('kind')} AS fkind,
                   {q.fact('amount')} AS famount, {q.fact('currency')} AS fcur, {q.fact('actor_id')} AS factor,
                   {q.key(q.doc, 'amount')} AS ramount,
                   e.id AS eid, e.kind AS ekind, CAST(e.actor_id AS TEXT) AS eactor, {_ENTRY_SUMS}
            FROM {q.facts_from()} LEFT JOIN journal_entry e ON e.reference = {q.fact('reference')}
            WHERE r.action IN ({_in(MONEY_ACTIONS)}) AND r.outcome = 'ok' {q.fence}) x
        WHERE x.ref IS NULL OR x.eid IS NULL OR {q.differs('x.ekind', 'x.fkind')}
           OR {q.differs('CAST(x.eamount AS TEXT)', 'x.famount')} OR {q.differs('x.ecur', 'x.fcur')}
           OR {q.differs('x.eactor', 'x.factor')}
           OR (x.ramount IS NOT NULL AND x.ramount <> x.famount AND x.ramount <> {q.major('x.famount')}
               AND x.ramount <> {q.major('x.eclient')})
        ORDER BY x.rseq"""))
    for r in rows:
        label = f"audit record {r.rseq} ({r.action})"
        if r.ref is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: names an entry without its reference")
            continue
        if r.eid is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: entry {r.ref} is missing")
            continue
        diffs = []
        if r.ekind != r.fkind:
            diffs.append(f"the entry is a {r.ekind}, the record says {r.fkind}")
        if str(r.eamount) != r.famount or r.ecur != r.fcur:
            diffs.append(f"the entry moves {r.eamount} {r.ecur} (minor units), the record says {r.famount} {r.fcur}")
        if r.eactor != r.factor:
            diffs.append(f"the entry's actor is {r.eactor}, the record's {r.factor}")
        if not diffs and r.ramount is not None:  # the record's own amount, as the teller saw it
            amount = _minor(r.ramount, str(r.fcur or "CNY"))
            # An entry across branches also moves the amount through both branches' clearing accounts.
            if amount is None or str(abs(amount)) not in (r.famount, str(r.eclient)):
                diffs.append(f"the entry moves {r.eamount} (minor units), the record says {r.ramount!r}")
            else:
                continue  # another currency's scale: the same amount
        put("A", PROBLEM_NO_ENTRY, f"{label}: entry {r.eid} {r.ref}: " + "; ".join(diffs))


def _entries_without_record(conn: Connection, q: _Sql, put: Put, history: int, cutover: int) -> None:
    """Entries no audit record names: after the cut-over every entry needs one; before it, the
    kinds whose records named them by reference (not those posted from an approved hold)."""
    older = ", ".join(f"'{a}'" for a in sorted({a for acts in AUDITED_KINDS.values() for a in acts}))
    covered = (f"SELECT COALESCE({q.key(q.doc, 'reference')}, {q.key(q.doc, 'ref')}) AS ref FROM audit_record r "
               f"WHERE r.action IN ({older}) AND r.outcome = 'ok' AND {q.older_only} "
               f"UNION ALL SELECT {q.fact('reference')} AS ref FROM {q.facts_from()} "
               f"WHERE r.action IN ({_in(MONEY_ACTIONS)}) AND r.outcome = 'ok'")
    unnamed = ("NOT EXISTS (SELECT 1 FROM covered c WHERE c.ref = e.reference)" if q.pg else
               "e.reference NOT IN (SELECT ref FROM covered WHERE ref IS NOT NULL)")
    rows = conn.execution_options(stream_results=True).execute(text(f"""
        WITH covered AS ({covered})
        SELECT e.id, e.reference, e.kind FROM journal_entry e
        WHERE e.seq > :history AND ((e.kind IN ({_in(AUDITED_KINDS)}) AND e.hold_id IS NULL) OR e.seq > :cutover)
          AND {unnamed}
        ORDER BY e.seq"""), {"history": history, "cutover": cutover})
    for e in rows:
        put("A", PROBLEM_NO_RECORD, f"entry {e.id} {e.reference}: a {e.kind} without its audit record")
