"""Journal search: every filter, alone and together, against plain SQL over the same database;
paging; refusals; another branch's entries never show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ValidationError
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.journal_search import JournalQuery


def _plain(desk: Desk, where: str = "1 = 1", **params: Any) -> list[tuple[str, str]]:
    """(reference, wallet number) pairs, newest first, by plain SQL."""
    with desk.db.read() as s:
        return [(r[0], r[1]) for r in s.execute(text(
            "SELECT e.reference, w.number FROM journal_entry e, posting p, wallet w "
            "LEFT JOIN staff s ON s.id = e.actor_id "
            "WHERE p.entry_id = e.id AND w.account_id = p.account_id AND e.branch_code = 'B001' "
            f"AND {where} ORDER BY e.seq DESC, p.id"), params)]


@pytest.fixture
def world(desk: Desk) -> dict[str, Any]:
    a = desk.wallet(desk.customer("王芳"), tier=2)
    b = desk.wallet(desk.customer("张伟"), tier=2)
    day1 = desk.clock.now().date()
    for amount in ("100.00", "250.00", "100.00"):
        desk.cash.cash_in(desk.teller, a, Money.of(amount), idempotency_key=new_idempotency_key())
    desk.cash.cash_in(desk.teller2, b, Money.of("250.00"), idempotency_key=new_idempotency_key())
    desk.next_business_day()
    desk.cash.transfer(desk.teller, a, b, Money.of("30.00"), idempotency_key=new_idempotency_key())
    desk.cash.cash_out(desk.teller2, b, Money.of("100.00"), idempotency_key=new_idempotency_key())
    with desk.db.read() as s:
        numbers = dict(s.execute(text("SELECT id, number FROM wallet WHERE id IN (:a, :b)"), {"a": a, "b": b}).all())
    return {"a": numbers[a], "b": numbers[b], "day1": day1, "day2": day1 + timedelta(days=1)}


def _found(desk: Desk, q: JournalQuery, limit: int = 200) -> list[tuple[str, str]]:
    page = desk.services.journal.search(desk.teller, q, limit=limit)
    return [(r.reference, r.wallet_number) for r in page.rows]


def test_every_filter_matches_plain_sql(desk: Desk, world: dict[str, Any]) -> None:
    d1, d2 = world["day1"], world["day2"]
    both = JournalQuery(d1, d2)
    assert _found(desk, both) == _plain(desk, "e.business_date BETWEEN :f AND :t", f=d1, t=d2)
    assert _found(desk, JournalQuery(d2, d2)) == _plain(desk, "e.business_date = :d", d=d2)
    q = JournalQuery(d1, d2, amount=Money.of("100.00"))
    assert _found(desk, q) == _plain(desk, "e.business_date BETWEEN :f AND :t AND abs(p.amount) = 10000", f=d1, t=d2)
    assert len(_found(desk, q)) == 3
    q = JournalQuery(d1, d2, wallet=world["b"])
    assert _found(desk, q) == _plain(desk, "e.business_date BETWEEN :f AND :t AND w.number = :w", f=d1, t=d2,
                                     w=world["b"])
    q = JournalQuery(d1, d2, teller=desk.teller2.username)
    assert _found(desk, q) == _plain(desk, "e.business_date BETWEEN :f AND :t AND s.username = :u", f=d1, t=d2,
                                     u=desk.teller2.username)
    some = _plain(desk, "e.business_date BETWEEN :f AND :t", f=d1, t=d2)[0][0]
    fragment = some[-5:]
    q = JournalQuery(d1, d2, reference=fragment.lower())
    assert _found(desk, q) == _plain(desk, "e.business_date BETWEEN :f AND :t AND e.reference LIKE :r", f=d1, t=d2,
                                     r=f"%{fragment}%")
    q = JournalQuery(d1, d2, amount=Money.of("30.00"), wallet=world["a"], teller=desk.teller.username)
    assert _found(desk, q) == _plain(desk, "e.business_date BETWEEN :f AND :t AND abs(p.amount) = 3000 "
                                     "AND w.number = :w AND s.username = :u", f=d1, t=d2, w=world["a"],
                                     u=desk.teller.username)
    assert len(_found(desk, q)) == 1
    # Wildcards are text: "%" finds nothing rather than everything.
    assert _found(desk, JournalQuery(d1, d2, reference="%%%")) == []


def test_paging(desk: Desk, world: dict[str, Any]) -> None:
    q = JournalQuery(world["day1"], world["day2"])
    everything = _found(desk, q)
    first = desk.services.journal.search(desk.teller, q, limit=3)
    second = desk.services.journal.search(desk.teller, q, limit=3, offset=3)
    assert first.has_more and [(r.reference, r.wallet_number) for r in first.rows + second.rows] == everything[:6]
    last = desk.services.journal.search(desk.teller, q, limit=3, offset=len(everything) - 1)
    assert not last.has_more and len(last.rows) == 1


def test_refusals_and_branch_scope(desk: Desk, world: dict[str, Any]) -> None:
    d1 = world["day1"]
    with pytest.raises(ValidationError):
        desk.services.journal.search(desk.teller, JournalQuery(d1, d1 - timedelta(days=1)))
    with pytest.raises(ValidationError):
        desk.services.journal.search(desk.teller, JournalQuery(d1 - timedelta(days=100), d1))
    with pytest.raises(ValidationError):
        desk.services.journal.search(desk.teller, JournalQuery(d1, d1, reference="12"))
    elsewhere = desk.staff("faraway", branch="B002")
    assert desk.services.journal.search(elsewhere, JournalQuery(d1, world["day2"])).rows == []


@pytest.mark.asyncio
@pytest.mark.slow
async def test_journal_screen_search_page_reprint_zh_80x24(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    from textual.widgets import DataTable, Input

    from desk_harness import make_desk
    from pilot_helpers import settle
    from teller_tui.common.i18n import set_locale
    from desk_harness import static_text

    world = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    wallet = world.wallets["wang"].wallet_id
    for _ in range(22):
        world.services.cash.cash_in(world.actor, wallet, Money.of("5.00"), idempotency_key=new_idempotency_key())
    try:
        async with world.app.run_test(size=(80, 24)) as pilot:
            await world.start(pilot)
            await pilot.press("j")
            await settle(pilot)
            screen = pilot.app.screen
            assert type(screen).__name__ == "JournalScreen"
            screen.query_one("#journal-amount", Input).value = "5"
            screen.query_one("#journal-from", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            table = screen.query_one(DataTable)
            assert table.row_count == 20 and screen.page.has_more
            assert "第 1–20 条" in static_text(pilot.app, "#journal-status")
            await pilot.press("pagedown")
            await settle(pilot)
            assert table.row_count == 2 and not screen.page.has_more
            refs = [r.reference for r in screen.page.rows]
            with world.services.db.read() as s:
                plain = [r[0] for r in s.execute(text(
                    "SELECT e.reference FROM journal_entry e JOIN posting p ON p.entry_id = e.id "
                    "JOIN wallet w ON w.account_id = p.account_id WHERE w.id = :w AND p.amount = -500 "
                    "ORDER BY e.seq DESC LIMIT 2 OFFSET 20"), {"w": wallet})]
            assert refs == plain
            table.focus()
            await pilot.press("enter")  # the highlighted row: its receipt, marked as a reprint
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "ReceiptScreen"
            await settle(pilot)
            body = static_text(pilot.app, "#receipt-text")
            assert refs[0] in body and "重印" in body
    finally:
        set_locale("en")
