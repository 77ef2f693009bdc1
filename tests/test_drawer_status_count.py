"""The home screen's count of today's cash transactions, from the teller's own drawer postings.

``DrawerService.status`` counts the drawer account's postings of the day from the drawer's first
entry (its opening float) onwards (teller_tui.branch.drawer_lookup.todays_cash_count): the count
is the teller's own, across a second day on the same drawer account, and the plan is an index
range of that account's postings, not a walk over the whole day's entries of every branch.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.branch.drawer_lookup import _todays_cash_stmt
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key


def test_todays_count_is_the_tellers_own(desk: Desk) -> None:
    a = desk.wallet(desk.customer("王芳"), 1)
    b = desk.wallet(desk.customer("李雷", latin="li lei"), 1)
    for _ in range(3):
        desk.cash.cash_in(desk.teller, a, Money.of("20"), idempotency_key=key())
    desk.cash.cash_in(desk.teller2, b, Money.of("20"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, a, Money.of("5"), idempotency_key=key())
    desk.cash.transfer(desk.teller, a, b, Money.of("1"), idempotency_key=key())  # no cash: not counted
    assert desk.services.drawers.status(desk.teller).transactions == 4
    assert desk.services.drawers.status(desk.teller2).transactions == 1

    desk.next_business_day()  # the same drawer accounts, a new drawer: yesterday does not count
    assert desk.services.drawers.status(desk.teller).transactions == 0
    desk.cash.cash_in(desk.teller, a, Money.of("20"), idempotency_key=key())
    assert desk.services.drawers.status(desk.teller).transactions == 1


def test_the_count_reads_a_range_of_the_drawers_postings(desk: Desk) -> None:
    stmt = _todays_cash_stmt(True).params(acct=1, day=date(2026, 12, 3), first=1).compile(
        desk.db.read_engine, compile_kwargs={"literal_binds": True})
    with desk.db.read() as s:
        plan = " ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {stmt}")))
    assert "posting USING" in plan and "account_id=? AND entry_id>?" in plan, plan
    assert "ix_entry_date_kind" not in plan, plan
