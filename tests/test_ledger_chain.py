"""Invariants 15 and 16: entries re-derived from their request, and the per-branch hash chain.

An attacker with write access to the database file (triggers dropped, raw SQL) edits a
posting's account, amount, the customer or the memo, moves a deposit to another wallet with
both cached totals fixed, deletes the last entry with ``ledger_head`` fixed, or rewrites the
tail with every hash recomputed. Each is named by `teller ledger verify` (the invariant and the
entry); the last ones only against a head exported before (``--expect-head`` / ``--heads-file``).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from teller_tui.db import schema
from teller_tui.db.ddl import APPEND_ONLY_TABLES, append_only_statements, drop_append_only_statements
from teller_tui.db.engine import make_database
from teller_tui.ledger import Ledger
from teller_tui.ledger.chain import GENESIS, branch_heads, entry_hash
from teller_tui.ledger.core import canonical_json, request_hash
from teller_tui.ledger.usage import REBUILD_SQL
from teller_tui.ledger.verify import VerifyReport, verify_ledger
from teller_tui.ledger.verify_content import ExpectedHead, parse_expected_heads

from ledger_fixtures import Workload, transfer


@pytest.fixture(scope="module")
def good_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random history (seed 7) on two branches, so there are two chains."""
    path = tmp_path_factory.mktemp("chain") / "good.db"
    shutil.copyfile(template_db, path)
    db = make_database(f"sqlite:///{path}")
    wl = Workload(db, 7)
    for _ in range(60):
        wl.step()
    with db.write() as s:
        ledger = Ledger(wl.clock)
        v2 = ledger.open_account(s, code="vault:B002:CNY", name="Vault 2", kind="vault", branch_code="B002")
        e2 = ledger.open_account(s, code="equity:B002:CNY", name="Equity 2", kind="equity", branch_code="B002")
        for i in range(3):
            ledger.post(s, transfer(f"b2-{i}", "vault_receive", v2, e2, 1000 + i, branch="B002"))
    with db.read() as s:
        report = verify_ledger(s, history=True)
        assert report.ok, report.render()
        assert {h.branch_code for h in branch_heads(s)} == {"B001", "B002"}
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


def refill_usage_days(con: sqlite3.Connection) -> None:
    """Recompute the wallets' usage days from the postings, as a tamperer who fixes the caches would."""
    con.execute("DELETE FROM wallet_usage_day")
    con.execute(f"INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) {REBUILD_SQL}")


def tampered(good: Path, tmp_path: Path, *statements: str, fn: Any = None) -> Path:
    path = tmp_path / "tampered.db"
    shutil.copyfile(good, path)
    con = sqlite3.connect(path)
    for table in APPEND_ONLY_TABLES:
        for sql in drop_append_only_statements("sqlite", table):
            con.execute(sql)
    for sql in statements:
        con.execute(sql)
    if fn is not None:
        fn(con)
    refill_usage_days(con)  # the tamperer rewrites this cache too (its own check: test_wallet_usage_days.py)
    for table in APPEND_ONLY_TABLES:  # and puts the triggers back
        for sql in append_only_statements("sqlite", table):
            con.execute(sql)
    con.commit()
    con.close()
    return path


def report_for(path: Path, expected: list[ExpectedHead] | None = None) -> VerifyReport:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify_ledger(s, history=True, expected_heads=expected or [])
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


def heads_of(path: Path) -> list[ExpectedHead]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT branch_code, last_seq, hash FROM ledger_chain_head ORDER BY branch_code").fetchall()
    finally:
        con.close()
    return parse_expected_heads([f"{b}:{s}:{h}" for b, s, h in rows])


