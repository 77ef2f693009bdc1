"""`teller ledger verify` names every invariant a tampered database breaks.

A tampered database is simulated by copying a good one, dropping its append-only triggers
and editing rows with raw SQL; each test breaks one invariant and checks that the report
names it (and the rows involved)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teller_tui.db.ddl import APPEND_ONLY_TABLES, drop_append_only_statements
from teller_tui.db.engine import make_database
from teller_tui.ledger import Ledger
from teller_tui.ledger.verify import VerifyReport, verify_ledger

from test_ledger_chain import refill_usage_days

from ledger_fixtures import Workload, transfer


@pytest.fixture(scope="module")
def good_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with a random history (seed 42), an over/short entry with its approval."""
    path = tmp_path_factory.mktemp("tamper") / "good.db"
    shutil.copyfile(template_db, path)
    db = make_database(f"sqlite:///{path}")
    wl = Workload(db, 42)
    for _ in range(80):
        wl.step()
    with db.write() as s:
        over = Ledger(wl.clock).open_account(s, code="over_short:B001:CNY", name="Over/short", kind="over_short",
                                             branch_code="B001")
        Ledger(wl.clock).post(s, transfer("os-1", "over_short", wl.chart.drawers[0], over, 50,
                                          meta={"approval_id": 7}))
    with db.read() as s:
        assert verify_ledger(s, history=True).ok
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


def tampered(good: Path, tmp_path: Path, *statements: str, drop_triggers: bool = True) -> Path:
    path = tmp_path / "tampered.db"
    shutil.copyfile(good, path)
    con = sqlite3.connect(path)
    if drop_triggers:
        for table in APPEND_ONLY_TABLES:
            for sql in drop_append_only_statements("sqlite", table):
                con.execute(sql)
    for sql in statements:
        con.execute(sql)
    refill_usage_days(con)  # the tamperer rewrites this cache too (its own check: test_wallet_usage_days.py)
    con.commit()
    con.close()
    return path


def report_for(path: Path, **kw: Any) -> VerifyReport:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify_ledger(s, history=True, **kw)
    finally:
        db.dispose()


def q(path: Path, sql: str) -> Any:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def text_of(report: VerifyReport, inv: str) -> str:
    return "\n".join(f"{v.problem} {' '.join(v.samples)}" for v in report.violations if v.invariant == inv)


@pytest.fixture
def good(good_db: Path) -> Iterator[Path]:
    yield good_db


def test_untouched_copy_is_clean(good: Path, tmp_path: Path) -> None:
    report = report_for(tampered(good, tmp_path, drop_triggers=False))
    assert report.ok, report.render()


def test_missing_triggers_break_7(good: Path, tmp_path: Path) -> None:
    report = report_for(tampered(good, tmp_path))
    assert report.broken == ["7"]
    assert "posting_no_update" in text_of(report, "7")


