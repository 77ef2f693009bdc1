"""``teller ledger verify``: closed days (14), stored requests, approvals and hold links (8, 13, 9),
reversals (7), holds (9), closed and frozen accounts (11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teller_tui.ledger.verify_base import Violation, money_text

if TYPE_CHECKING:
    from teller_tui.ledger.verify_base import Checker

__all__ = ["check_closed", "check_closed_days", "check_contents", "check_holds", "check_reversals"]


# -- sequence, dates, idempotency, approvals, hold links (8, 9, 12, 13) ----------------------
def check_closed_days(c: Checker) -> None:
    c.check("14", "entries dated into a business day after it closed", """
        SELECT e.id, e.reference, e.business_date, e.posted_at, d.closed_at
        FROM journal_entry e JOIN business_day d
          ON d.branch_code = e.branch_code AND d.business_date = e.business_date
        WHERE d.status = 'closed' AND d.closed_at IS NOT NULL AND e.posted_at > d.closed_at
        ORDER BY e.seq""",
            lambda r: f"entry {r.id} {r.reference}: posted {r.posted_at}, dated {r.business_date}, "
                      f"a day closed at {r.closed_at}")


def check_contents(c: Checker) -> None:
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
def check_reversals(c: Checker) -> None:
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
def check_holds(c: Checker) -> None:
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
def check_closed(c: Checker) -> None:
    c.check("11", "closed accounts that are not at zero", """
        SELECT id, code, currency, debits_posted - credits_posted AS bal, debits_pending, credits_pending, closed_at
        FROM ledger_account WHERE status = 'closed'
          AND (debits_posted <> credits_posted OR debits_pending <> 0 OR credits_pending <> 0 OR closed_at IS NULL)
        ORDER BY id""",
            lambda r: f"account {r.code} is closed with balance {money_text(r.bal, r.currency)}"
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
