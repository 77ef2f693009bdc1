"""Customer statements over a range of business dates: opening and closing balances and every
row checked against plain SQL; rendering at 80 and 32 columns in both languages; saved and audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ValidationError
from teller_tui.common.formatting import display_width
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.wallet_statement import render_statement


def _post(desk: Desk, wallet: int, kind: str, amount: str) -> None:
    op = desk.cash.cash_in if kind == "in" else desk.cash.cash_out
    op(desk.teller, wallet, Money.of(amount), memo="st", idempotency_key=new_idempotency_key())


def _sql_balance(desk: Desk, wallet: int, before: date | None = None, upto: date | None = None) -> int:
    sql = ("SELECT coalesce(-sum(p.amount), 0) FROM posting p JOIN wallet w ON w.account_id = p.account_id "
           "JOIN journal_entry e ON e.id = p.entry_id WHERE w.id = :w")
    if before is not None:
        sql += " AND e.business_date < :b"
    if upto is not None:
        sql += " AND e.business_date <= :u"
    with desk.db.read() as s:
        return int(s.execute(text(sql), {"w": wallet, "b": before, "u": upto}).scalar_one())


def test_statement_matches_plain_sql(desk: Desk) -> None:
    wallet = desk.wallet(desk.customer("王芳"), tier=2)
    day1 = desk.clock.now().date()
    _post(desk, wallet, "in", "100.00")
    desk.next_business_day()
    day2 = day1 + timedelta(days=1)
    _post(desk, wallet, "in", "50.00")
    _post(desk, wallet, "out", "20.00")
    desk.next_business_day()
    _post(desk, wallet, "in", "7.00")
    st = desk.services.statements.statement(desk.teller, wallet, day2, day2)
    with desk.db.read() as s:
        refs = [r[0] for r in s.execute(text(
            "SELECT DISTINCT e.reference, e.seq FROM journal_entry e JOIN posting p ON p.entry_id = e.id "
            "JOIN wallet w ON w.account_id = p.account_id WHERE w.id = :w AND e.business_date = :d ORDER BY e.seq"),
            {"w": wallet, "d": day2})]
    assert [r.reference for r in st.rows] == refs and len(refs) == 2
    assert st.opening.minor == _sql_balance(desk, wallet, before=day2) == 10000
    assert st.closing.minor == _sql_balance(desk, wallet, upto=day2) == 13000
    assert st.total_in == Money.of("50.00") and st.total_out == Money.of("20.00")
    assert [r.balance for r in st.rows] == [Money.of("150.00"), Money.of("130.00")]
    whole = desk.services.statements.statement(desk.teller, wallet, day1, day1 + timedelta(days=30))
    assert whole.opening.minor == 0 and whole.closing.minor == _sql_balance(desk, wallet) == 13700
    assert len(whole.rows) == 4


@pytest.mark.parametrize("width", [80, 32])
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_render_fits_and_masks(desk: Desk, width: int, locale: str) -> None:
    wallet = desk.wallet(desk.customer("欧阳建国"), tier=2)
    _post(desk, wallet, "in", "1000.00")
    today = desk.clock.now().date()
    st = desk.services.statements.statement(desk.teller, wallet, today.replace(day=1), today)
    body = render_statement(st, width=width, locale=locale)
    assert all(display_width(line) <= width for line in body.splitlines()), body
    assert "欧阳建国" not in body and st.wallet_number not in body  # masked on paper
    assert ("期初余额" if locale == "zh_CN" else "Opening balance") in body
    assert ("1,000.00") in body


def test_issue_saves_and_audits(desk: Desk) -> None:
    wallet = desk.wallet(desk.customer("王芳"), tier=2)
    _post(desk, wallet, "in", "12.00")
    today = desk.clock.now().date()
    st, body, path = desk.services.statements.issue(desk.teller, wallet, today.replace(day=1), today)
    assert path.read_text() == body and path.parent.name == "statements" and (path.stat().st_mode & 0o777) == 0o600
    with desk.db.read() as s:
        actions = [r[0] for r in s.execute(text("SELECT action FROM audit_record ORDER BY seq DESC LIMIT 1"))]
    assert actions == ["statement_issue"]


def test_ranges_refused(desk: Desk) -> None:
    wallet = desk.wallet(desk.customer("王芳"))
    today = desk.clock.now().date()
    with pytest.raises(ValidationError):
        desk.services.statements.statement(desk.teller, wallet, today, today - timedelta(days=1))
    with pytest.raises(ValidationError):
        desk.services.statements.statement(desk.teller, wallet, today - timedelta(days=400), today)


def test_month_typed_over_the_prefilled_range() -> None:
    """Typing a month in the first field gives that month though the second field still holds today
    (found trying it in tmux: it was refused as a bad date)."""
    from datetime import date

    from screens.statement import parse_range

    assert parse_range("2026-11", "2026-12-03") == (date(2026, 11, 1), date(2026, 11, 30))
    assert parse_range("2026-11", "") == (date(2026, 11, 1), date(2026, 11, 30))
    assert parse_range("2026-11", "2026-12") == (date(2026, 11, 1), date(2026, 12, 31))
    assert parse_range("2026-11-05", "2026-11-20") == (date(2026, 11, 5), date(2026, 11, 20))
    assert parse_range("2026-02-03", "") == (date(2026, 2, 3), date(2026, 2, 3))