def test_unbalanced_entry_breaks_1(good: Path, tmp_path: Path) -> None:
    pid, eid = q(good, "SELECT p.id, p.entry_id FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                       "WHERE e.kind = 'cash_in' ORDER BY p.id LIMIT 1")
    report = report_for(tampered(good, tmp_path, f"UPDATE posting SET amount = amount + 1 WHERE id = {pid}"))
    assert "1" in report.broken and "5" in report.broken
    assert f"entry {eid}:" in text_of(report, "1")


def test_non_integer_amount_breaks_2(good: Path, tmp_path: Path) -> None:
    eid, = q(good, "SELECT entry_id FROM posting GROUP BY entry_id HAVING COUNT(*) = 2 ORDER BY entry_id DESC LIMIT 1")
    report = report_for(tampered(
        good, tmp_path,
        f"UPDATE posting SET amount = amount + 0.5 WHERE id = (SELECT MIN(id) FROM posting WHERE entry_id = {eid})",
        f"UPDATE posting SET amount = amount - 0.5 WHERE id = (SELECT MAX(id) FROM posting WHERE entry_id = {eid})"))
    assert "2" in report.broken
    assert f"entry {eid}: a non-integer amount" in text_of(report, "2")


def test_wallet_below_zero_breaks_3(good: Path, tmp_path: Path) -> None:
    # Make one cash-out bigger than the wallet ever held, keeping the entry balanced and the
    # cached totals in step: only the balance limit is broken.
    w, d, eid, extra = q(good, """
        SELECT pw.account_id, pd.account_id, pw.entry_id, a.credits_posted - a.debits_posted + 100
        FROM journal_entry e JOIN posting pw ON pw.entry_id = e.id AND pw.amount > 0
        JOIN posting pd ON pd.entry_id = e.id AND pd.amount < 0
        JOIN ledger_account a ON a.id = pw.account_id
        WHERE e.kind = 'cash_out' AND a.kind = 'wallet' AND e.hold_id IS NULL ORDER BY e.id DESC LIMIT 1""")
    report = report_for(tampered(
        good, tmp_path,
        f"UPDATE posting SET amount = amount + {extra} WHERE entry_id = {eid} AND account_id = {w}",
        f"UPDATE posting SET amount = amount - {extra} WHERE entry_id = {eid} AND account_id = {d}",
        f"UPDATE ledger_account SET debits_posted = debits_posted + {extra} WHERE id = {w}",
        f"UPDATE ledger_account SET credits_posted = credits_posted + {extra} WHERE id = {d}",
        # the request must still match its hash for this test to isolate invariant 3
        f"UPDATE journal_entry SET request_hash = 'x' WHERE 0"))
    assert "3" in report.broken
    assert f"(id {w})" in text_of(report, "3")
    assert "1" not in report.broken and "5" not in report.broken


def test_drawer_limit_switched_off_breaks_4(good: Path, tmp_path: Path) -> None:
    code, = q(good, "SELECT code FROM ledger_account WHERE kind = 'drawer' ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_account SET credits_must_not_exceed_debits = 0 WHERE code = '{code}'"))
    assert "4" in report.broken and code in text_of(report, "4")


def test_vault_paying_out_cash_it_does_not_hold_breaks_4(good: Path, tmp_path: Path) -> None:
    # Shrink the opening cash brought into the vault (and the equity side with it) so the
    # vault has paid out more than it ever received; the entry still balances and the
    # cached totals follow, so only the cash limit is broken.
    v, eq, eid, cash = q(good, """
        SELECT pv.account_id, pe.account_id, e.id, a.debits_posted - a.credits_posted
        FROM journal_entry e JOIN posting pv ON pv.entry_id = e.id AND pv.amount > 0
        JOIN posting pe ON pe.entry_id = e.id AND pe.amount < 0 JOIN ledger_account a ON a.id = pv.account_id
        WHERE e.kind = 'opening'""")
    cut = cash + 1
    report = report_for(tampered(
        good, tmp_path,
        f"UPDATE posting SET amount = amount - {cut} WHERE entry_id = {eid} AND account_id = {v}",
        f"UPDATE posting SET amount = amount + {cut} WHERE entry_id = {eid} AND account_id = {eq}",
        f"UPDATE ledger_account SET debits_posted = debits_posted - {cut} WHERE id = {v}",
        f"UPDATE ledger_account SET credits_posted = credits_posted - {cut} WHERE id = {eq}"))
    assert "4" in report.broken and f"(id {v})" in text_of(report, "4")
    assert "5" not in report.broken and "1" not in report.broken


def test_cached_balance_drift_breaks_5_and_6(good: Path, tmp_path: Path) -> None:
    code, = q(good, "SELECT code FROM ledger_account WHERE kind = 'wallet' ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_account SET credits_posted = credits_posted + 1 WHERE code = '{code}'"))
    assert "5" in report.broken and "6" in report.broken
    assert code in text_of(report, "5")


