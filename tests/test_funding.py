"""Linked accounts and linked top-up / withdrawal: tokens, masking, idempotency, tier limits."""

from __future__ import annotations

import pytest

from teller_tui.common.errors import ApprovalRequired, Conflict, LimitExceeded, ValidationError
from teller_tui.common.money import Money

from onboarding_fixtures import CARD, PIN, card_number, counter_approval, env, full_data  # noqa: F401


def test_check_number(env) -> None:  # type: ignore[no-untyped-def]
    f = env.services.funding
    chk = f.check_number("card", " ".join(CARD[i:i + 4] for i in range(0, len(CARD), 4)))
    assert chk.masked == f"{CARD[:4]} **** **** {CARD[-4:]}" and chk.bank_code == "ICBC"
    assert chk.token == f.token_for(CARD) and CARD not in chk.token and len(chk.token) == 64
    with pytest.raises(ValidationError):
        f.check_number("card", CARD[:-1] + str((int(CARD[-1]) + 1) % 10))
    with pytest.raises(ValidationError):
        f.check_number("account", "1234567890123", bank_name="")
    assert f.check_number("account", "1234567890123", bank_name="某银行").bank_name == "某银行"


def test_token_is_keyed(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from teller_tui.wallets.funding import FundingService
    from teller_tui.common.settings import load_settings

    from teller_tui.auth.secretbox import SecretBox

    other = FundingService(env.services.db, env.clock, load_settings(home=tmp_path / "other"), env.services.ledger,
                           env.services.audit, env.services.tiers, box=SecretBox.ephemeral(),
                           risk_gate=env.services.funding.risk_gate, outbox=env.services.outbox,
                           approvals=env.services.approvals)
    assert other.token_for(CARD) != env.services.funding.token_for(CARD)


def test_card_linked_once_only(env) -> None:  # type: ignore[no-untyped-def]
    env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="a")
    from teller_tui.wallets.identity import make_prc_id
    from datetime import date

    other = full_data(identity={"number": make_prc_id("310101", date(1980, 1, 1), 11, "M")},
                      personal={"full_name": "李四"}, funding={"holder_name": "李四"})
    with pytest.raises(ValidationError):
        env.onboarding.validate_step("funding", other)
    with pytest.raises(Conflict):
        env.onboarding.issue(env.teller, other, pin=PIN, idempotency_key="b")


def test_top_up_and_withdraw_idempotent_through_settlement(env) -> None:  # type: ignore[no-untyped-def]
    from teller_tui.ledger import trial_balance
    from teller_tui.ledger.accounts import settlement_code

    res = env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="a")
    f, wid = env.services.funding, res.wallet.wallet_id
    r1 = f.top_up_from_linked(env.teller, wid, Money.of("500"), idempotency_key="t1")
    r2 = f.top_up_from_linked(env.teller, wid, Money.of("500"), idempotency_key="t1")
    assert r2.replayed and r2.entry_id == r1.entry_id and r2.new_balance == Money.of("500")
    with pytest.raises(Conflict):
        f.top_up_from_linked(env.teller, wid, Money.of("400"), idempotency_key="t1")
    w = f.withdraw_to_linked(env.teller, wid, Money.of("120"), idempotency_key="w1")
    assert w.new_balance == Money.of("380") and w.linked_masked.endswith(CARD[-4:])
    with pytest.raises(LimitExceeded):
        f.withdraw_to_linked(env.teller, wid, Money.of("381"), idempotency_key="w2")
    with env.services.db.read() as s:
        settle = env.services.ledger.account_id(s, settlement_code("B001"))
        assert env.services.ledger.balance(s, settle).posted.minor != 0
        assert all(v == 0 for v in trial_balance(s).values())


def test_tier_limits_apply(env) -> None:  # type: ignore[no-untyped-def]
    data = full_data(tier={"tier": 3})
    res = env.onboarding.issue(env.teller, data, pin=PIN, idempotency_key="a")
    f, wid = env.services.funding, res.wallet.wallet_id
    cap = env.services.onboarding.tiers.tier(3, on=env.services.onboarding.today())
    with pytest.raises(LimitExceeded) as info:
        f.top_up_from_linked(env.teller, wid, cap.balance_cap + Money.of("0.01"), idempotency_key="over")
    assert info.value.code == "tier_balance_cap"
    f.top_up_from_linked(env.teller, wid, cap.balance_cap, idempotency_key="full")
    f.withdraw_to_linked(env.teller, wid, cap.daily, idempotency_key="d1")
    f.top_up_from_linked(env.teller, wid, Money.of("1"), idempotency_key="more")
    with pytest.raises(LimitExceeded) as info:
        f.withdraw_to_linked(env.teller, wid, Money.of("1"), idempotency_key="d2")
    assert info.value.code in ("tier_daily", "tier_per_txn")
    env.clock.advance(hours=24)  # the next business day: the branch closes the day and opens the next
    try:
        env.services.drawers.close_business_day(env.supervisor, write_report=False)
    except ApprovalRequired as err:  # a second person approves the day's close (policy rule day_close)
        env.services.drawers.close_business_day(env.supervisor, write_report=False,
                                                approval_id=counter_approval(env, err.details["spec"], env.supervisor))
    env.services.drawers.open_business_day(env.supervisor)
    f.withdraw_to_linked(env.teller, wid, Money.of("1"), idempotency_key="d3")


def test_no_linked_account(env) -> None:  # type: ignore[no-untyped-def]
    # Class 3 (class 1 is opened with an own bank account linked since 2021).
    res = env.onboarding.issue(env.teller, full_data(funding={"kind": "none"}, tier={"tier": 3}), pin=PIN,
                               idempotency_key="a")
    with pytest.raises(Conflict):
        env.services.funding.top_up_from_linked(env.teller, res.wallet.wallet_id, Money.of("1"),
                                                 idempotency_key="x")
    _ = card_number
