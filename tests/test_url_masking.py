"""Passwords are masked wherever a database URL is printed (one helper: ``common.masks.mask_url``),
and ``ledger verify`` prints money formatted on both backends (PostgreSQL sums are Decimals)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from backends import backend_db  # noqa: F401  (fixture)
from teller_tui.common.clock import FakeClock
from teller_tui.common.masks import mask_url
from teller_tui.common.money import Money
from teller_tui.ledger import AccountKind, EntryRequest, Ledger, credit, debit
from teller_tui.ledger.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql+psycopg://app:s3cret@db.example:5432/teller", "postgresql+psycopg://app:***@db.example:5432/teller"),
    ("postgresql+psycopg://app@db/teller?password=s3cret&sslmode=verify-full",
     "postgresql+psycopg://app@db/teller?password=***&sslmode=verify-full"),
    ("postgresql://app:a%40b@db/t?sslmode=require&sslpassword=key-pass&PASSWORD=x",
     "postgresql://app:***@db/t?sslmode=require&sslpassword=***&PASSWORD=***"),
    ("host=db user=app password='two words' dbname=teller", "host=db user=app password=*** dbname=teller"),
    ("sqlite:////var/lib/teller/teller.db", "sqlite:////var/lib/teller/teller.db"),
    ("", ""),
    (None, ""),
])
def test_mask_url(url: str | None, masked: str) -> None:
    assert mask_url(url) == masked


def test_database_display_url_masks_query_passwords() -> None:
    from teller_tui.db.engine import Database

    database = Database("postgresql+psycopg://app:userinfo-secret@127.0.0.1:1/teller?password=query-secret")
    try:
        shown = database.display_url
    finally:
        database.dispose()
    assert "secret" not in shown and shown.count("***") == 2


def test_no_url_is_printed_without_the_helper() -> None:
    """SQLAlchemy's ``hide_password=True`` misses a password in the query string: nothing uses it."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "teller_tui").rglob("*.py")
                 if "hide_password=True" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_db_status_masks_a_password_given_as_a_query_parameter(pg_app_url: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main

    sep = "&" if "?" in pg_app_url else "?"
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"{pg_app_url}{sep}password=query-secret-42")
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "query-secret-42" not in out and "password=***" in out, out


def test_verify_prints_money_formatted(backend_db: Any) -> None:  # noqa: F811
    ledger = Ledger(FakeClock())
    with backend_db.write() as s:
        eq = ledger.open_account(s, code="EQ", name="Equity", kind=AccountKind.EQUITY, branch_code="B001")
        vault = ledger.open_account(s, code="V", name="Vault", kind=AccountKind.VAULT, branch_code="B001")
        ledger.post(s, EntryRequest("k", "vault_receive", (debit(vault, Money.of("5")), credit(eq, Money.of("5"))),
                                    None, "T01", "B001"))
    with backend_db.write() as s:  # a tampered cached total: the trial balance is off by 1,000,000.00
        s.execute(text("UPDATE ledger_account SET debits_posted = debits_posted + 100000000 WHERE code = 'V'"))
    with backend_db.read() as s:
        report = verify_ledger(s)
    rendered = report.render()
    assert not report.ok
    assert "Decimal" not in rendered and "1000000.00 CNY" in rendered, rendered
