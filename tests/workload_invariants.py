"""The invariants a multi-process posting workload must keep, checked from the database alone and
against what its workers were told (tests/test_branch_parallel.py, tests/test_scope_workload.py):

* ``ledger verify`` (cached totals, pending totals, chains, dates) and ``audit verify`` pass;
* each branch's entries are numbered 1…n with no gap;
* every acknowledged posting (idempotency key with the run's prefix) is in the ledger exactly once
  and nothing else of the run is; no worker met an unexpected error;
* each wallet's balance is its funds at the start plus the acknowledged amounts (no lost update),
  and within 0..cap (no limit passed twice);
* optionally (after a final sweep): no hold still pending, nothing still reserved on any account.

An outcome is one JSON line of a worker: ``{"ok", "key", "kind" (cash_in | cash_out | transfer),
"wallet", "to", "amount"}`` or ``{"ok": false, "kind", "code", "error"?}``; a ``code`` starting with
``error:`` is an exception that is not a refusal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from teller_tui.audit.trail import verify as verify_audit
from teller_tui.db.engine import make_database
from teller_tui.ledger.verify import verify_ledger

__all__ = ["balances", "check_invariants", "expected_balances"]


def balances(url: str) -> dict[int, int]:
    """Every wallet's posted balance (minor units), by wallet id."""
    db = make_database(url)
    try:
        with db.read() as s:
            rows = s.execute(text("SELECT w.id, a.credits_posted - a.debits_posted FROM wallet w "
                                  "JOIN ledger_account a ON a.id = w.account_id")).all()
        return {int(r[0]): int(r[1]) for r in rows}
    finally:
        db.dispose()


def expected_balances(start: Mapping[int, int], outcomes: list[dict[str, Any]]) -> dict[int, int]:
    """Each wallet's funds at the start plus the acknowledged postings' amounts."""
    want = dict(start)
    for o in outcomes:
        if not o["ok"]:
            continue
        if o["kind"] == "cash_in":
            want[o["wallet"]] += o["amount"]
        elif o["kind"] == "cash_out":
            want[o["wallet"]] -= o["amount"]
        else:
            want[o["wallet"]] -= o["amount"]
            want[o["to"]] += o["amount"]
    return want


def check_invariants(url: str, start: Mapping[int, int], outcomes: list[dict[str, Any]], *, key_prefix: str,
                     cap: int, holds_settled: bool = False) -> list[str]:
    """Every invariant above: the problems found (empty when all hold). ``start``: each wallet's
    funds before the run; ``key_prefix``: the run's idempotency keys; ``cap``: the wallets' balance
    cap; ``holds_settled``: also no pending hold and nothing reserved (after a final sweep)."""
    problems: list[str] = []
    db = make_database(url)
    try:
        with db.read() as s:
            report = verify_ledger(s)
            if not report.ok:
                problems.append("ledger verify: " + report.render())
            audit = verify_audit(s)
            if not audit.ok:
                problems.append(f"audit verify: {audit.problem}")
            for branch, n, first, last in s.execute(text(
                    "SELECT branch_code, COUNT(*), MIN(branch_seq), MAX(branch_seq) FROM journal_entry "
                    "GROUP BY branch_code")).all():
                if (first, last) != (1, n):
                    problems.append(f"branch {branch}: {n} entries numbered {first}..{last}")
            keys = Counter(str(r[0]) for r in s.execute(text(
                "SELECT idempotency_key FROM journal_entry WHERE idempotency_key LIKE :p"), {"p": key_prefix + "%"}).all())
            if holds_settled:
                pending = s.execute(text("SELECT COUNT(*) FROM ledger_hold WHERE status = 'pending'")).scalar_one()
                if pending:
                    problems.append(f"{pending} holds still pending after the final sweep")
                reserved = s.execute(text("SELECT COALESCE(SUM(debits_pending + credits_pending), 0) "
                                          "FROM ledger_account")).scalar_one()
                if reserved:
                    problems.append(f"{reserved} still reserved on accounts with no pending hold")
    finally:
        db.dispose()
    problems += [f"{o['kind']} failed: {o.get('error')}" for o in outcomes if str(o.get("code", "")).startswith("error:")]
    acked = {o["key"] for o in outcomes if o["ok"]}
    if set(keys) != acked or any(n != 1 for n in keys.values()):
        problems.append(f"postings: {len(acked)} acknowledged, {sum(keys.values())} in the ledger")
    have = balances(url)
    for wid, expected in expected_balances(start, outcomes).items():
        if have[wid] != expected:
            problems.append(f"wallet {wid}: balance {have[wid]}, acknowledged postings give {expected} (lost update)")
        if have[wid] > cap or have[wid] < 0:
            problems.append(f"wallet {wid}: balance {have[wid]} outside 0..{cap} (a limit passed twice)")
    return problems
