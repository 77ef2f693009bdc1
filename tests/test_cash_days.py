"""The tellers' and customers' cash per business day (``cash_day``, teller_tui/ledger/cash_day.py) gives
the same day totals as the queries it replaced, which walked the teller's or customer's entries of the
day and their postings; ``ledger verify`` finds a row that differs.

The old queries are kept here, as they were (teller_tui/desk/cash_usage.py before the counters), as
the reference. Hypothesis drives the real services: cash in and out by two tellers for three customers,
transfers, reversals of any of them (the ledger's own ``reverse``) (of a cash entry
posted days before too), over several business days with many postings a day.
"""

from __future__ import annotations

from datetime import date
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import text

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.cash_day import cash_today
from teller_tui.ledger.verify import verify_ledger

_OLD_CUSTOMER = (
    "SELECT coalesce(sum(abs(p.amount)), 0) FROM journal_entry e "
    "JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE e.customer_id = :c AND e.business_date = :d AND e.kind = :k AND a.kind = 'drawer' "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")
_OLD_TELLER = (
    "SELECT coalesce(sum(-p.amount), 0) FROM journal_entry e "
    "JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE e.actor_id = :s AND e.business_date = :d AND e.kind = 'cash_out' AND a.kind = 'drawer' "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")

OPS = st.lists(st.tuples(st.sampled_from(["in", "out", "transfer", "reverse", "next_day"]),
                         st.integers(0, 1), st.integers(0, 2), st.integers(1, 50)), min_size=1, max_size=30)


def _compare(d: Desk, customers: list[int], tellers: list[int]) -> int:
    """Every (customer, kind, teller, day) of the ledger: the counters against the old queries. How
    many non-zero totals were compared."""
    compared = 0
    with d.db.read() as s:
        days: list[date] = [r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0])) for r in s.execute(
            text("SELECT DISTINCT business_date FROM journal_entry")).all()]
        for day in days:
            for c in customers:
                for kind in ("cash_in", "cash_out"):
                    for t in [*tellers, None]:
                        got = cash_today(s, customer_id=c, kind=kind, staff_id=t, on=day)
                        want_c = int(s.execute(text(_OLD_CUSTOMER), {"c": c, "d": day, "k": kind}).scalar_one())
                        want_t = 0 if t is None else int(s.execute(text(_OLD_TELLER), {"s": t, "d": day}).scalar_one())
                        assert got == (want_c, want_t), (c, kind, t, day, got, (want_c, want_t))
                        compared += bool(want_c) + bool(want_t)
    return compared


def test_cash_days_equal_the_old_queries(desk: Desk) -> None:  # noqa: F811
    d = desk
    customers = [d.customer(latin=f"c {i}") for i in range(3)]
    wallets = [d.wallet(c) for c in customers]
    tellers = [d.teller, d.teller2]
    for w in wallets:
        d.cash.cash_in(d.teller, w, Money.of("20000"), idempotency_key=key())
    posted: list[int] = []

    @hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(OPS)
    def run(ops: list[tuple[str, int, int, int]]) -> None:
        for op, who, c, amount in ops:
            teller, wallet, money = tellers[who], wallets[c], Money(amount * 100)
            if op == "in":
                posted.append(d.cash.cash_in(teller, wallet, money, idempotency_key=key()).entry_id)
            elif op == "out":
                posted.append(d.cash.cash_out(teller, wallet, money, idempotency_key=key()).entry_id)
            elif op == "transfer":
                posted.append(d.cash.transfer(teller, wallet, wallets[(c + 1) % 3], money,
                                              idempotency_key=key()).entry_id)
            elif op == "reverse" and posted:
                target = posted.pop(amount % len(posted))
                with d.db.write() as s:
                    d.ledger.reverse(s, target, idempotency_key=key(), actor_id=teller.staff_id,
                                     terminal_id="T01")
            elif op == "next_day" and amount % 5 == 0:
                d.next_business_day()
        assert _compare(d, customers, [t.staff_id for t in tellers]) > 0
        with d.db.read() as s:  # the cached rows as verify recomputes them (the reversals here are the
            report = verify_ledger(s)  # ledger's own, with no audit record: invariant A is not this test's)
            assert [v for v in report.violations if v.invariant != "A"] == [], report.render()

    run()


def test_verify_finds_a_cash_day_that_differs(desk: Desk) -> None:  # noqa: F811
    d = desk
    c = d.customer()
    w = d.wallet(c)
    d.cash.cash_in(d.teller, w, Money.of("500"), idempotency_key=key())
    d.cash.cash_out(d.teller, w, Money.of("200"), idempotency_key=key())
    with d.db.read() as s:
        assert verify_ledger(s).ok
    with d.db.write() as s:
        s.execute(text("UPDATE cash_day SET amount = amount + 1 WHERE subject = 'teller_out'"))
    with d.db.read() as s:
        report = verify_ledger(s)
        assert not report.ok
        assert "teller_out" in report.render() and "cash day" in report.render()
    with d.db.write() as s:  # a missing row is found too
        s.execute(text("DELETE FROM cash_day WHERE subject = 'customer_in'"))
        s.execute(text("UPDATE cash_day SET amount = amount - 1 WHERE subject = 'teller_out'"))
    with d.db.read() as s:
        report = verify_ledger(s)
        assert not report.ok and "customer_in" in report.render()
