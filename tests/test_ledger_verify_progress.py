"""``teller ledger verify`` tells how far it is on standard error (a verify of millions of postings
takes minutes): a line with what it will check, one as each group of checks ends, and the content
scan's entries as its ranges end; nothing with ``--no-progress``; the report on standard output is
the same either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui import cli
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key


def test_verify_progress_on_stderr(desk: Desk, db_path: Path, tmp_path: Path,  # noqa: F811
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    c = desk.customer()
    w = desk.wallet(c)
    for amount in ("300", "200"):
        desk.cash.cash_in(desk.teller, w, Money.of(amount), idempotency_key=key())
    desk.cash.cash_out(desk.teller, w, Money.of("100"), idempotency_key=key())
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("TELLER_LOCALE", "en")
    capsys.readouterr()
    assert cli.main(["ledger", "verify", "--progress"]) == 0
    shown = capsys.readouterr()
    lines = shown.err.splitlines()
    assert all(line.startswith("teller ledger verify: ") for line in lines), lines
    assert "postings," in lines[0] and "accounts to check" in lines[0], lines
    assert any("checked 5 cash days in" in line for line in lines), lines
    assert any("content and chain:" in line and "entries re-derived and re-hashed" in line for line in lines), lines
    assert lines[-1].startswith("teller ledger verify: checked A ledger/audit in"), lines
    assert shown.out.startswith("ledger verify: OK")
    assert cli.main(["ledger", "verify", "--no-progress"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.splitlines()[1:] == shown.out.splitlines()[1:]
    assert cli.main(["ledger", "verify"]) == 0  # not a terminal: quiet by default
    assert capsys.readouterr().err == ""
