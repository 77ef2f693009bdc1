"""Cash in / out / transfer: limits, freezing, approvals, idempotency, reversal rules, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.common.errors import ApprovalRequired, Conflict, LimitExceeded, PermissionDenied, ValidationError
from teller_tui.ledger import trial_balance
from teller_tui.common.money import Money


def _wallet(desk: Desk, tier: int = 1, name: str = "王芳") -> int:
    return desk.wallet(desk.customer(name), tier)


def _balance(desk: Desk, wid: int) -> Money:
    from teller_tui.models import Wallet

    with desk.db.read() as s:
        return desk.ledger.balance(s, s.get(Wallet, wid).account_id).posted


def _reverse(desk: Desk, actor, entry_id: int, reason: str, *, idempotency_key: str):  # type: ignore[no-untyped-def]
    """Reversals need a supervisor under the approval policy: first refused, then approved."""
    try:
        return desk.cash.reverse(actor, entry_id, reason, idempotency_key=idempotency_key)
    except ApprovalRequired as err:
        assert "reversal" in err.rules
        approval_id = desk.approve(actor, err.details["spec"])
    return desk.cash.reverse(actor, entry_id, reason, idempotency_key=idempotency_key, approval_id=approval_id)


def test_cash_in_out_and_audit(desk: Desk) -> None:
    from teller_tui.audit.trail import AuditTrail, verify

    wid = _wallet(desk)
    r = desk.cash.cash_in(desk.teller, wid, Money.of("1000.50"), "salary", idempotency_key=key())
    assert r.kind == "cash_in" and r.new_balance == Money.of("1000.50") and not r.replayed
    # No file per posting (the ledger gives the receipt again): a copy is saved only when a print fails.
    assert not desk.settings.receipts_dir.exists() or not any(desk.settings.receipts_dir.iterdir())
    assert r.reference in desk.cash.receipt_for(r.reference)
    r2 = desk.cash.cash_out(desk.teller, wid, Money.of("0.50"), idempotency_key=key())
    assert r2.new_balance == Money.of("1000") == _balance(desk, wid)
    with desk.db.read() as s:
        # the cash-out is the wallet's first payment, so its first-use reward is audited with it
        recs = [a for a in AuditTrail.recent(s, limit=3) if a.action != "reward_first_use"]
        assert [a.action for a in recs] == ["cash_out", "cash_in"]
        assert recs[1].detail["reference"] == r.reference and recs[1].detail["amount"] == "1000.50"
        assert verify(s).ok
        assert all(v == 0 for v in trial_balance(s).values())


def test_insufficient_funds_refused(desk: Desk) -> None:
    wid = _wallet(desk)
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    p = desk.cash.preview_cash_out(desk.teller, wid, Money.of("10.01"))
    assert p.refusal and p.refusal_code == "insufficient_funds"
    with pytest.raises(LimitExceeded):
        desk.cash.cash_out(desk.teller, wid, Money.of("10.01"), idempotency_key=key())


def test_tier_balance_cap(desk: Desk) -> None:
    wid = _wallet(desk, tier=4)  # cap 10,000 (the 2021 classes)
    desk.cash.cash_in(desk.teller, wid, Money.of("10000"), idempotency_key=key())
    with pytest.raises(LimitExceeded) as err:
        desk.cash.cash_in(desk.teller, wid, Money.of("0.01"), idempotency_key=key())
    assert err.value.code == "tier_balance_cap"
    other = _wallet(desk, tier=4, name="李娜")
    desk.cash.cash_in(desk.teller, other, Money.of("100"), idempotency_key=key())
    with pytest.raises(LimitExceeded):  # the cap holds for transfers in as well
        desk.cash.transfer(desk.teller, other, wid, Money.of("1"), idempotency_key=key())


def test_tier_per_transaction(desk: Desk) -> None:
    wid = _wallet(desk, tier=4)  # cap 10,000, per payment 2,000 (the 2021 classes)
    desk.cash.cash_in(desk.teller, wid, Money.of("9000"), idempotency_key=key())
    with pytest.raises(LimitExceeded) as err:
        desk.cash.cash_out(desk.teller, wid, Money.of("2000.01"), idempotency_key=key())
    assert err.value.code == "tier_per_txn"
    desk.cash.cash_out(desk.teller, wid, Money.of("2000"), idempotency_key=key())


def test_tier_daily_then_next_day(desk: Desk) -> None:
    wid = _wallet(desk, tier=4)  # per payment 2,000, daily 5,000 (the 2021 classes)
    desk.cash.cash_in(desk.teller, wid, Money.of("6000"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("2000"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("2000"), idempotency_key=key())
    with pytest.raises(LimitExceeded) as err:
        desk.cash.cash_out(desk.teller, wid, Money.of("1000.01"), idempotency_key=key())
    assert err.value.code == "tier_daily"
    desk.next_business_day(days=1)
    desk.cash.cash_out(desk.teller, wid, Money.of("1000"), idempotency_key=key())


def test_tier_yearly(desk: Desk) -> None:
    from dataclasses import replace

    from teller_tui.wallets.classes import default_table

    table = default_table()

    class Tight:
        def tier(self, n: int, on):  # type: ignore[no-untyped-def]
            return replace(table.tier(n, on=on), yearly=Money.of("300"))

    desk.cash.tiers = Tight()  # type: ignore[assignment]
    wid = _wallet(desk, tier=1)
    desk.cash.cash_in(desk.teller, wid, Money.of("1000"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("200"), idempotency_key=key())
    desk.next_business_day(days=3)
    with pytest.raises(LimitExceeded) as err:
        desk.cash.cash_out(desk.teller, wid, Money.of("100.01"), idempotency_key=key())
    assert err.value.code == "tier_yearly"
    desk.cash.cash_out(desk.teller, wid, Money.of("100"), idempotency_key=key())


def test_frozen_wallet_refuses_debits_but_takes_deposits(desk: Desk) -> None:
    wid = _wallet(desk)
    desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=key())
    desk.wallets.freeze(desk.teller, wid, "customer reported phone stolen")
    assert desk.cash.preview_cash_out(desk.teller, wid, Money.of("1")).refusal_code == "wallet_frozen"
    with pytest.raises(Conflict):
        desk.cash.cash_out(desk.teller, wid, Money.of("1"), idempotency_key=key())
    other = _wallet(desk, name="李娜")
    with pytest.raises(Conflict):
        desk.cash.transfer(desk.teller, wid, other, Money.of("1"), idempotency_key=key())
    # Also the ledger itself refuses (defence in depth).
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.models import Wallet

    with pytest.raises(Conflict), desk.db.write() as s:
        acct = s.get(Wallet, wid).account_id
        drawer = desk.cash._drawer_account(s, desk.teller)
        desk.ledger.post(s, EntryRequest("raw", "cash_out", (debit(acct, Money.of("1")), credit(drawer, Money.of("1"))),
                                         None, "T", "B001"))
    desk.cash.cash_in(desk.teller, wid, Money.of("5"), idempotency_key=key())
    with pytest.raises(PermissionDenied):
        desk.wallets.unfreeze(desk.teller, wid, "ok")
    # A supervisor does not skip the approval the policy requires: the direct path is the host's only
    # (issue 15); at the counter, unfreezing goes through the lifecycle service and its approval.
    with pytest.raises(PermissionDenied):
        desk.wallets.unfreeze(desk.supervisor, wid, "identity checked")
    with pytest.raises(ApprovalRequired) as needed:
        desk.services.lifecycle.unfreeze(desk.teller, wid, "identity checked")
    approval = desk.approve(desk.teller, needed.value.details["spec"])
    desk.services.lifecycle.unfreeze(desk.teller, wid, "identity checked", approval_id=approval)
    desk.cash.cash_out(desk.teller, wid, Money.of("1"), idempotency_key=key())


def test_large_cash_threshold_single(desk: Desk) -> None:
    wid = _wallet(desk)
    ok = desk.cash.preview_cash_in(desk.teller, wid, Money.of("49999.99"))
    assert ok.allowed and ok.amount_words
    p = desk.cash.preview_cash_in(desk.teller, wid, Money.of("50000.00"))
    assert p.refusal is None and p.approval_rules == ["large_cash"]
    with pytest.raises(ApprovalRequired) as err:
        desk.cash.cash_in(desk.teller, wid, Money.of("50000.00"), idempotency_key=key())
    assert err.value.rules == ["large_cash"] and err.value.reasons
    desk.cash.cash_in(desk.teller, wid, Money.of("49999.99"), idempotency_key=key())
    k = key()
    with pytest.raises(ApprovalRequired) as err:
        desk.cash.cash_in(desk.teller, wid, Money.of("50000"), idempotency_key=k)
    r = desk.cash.cash_in(desk.teller, wid, Money.of("50000"), idempotency_key=k,
                          approval_id=desk.approve(desk.teller, err.value.details["spec"],
                                                   source_of_funds="salary", purpose="savings"))
    assert r.new_balance == Money.of("99999.99")


def test_large_cash_same_day_cumulative_per_direction(desk: Desk) -> None:
    cid = desk.customer("张伟")
    a, b = desk.wallet(cid, 1), desk.wallet(cid, 2)
    desk.cash.cash_in(desk.teller, a, Money.of("45000"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, a, Money.of("100"), idempotency_key=key())  # other direction: not counted
    desk.cash.cash_in(desk.teller, b, Money.of("4999.99"), idempotency_key=key())  # 49,999.99 in total
    with pytest.raises(ApprovalRequired) as err:  # another wallet of the same customer, same day
        desk.cash.cash_in(desk.teller2, b, Money.of("0.01"), idempotency_key=key())
    assert err.value.rules == ["large_cash"]
    desk.next_business_day(days=1)
    desk.cash.cash_in(desk.teller, b, Money.of("0.01"), idempotency_key=key())


def test_teller_cash_out_limits_need_approval(desk: Desk) -> None:
    wid = _wallet(desk)
    desk.cash.cash_in(desk.teller, wid, Money.of("45000"), idempotency_key=key())
    with pytest.raises(ApprovalRequired) as err:
        desk.cash.cash_out(desk.teller, wid, Money.of("20000.01"), idempotency_key=key())
    assert err.value.rules == ["teller_cash_limit"]
    desk.cash.cash_out(desk.supervisor, wid, Money.of("20000.01"), idempotency_key=key())  # higher role limit
    desk.cash.cash_out(desk.teller, wid, Money.of("20000"), idempotency_key=key())


def test_idempotent_double_submit(desk: Desk) -> None:
    wid = _wallet(desk)
    k = key()
    first = desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=k)
    again = desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=k)
    assert again.replayed and again.reference == first.reference and again.entry_id == first.entry_id
    assert _balance(desk, wid) == Money.of("100")
    with pytest.raises(Conflict):
        desk.cash.cash_in(desk.teller, wid, Money.of("200"), idempotency_key=k)
    # A replay is not re-checked against limits that the original itself used up.
    w3 = _wallet(desk, tier=3, name="李娜")
    k3 = key()
    desk.cash.cash_in(desk.teller, w3, Money.of("2000"), idempotency_key=k3)
    assert desk.cash.cash_in(desk.teller, w3, Money.of("2000"), idempotency_key=k3).replayed


def test_transfer_same_and_cross_branch(desk: Desk) -> None:
    from teller_tui.models import LedgerAccount, Wallet

    a = _wallet(desk)
    b = _wallet(desk, name="李娜")
    far = desk.wallet(desk.customer("赵敏", branch="B002"), 1)
    desk.cash.cash_in(desk.teller, a, Money.of("300"), idempotency_key=key())
    r = desk.cash.transfer(desk.teller, a, b, Money.of("100"), "rent", idempotency_key=key())
    assert r.new_balance == Money.of("200") and _balance(desk, b) == Money.of("100")
    assert "李*" in r.receipt_text or "Payee" in r.receipt_text
    desk.cash.transfer(desk.teller, a, far, Money.of("50"), idempotency_key=key())
    assert _balance(desk, far) == Money.of("50")
    with desk.db.read() as s:
        assert all(v == 0 for v in trial_balance(s, branch_code="B001").values())
        assert all(v == 0 for v in trial_balance(s, branch_code="B002").values())
        from sqlalchemy import select

        codes = set(s.execute(select(LedgerAccount.code).where(LedgerAccount.kind == "settlement")).scalars())
        assert codes == {"interbranch:B001:CNY", "interbranch:B002:CNY"}
        assert s.get(Wallet, far) is not None
    with pytest.raises(ValidationError):
        desk.cash.transfer(desk.teller, a, a, Money.of("1"), idempotency_key=key())


def test_reversal_rules(desk: Desk) -> None:
    wid = _wallet(desk)
    cin = desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=key())
    out = desk.cash.cash_out(desk.teller, wid, Money.of("30"), idempotency_key=key())
    with pytest.raises(PermissionDenied):  # not own
        _reverse(desk, desk.teller2, out.entry_id, "wrong amount", idempotency_key=key())
    with pytest.raises(ValidationError):
        _reverse(desk, desk.teller, out.entry_id, "  ", idempotency_key=key())
    assert desk.cash.preview_reversal(desk.teller, out.entry_id).balance_after == Money.of("100")
    k = key()
    rev = _reverse(desk, desk.teller, out.entry_id, "wrong amount", idempotency_key=k)
    assert rev.kind == "reversal" and _balance(desk, wid) == Money.of("100")
    assert _reverse(desk, desk.teller, out.entry_id, "wrong amount", idempotency_key=k).replayed
    with pytest.raises(Conflict) as err:  # once
        _reverse(desk, desk.teller, out.entry_id, "again", idempotency_key=key())
    assert err.value.code == "already_reversed"
    with pytest.raises(Conflict):  # a reversal is not reversible
        _reverse(desk, desk.teller, rev.entry_id, "undo", idempotency_key=key())
    assert desk.cash.preview_reversal(desk.teller2, cin.entry_id).refusal
    desk.next_business_day(days=1)
    with pytest.raises(Conflict) as err:  # same business day only
        _reverse(desk, desk.teller, cin.entry_id, "late", idempotency_key=key())
    assert err.value.code == "reverse_not_today"


def test_reversed_cash_out_gives_the_limit_back(desk: Desk) -> None:
    wid = _wallet(desk, tier=3)
    desk.cash.cash_in(desk.teller, wid, Money.of("2000"), idempotency_key=key())
    out = desk.cash.cash_out(desk.teller, wid, Money.of("2000"), idempotency_key=key())
    _reverse(desk, desk.teller, out.entry_id, "customer changed mind", idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("2000"), idempotency_key=key())


def test_kiosk_cannot_handle_cash_and_amount_must_be_positive(desk: Desk) -> None:
    kiosk = desk.staff("kiosk1", "kiosk")
    wid = _wallet(desk)
    with pytest.raises(PermissionDenied):
        desk.cash.cash_in(kiosk, wid, Money.of("1"), idempotency_key=key())
    with pytest.raises(ValidationError):
        desk.cash.cash_in(desk.teller, wid, Money(0), idempotency_key=key())


def test_one_wallet_per_class(desk: Desk) -> None:
    cid = desk.customer("王芳")
    desk.wallet(cid, 1)
    with pytest.raises(Conflict):
        desk.wallet(cid, 1)
    desk.wallet(cid, 4)
    desk.wallet(cid, 4)
    info = desk.wallets.find_by_number(desk.wallets.get_wallet(desk.wallet(cid, 2)).number)
    assert info is not None and info.tier == 2
    _ = timedelta
