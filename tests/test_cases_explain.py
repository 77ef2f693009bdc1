"""Explain a transaction: posted entries by reference, and refused attempts stored by the counter and
the kiosk (reason code only, never a secret) and explained later in plain words, in both languages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.auth.passwords import hash_pin
from teller_tui.cases.refusals import REFUSAL_CAUSES, record_refusal, refusal_cause
from teller_tui.common.errors import (
    ApprovalRequired, Conflict, DatabaseUnavailable, LimitExceeded, NotFound, PermissionDenied,
)
from teller_tui.common.i18n import locale_override
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import Customer, Wallet
from teller_tui.models.cases import RefusedAttempt

PIN = "246810"


def _refusals(desk: Desk) -> list[RefusedAttempt]:
    with desk.db.read() as s:
        return list(s.execute(select(RefusedAttempt).order_by(RefusedAttempt.id)).scalars())


def test_posted_entry_and_its_reversal(desk: Desk) -> None:  # noqa: F811
    explain = desk.services.explain
    cid = desk.customer()
    wid = desk.wallet(cid)
    posted = desk.cash.cash_in(desk.teller, wid, Money.of("250"), memo="salary", idempotency_key=key())
    e = explain.explain(desk.teller, posted.reference.lower())
    assert (e.status, e.channel, e.by, e.terminal, e.kind, e.refused) == (
        "posted", "counter", "teller1", "T01", "cash_in", False)
    assert e.amount == Money.of("250") and e.at == posted.posted_at
    assert e.cause == "Cash paid into the wallet. salary" and e.channel_text == "At the counter"
    try:
        desk.cash.reverse(desk.teller, posted.entry_id, "wrong wallet", idempotency_key="rev-1")
    except ApprovalRequired as err:
        desk.cash.reverse(desk.teller, posted.entry_id, "wrong wallet", idempotency_key="rev-1",
                          approval_id=desk.approve(desk.teller, err.details["spec"]))
    again = explain.explain(desk.teller, posted.reference)
    assert again.status == "reversed" and "Posted, then reversed by R" in again.status_text
    with pytest.raises(NotFound):
        explain.explain(desk.teller, "R20990101-000000001")


def test_counter_refusals_are_stored_and_explained(desk: Desk) -> None:  # noqa: F811
    explain = desk.services.explain
    cid = desk.customer()
    wid = desk.wallet(cid)
    desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=key())
    desk.clock.advance(seconds=5)
    with pytest.raises(LimitExceeded):
        desk.cash.cash_out(desk.teller, wid, Money.of("300"), idempotency_key=key())
    desk.services.lifecycle.freeze(desk.teller, wid, "customer asked")
    desk.clock.advance(seconds=5)
    with pytest.raises(Conflict):
        desk.cash.cash_out(desk.teller, wid, Money.of("50"), idempotency_key=key())
    desk.clock.advance(seconds=5)
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())  # a freeze still takes money in
    # Asking for a supervisor is a step of the flow, not a refusal: nothing is stored for it.
    with pytest.raises(ApprovalRequired):
        desk.cash.cash_in(desk.teller, desk.wallet(desk.customer("李雷")), Money.of("60000"), idempotency_key=key())

    rows = _refusals(desk)
    assert [(r.reason_code, r.channel, r.kind, r.amount, r.customer_id) for r in rows] == [
        ("insufficient_funds", "counter", "cash_out", 30000, cid), ("wallet_frozen", "counter", "cash_out", 5000, cid)]
    listed = explain.refusals(desk.teller, customer_id=cid)
    assert [e.code for e in listed] == ["wallet_frozen", "insufficient_funds"]  # newest first
    funds = explain.explain(desk.teller, listed[1].reference)
    assert funds.refused and funds.status == "refused" and funds.group == "funds" and funds.by == "teller1"
    assert funds.cause == "There was not enough money in the wallet (amounts on hold count as spent)."
    assert "no money may leave" in listed[0].cause
    with locale_override("zh_CN"):
        zh = explain.explain(desk.teller, listed[0].reference)
        assert zh.cause != listed[0].cause and any("\u4e00" <= ch <= "\u9fff" for ch in zh.cause)
    history = explain.history(desk.teller, wallet_id=wid)
    assert [(h.refused, h.kind) for h in history] == [  # newest first, postings and refusals together
        (False, "cash_in"), (True, "cash_out"), (True, "cash_out"), (False, "cash_in")]
    with pytest.raises(PermissionDenied):
        explain.refusals(desk.supervisor.__class__(None, "kiosk-k01", "K01", "kiosk", "B001"))


def test_kiosk_transfer_refusal_is_stored(desk: Desk) -> None:  # noqa: F811
    kiosk = desk.services.kiosk
    actor = kiosk.ensure_identity("K01")
    cid = desk.customer("张明", phone="13812345678")
    wid = desk.wallet(cid)
    payee = desk.customer("李雷", phone="13912345678")
    desk.wallet(payee)
    with desk.db.write() as s:
        s.get(Customer, cid).pin_hash = hash_pin(PIN)
    desk.cash.cash_in(desk.teller, wid, Money.of("9000"), idempotency_key=key())
    session = kiosk.sign_in(actor, "13812345678", PIN)
    with pytest.raises(LimitExceeded):
        kiosk.transfer(actor, session, wid, "13912345678", Money.of("3000"), idempotency_key=key())
    (row,) = _refusals(desk)
    assert (row.channel, row.reason_code, row.terminal_id, row.customer_id) == ("kiosk", "kiosk_per_txn", "K01", cid)
    assert PIN not in repr(row.model_dump())
    e = desk.services.explain.refusals(desk.teller, wallet_id=wid)[0]
    assert e.channel_text == "At a self-service kiosk" and e.by == "Kiosk K01" and e.group == "limits"
    assert e.amount == Money.of("3000") and e.cause == "The amount was above the kiosk's limit for one transfer."


def test_recorder_keeps_only_refusals_and_never_raises(desk: Desk) -> None:  # noqa: F811
    wid = desk.wallet(desk.customer())
    audit = desk.services.audit
    assert record_refusal(desk.db, audit, desk.teller, ApprovalRequired("ask"), "counter", "cash_out", wid) is None
    assert record_refusal(desk.db, audit, desk.teller, DatabaseUnavailable("down"), "counter", "cash_out") is None
    stored = record_refusal(desk.db, audit, desk.teller, LimitExceeded("x", code="tier_daily"), "counter",
                            "transfer", wid, Money.of("1"), to_wallet_id=999_999)
    assert stored is not None
    (row,) = _refusals(desk)
    assert row.to_wallet_id is None and row.wallet_id == wid  # an unknown wallet id is not stored
    # A broken channel (or a broken database) is logged; the caller's refusal stays what the user sees.
    assert record_refusal(desk.db, audit, desk.teller, LimitExceeded("x"), "carrier pigeon", "cash_out") is None
    assert refusal_cause("no_such_code") == "Refused by the system (reason code no_such_code)."
    assert set(REFUSAL_CAUSES) >= {"insufficient_funds", "wallet_frozen", "tier_daily", "kiosk_signin",
                                   "approval_rejected", "approval_expired"}
    with desk.db.read() as s:
        assert s.get(Wallet, wid) is not None
