"""Risk rules marked ``block`` stop a posting inside its transaction (teller_tui.risk.blocking), through the
one owner of posting checks (CashService.check_limits): refuse, or ask for a supervisor's approval that is
then consumed by the retried posting. Real core (make_services, fake clock), no mocks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired, Conflict, ValidationError
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import JournalEntry, RiskAlert
from teller_tui.models.risk import AlertStatus
from teller_tui.risk.blocking import RISK_APPROVAL_RULE, PostingGate
from teller_tui.risk.rules import RiskRules


def _gate(d: Desk, **blocks: str) -> None:
    rules: list[dict[str, Any]] = [
        {"id": "velocity", "effective_from": date(2020, 1, 1), "count": 3, "minutes": 10},
        {"id": "structuring", "effective_from": date(2020, 1, 1), "count": 3, "days": 7, "margin_percent": 20},
        {"id": "watchlist", "effective_from": date(2020, 1, 1)},
        {"id": "high_risk_customer", "effective_from": date(2020, 1, 1), "min_amount": "20,000"},
    ]
    for r in rules:
        if r["id"] in blocks:
            r["block"] = blocks[r["id"]]
    d.cash.risk_gate = PostingGate(RiskRules.from_dict({"rule": rules}), d.clock)


def _alert(d: Desk, rule: str, customer_id: int, wallet_id: int | None = None) -> int:
    now = d.clock.now()
    with d.db.write() as s:
        row = RiskAlert(rule=rule, subject=f"customer:{customer_id}", window="w", branch_code="B001",
                        customer_id=customer_id, wallet_id=wallet_id, first_at=now, last_at=now, created_at=now,
                        status=AlertStatus.OPEN)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _entries(d: Desk) -> int:
    with d.db.read() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntry)).scalar_one())


def test_open_alert_of_a_refusing_rule_refuses_in_the_transaction(desk: Desk) -> None:  # noqa: F811
    d = desk
    _gate(d, watchlist="refuse")
    cid = d.customer("张伟", latin="zhang wei")
    wid = d.wallet(cid, 2)
    d.cash.cash_in(d.teller, wid, Money.of("100"), idempotency_key=key())
    before = _entries(d)
    alert_id = _alert(d, "watchlist", cid)
    # The preview shows the refusal; the posting refuses inside its transaction and posts nothing.
    preview = d.cash.preview_cash_out(d.teller, wid, Money.of("50"))
    assert preview.refusal and preview.refusal_code == "risk_blocked"
    with pytest.raises(Conflict) as err:
        d.cash.cash_out(d.teller, wid, Money.of("50"), idempotency_key=key())
    assert err.value.code == "risk_blocked" and f"{alert_id}" in str(err.value)
    with pytest.raises(Conflict):  # money coming in too, and as the payee of a transfer
        d.cash.cash_in(d.teller, wid, Money.of("50"), idempotency_key=key())
    other = d.wallet(d.customer("李娜", latin="li na"), 2)
    d.cash.cash_in(d.teller, other, Money.of("100"), idempotency_key=key())
    with pytest.raises(Conflict):
        d.cash.transfer(d.teller, other, wid, Money.of("10"), idempotency_key=key())
    assert _entries(d) == before + 1  # only the other customer's own cash-in
    # Cleared by a supervisor: the wallet serves again.
    d.services.risk.clear(d.supervisor, alert_id, "same name, different person")
    d.cash.cash_out(d.teller, wid, Money.of("50"), idempotency_key=key())


def test_a_rule_without_block_only_warns(desk: Desk) -> None:  # noqa: F811
    d = desk
    _gate(d)  # nothing blocks
    cid = d.customer()
    wid = d.wallet(cid, 2)
    _alert(d, "watchlist", cid)
    d.cash.cash_in(d.teller, wid, Money.of("100"), idempotency_key=key())
    assert [w.code for w in d.services.risk.warnings_for(d.teller, wid)] == ["watchlist"]


def test_approve_mode_needs_a_supervisor_then_posts_once(desk: Desk) -> None:  # noqa: F811
    d = desk
    _gate(d, structuring="approve")
    cid = d.customer()
    wid = d.wallet(cid, 2)
    d.cash.cash_in(d.teller, wid, Money.of("500"), idempotency_key=key())
    _alert(d, "structuring", cid, wid)
    k = key()
    with pytest.raises(ApprovalRequired) as err:
        d.cash.cash_out(d.teller, wid, Money.of("200"), idempotency_key=k)
    assert RISK_APPROVAL_RULE in err.value.rules
    spec = err.value.details["spec"]
    approval_id = d.approve(d.teller, spec)
    result = d.cash.cash_out(d.teller, wid, Money.of("200"), idempotency_key=k, approval_id=approval_id)
    assert not result.replayed
    # The approval was consumed: another posting needs another one.
    with pytest.raises(ApprovalRequired):
        d.cash.cash_out(d.teller, wid, Money.of("10"), idempotency_key=key())


def test_velocity_blocks_the_nth_posting_live(desk: Desk) -> None:  # noqa: F811
    d = desk
    _gate(d, velocity="refuse")
    wid = d.wallet(d.customer(), 2)
    d.cash.cash_in(d.teller, wid, Money.of("100"), idempotency_key=key())
    d.cash.cash_in(d.teller, wid, Money.of("100"), idempotency_key=key())
    with pytest.raises(Conflict) as err:  # the third within 10 minutes, before any scan ran
        d.cash.cash_out(d.teller, wid, Money.of("10"), idempotency_key=key())
    assert err.value.code == "risk_blocked"
    d.clock.advance(minutes=11)
    d.cash.cash_out(d.teller, wid, Money.of("10"), idempotency_key=key())


def test_high_risk_customer_over_the_amount_needs_approval(desk: Desk) -> None:  # noqa: F811
    from teller_tui.models import Customer

    d = desk
    _gate(d, high_risk_customer="approve")
    cid = d.customer()
    with d.db.write() as s:
        row = s.get(Customer, cid)
        row.risk_level = "high"
    wid = d.wallet(cid, 2)
    d.cash.cash_in(d.teller, wid, Money.of("19999.99"), idempotency_key=key())  # under: no approval
    with pytest.raises(ApprovalRequired):
        d.cash.cash_in(d.teller, wid, Money.of("20000"), idempotency_key=key())


def test_block_value_is_validated() -> None:
    with pytest.raises(ValidationError):
        RiskRules.from_dict({"rule": [{"id": "watchlist", "effective_from": date(2020, 1, 1), "block": "maybe"}]})
    shipped = RiskRules.load().in_force(date(2027, 1, 1))
    assert shipped["watchlist"].block == "approve"