def rechain(con: sqlite3.Connection) -> None:
    """What an attacker who knows the algorithm does after an edit: recompute every entry's
    request hash and chain hash, and both heads, so that the database agrees with itself."""
    heads: dict[str, tuple[int, int, str]] = {}
    cols = ("id, seq, reference, kind, idempotency_key, request_hash, request_json, memo, actor_id, terminal_id, "
            "branch_code, business_date, posted_at, customer_id, reverses_entry_id, hold_id")
    for row in con.execute(f"SELECT {cols} FROM journal_entry ORDER BY seq").fetchall():
        values = dict(zip([c.strip() for c in cols.split(",")], row, strict=True))
        values["business_date"] = date.fromisoformat(values["business_date"])
        values["posted_at"] = datetime.fromisoformat(values["posted_at"]).replace(tzinfo=UTC)
        legs = con.execute("SELECT account_id, currency, amount FROM posting WHERE entry_id = ? ORDER BY id",
                           (values["id"],)).fetchall()
        _s, n, prev = heads.get(values["branch_code"], (0, 0, GENESIS))
        digest = entry_hash(values, legs, prev)
        con.execute("UPDATE journal_entry SET prev_hash = ?, hash = ?, branch_seq = ? WHERE id = ?",
                    (prev, digest, n + 1, values["id"]))
        heads[values["branch_code"]] = (values["seq"], n + 1, digest)
    for branch, (seq, n, digest) in heads.items():
        con.execute("UPDATE ledger_chain_head SET last_seq = ?, entries = ?, hash = ?, "
                    "last_at = (SELECT posted_at FROM journal_entry WHERE seq = ?), "
                    "last_date = (SELECT business_date FROM journal_entry WHERE seq = ?) WHERE branch_code = ?",
                    (seq, n, digest, seq, seq, branch))


def forge_request(con: sqlite3.Connection, entry_id: int, **changes: Any) -> None:
    """Rewrite an entry's stored request (and its hash) to match the edited entry."""
    import json

    req = json.loads(con.execute("SELECT request_json FROM journal_entry WHERE id = ?", (entry_id,)).fetchone()[0])
    req.update(changes)
    con.execute("UPDATE journal_entry SET request_json = ?, request_hash = ? WHERE id = ?",
                (canonical_json(req), request_hash(req), entry_id))


@pytest.fixture
def good(good_db: Path) -> Iterator[Path]:
    yield good_db


def _cash_in(good: Path) -> tuple[int, int, int, int, int]:
    """The last plain cash-in: entry id, wallet posting id, wallet account, drawer account, amount."""
    return q(good, """
        SELECT e.id, pw.id, pw.account_id, pd.account_id, pd.amount FROM journal_entry e
        JOIN posting pw ON pw.entry_id = e.id AND pw.amount < 0 JOIN posting pd ON pd.entry_id = e.id AND pd.amount > 0
        WHERE e.kind = 'cash_in' AND e.branch_code = 'B001' ORDER BY e.id DESC LIMIT 1""")


# -- invariant 15 -------------------------------------------------------------------------------
def test_redirected_deposit_with_fixed_totals_is_found(good: Path, tmp_path: Path) -> None:
    """The issue's case: a cash-in moved to another customer's wallet, both cached totals fixed."""
    eid, pid, wallet, _drawer, amount = _cash_in(good)
    other, = q(good, f"SELECT id FROM ledger_account WHERE kind = 'wallet' AND id <> {wallet} ORDER BY id LIMIT 1")
    report = report_for(tampered(
        good, tmp_path, f"UPDATE posting SET account_id = {other} WHERE id = {pid}",
        f"UPDATE ledger_account SET credits_posted = credits_posted - {amount} WHERE id = {wallet}",
        f"UPDATE ledger_account SET credits_posted = credits_posted + {amount} WHERE id = {other}"))
    assert "5" not in report.broken and "1" not in report.broken  # the totals agree: only 15 and 16 see it
    assert "15" in report.broken and "16" in report.broken
    assert f"entry {eid} " in text_of(report, "15") and f"account {other}" in text_of(report, "15")
    assert f"entry {eid} " in text_of(report, "16")


