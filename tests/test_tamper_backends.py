"""The tamper and append-only cases on both backends (SQLite and PostgreSQL).

The SQLite-only suites (test_ledger_chain.py, test_ledger_tamper.py, test_audit.py) copy files
and edit them with sqlite3; here the same attacks go through the database's own connection, as
its owner would on a PostgreSQL server: drop the append-only triggers, edit, put them back.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from teller_tui.audit.trail import Actor, AuditTrail, verify as verify_audit
from teller_tui.common.clock import FakeClock
from teller_tui.db.ddl import APPEND_ONLY_TABLES, append_only_statements, drop_append_only_statements
from teller_tui.ledger.chain import branch_heads
from teller_tui.ledger.usage import REBUILD_SQL
from teller_tui.ledger.verify import verify_ledger
from teller_tui.ledger.verify_content import parse_expected_heads

from backends import backend_db  # noqa: F401 - fixture
from ledger_fixtures import Workload


@pytest.fixture
def books(backend_db: Any) -> tuple[Any, Workload]:  # noqa: F811
    wl = Workload(backend_db, 11)
    for _ in range(40):
        wl.step()
    with backend_db.read() as s:
        report = verify_ledger(s, history=True)
        assert report.ok, report.render()
    return backend_db, wl


def tamper(db: Any, *statements: str) -> None:
    """As the database owner: triggers off, edit, triggers back on (one transaction)."""
    with db.write() as s:
        conn = s.connection()
        for table in APPEND_ONLY_TABLES:
            for sql in drop_append_only_statements(db.dialect, table):
                conn.exec_driver_sql(sql)
        for sql in statements:
            conn.exec_driver_sql(sql)
        # the tamperer rewrites the wallets' usage days too (their own check: test_wallet_usage_days.py)
        conn.exec_driver_sql("DELETE FROM wallet_usage_day")
        conn.exec_driver_sql(f"INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) {REBUILD_SQL}")
        for table in APPEND_ONLY_TABLES:
            for sql in append_only_statements(db.dialect, table):
                conn.exec_driver_sql(sql.replace("%", "%%") if db.dialect == "postgresql" else sql)


def broken(db: Any, **kw: Any) -> tuple[list[str], str]:
    with db.read() as s:
        report = verify_ledger(s, history=True, **kw)
    return report.broken, report.render()


def one(db: Any, sql: str) -> Any:
    with db.read() as s:
        return s.execute(text(sql)).first()


@pytest.mark.parametrize("sql", [
    "UPDATE posting SET amount = amount + 1", "DELETE FROM posting", "UPDATE journal_entry SET memo = 'edited'",
    "DELETE FROM journal_entry", "UPDATE audit_record SET outcome = 'denied'", "DELETE FROM audit_record",
])
def test_append_only_on_both_backends(books: tuple[Any, Workload], sql: str) -> None:
    db, wl = books
    with db.write() as s:
        AuditTrail(wl.clock).append(s, Actor(1, "alice", "T01"), "note")
    with pytest.raises(DatabaseError, match="append-only"):
        with db.write() as s:
            s.connection().exec_driver_sql(sql)


def test_redirected_deposit_is_found(books: tuple[Any, Workload]) -> None:
    db, wl = books
    eid, pid, wallet, amount = one(db, """
        SELECT e.id, p.id, p.account_id, -p.amount FROM journal_entry e JOIN posting p ON p.entry_id = e.id
        JOIN ledger_account a ON a.id = p.account_id
        WHERE e.kind = 'cash_in' AND a.kind = 'wallet' ORDER BY e.id DESC LIMIT 1""")
    other = next(w for w in wl.chart.wallets if w != wallet)
    tamper(db, f"UPDATE posting SET account_id = {other} WHERE id = {pid}",
           f"UPDATE ledger_account SET credits_posted = credits_posted - {amount} WHERE id = {wallet}",
           f"UPDATE ledger_account SET credits_posted = credits_posted + {amount} WHERE id = {other}")
    inv, text_ = broken(db)
    assert "15" in inv and "16" in inv and "5" not in inv
    assert f"entry {eid} " in text_


@pytest.mark.parametrize(("column", "value"), [("memo", "'mallory'"), ("kind", "'transfer'"),
                                              ("terminal_id", "'T99'")])
def test_edited_entry_is_found(books: tuple[Any, Workload], column: str, value: str) -> None:
    db, _wl = books
    eid, = one(db, "SELECT id FROM journal_entry WHERE kind = 'cash_in' ORDER BY id LIMIT 1")
    tamper(db, f"UPDATE journal_entry SET {column} = {value} WHERE id = {eid}")
    inv, text_ = broken(db)
    assert "16" in inv and f"entry {eid} " in text_
    if column != "terminal_id":  # the request does not name the terminal: only the chain sees that edit
        assert "15" in inv


def test_deleted_last_entry_with_fixed_ledger_head_is_found(books: tuple[Any, Workload]) -> None:
    db, _wl = books
    eid, seq = one(db, "SELECT id, seq FROM journal_entry ORDER BY seq DESC LIMIT 1")
    with db.read() as s:
        legs = s.execute(text(f"SELECT account_id, amount FROM posting WHERE entry_id = {eid}")).all()
    fixes = [f"UPDATE ledger_account SET {'debits_posted' if amt > 0 else 'credits_posted'} = "
             f"{'debits_posted' if amt > 0 else 'credits_posted'} - {abs(amt)} WHERE id = {acct}" for acct, amt in legs]
    tamper(db, *fixes, f"DELETE FROM posting WHERE entry_id = {eid}", f"DELETE FROM journal_entry WHERE id = {eid}",
           "UPDATE ledger_head SET last_seq = (SELECT MAX(seq) FROM journal_entry), "
           "last_at = (SELECT posted_at FROM journal_entry WHERE seq = (SELECT MAX(seq) FROM journal_entry))")
    inv, text_ = broken(db)
    assert inv == ["16"], text_
    assert f"the head names seq {seq}" in text_


def test_deleted_tail_with_every_head_fixed_needs_the_kept_head(books: tuple[Any, Workload]) -> None:
    db, _wl = books
    with db.read() as s:
        kept = parse_expected_heads([f"{h.branch_code}:{h.last_seq}:{h.hash}" for h in branch_heads(s)])
    eid, seq = one(db, "SELECT id, seq FROM journal_entry ORDER BY seq DESC LIMIT 1")
    prev = one(db, f"SELECT seq, hash FROM journal_entry WHERE seq < {seq} ORDER BY seq DESC LIMIT 1")
    with db.read() as s:
        legs = s.execute(text(f"SELECT account_id, amount FROM posting WHERE entry_id = {eid}")).all()
    fixes = [f"UPDATE ledger_account SET {'debits_posted' if amt > 0 else 'credits_posted'} = "
             f"{'debits_posted' if amt > 0 else 'credits_posted'} - {abs(amt)} WHERE id = {acct}" for acct, amt in legs]
    tamper(db, *fixes, f"DELETE FROM posting WHERE entry_id = {eid}", f"DELETE FROM journal_entry WHERE id = {eid}",
           "UPDATE ledger_head SET last_seq = (SELECT MAX(seq) FROM journal_entry), "
           "last_at = (SELECT posted_at FROM journal_entry WHERE seq = (SELECT MAX(seq) FROM journal_entry))",
           f"UPDATE ledger_chain_head SET last_seq = {prev[0]}, entries = entries - 1, hash = '{prev[1]}', "
           f"last_at = (SELECT posted_at FROM journal_entry WHERE seq = {prev[0]}), "
           f"last_date = (SELECT business_date FROM journal_entry WHERE seq = {prev[0]})")
    assert broken(db)[0] == []  # consistent inside...
    inv, text_ = broken(db, expected_heads=kept)  # ...not against the head kept outside
    assert inv == ["16"] and f"entry seq {seq}, which is missing" in text_


def test_audit_record_edited_and_rehashed_is_named(books: tuple[Any, Workload]) -> None:
    from teller_tui.audit.trail import record_hash

    db, wl = books
    trail = AuditTrail(wl.clock)
    for i in range(5):
        with db.write() as s:
            trail.append(s, Actor(1, "alice", "T01"), "note", subject=f"n{i}", detail={"i": i})
    with db.read() as s:
        assert verify_audit(s).ok
        rec = s.execute(text("SELECT seq, at, actor_id, actor, terminal_id, action, subject, detail_json, prev_hash "
                             "FROM audit_record WHERE seq = 3")).one()
    from teller_tui.models import AuditRecord

    with db.read() as s:
        at = s.get(AuditRecord, one(db, "SELECT id FROM audit_record WHERE seq = 3")[0]).at
    forged = record_hash(seq=3, at=at, actor_id=rec.actor_id, actor=rec.actor, terminal_id=rec.terminal_id,
                         action=rec.action, subject=rec.subject, outcome="denied", detail_json=rec.detail_json,
                         prev_hash=rec.prev_hash)
    tamper(db, f"UPDATE audit_record SET outcome = 'denied', hash = '{forged}' WHERE seq = 3")
    with db.read() as s:
        res = verify_audit(s)
    assert not res.ok and res.first_bad_seq == 3


def test_new_entries_keep_their_chain_on_both_backends(books: tuple[Any, Workload]) -> None:
    db, wl = books
    before = one(db, "SELECT hash FROM ledger_chain_head WHERE branch_code = 'B001'")[0]
    wl.clock = FakeClock(wl.clock.now())
    for _ in range(5):
        wl.step()
    with db.read() as s:
        assert verify_ledger(s).ok
        kept = parse_expected_heads([f"B001:{before}"])
        assert verify_ledger(s, expected_heads=kept).ok


def test_parallel_scan_matches_serial_on_both_backends(books: tuple[Any, Workload],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes (PostgreSQL: adopting the parent's exported snapshot) find what one
    serial scan finds, a tamper in the middle and in the last entry alike."""
    import teller_tui.ledger.verify_content as vc

    db, _wl = books
    last = one(db, "SELECT MAX(seq) FROM journal_entry")[0]
    tamper(db, f"UPDATE journal_entry SET memo = 'edited' WHERE seq IN ({last // 2}, {last})")
    monkeypatch.setattr(vc, "PARALLEL_MIN_ENTRIES", 0)
    serial, parallel = (broken(db, workers=n) for n in (1, 2))
    assert serial[0] == parallel[0] and {"15", "16"} <= set(serial[0])
    strip = [line for line in serial[1].splitlines() if "ledger verify" not in line]
    assert strip == [line for line in parallel[1].splitlines() if "ledger verify" not in line]
