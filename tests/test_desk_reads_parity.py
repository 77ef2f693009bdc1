"""Every read the desk's screens make, on both backends (``[sqlite]`` and ``[postgresql]``).

One branch day with a bit of everything (cash in and out, a transfer, a reversal, a queued
cash-out, a large cash-in with its report), then each read the screens call: customer search,
the customer view, wallet history (with paging), receipt reprint, the approvals list and recent
requests, the supervisor dashboard, large-value reports, drawer status and pending count, the
vault, the business day, the previews and the end-of-day report. Both backends must give the
same answers (PostgreSQL once failed wallet history with a GroupingError).
"""

from __future__ import annotations

from typing import Any

import pytest

from backends import backend_db  # noqa: F401  (fixture)
from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.verify import verify_ledger


@pytest.fixture
def db(backend_db: Any) -> Any:  # desk_fixtures.desk builds on ``db``: run it on both backends
    return backend_db


def _day(desk: Desk) -> dict[str, Any]:
    cid = desk.customer("王芳", latin="wang fang", phone="13900000011")
    wid = desk.wallet(cid)
    cid2 = desk.customer("张三明", latin="zhang sanming", phone="13900000012")
    wid2 = desk.wallet(cid2)
    cash = desk.cash
    first = cash.cash_in(desk.teller, wid, Money.of("3000"), idempotency_key=key())
    cash.cash_out(desk.teller, wid, Money.of("200"), idempotency_key=key())
    cash.transfer(desk.teller, wid, wid2, Money.of("300"), idempotency_key=key())
    out = cash.cash_out(desk.teller, wid, Money.of("100"), idempotency_key=key())
    k = key()
    try:
        cash.reverse(desk.teller, out.entry_id, "wrong amount", idempotency_key=k)
    except ApprovalRequired as err:
        cash.reverse(desk.teller, out.entry_id, "wrong amount", idempotency_key=k,
                     approval_id=desk.approve(desk.teller, err.details["spec"]))
    big = key()
    try:  # large cash: approved at the counter, reported
        cash.cash_in(desk.teller2, wid2, Money.of("60000"), idempotency_key=big)
    except ApprovalRequired as err:
        cash.cash_in(desk.teller2, wid2, Money.of("60000"), idempotency_key=big,
                     approval_id=desk.approve(desk.teller2, err.details["spec"], source_of_funds="salary",
                                              purpose="deposit"))
    with pytest.raises(ApprovalRequired) as queued:  # a request waiting in the branch queue
        cash.cash_in(desk.teller, wid, Money.of("50000"), idempotency_key=key())
    desk.services.approvals.request(desk.teller, queued.value.details["spec"])
    return {"cid": cid, "cid2": cid2, "wid": wid, "wid2": wid2, "first": first}


def view_number(desk: Desk, wallet_id: int) -> str:
    from teller_tui.models import Wallet

    with desk.db.read() as session:
        w = session.get(Wallet, wallet_id)
        assert w is not None
        return w.number


def test_every_desk_read_on_this_backend(desk: Desk, backend_db: Any) -> None:  # noqa: F811
    s = desk.services
    day = _day(desk)
    # Search: by name, phone, wallet number.
    assert [h.customer_id for h in s.customers.search("王芳").results] == [day["cid"]]
    assert [h.customer_id for h in s.customers.search("13900000012").results] == [day["cid2"]]
    [by_wallet] = s.customers.search(view_number(desk, day["wid"])).results
    assert by_wallet.customer_id == day["cid"]
    # The customer view and wallet history (two pages).
    view = s.customers.get_customer(day["cid"])
    [wallet] = view.wallets
    assert wallet.balance == Money.of("2500") and wallet.available == Money.of("2500")
    page = s.customers.wallet_history(day["wid"], limit=3)
    assert len(page.rows) == 3 and page.next_before_seq is not None
    assert page.rows[0].running_balance == Money.of("2500")
    rest = s.customers.wallet_history(day["wid"], limit=10, before_seq=page.next_before_seq)
    assert [r.kind for r in page.rows + rest.rows][-1] == "cash_in" and rest.next_before_seq is None
    assert rest.rows[-1].running_balance == Money.of("3000")
    assert any(r.reversed for r in page.rows + rest.rows)
    # Receipt reprint.
    assert day["first"].reference in s.cash.receipt_for(day["first"].reference)
    # Approvals: the queue, recent requests, the dashboard, large-value reports.
    [pending] = s.approvals.pending("B001")
    assert pending.amount == Money.of("50000")
    assert len(s.approvals.recent("B001")) >= 3
    dash = s.approvals.dashboard(desk.supervisor, branch_code="B001")
    assert dash is not None
    [report] = s.approvals.large_value_reports(branch_code="B001")
    assert report.amount == Money.of("60000")
    # Drawers, vault, the business day.
    status = s.drawers.status(desk.teller, include_balance=True)
    assert status.state == "open" and status.transactions >= 4 and status.balance is not None
    assert s.drawers.pending_count(desk.teller) is None
    assert s.drawers.vault("B001").balance == Money(0)  # the set-up stock went into the three drawers
    current = s.business_days.current("B001")
    assert current is not None and current.drawers_open == 3
    # The previews a form shows.
    assert s.cash.preview_cash_out(desk.teller, day["wid"], Money.of("100")).allowed
    assert s.cash.preview_transfer(desk.teller, day["wid"], day["wid2"], Money.of("100")).allowed
    assert s.cash.preview_reversal(desk.teller, day["first"].entry_id).refusal is None
    # The end-of-day report (not written).
    eod = s.drawers.eod_report("B001", write=False)
    assert len(eod.drawers) == 3 and "B001" in eod.text()
    with s.db.read() as session:
        assert verify_ledger(session).ok
