"""Wallet lifecycle: state machine, freeze/unfreeze with approval, tier change, device, close."""

from __future__ import annotations

from datetime import date

import pytest

from teller_tui.common.errors import NotFound, ApprovalRequired, Conflict, LimitExceeded, ValidationError
from teller_tui.wallets.lifecycle import ACTIONS, TRANSITIONS, check_transition
from teller_tui.common.money import Money

from onboarding_fixtures import CARD, PIN, counter_approval, env, full_data  # noqa: F401


def _issue(env, **over):  # type: ignore[no-untyped-def]
    return env.onboarding.issue(env.teller, full_data(**over), pin=PIN, idempotency_key=repr(over) or "k")


@pytest.mark.parametrize("state", ["active", "frozen", "closed"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_state_machine_table(state: str, action: str) -> None:
    if (state, action) in TRANSITIONS:
        assert check_transition(state, action) == TRANSITIONS[(state, action)]
    else:
        with pytest.raises(Conflict) as info:
            check_transition(state, action)
        assert info.value.code == "illegal_transition" and str(info.value)


def test_freeze_unfreeze_needs_approval(env) -> None:  # type: ignore[no-untyped-def]
    lc = env.services.lifecycle
    wid = _issue(env).wallet.wallet_id
    with pytest.raises(ValidationError):
        lc.freeze(env.teller, wid, "  ")
    assert lc.freeze(env.teller, wid, "phone lost").status == "frozen"
    with pytest.raises(Conflict, match="Freeze"):
        lc.freeze(env.teller, wid, "again")
    assert lc.available(wid)["unfreeze"] is None and lc.available(wid)["close"]
    with pytest.raises(ApprovalRequired) as info:
        lc.unfreeze(env.teller, wid, "found it")
    assert info.value.rules == ["unfreeze"]
    spec = info.value.details.get("spec")
    assert spec is not None and spec.kind == "unfreeze" and spec.subject.startswith("wallet:")
    # An approval id that was never granted is refused (the service always has its approvals).
    with pytest.raises((NotFound, Conflict, ApprovalRequired)):
        lc.unfreeze(env.teller, wid, "found it", approval_id=7)
    assert lc.available(wid)["unfreeze"] is None


def test_freeze_blocks_withdrawal(env) -> None:  # type: ignore[no-untyped-def]
    res = _issue(env)
    wid = res.wallet.wallet_id
    env.services.funding.top_up_from_linked(env.teller, wid, Money.of("100"), idempotency_key="t1")
    env.services.lifecycle.freeze(env.teller, wid, "fraud suspected")
    with pytest.raises(Conflict):
        env.services.funding.withdraw_to_linked(env.teller, wid, Money.of("10"), idempotency_key="w1")


def test_change_tier_up_and_down(env) -> None:  # type: ignore[no-untyped-def]
    lc = env.services.lifecycle
    anon = full_data(identity={"doc_type": "none", "number": ""}, tier={"tier": 4}, funding={"kind": "none"})
    res = env.onboarding.issue(env.teller, anon, pin=PIN, idempotency_key="anon")
    wid = res.wallet.wallet_id
    with pytest.raises(ValidationError) as info:
        lc.change_tier(env.teller, wid, 1)
    assert info.value.code == "tier_evidence"
    # Classes 1-3 have an age rule (the 2021 classes): evidence alone is not enough without a birth date.
    with pytest.raises(ValidationError) as info:
        lc.change_tier(env.teller, wid, 3, evidence=["identity_document_in_person", "mobile"], reason="ID seen")
    assert info.value.code == "tier_age"
    from teller_tui.models import Customer

    with env.services.db.write() as s:
        s.get(Customer, res.customer_id).birth_date = date(1990, 3, 7)
    # Class 1 is opened with the customer's own bank account linked.
    env.services.funding.link_now(env.teller, res.customer_id, wid, "card", CARD, "王芳")
    up = lc.change_tier(env.teller, wid, 1, evidence=["identity_document_in_person", "mobile"], reason="ID seen")
    assert up.tier == 1
    env.services.funding.top_up_from_linked(env.teller, wid, Money.of("25000"), idempotency_key="big")
    with pytest.raises(LimitExceeded):  # class 3 holds at most 20,000
        lc.change_tier(env.teller, wid, 3)
    with pytest.raises(ValidationError):
        lc.change_tier(env.teller, wid, 1)


def test_one_wallet_per_class(env) -> None:  # type: ignore[no-untyped-def]
    res = _issue(env)
    other = env.services.wallets.open_wallet_now(env.teller, res.customer_id, 3)
    with pytest.raises(Conflict):
        env.services.lifecycle.change_tier(env.teller, other.wallet_id, 1)


def test_replace_device(env) -> None:  # type: ignore[no-untyped-def]
    from teller_tui.auth.passwords import verify_pin
    from teller_tui.models import Customer

    res = _issue(env)
    lc = env.services.lifecycle
    with pytest.raises(ApprovalRequired) as info:
        lc.replace_device(env.teller, res.wallet.wallet_id, new_pin="902468", enrol_totp=True)
    approval_id = counter_approval(env, info.value.details["spec"])
    out = lc.replace_device(env.teller, res.wallet.wallet_id, new_pin="902468", enrol_totp=True,
                            approval_id=approval_id)
    assert out.totp_secret and out.totp_qr
    with env.services.db.read() as s:
        c = s.get(Customer, res.customer_id)
        assert verify_pin(c.pin_hash, "902468") and not verify_pin(c.pin_hash, PIN)
        assert out.totp_secret not in c.totp_secret_enc


def test_close_needs_zero_balance_and_is_final(env) -> None:  # type: ignore[no-untyped-def]
    lc, fund = env.services.lifecycle, env.services.funding
    wid = _issue(env).wallet.wallet_id
    fund.top_up_from_linked(env.teller, wid, Money.of("50"), idempotency_key="t")
    with pytest.raises(Conflict) as info:
        lc.close(env.teller, wid, "moving abroad")
    assert info.value.code == "close_nonzero"
    fund.withdraw_to_linked(env.teller, wid, Money.of("50"), idempotency_key="w")
    assert lc.close(env.teller, wid, "moving abroad").status == "closed"
    for action in ACTIONS:
        reason = lc.available(wid)[action]
        assert reason and "final" in reason
    with pytest.raises(Conflict):
        lc.freeze(env.teller, wid, "x")
    with env.services.db.read() as s:
        from teller_tui.audit.trail import verify
        from teller_tui.ledger import trial_balance

        verify(s)
        assert all(v == 0 for v in trial_balance(s).values())