def test_edited_amount_is_found(good: Path, tmp_path: Path) -> None:
    eid, _pid, wallet, drawer, _amount = _cash_in(good)
    report = report_for(tampered(
        good, tmp_path, f"UPDATE posting SET amount = amount + 500 WHERE entry_id = {eid} AND account_id = {drawer}",
        f"UPDATE posting SET amount = amount - 500 WHERE entry_id = {eid} AND account_id = {wallet}",
        f"UPDATE ledger_account SET debits_posted = debits_posted + 500 WHERE id = {drawer}",
        f"UPDATE ledger_account SET credits_posted = credits_posted + 500 WHERE id = {wallet}"))
    assert "15" in report.broken and f"entry {eid} " in text_of(report, "15")
    assert "16" in report.broken


@pytest.mark.parametrize(("column", "value", "shown"), [
    ("customer_id", "4242", "customer_id is 4242"),
    ("memo", "'paid to mallory'", "memo is 'paid to mallory'"),
    ("kind", "'transfer'", "kind is 'transfer'"),
    ("actor_id", "3", "actor_id is 3"),
])
def test_edited_entry_column_is_found(good: Path, tmp_path: Path, column: str, value: str, shown: str) -> None:
    eid, *_ = _cash_in(good)
    report = report_for(tampered(good, tmp_path, f"UPDATE journal_entry SET {column} = {value} WHERE id = {eid}"))
    assert "15" in report.broken and "16" in report.broken
    assert f"entry {eid} " in text_of(report, "15") and shown in text_of(report, "15")


def test_edited_entry_and_request_together_break_the_chain(good: Path, tmp_path: Path) -> None:
    """The memo changed in the entry and in its stored request (request hash recomputed): the
    entry agrees with its request, but not with its chain hash."""
    eid, *_ = _cash_in(good)
    path = tampered(good, tmp_path, f"UPDATE journal_entry SET memo = 'x' WHERE id = {eid}",
                    fn=lambda con: forge_request(con, eid, memo="x"))
    report = report_for(path)
    assert report.broken == ["16"]
    assert f"entry {eid} " in text_of(report, "16") and "altered after posting" in text_of(report, "16")


def test_redated_entry_breaks_its_reference(good: Path, tmp_path: Path) -> None:
    eid, *_ = _cash_in(good)
    report = report_for(tampered(
        good, tmp_path, f"UPDATE journal_entry SET business_date = date(business_date, '+1 day') WHERE id = {eid}"))
    assert "15" in report.broken and "reference" in text_of(report, "15")


# -- invariant 16 ---------------------------------------------------------------------------------
def test_deleted_last_entry_with_fixed_ledger_head_is_found(good: Path, tmp_path: Path) -> None:
    eid, seq = q(good, "SELECT id, seq FROM journal_entry WHERE branch_code = 'B001' ORDER BY seq DESC LIMIT 1")
    assert seq == q(good, "SELECT MAX(seq) FROM journal_entry")[0] - 0 or True
    # Undo the entry's effect on the cached totals, then delete it and point ledger_head at the
    # entry before it: every balance and sequence check agrees again.
    fixes = []
    con = sqlite3.connect(good)
    for acct, amt in con.execute(f"SELECT account_id, amount FROM posting WHERE entry_id = {eid}"):
        column = "debits_posted" if amt > 0 else "credits_posted"
        fixes.append(f"UPDATE ledger_account SET {column} = {column} - {abs(amt)} WHERE id = {acct}")
    con.close()
    last = q(good, "SELECT MAX(seq) FROM journal_entry")[0]
    statements = [*fixes, f"DELETE FROM posting WHERE entry_id = {eid}", f"DELETE FROM journal_entry WHERE id = {eid}"]
    if seq == last:
        statements.append("UPDATE ledger_head SET last_seq = (SELECT MAX(seq) FROM journal_entry), "
                          "last_at = (SELECT posted_at FROM journal_entry ORDER BY seq DESC LIMIT 1)")
    path = tampered(good, tmp_path, *statements)
    report = report_for(path)
    assert "16" in report.broken
    assert f"the head names seq {seq}" in text_of(report, "16")
    assert "5" not in report.broken and "6" not in report.broken


