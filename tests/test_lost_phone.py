"""A lost or stolen phone: one action blocks the wallet on every channel (counter, kiosk, linked
account, dispute correction) — nothing in, nothing out — until a device replacement, with its
supervisor's approval, lifts the block. An ordinary freeze still takes money in."""

from __future__ import annotations

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from onboarding_fixtures import CARD
from test_kiosk_core import PIN, K
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models.cases import CaseType


@pytest.fixture
def k(desk: Desk) -> K:  # noqa: F811
    return K(desk)


def _blocked(fn, *args, **kw) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as err:
        fn(*args, **kw)
    assert err.value.code == "wallet_blocked", err.value


def test_block_refuses_every_channel_until_the_device_is_replaced(k: K) -> None:
    desk = k.desk
    cid, wid, number = k.customer("李雷", "13811112222")
    other_cid, other, _n = k.customer("韩梅", "13833334444")
    desk.services.funding.link_now(desk.teller, cid, wid, "card", CARD, "李雷")
    lc = desk.services.lifecycle
    assert lc.available(wid)["block_lost"] is None

    info = lc.block_lost(desk.teller, wid, "phone stolen on the bus")
    assert info.status == "frozen"
    avail = lc.available(wid)
    assert avail["block_lost"] and avail["unfreeze"] and avail["close"] and avail["replace_device"] is None

    # Counter: in and out, and transfers either way.
    _blocked(desk.cash.cash_in, desk.teller, wid, Money.of("10"), idempotency_key=key())
    _blocked(desk.cash.cash_out, desk.teller, wid, Money.of("10"), idempotency_key=key())
    _blocked(desk.cash.transfer, desk.teller, other, wid, Money.of("10"), idempotency_key=key())
    _blocked(desk.cash.transfer, desk.teller, wid, other, Money.of("10"), idempotency_key=key())
    assert desk.cash.preview_cash_in(desk.teller, wid, Money.of("10")).refusal  # said before posting
    # Linked account: top-up and withdrawal.
    _blocked(desk.services.funding.top_up_from_linked, desk.teller, wid, Money.of("10"), idempotency_key=key())
    _blocked(desk.services.funding.withdraw_to_linked, desk.teller, wid, Money.of("10"), idempotency_key=key())
    # Kiosk: the stolen phone's wallet cannot sign in; nobody can pay into it.
    with pytest.raises(AuthenticationFailed):
        k.svc.sign_in(k.actor, number, PIN)
    session = k.svc.sign_in(k.actor, "13833334444", PIN)
    _blocked(k.svc.transfer, k.actor, session, other, number, Money.of("5"), idempotency_key=key())
    # Dispute correction into the blocked wallet.
    case = desk.services.cases.open_case(desk.teller, cid, CaseType.TRANSACTION_DISPUTE, "disputed", wallet_id=wid)
    _blocked(desk.services.disputes.resolve_with_correction, desk.supervisor, case.number, Money.of("1"), "x",
             idempotency_key=key())
    # Unfreeze is not the way out.
    _blocked(lc.unfreeze, desk.teller, wid, "found it")

    # Device replacement: approval first, then the block is lifted and money moves again.
    with pytest.raises(ApprovalRequired) as need:
        lc.replace_device(desk.teller, wid, new_pin="135790", reason="new phone")
    approval = desk.approve(desk.teller, need.value.details["spec"])
    lc.replace_device(desk.teller, wid, new_pin="135790", reason="new phone", approval_id=approval)
    assert lc.available(wid)["block_lost"] is None
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("10"), idempotency_key=key())
    assert k.svc.sign_in(k.actor, number, "135790").customer_id == cid
    assert other_cid != cid


def test_ordinary_freeze_still_takes_money_in(k: K) -> None:
    desk = k.desk
    _cid, wid, _number = k.customer("王五", "13855556666")
    desk.services.lifecycle.freeze(desk.teller, wid, "suspicious")
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())  # in: taken
    with pytest.raises(Conflict) as err:
        desk.cash.cash_out(desk.teller, wid, Money.of("10"), idempotency_key=key())
    assert err.value.code == "wallet_frozen"


def test_a_blocked_wallet_that_was_frozen_stays_frozen_after_replacement(k: K) -> None:
    desk = k.desk
    _cid, wid, _number = k.customer("赵六", "13877778888")
    lc = desk.services.lifecycle
    lc.freeze(desk.teller, wid, "suspicious")
    lc.block_lost(desk.teller, wid, "phone lost")
    with pytest.raises(ApprovalRequired) as need:
        lc.replace_device(desk.teller, wid, new_pin="135790", reason="new phone")
    lc.replace_device(desk.teller, wid, new_pin="135790", reason="new phone",
                      approval_id=desk.approve(desk.teller, need.value.details["spec"]))
    assert lc.available(wid)["unfreeze"] is None  # frozen as before the block, unfreeze possible again


def test_report_blocks_and_opens_the_case_in_one_transaction(k: K, monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter's lost-phone report: block + case + the customer's notice commit together, or none."""
    from sqlalchemy import func, select

    import teller_tui.cases.lost as lost
    from teller_tui.models import OutboxMessage
    from teller_tui.models.cases import ServiceCase

    desk = k.desk
    cid, wid, number = k.customer("钱七", "13899990000")
    svc, lc = desk.services.lost_phones, desk.services.lifecycle

    def count(model: type) -> int:
        with desk.services.db.read() as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())

    cases_before, notices_before = count(ServiceCase), count(OutboxMessage)

    # A failure after the block was placed (the case insert breaks): nothing stays, not even the block.
    def broken(*_a: object, **_kw: object) -> None:
        raise RuntimeError("disk went away while opening the case")
    with monkeypatch.context() as m:
        m.setattr(lost, "insert_case", broken)
        with pytest.raises(RuntimeError):
            svc.report(desk.teller, cid, wid, "phone stolen")
    assert lc.available(wid)["block_lost"] is None  # not blocked: the block rolled back with the case
    assert count(ServiceCase) == cases_before and count(OutboxMessage) == notices_before

    view = svc.report(desk.teller, cid, wid, "phone stolen at the market")
    assert view.type == "lost_device" and view.wallet_id == wid
    assert lc.available(wid)["block_lost"]  # blocked now
    _blocked(desk.cash.cash_in, desk.teller, wid, Money.of("10"), idempotency_key=key())
    detail = desk.services.cases.get(desk.teller, view.number)
    assert any("supervisor" in e.text for e in detail.events)  # the recovery path is on the case
    assert count(OutboxMessage) == notices_before + 1  # the customer's SMS, same transaction
    with desk.services.db.read() as s:
        notice = s.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc())).scalars().first()  # type: ignore[union-attr]
        assert notice is not None and notice.event == "block" and view.number in notice.params_json
    # Reported twice: refused, and no second case.
    _blocked(svc.report, desk.teller, cid, wid, "again")
    assert count(ServiceCase) == cases_before + 1
    assert number
