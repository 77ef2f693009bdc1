"""Approvals bind the whole request (issue 15): wallets, accounts, legs, amount, memo and the hold.

A crafted call that points the hold at another wallet, changes the memo or the legs is refused
before anything is held; a counter approval given for one set of legs cannot post another.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from approvals_fixtures import SUP_PW, Env, env, make_customer  # noqa: F401
from sqlalchemy import func, select

from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.common.errors import ApprovalRequired, Conflict
from teller_tui.common.money import Money
from teller_tui.models import ApprovalRequest, Hold, Wallet
from test_approvals import _low_limit_policy


def _spec(env: Env, key: str, amount: str = "1500", memo: str = "rent") -> ApprovalSpec:
    env.approvals.policy = _low_limit_policy()
    with pytest.raises(ApprovalRequired) as caught:
        env.cash.cash_out(env.teller, env.wallet_id, Money.of(amount), memo=memo, idempotency_key=key)
    spec = caught.value.details["spec"]
    assert isinstance(spec, ApprovalSpec) and spec.hold is not None and spec.legs
    return spec


def _other_wallet_account(env: Env) -> int:
    _cid, wid, _number = make_customer(env.services, env.clock, env.teller, name="受害人")
    env.cash.cash_in(env.teller, wid, Money.of("9000"), idempotency_key=env.key())
    with env.services.db.read() as s:
        return s.get(Wallet, wid).account_id


def _counts(env: Env) -> tuple[int, int]:
    with env.services.db.read() as s:
        return (int(s.execute(select(func.count()).select_from(Hold)).scalar_one()),
                int(s.execute(select(func.count()).select_from(ApprovalRequest)).scalar_one()))


def test_the_hash_covers_hold_legs_and_memo(env: Env) -> None:
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    spec = _spec(env, env.key())
    assert spec.hold is not None
    variants = [
        replace(spec, hold=replace(spec.hold, debit_account_id=spec.hold.debit_account_id + 100)),
        replace(spec, hold=replace(spec.hold, credit_account_id=spec.hold.credit_account_id + 100)),
        replace(spec, hold=replace(spec.hold, memo="other")),
        replace(spec, legs=tuple((a, m * 2) for a, m in spec.legs)),
        replace(spec, reason="other"),
        replace(spec, amount=Money.of("1499")),
    ]
    assert len({spec.request_hash(), *(v.request_hash() for v in variants)}) == len(variants) + 1


def test_spoofed_hold_refused(env: Env) -> None:
    """The supervisor would see the teller's customer and amount; the hold would debit someone else."""
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    victim = _other_wallet_account(env)
    spec = _spec(env, env.key())
    assert spec.hold is not None
    before = _counts(env)
    spoofs: list[Any] = [
        replace(spec, hold=replace(spec.hold, debit_account_id=victim)),
        replace(spec, hold=replace(spec.hold, debit_account_id=victim),
                legs=tuple((victim if m > 0 else a, m) for a, m in spec.legs)),
        replace(spec, hold=replace(spec.hold, memo="something else")),
        replace(spec, hold=replace(spec.hold, kind="cash_in")),
        replace(spec, legs=()),
    ]
    for spoof in spoofs:
        with pytest.raises(Conflict) as refused:
            env.approvals.request(env.teller, spoof)
        assert refused.value.code == "approval_hold_mismatch"
    assert _counts(env) == before  # nothing held, nothing queued
    # The honest request still goes through, and approving it posts exactly what was shown.
    view = env.approvals.request(env.teller, spec)
    decided = env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                                   reason="known customer")
    assert decided.status == "consumed"
    assert env.wallet_balance().posted == Money.of("8500")
    with env.services.db.read() as s:
        assert env.services.ledger.balance(s, victim).posted == Money.of("9000")


def test_a_hold_changed_after_approval_is_not_posted(env: Env) -> None:
    """Defence in depth: were the stored hold rewritten after the request, approving refuses to post it."""
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    victim = _other_wallet_account(env)
    view = env.approvals.request(env.teller, _spec(env, env.key()))
    with env.services.db.write() as s:
        hold = s.get(Hold, view.hold_id)
        hold.debit_account_id = victim
    with pytest.raises(Conflict) as refused:
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="known customer")
    assert refused.value.code == "approval_hold_mismatch"
    with env.services.db.read() as s:
        assert env.services.ledger.balance(s, victim).posted == Money.of("9000")


def test_a_counter_approval_does_not_cover_other_legs(env: Env) -> None:
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    key = env.key()
    spec = _spec(env, key)
    crafted = replace(spec, legs=tuple((a, m) for a, m in reversed(spec.legs)) + ((1, 0),))
    assert crafted.request_hash() != spec.request_hash()
    result = env.approvals.approve_at_counter(env.teller, crafted, "li", SUP_PW, env.li_code())
    with pytest.raises(Conflict) as refused:
        env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), memo="rent", idempotency_key=key,
                          approval_id=result.approval_id)
    assert refused.value.code == "approval_mismatch"