def test_pending_cache_drift_breaks_5(good: Path, tmp_path: Path) -> None:
    code, = q(good, "SELECT code FROM ledger_account WHERE kind = 'drawer' ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_account SET credits_pending = credits_pending + 5 WHERE code = '{code}'"))
    assert "5" in report.broken and "pending" in text_of(report, "5")


def test_branch_out_of_balance_breaks_6(good: Path, tmp_path: Path) -> None:
    report = report_for(tampered(
        good, tmp_path, "UPDATE ledger_account SET branch_code = 'B999' WHERE kind = 'wallet'"))
    assert report.broken == ["7", "6"] or set(report.broken) == {"6", "7"}
    assert "branch B999" in text_of(report, "6") and "branch B001" in text_of(report, "6")


def test_reversal_that_does_not_mirror_breaks_7(good: Path, tmp_path: Path) -> None:
    rid, = q(good, "SELECT id FROM journal_entry WHERE reverses_entry_id IS NOT NULL ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path,
        f"UPDATE posting SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM posting WHERE entry_id = {rid} "
        "AND amount > 0)",
        f"UPDATE posting SET amount = amount - 1 WHERE id = (SELECT MIN(id) FROM posting WHERE entry_id = {rid} "
        "AND amount < 0)"))
    assert f"entry {rid} does not undo" in text_of(report, "7")


def test_reversal_of_a_reversal_breaks_7(good: Path, tmp_path: Path) -> None:
    rid, oid = q(good, "SELECT id, reverses_entry_id FROM journal_entry WHERE reverses_entry_id IS NOT NULL "
                       "ORDER BY id LIMIT 1")
    other, = q(good, f"SELECT MAX(id) FROM journal_entry WHERE reverses_entry_id IS NULL AND id > {rid}")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE journal_entry SET reverses_entry_id = {rid} WHERE id = {other}"))
    assert f"entry {other}" in text_of(report, "7")


def test_edited_request_breaks_8(good: Path, tmp_path: Path) -> None:
    eid, = q(good, "SELECT MIN(id) FROM journal_entry WHERE kind = 'cash_in'")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE journal_entry SET request_json = replace(request_json, 'cash_in', 'cash-in') "
                        f"WHERE id = {eid}"))
    assert f"entry {eid} " in text_of(report, "8")


def test_hold_resolved_twice_breaks_9(good: Path, tmp_path: Path) -> None:
    hid, = q(good, "SELECT MIN(id) FROM ledger_hold WHERE status = 'posted'")
    report = report_for(tampered(good, tmp_path, f"UPDATE ledger_hold SET status = 'voided' WHERE id = {hid}"))
    assert "9" in report.broken and f"hold {hid}" in text_of(report, "9")


def test_hold_expired_early_breaks_9(good: Path, tmp_path: Path) -> None:
    hid, = q(good, "SELECT MIN(id) FROM ledger_hold WHERE status = 'expired'")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_hold SET resolved_at = datetime(expires_at, '-1 hour') WHERE id = {hid}"))
    assert f"hold {hid} expired" in text_of(report, "9")


def test_hold_posted_after_expiry_breaks_9(good: Path, tmp_path: Path) -> None:
    hid, = q(good, "SELECT MIN(id) FROM ledger_hold WHERE status = 'posted'")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_hold SET expires_at = datetime(created_at, '-1 second') WHERE id = {hid}"))
    assert f"hold {hid} was posted" in text_of(report, "9")


def test_partial_entry_breaks_10(good: Path, tmp_path: Path) -> None:
    pid, eid, acct, amount = q(good, "SELECT id, entry_id, account_id, amount FROM posting ORDER BY id DESC LIMIT 1")
    col = "debits_posted" if amount > 0 else "credits_posted"
    report = report_for(tampered(
        good, tmp_path, f"DELETE FROM posting WHERE id = {pid}",
        f"UPDATE ledger_account SET {col} = {col} - {abs(amount)} WHERE id = {acct}"))
    assert "10" in report.broken and f"entry {eid}: a single" in text_of(report, "10")
    assert "1" in report.broken


