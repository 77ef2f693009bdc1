"""The ledger and the audit trail agree (``teller ledger verify``, check "A").

Every service that moves money writes its entry and its audit record in one transaction, the
record naming the entry's reference. So every money-moving audit record must have its entry
(same reference, amount and actor), and every entry of a kind those services post must have
its audit record. A forged entry appended with a recomputed hash chain has no audit record;
a deleted entry leaves its audit record behind.

Scope (what writes both today):

* kinds :data:`AUDITED_KINDS`, each with the audit actions that record it: the counter (cash
  in/out, transfer, reversal), the kiosk (transfer), linked accounts (top-up, withdrawal) and
  the vault (receipts, drawer transfers). Their records carry ``detail.reference`` (``ref`` for
  linked accounts) and ``detail.amount`` (major units as text, or minor units for the vault).
* Not checked: entries that post an approved hold (the approval's records name the hold, not
  the entry), drawer floats, over/short, drawer returns, welcome rewards and forfeited points
  (their records do not name the entry yet), and history loaded in bulk without audit records
  (``teller demo``, ``teller bench``): entries up to the seq attested by a ``demo_build`` or
  ``bench_load`` audit record, which the audit chain protects.
* A database without staff (the ledger used on its own, as in the ledger's own tests, where
  nothing goes through the services) is not checked; the note says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from teller_tui.common.money import CURRENCIES

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["AUDITED_KINDS", "check_links"]

Put = Callable[[str, str, str], None]

#: Entry kind -> the audit actions that record an entry of that kind.
AUDITED_KINDS: dict[str, tuple[str, ...]] = {
    "cash_in": ("cash_in",), "cash_out": ("cash_out",), "transfer": ("transfer", "kiosk_transfer"),
    "reversal": ("reversal",), "linked_top_up": ("linked_top_up",), "linked_withdraw": ("linked_withdraw",),
    "vault_receive": ("vault_receive",), "vault_transfer": ("vault_transfer",),
}
#: Audit actions that attest bulk-loaded history (``detail.history_until_seq``).
HISTORY_ACTIONS = ("demo_build", "bench_load")

PROBLEM_NO_ENTRY = "money-moving audit records whose entry is missing or differs (reference, amount, actor)"
PROBLEM_NO_RECORD = "entries without the audit record their service writes"
NOTE_NO_AUDIT = "no staff (the ledger used without the services): ledger/audit cross-check skipped"


def _in(values: Any) -> str:
    return ", ".join(f"'{v}'" for v in sorted(set(values)))


def _reference(detail: dict[str, Any]) -> str | None:
    ref = detail.get("reference", detail.get("ref"))
    return ref if isinstance(ref, str) and ref else None


def _minor(amount: Any, currency: str) -> int | None:
    """An audit record's amount in minor units: an int is minor units, text is major units."""
    if type(amount) is int:
        return amount
    if not isinstance(amount, str):
        return None
    try:
        exponent = CURRENCIES[currency].exponent if currency in CURRENCIES else 2
        return int(Decimal(amount).scaleb(exponent))
    except (InvalidOperation, ValueError):
        return None


def check_links(session: Session, put: Put) -> str | None:
    """Run the cross-check; returns a note when it was skipped."""
    conn = session.connection()
    if conn.execute(text("SELECT 1 FROM staff LIMIT 1")).first() is None:
        return NOTE_NO_AUDIT
    history = 0
    for (detail_json,) in conn.execute(text(
            f"SELECT detail_json FROM audit_record WHERE action IN ({_in(HISTORY_ACTIONS)}) AND outcome = 'ok'")):
        try:
            history = max(history, int(json.loads(detail_json).get("history_until_seq") or 0))
        except (ValueError, TypeError, AttributeError):
            continue
    actions = {a for acts in AUDITED_KINDS.values() for a in acts}
    # Audit record -> entry: looked up by the unique reference index, one record at a time.
    seen: set[str] = set()
    for rec in conn.execution_options(stream_results=True).execute(text(f"""
            SELECT seq, action, actor_id, detail_json FROM audit_record
            WHERE action IN ({_in(actions)}) AND outcome = 'ok' ORDER BY seq""")):
        try:
            detail = json.loads(rec.detail_json)
        except ValueError:
            detail = {}
        ref = _reference(detail) if isinstance(detail, dict) else None
        label = f"audit record {rec.seq} ({rec.action})"
        if ref is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: names no entry reference")
            continue
        seen.add(ref)
        entry = conn.execute(text("""
            SELECT e.id, e.kind, e.actor_id, e.hold_id,
                   (SELECT COALESCE(SUM(p.amount), 0) FROM posting p WHERE p.entry_id = e.id AND p.amount > 0) AS amount,
                   (SELECT MIN(p.currency) FROM posting p WHERE p.entry_id = e.id) AS currency
            FROM journal_entry e WHERE e.reference = :ref"""), {"ref": ref}).first()
        if entry is None:
            put("A", PROBLEM_NO_ENTRY, f"{label}: entry {ref} is missing")
            continue
        diffs = []
        if rec.action not in AUDITED_KINDS.get(entry.kind, ()):
            diffs.append(f"the entry is a {entry.kind}")
        if entry.actor_id != rec.actor_id:
            diffs.append(f"the entry's actor is {entry.actor_id}, the record's {rec.actor_id}")
        amount = _minor(detail.get("amount"), str(detail.get("currency") or entry.currency or "CNY"))
        if amount is None or abs(amount) != int(entry.amount):
            diffs.append(f"the entry moves {entry.amount} (minor units), the record says {detail.get('amount')!r}")
        if diffs:
            put("A", PROBLEM_NO_ENTRY, f"{label}: entry {entry.id} {ref}: " + "; ".join(diffs))
    # Entry -> audit record: entries of audited kinds whose reference no record named.
    for e in conn.execution_options(stream_results=True).execute(text(f"""
            SELECT id, reference, kind, seq FROM journal_entry
            WHERE kind IN ({_in(AUDITED_KINDS)}) AND hold_id IS NULL AND seq > :history ORDER BY seq"""),
            {"history": history}):
        if e.reference not in seen:
            put("A", PROBLEM_NO_RECORD, f"entry {e.id} {e.reference}: a {e.kind} without its audit record")
    return None