def test_altered_then_rehashed_entry_names_that_entry(good: Path, tmp_path: Path) -> None:
    """An edit whose own hash was recomputed (but not its successors'): the entry is named, not
    the next one (as the audit trail does)."""
    eid, seq = q(good, "SELECT id, seq FROM journal_entry WHERE branch_code = 'B001' AND kind = 'cash_in' "
                       "ORDER BY seq LIMIT 1")

    def rehash_one(con: sqlite3.Connection) -> None:
        forge_request(con, eid, memo="forged")
        row = con.execute("SELECT seq, reference, kind, idempotency_key, request_hash, memo, actor_id, terminal_id, "
                          "branch_code, business_date, posted_at, customer_id, reverses_entry_id, hold_id, prev_hash "
                          f"FROM journal_entry WHERE id = {eid}").fetchone()
        names = ["seq", "reference", "kind", "idempotency_key", "request_hash", "memo", "actor_id", "terminal_id",
                 "branch_code", "business_date", "posted_at", "customer_id", "reverses_entry_id", "hold_id"]
        values = dict(zip(names, row[:-1], strict=True))
        values["posted_at"] = datetime.fromisoformat(values["posted_at"]).replace(tzinfo=UTC)
        legs = con.execute(f"SELECT account_id, currency, amount FROM posting WHERE entry_id = {eid} ORDER BY id").fetchall()
        con.execute("UPDATE journal_entry SET hash = ? WHERE id = ?", (entry_hash(values, legs, row[-1]), eid))

    report = report_for(tampered(good, tmp_path, f"UPDATE journal_entry SET memo = 'forged' WHERE id = {eid}",
                                 fn=rehash_one))
    assert report.broken == ["16"], report.render()
    first = next(v for v in report.violations if v.invariant == "16").samples[0]
    assert first.startswith(f"entry {eid} ") and "altered and re-hashed" in first


def test_rewritten_tail_with_recomputed_hashes_needs_the_kept_head(good: Path, tmp_path: Path) -> None:
    kept = heads_of(good)
    eid, *_ = _cash_in(good)

    def rewrite(con: sqlite3.Connection) -> None:
        forge_request(con, eid, memo="rewritten")
        rechain(con)

    path = tampered(good, tmp_path, f"UPDATE journal_entry SET memo = 'rewritten' WHERE id = {eid}", fn=rewrite)
    inside = report_for(path)
    assert "15" not in inside.broken and "16" not in inside.broken  # the database agrees with itself...
    report = report_for(path, kept)  # ...but not with the head kept outside it
    assert "16" in report.broken
    assert "differs from the kept head" in text_of(report, "16") and "branch B001" in text_of(report, "16")
    assert "branch B002" not in text_of(report, "16")  # the other branch's chain is untouched


def test_deleted_tail_with_every_head_fixed_needs_the_kept_head(good: Path, tmp_path: Path) -> None:
    kept = heads_of(good)
    eid, seq = q(good, "SELECT id, seq FROM journal_entry ORDER BY seq DESC LIMIT 1")
    branch, = q(good, f"SELECT branch_code FROM journal_entry WHERE id = {eid}")

    def fix(con: sqlite3.Connection) -> None:
        for acct, amt in con.execute(f"SELECT account_id, amount FROM posting WHERE entry_id = {eid}").fetchall():
            column = "debits_posted" if amt > 0 else "credits_posted"
            con.execute(f"UPDATE ledger_account SET {column} = {column} - {abs(amt)} WHERE id = {acct}")
        con.execute(f"DELETE FROM posting WHERE entry_id = {eid}")
        con.execute(f"DELETE FROM journal_entry WHERE id = {eid}")
        con.execute("UPDATE ledger_head SET last_seq = (SELECT MAX(seq) FROM journal_entry), "
                    "last_at = (SELECT posted_at FROM journal_entry ORDER BY seq DESC LIMIT 1)")
        rechain(con)

    path = tampered(good, tmp_path, fn=fix)
    assert report_for(path).ok
    report = report_for(path, kept)
    assert report.broken == ["16"]
    assert f"branch {branch}: the kept head names entry seq {seq}, which is missing" in text_of(report, "16")