def test_entry_without_postings_and_orphan_postings_break_10(good: Path, tmp_path: Path) -> None:
    eid, = q(good, "SELECT MAX(id) FROM journal_entry")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE posting SET entry_id = 999999 WHERE entry_id = {eid}"))
    text = text_of(report, "10")
    assert f"entry {eid} " in text and "missing entry 999999" in text


def test_closed_wallet_with_money_breaks_11(good: Path, tmp_path: Path) -> None:
    code, = q(good, "SELECT code FROM ledger_account WHERE kind = 'wallet' AND credits_posted > debits_posted "
                    "ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE ledger_account SET status = 'closed', closed_at = opened_at WHERE code = '{code}'"))
    text = text_of(report, "11")
    assert f"account {code} is closed with balance" in text
    assert f"posts to {code}" in text  # and it took postings after it was closed


def test_backdated_entry_breaks_12(good: Path, tmp_path: Path) -> None:
    eid, = q(good, "SELECT id FROM journal_entry ORDER BY id LIMIT 1 OFFSET 10")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE journal_entry SET business_date = '2000-01-01' WHERE id = {eid + 1}"))
    assert f"entry {eid + 1} " in text_of(report, "12")


def test_deleted_entry_breaks_12(good: Path, tmp_path: Path) -> None:
    eid, seq = q(good, "SELECT id, seq FROM journal_entry ORDER BY id LIMIT 1 OFFSET 5")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE journal_entry SET seq = seq + 1000000 WHERE id = {eid}"))
    text = text_of(report, "12")
    assert f"no entry has seq {seq}" in text


def test_over_short_without_approval_breaks_13(good: Path, tmp_path: Path) -> None:
    eid, = q(good, "SELECT id FROM journal_entry WHERE kind = 'over_short'")
    report = report_for(tampered(
        good, tmp_path,
        f"UPDATE journal_entry SET request_json = replace(request_json, '\"approval_id\":7', '\"by\":7'), "
        f"request_hash = 'recomputed-below' WHERE id = {eid}"))
    assert f"entry {eid} " in text_of(report, "13")


def test_over_short_posted_through_the_ledger_without_approval_is_reported(good: Path, tmp_path: Path) -> None:
    path = tampered(good, tmp_path, drop_triggers=False)
    db = make_database(f"sqlite:///{path}")
    from teller_tui.common.clock import FakeClock

    ledger = Ledger(FakeClock())
    with db.write() as s:
        over = ledger.account_id(s, "over_short:B001:CNY")
        drawer = ledger.account_id(s, "drawer:B001:T01")
        res = ledger.post(s, transfer("os-2", "over_short", drawer, over, 10))
    db.dispose()
    report = report_for(path)
    assert report.broken == ["13"] and res.reference in text_of(report, "13")


def test_unsafe_pragmas_are_reported(good: Path, tmp_path: Path) -> None:
    path = tampered(good, tmp_path, drop_triggers=False)
    db = make_database(f"sqlite:///{path}", synchronous="NORMAL")
    try:
        with db.read() as s:
            report = verify_ledger(s)
    finally:
        db.dispose()
    assert report.broken == ["S"] and "synchronous" in text_of(report, "S")


def test_cli_verify_exits_3_naming_the_invariant(good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["teller_tui.commands.ledger"])
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    clean = tampered(good, tmp_path, drop_triggers=False)
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{clean}")
    assert cli.main(["ledger", "verify"]) == 0
    assert "ledger verify: OK" in capsys.readouterr().out
    bad = tmp_path / "bad"
    bad.mkdir()
    path = tampered(good, bad, "UPDATE ledger_account SET credits_posted = credits_posted + 1 WHERE id = 1")
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{path}")
    assert cli.main(["ledger", "verify", "--samples", "2"]) == 3
    out = capsys.readouterr().out
    assert "FAILED" in out and "[5]" in out and "[6]" in out and "[7]" in out
