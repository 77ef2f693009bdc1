"""The ledger's per-wallet usage days (teller_tui.ledger.usage): what the class limits read.

The rows the ledger keeps while posting must equal the rows recomputed from the postings
(``REBUILD_SQL``, the rule "standing entries only": a reversed entry and the reversal leave
both out), through cash in, cash out, transfers, a reversal and a new business day; the usage
the limits see must equal the sum of the postings themselves; and reading a year of usage is
an index range on the table's key (it cannot grow with the wallet's lifetime history).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired, LimitExceeded
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.usage import REBUILD_SQL
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import Wallet
from teller_tui.wallets.limits import wallet_usage


def _kept(desk: Desk) -> set[tuple[int, str, int, int]]:
    with desk.db.read() as s:
        rows = s.execute(text("SELECT account_id, business_date, debits, credits FROM wallet_usage_day "
                              "WHERE debits <> 0 OR credits <> 0")).all()
    return {(int(a), str(d), int(dr), int(cr)) for a, d, dr, cr in rows}


def _rebuilt(desk: Desk) -> set[tuple[int, str, int, int]]:
    with desk.db.read() as s:
        rows = s.execute(text(REBUILD_SQL)).all()
    return {(int(a), str(d), int(dr), int(cr)) for a, d, dr, cr in rows if dr or cr}


def _account(desk: Desk, wallet_id: int) -> int:
    with desk.db.read() as s:
        wallet = s.get(Wallet, wallet_id)
        assert wallet is not None
        return wallet.account_id


def _reverse(desk: Desk, entry_id: int) -> None:
    k = key()
    with pytest.raises(ApprovalRequired) as caught:
        desk.cash.reverse(desk.teller, entry_id, "wrong wallet", idempotency_key=k)
    approval = desk.approve(desk.teller, caught.value.details["spec"])
    desk.cash.reverse(desk.teller, entry_id, "wrong wallet", idempotency_key=k, approval_id=approval)


def test_usage_days_follow_the_postings_and_reversals(desk: Desk) -> None:
    a = desk.wallet(desk.customer("王芳"), 1)
    b = desk.wallet(desk.customer("李雷", latin="li lei"), 1)
    desk.cash.cash_in(desk.teller, a, Money.of("500"), idempotency_key=key())
    desk.cash.cash_in(desk.teller, b, Money.of("50"), idempotency_key=key())
    out = desk.cash.cash_out(desk.teller, a, Money.of("120"), idempotency_key=key())
    desk.cash.transfer(desk.teller, a, b, Money.of("30"), idempotency_key=key())
    assert _kept(desk) == _rebuilt(desk)
    with desk.db.read() as s:
        day = s.execute(text("SELECT business_date FROM journal_entry WHERE id = :e"), {"e": out.entry_id}).scalar()
    on = date.fromisoformat(str(day))
    with desk.db.read() as s:
        used = wallet_usage(s, _account(desk, a), on)
    assert used.out_today == Money.of("150") and used.out_year == Money.of("150")
    assert used.in_today == Money.of("500")

    _reverse(desk, out.entry_id)  # the cash-out no longer counts; the reversal itself never does
    assert _kept(desk) == _rebuilt(desk)
    with desk.db.read() as s:
        used = wallet_usage(s, _account(desk, a), on)
        payee = wallet_usage(s, _account(desk, b), on)
    assert used.out_today == Money.of("30") and used.in_today == Money.of("500")
    assert payee.in_today == Money.of("80") and payee.out_today == Money(0)

    desk.next_business_day()  # a new day starts from nothing today, the year carries on
    desk.cash.cash_out(desk.teller, a, Money.of("10"), idempotency_key=key())
    assert _kept(desk) == _rebuilt(desk)
    with desk.db.read() as s:
        report = verify_ledger(s, workers=1)
    assert not [v for v in report.violations if "usage day" in v.problem], report.render()


def test_the_class_limits_count_the_kept_days(desk: Desk) -> None:
    """The limits read the kept rows, not the postings: a doctored day row (as if the wallet had
    paid out its whole daily limit) refuses the next cash-out, and the rebuild tells them apart."""
    a = desk.wallet(desk.customer("王芳"), 2)  # class 2: daily and yearly limits
    desk.cash.cash_in(desk.teller, a, Money.of("100"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, a, Money.of("10"), idempotency_key=key())
    assert _kept(desk) == _rebuilt(desk)
    with desk.db.write() as s:
        s.execute(text("UPDATE wallet_usage_day SET debits = debits + :m WHERE account_id = :a"),
                  {"m": Money.of("1000000").minor, "a": _account(desk, a)})
    assert _kept(desk) != _rebuilt(desk)
    with desk.db.read() as s:  # `teller ledger verify` reports the doctored row (invariant 5)
        report = verify_ledger(s, workers=1)
    assert any(v.invariant == "5" and "usage day" in v.problem for v in report.violations), report.render()
    with pytest.raises(LimitExceeded) as refused:
        desk.cash.cash_out(desk.teller, a, Money.of("10"), idempotency_key=key())
    assert refused.value.code in ("tier_daily", "tier_yearly")


def test_a_year_of_usage_is_read_by_key(desk: Desk) -> None:
    """The plan walks the primary key's range for one wallet and one year, never the postings."""
    with desk.db.read() as s:
        plan = " ".join(str(r[-1]) for r in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT coalesce(sum(debits), 0) FROM wallet_usage_day "
            "WHERE account_id = 1 AND business_date >= '2026-01-01' AND business_date <= '2026-12-03'")))
    assert "wallet_usage_day USING" in plan and "account_id=? AND business_date>? AND business_date<?" in plan, plan
    assert "posting" not in plan
