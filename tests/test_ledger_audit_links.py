"""Check "A" of `teller ledger verify`: the ledger and the audit trail agree.

A branch worked through the real services (the desk harness: cash in and out at the counter,
a transfer), then tampered with: an entry forged and the whole hash chain
recomputed, the last entry deleted with every head fixed, an audit record's amount edited and
the audit chain recomputed. Each leaves the other book disagreeing, and verify names it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from teller_tui.audit.trail import verify as verify_audit
from teller_tui.common.money import Money
from teller_tui.db.engine import make_database
from teller_tui.ledger.core import canonical_json, reference_for, request_hash
from teller_tui.ledger.verify import VerifyReport, verify_ledger

from desk_harness import Desk
from desk_harness import desk  # noqa: F401  (the fixture)
from test_ledger_audit_links_kinds import rechain_audit
from test_ledger_chain import rechain, tampered


@pytest.fixture
def books(desk: Desk, db_path: Path) -> Path:
    cash = desk.services.cash
    wang, zhang = desk.wallets["wang"].wallet_id, desk.wallets["zhang"].wallet_id
    cash.cash_in(desk.actor, wang, Money.of("300"), idempotency_key="links-1")
    cash.cash_out(desk.actor, wang, Money.of("20"), idempotency_key="links-2")
    cash.transfer(desk.actor, wang, zhang, Money.of("5"), idempotency_key="links-3")
    cash.cash_in(desk.actor, zhang, Money.of("7.50"), idempotency_key="links-4")
    report = report_for(db_path)
    assert report.ok, report.render()
    assert "A" not in report.notes  # the cross-check ran
    desk.services.db.dispose()
    return db_path


def report_for(path: Path) -> VerifyReport:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify_ledger(s, history=True)
    finally:
        db.dispose()


def audit_of(path: Path) -> Any:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify_audit(s)
    finally:
        db.dispose()


def text_of(report: VerifyReport, inv: str) -> str:
    return "\n".join(f"{v.problem} {' '.join(v.samples)}" for v in report.violations if v.invariant == inv)


def test_forged_entry_with_recomputed_chain_is_found(books: Path, tmp_path: Path) -> None:
    """A cash-in appended by hand: balanced, totals and heads fixed, every hash recomputed.
    Every ledger invariant holds; only the missing audit record gives it away."""
    con = sqlite3.connect(books)
    src = con.execute("SELECT id, seq, request_json, business_date, posted_at, actor_id, customer_id, terminal_id, "
                      "branch_code FROM journal_entry WHERE kind = 'cash_in' ORDER BY seq DESC LIMIT 1").fetchone()
    legs = con.execute(f"SELECT account_id, currency, amount FROM posting WHERE entry_id = {src[0]}").fetchall()
    last_seq, = con.execute("SELECT MAX(seq) FROM journal_entry").fetchone()
    last_at, = con.execute("SELECT posted_at FROM journal_entry ORDER BY seq DESC LIMIT 1").fetchone()
    con.close()
    seq = last_seq + 1
    req = json.loads(src[2])
    bdate = datetime.fromisoformat(src[3]).date() if "T" in src[3] else datetime.strptime(src[3], "%Y-%m-%d").date()
    reference = reference_for(seq, bdate)

    def forge(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO journal_entry (seq, branch_seq, idempotency_key, request_hash, request_json, kind, "
                  "reference, memo, actor_id, terminal_id, branch_code, business_date, posted_at, customer_id, prev_hash, "
                  "hash) VALUES (?, (SELECT MAX(branch_seq) + 1 FROM journal_entry WHERE branch_code = ?), 'forged-1', "
                  "?, ?, 'cash_in', ?, ?, ?, ?, ?, ?, ?, ?, '', '')",
                  (seq, src[8], request_hash(req), canonical_json(req), reference, req["memo"], src[5], src[7], src[8],
                   src[3], last_at, src[6]))
        eid = c.execute("SELECT id FROM journal_entry WHERE seq = ?", (seq,)).fetchone()[0]
        for acct, cur, amt in legs:
            c.execute("INSERT INTO posting (entry_id, account_id, currency, amount) VALUES (?, ?, ?, ?)",
                      (eid, acct, cur, amt))
            column = "debits_posted" if amt > 0 else "credits_posted"
            c.execute(f"UPDATE ledger_account SET {column} = {column} + ? WHERE id = ?", (abs(amt), acct))
        # the approval policy's day counter the ledger keeps beside the postings (invariant 5)
        cash = sum(amt for _acct, _cur, amt in legs if amt > 0)
        c.execute("UPDATE cash_day SET amount = amount + ? WHERE subject = 'customer_in' AND subject_id = ? "
                  "AND business_date = ?", (cash, src[6], src[3]))
        c.execute("UPDATE ledger_head SET last_seq = ?, last_at = ?", (seq, last_at))
        rechain(c)

    report = report_for(tampered(books, tmp_path, fn=forge))
    assert report.broken == ["A"], report.render()
    assert f"{reference}: a cash_in without its audit record" in text_of(report, "A")


def test_deleted_entry_with_every_head_fixed_is_found_by_its_audit_record(books: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(books)
    eid, reference = con.execute("SELECT id, reference FROM journal_entry ORDER BY seq DESC LIMIT 1").fetchone()
    con.close()

    def delete(c: sqlite3.Connection) -> None:
        for acct, amt in c.execute(f"SELECT account_id, amount FROM posting WHERE entry_id = {eid}").fetchall():
            column = "debits_posted" if amt > 0 else "credits_posted"
            c.execute(f"UPDATE ledger_account SET {column} = {column} - {abs(amt)} WHERE id = {acct}")
        c.execute(f"DELETE FROM posting WHERE entry_id = {eid}")
        c.execute(f"DELETE FROM journal_entry WHERE id = {eid}")
        c.execute("UPDATE ledger_head SET last_seq = (SELECT MAX(seq) FROM journal_entry), "
                  "last_at = (SELECT posted_at FROM journal_entry ORDER BY seq DESC LIMIT 1)")
        rechain(c)

    report = report_for(tampered(books, tmp_path, fn=delete))
    assert "A" in report.broken
    assert f"entry {reference} is missing" in text_of(report, "A")


def test_audit_amount_edited_and_audit_chain_recomputed_is_found(books: Path, tmp_path: Path) -> None:
    def edit(c: sqlite3.Connection) -> None:
        from teller_tui.db.ddl import drop_append_only_statements

        for sql in drop_append_only_statements("sqlite", "audit_record"):
            c.execute(sql)
        seq, = c.execute("SELECT seq FROM audit_record WHERE action = 'cash_out' ORDER BY seq DESC LIMIT 1").fetchone()
        detail = json.loads(c.execute(f"SELECT detail_json FROM audit_record WHERE seq = {seq}").fetchone()[0])
        detail["amount"] = "2.00"
        c.execute("UPDATE audit_record SET detail_json = ? WHERE seq = ?",
                  (json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
        rechain_audit(c)  # every stream re-hashed and its head moved, as an attacker knowing the schema would

    path = tampered(books, tmp_path, fn=edit)
    assert audit_of(path).ok  # the audit chain agrees with itself...
    report = report_for(path)  # ...but not with the ledger
    assert report.broken == ["A"], report.render()
    assert "(cash_out)" in text_of(report, "A") and "'2.00'" in text_of(report, "A")
