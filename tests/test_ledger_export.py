"""Exports: the beancount file passes bean-check and shows the app's balances; CSV rows match."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from teller_tui.ledger import Ledger
from teller_tui.ledger.accounts import AccountKind
from teller_tui.ledger.export import bean_component, beancount_account, export_beancount, export_csv
from teller_tui.common.money import Money

from ledger_fixtures import Workload, transfer

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def test_account_names_are_valid_beancount() -> None:
    assert beancount_account("wallet", "wallet:8600123456789012") == "Liabilities:Wallets:W8600123456789012"
    assert beancount_account("drawer", "drawer:B001:T01") == "Assets:Cash:Drawer:B001:T01"
    assert beancount_account("income", "income:B001:fees:CNY") == "Income:B001:Fees:CNY"
    assert bean_component("t 01/a") == "T-01-a"
    assert bean_component("营业部") == "X"
    assert bean_component("-x") == "X"
    assert bean_component("9z") == "9z"


@pytest.fixture
def busy_db(db):  # type: ignore[no-untyped-def]
    wl = Workload(db, 42)
    for _ in range(60):
        wl.step()
    ledger = Ledger(wl.clock)
    with db.write() as s:
        odd = ledger.open_account(s, code="drawer:b001:t 02/x", name="Odd drawer", kind=AccountKind.DRAWER,
                                  branch_code="B001")
        pts = ledger.open_account(s, code="points:8600000000000001", name="Points", kind=AccountKind.POINTS,
                                  currency="PTS", branch_code="B001")
        pool = ledger.open_account(s, code="points_pool:B001", name="Pool", kind=AccountKind.POINTS_POOL,
                                   currency="PTS", branch_code="B001")
        ledger.post(s, transfer("fund-odd", "vault_to_drawer", odd, wl.chart.vault, 12_345))
        ledger.post(s, _pts(pool, pts))
        gone = ledger.open_account(s, code="wallet:8699999999999999", name="Closed", kind=AccountKind.WALLET,
                                   branch_code="B001")
        ledger.post(s, transfer("in-gone", "cash_in", odd, gone, 100, memo='quote " back\\slash\nnewline'))
        ledger.post(s, transfer("out-gone", "cash_out", gone, odd, 100))
        ledger.set_status(s, gone, "closed")
    return db


def _pts(pool: int, pts: int):  # type: ignore[no-untyped-def]
    from teller_tui.ledger import EntryRequest, Leg

    return EntryRequest("pts", "points_award", (Leg(pool, 250, "PTS"), Leg(pts, -250, "PTS")), None, "T01", "B001",
                        memo="points")


def app_balances(db) -> dict[str, Money]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from teller_tui.ledger.export import _accounts

    with db.read() as s:
        accts = _accounts(s)
        rows = s.execute(text("SELECT id, currency, debits_posted - credits_posted AS bal FROM ledger_account")).all()
    return {accts[r.id].bean: Money(int(r.bal), r.currency) for r in rows}


def test_beancount_export_passes_bean_check_and_matches_balances(busy_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ledger.beancount"
    with busy_db.read() as s, out.open("w", encoding="utf-8") as fh:
        n = export_beancount(s, fh)
    assert n > 30
    proc = subprocess.run([str(BEAN_CHECK), str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    from beancount import loader
    from beancount.core import realization

    entries, errors, _options = loader.load_file(str(out))
    assert not errors
    real = realization.realize(entries)
    expected = app_balances(busy_db)
    seen = 0
    for name, money in expected.items():
        node = realization.get(real, name)
        units = node.balance.get_currency_units(money.currency).number if node is not None else Decimal(0)
        assert units == money.decimal, (name, units, money)
        seen += 1
    assert seen == len(expected) and any(m.currency == "PTS" and m.minor for m in expected.values())
    text = out.read_text()
    assert "commodity PTS" in text and "Assets:Cash:Drawer:B001:T-02-x" in text and "close Liabilities:Wallets" in text


def test_bean_check_catches_a_wrong_balance(busy_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Negative control: the balance assertions really are checked."""
    buf = io.StringIO()
    with busy_db.read() as s:
        export_beancount(s, buf)
    lines = buf.getvalue().splitlines()
    i = next(i for i, line in enumerate(lines) if " balance Liabilities:Wallets:" in line)
    head, number, tilde, tolerance, cur = lines[i].rsplit(None, 4)
    lines[i] = f"{head}  {Decimal(number) - Decimal('0.01')} {tilde} {tolerance} {cur}"  # one fen off
    bad = tmp_path / "bad.beancount"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run([str(BEAN_CHECK), str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Balance failed" in (proc.stdout + proc.stderr)


def test_csv_export_rows_sum_to_the_app_balances(busy_db) -> None:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    with busy_db.read() as s:
        n = export_csv(s, buf)
        from sqlalchemy import text

        cached = {r.code: (r.currency, int(r.bal)) for r in s.execute(text(
            "SELECT code, currency, debits_posted - credits_posted AS bal FROM ledger_account"))}
        postings = s.execute(text("SELECT COUNT(*) FROM posting")).scalar()
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert n == len(rows) == postings
    totals: dict[str, Decimal] = {}
    for r in rows:
        totals[r["account"]] = totals.get(r["account"], Decimal(0)) + Decimal(r["amount"])
        assert (r["debit"] == "") != (r["credit"] == "")
    for code, (cur, bal) in cached.items():
        assert totals.get(code, Decimal(0)) == Money(bal, cur).decimal, code
    memo = next(r["memo"] for r in rows if r["memo"].startswith("quote"))
    assert "\n" not in memo


def test_cli_export_and_trial_balance(busy_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["teller_tui.commands.ledger"])
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", str(busy_db.url))
    out = tmp_path / "x.beancount"
    assert cli.main(["ledger", "export", "--format", "beancount", "--out", str(out)]) == 0
    assert out.read_text().startswith('option "title"')
    assert cli.main(["ledger", "export"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].count(",") >= 10
    assert cli.main(["ledger", "trial-balance"]) == 0
    assert "trial balance: zero" in capsys.readouterr().out