def test_kept_heads_still_hold_after_new_entries(good: Path, tmp_path: Path) -> None:
    """A head exported yesterday still verifies today: the chain only grows."""
    kept = heads_of(good)
    path = tampered(good, tmp_path)
    db = make_database(f"sqlite:///{path}")
    try:
        from teller_tui.common.clock import FakeClock

        with db.write() as s:
            ledger = Ledger(FakeClock(datetime(2027, 1, 1, tzinfo=UTC)))
            v2, e2 = ledger.account_id(s, "vault:B002:CNY"), ledger.account_id(s, "equity:B002:CNY")
            ledger.post(s, transfer("later", "vault_receive", v2, e2, 5, branch="B002"))
    finally:
        db.dispose()
    report = report_for(path, kept)
    assert "16" not in report.broken and "15" not in report.broken, report.render()


def test_expected_head_parsing() -> None:
    h = "ab" * 32
    assert parse_expected_heads([h, f"B001:{h}", f"B001:12:{h.upper()}"]) == [
        ExpectedHead(None, None, h), ExpectedHead("B001", None, h), ExpectedHead("B001", 12, h)]
    for bad in ("", "B001:x:" + h, "B001:12:" + h[:-1], "a:b:c:" + h):
        with pytest.raises(ValueError):
            parse_expected_heads([bad])


def test_cli_head_export_and_verify_against_the_file(good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    clean = tampered(good, tmp_path / "c" if (tmp_path / "c").mkdir() is None else tmp_path)
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{clean}")
    assert cli.main(["ledger", "head"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[0].startswith("B001:") and printed[3].startswith("B002:")
    heads = tmp_path / "kept" / "heads.txt"
    heads.parent.mkdir()
    assert cli.main(["heads", "export", str(heads)]) == 0
    assert cli.main(["heads", "export", str(heads)]) == 0  # appended, not rewritten
    lines = heads.read_text().splitlines()
    assert len(lines) == 6 and [ln.split()[1] for ln in lines[:3]] == ["audit", "ledger", "ledger"]
    assert heads.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert cli.main(["ledger", "verify", "--heads-file", str(heads)]) == 0
    assert cli.main(["ledger", "verify", "--expect-head", printed[0]]) == 0
    assert cli.main(["audit", "verify", "--heads-file", str(heads)]) == 0
    # Rewrite the tail with recomputed hashes: only the kept heads notice.
    eid, *_ = _cash_in(good)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()

    def rewrite(con: sqlite3.Connection) -> None:
        forge_request(con, eid, memo="rewritten")
        rechain(con)

    bad = tampered(good, bad_dir, f"UPDATE journal_entry SET memo = 'rewritten' WHERE id = {eid}", fn=rewrite)
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{bad}")
    capsys.readouterr()
    assert cli.main(["ledger", "verify"]) == 0  # the database agrees with itself
    capsys.readouterr()
    assert cli.main(["ledger", "verify", "--heads-file", str(heads)]) == 3
    out = capsys.readouterr().out
    assert "[16]" in out and "differs from the kept head" in out
    assert cli.main(["ledger", "verify", "--expect-head", "nonsense"]) == 2


def test_migration_chains_existing_history(good: Path, tmp_path: Path) -> None:
    """Downgrade the chain away, upgrade again: the migration chains the history it finds, the
    same way the ledger does (the heads come out identical)."""
    from alembic import command

    path = tmp_path / "mig.db"
    shutil.copyfile(good, path)
    before = heads_of(path)
    db = make_database(f"sqlite:///{path}")
    try:
        cfg = schema.alembic_config(db)
        with db.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0100_audit_streams@-4")  # 0100, 0090, 0008 and 0007
        assert "hash" not in {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(journal_entry)")}
        schema.upgrade(db)
        with db.read() as s:
            report = verify_ledger(s, history=True, expected_heads=before)
        assert report.ok, report.render()
    finally:
        db.dispose()
    assert heads_of(path) == before
