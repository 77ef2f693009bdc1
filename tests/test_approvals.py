"""Supervisor overrides: policy, four eyes, binding, single use, expiry, the remote queue, reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from approvals_fixtures import SUP_PW, ZHAO_PW, ZHAO_SECRET, Env, env  # noqa: F401
from auth_fixtures import code_for

from teller_tui.approvals.policy import ApprovalPolicy, Facts
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from teller_tui.common.money import Money

DAY = date(2026, 11, 23)


def _needs_approval(env: Env, kind: str, amount: str, key: str, memo: str = "") -> ApprovalSpec:
    method = env.cash.cash_in if kind == "cash_in" else env.cash.cash_out
    with pytest.raises(ApprovalRequired) as caught:
        method(env.teller, env.wallet_id, Money.of(amount), memo=memo, idempotency_key=key)
    spec = caught.value.details["spec"]
    assert isinstance(spec, ApprovalSpec)
    return spec


def _low_limit_policy() -> ApprovalPolicy:
    return ApprovalPolicy.from_dict({"rule": [
        {"id": "teller_cash_limit", "actions": ["cash_out"], "when": "over_role_limits",
         "effective_from": date(2020, 1, 1),
         "role": {"teller": {"cash_out_per_txn": "1,000", "cash_out_daily": "5,000"}}},
        {"id": "large_cash", "actions": ["cash_in", "cash_out"], "when": "at_or_above", "threshold": "50,000",
         "cumulative": True, "report": True, "effective_from": date(2020, 1, 1)},
    ]})


# -- the policy -----------------------------------------------------------------------------------------
def test_shipped_policy_loads_with_every_action() -> None:
    policy = ApprovalPolicy.load()
    ids = {r.id for r in policy.rules_on(DAY)}
    assert ids == {"teller_cash_limit", "large_cash", "reversal", "unfreeze", "device_replacement", "over_short",
                   "staff_unlock", "drawer_open", "vault_transfer", "drawer_close", "drawer_handover", "day_close", "dispute_correction", "watchlist_hit",
                   "staff_role", "staff_enable", "staff_totp_reset", "linked_withdraw_large", "phone_change",
                   "id_number_change", "pin_reset", "customer_totp_remove_id"}
    assert policy.threshold("linked_withdraw_large", DAY) == Money.of("20000.00")
    assert policy.threshold("large_cash", DAY) == Money.of("50000.00")
    assert policy.approver_roles == ("supervisor", "admin")  # approval limits per approver (issue 15)


@pytest.mark.parametrize(("amount", "hit"), [("49999.99", False), ("50000.00", True), ("50000.01", True)])
def test_large_cash_threshold_single(amount: str, hit: bool) -> None:
    hits = ApprovalPolicy.load().evaluate(Facts("cash_in", DAY, Money.of(amount)))
    assert ("large_cash" in [h.rule for h in hits]) is hit


@pytest.mark.parametrize(("before", "amount", "hit"), [
    ("30000.00", "19999.99", False), ("30000.00", "20000.00", True), ("49999.99", "0.01", True)])
def test_large_cash_same_day_cumulative(before: str, amount: str, hit: bool) -> None:
    hits = ApprovalPolicy.load().evaluate(Facts("cash_out", DAY, Money.of(amount), "supervisor",
                                                customer_day_total=Money.of(before)))
    assert ("large_cash" in [h.rule for h in hits]) is hit


def test_teller_limits_per_transaction_and_daily() -> None:
    policy = ApprovalPolicy.load()  # teller: 20,000 per cash withdrawal, 100,000 a day
    assert not policy.evaluate(Facts("cash_out", DAY, Money.of("20000"), "teller"))
    assert [h.rule for h in policy.evaluate(Facts("cash_out", DAY, Money.of("20000.01"), "teller"))] == [
        "teller_cash_limit"]
    assert [h.rule for h in policy.evaluate(Facts("cash_out", DAY, Money.of("100"), "teller",
                                                  teller_day_total=Money.of("99950")))] == ["teller_cash_limit"]
    assert not policy.evaluate(Facts("cash_in", DAY, Money.of("30000"), "teller"))


def test_always_rules_and_over_short_tolerance(tmp_path: Any) -> None:
    from teller_tui.common.settings import load_settings

    policy = ApprovalPolicy.load()
    settings = load_settings(home=tmp_path, over_short_tolerance="10.00")
    for action in ("reversal", "unfreeze", "device_replacement", "staff_unlock"):
        assert [h.rule for h in policy.evaluate(Facts(action, DAY))] == [action]
    assert not policy.evaluate(Facts("over_short", DAY, Money.of("-10.00")), settings)
    assert [h.rule for h in policy.evaluate(Facts("over_short", DAY, Money.of("-10.01")), settings)] == ["over_short"]


def test_effective_dates_pick_the_entry_in_force() -> None:
    policy = ApprovalPolicy.from_dict({"rule": [
        {"id": "large_cash", "actions": ["cash_in"], "when": "at_or_above", "threshold": "50,000",
         "effective_from": date(2020, 1, 1)},
        {"id": "large_cash", "actions": ["cash_in"], "when": "at_or_above", "threshold": "30,000",
         "effective_from": date(2027, 1, 1)},
        {"id": "reversal", "actions": ["reversal"], "when": "always", "effective_from": date(2020, 1, 1),
         "effective_to": date(2026, 1, 1)},
    ]})
    assert policy.threshold("large_cash", DAY) == Money.of("50000")
    assert policy.threshold("large_cash", date(2027, 1, 1)) == Money.of("30000")
    assert not policy.evaluate(Facts("reversal", DAY))
    assert policy.evaluate(Facts("reversal", date(2025, 12, 31)))


@pytest.mark.parametrize("bad", [
    {"rule": [{"id": "x", "actions": ["fly"], "when": "always", "effective_from": date(2020, 1, 1)}]},
    {"rule": [{"id": "x", "actions": ["reversal"], "when": "sometimes", "effective_from": date(2020, 1, 1)}]},
    {"rule": [{"id": "x", "actions": ["reversal"], "when": "always"}]},
    {"rule": [{"id": "x", "actions": ["cash_in"], "when": "at_or_above", "threshold": "1e5",
               "effective_from": date(2020, 1, 1)}]},
    {"rule": []},
])
def test_malformed_policy_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ApprovalPolicy.from_dict(bad)


# -- the counter path -------------------------------------------------------------------------------------
def test_teller_sees_why_before_asking(env: Env) -> None:
    preview = env.cash.preview_cash_in(env.teller, env.wallet_id, Money.of("50000"))
    assert preview.approval_rules == ["large_cash"]
    assert "50,000.00" in preview.approval_reasons[0]
    ok = env.cash.preview_cash_in(env.teller, env.wallet_id, Money.of("49999.99"))
    assert ok.approval_rules == [] and ok.allowed


def test_counter_approval_posts_once_and_reports_large_value(env: Env) -> None:
    key = env.key()
    spec = _needs_approval(env, "cash_in", "50000", key, memo="salary")
    result = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code(),
                                              source_of_funds="business income", purpose="deposit")
    assert result.status == "approved" and result.approver == "li"
    txn = env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), memo="salary", idempotency_key=key,
                           approval_id=result.approval_id)
    assert env.wallet_balance().posted == Money.of("50000")
    view = env.approvals.get(result.approval_id)
    assert view.status == "consumed" and view.entry_reference == txn.reference
    [report] = env.approvals.large_value_reports(txn.business_date)
    assert (report.customer_name, report.id_type, report.nationality, report.occupation) == (
        "李建国", "prc_id", "CHN", "engineer")
    assert report.address and report.phone and report.id_number
    assert (report.direction, report.amount, report.cumulative) == ("in", Money.of("50000"), Money.of("50000"))
    assert (report.teller, report.terminal, report.reference) == ("wang", "T01", txn.reference)
    assert (report.source_of_funds, report.purpose) == ("business income", "deposit")
    actions = env.audit_actions()
    for action in ("approval_auth", "approval_request", "approval_approve", "approval_consume",
                   "large_value_report"):
        assert action in actions


def test_single_use(env: Env) -> None:
    key = env.key()
    spec = _needs_approval(env, "cash_in", "50000", key)
    result = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code())
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key,
                     approval_id=result.approval_id)
    # The same approval for a second, identical deposit (new form, new key) is refused.
    with pytest.raises(Conflict) as caught:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=env.key(),
                         approval_id=result.approval_id)
    assert caught.value.code == "approval_consumed"
    assert env.wallet_balance().posted == Money.of("50000")


@pytest.mark.parametrize(("amount", "memo"), [("50000.01", "salary"), ("50000", "other reason")])
def test_approval_is_bound_to_the_request(env: Env, amount: str, memo: str) -> None:
    key = env.key()
    spec = _needs_approval(env, "cash_in", "50000", key, memo="salary")
    result = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code())
    with pytest.raises(Conflict) as caught:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of(amount), memo=memo, idempotency_key=key,
                         approval_id=result.approval_id)
    assert caught.value.code == "approval_mismatch"
    assert env.wallet_balance().posted == Money(0)
    assert env.approvals.get(result.approval_id).status == "approved"  # nothing consumed by the attempt


def test_self_approval_is_refused(env: Env) -> None:
    # li (a supervisor) asks; li cannot approve her own request.
    sup_teller = env.supervisor
    requests_before = env.audit_actions().count("approval_request")  # the drawer's opening countersign
    spec = ApprovalSpec(kind="reversal", requester_id=sup_teller.staff_id, branch_code="B001", subject="entry:1",
                        rules=("reversal",))
    with pytest.raises(PermissionDenied) as caught:
        env.approvals.approve_at_counter(sup_teller, spec, "li", SUP_PW, env.li_code())
    assert caught.value.code == "same_person"
    # A teller's credentials are not a supervisor's: refused (same message as any sign-in failure).
    from auth_fixtures import SECRETS, TELLER_PW

    spec2 = ApprovalSpec(kind="reversal", requester_id=env.supervisor2.staff_id, branch_code="B001",
                         subject="entry:1", rules=("reversal",))
    with pytest.raises(AuthenticationFailed):
        env.approvals.approve_at_counter(env.supervisor2, spec2, "wang", TELLER_PW, code_for(SECRETS["wang"],
                                                                                              env.clock))
    assert env.audit_actions().count("approval_request") == requests_before


def test_replayed_or_stale_code_is_refused(env: Env) -> None:
    spec = _needs_approval(env, "cash_in", "50000", env.key())
    code = env.li_code()
    env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, code)
    with pytest.raises(AuthenticationFailed):  # the same code again (replay)
        env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, code)
    env.next_step()
    env.next_step()
    env.next_step()
    with pytest.raises(AuthenticationFailed):  # a code from three steps ago (stale)
        env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code(-3))
    with pytest.raises(AuthenticationFailed):  # the right code, the wrong password
        env.approvals.approve_at_counter(env.teller, spec, "li", "wrong password here", env.li_code())
    ok = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code())
    assert ok.status == "approved"


def test_counter_approval_expires(env: Env) -> None:
    key = env.key()
    spec = _needs_approval(env, "cash_in", "50000", key)
    result = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code())
    env.clock.advance(seconds=env.services.settings.approval_expiry_seconds)
    with pytest.raises(Conflict) as caught:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key,
                         approval_id=result.approval_id)
    assert caught.value.code == "approval_expired"
    assert env.approvals.expire_sweep() == [result.approval_id]
    assert env.approvals.get(result.approval_id).status == "expired"
    assert "approval_expire" in env.audit_actions()


def test_requester_must_be_the_actor(env: Env) -> None:
    spec = ApprovalSpec(kind="unfreeze", requester_id=env.supervisor2.staff_id, branch_code="B001",
                        rules=("unfreeze",))
    with pytest.raises(PermissionDenied):
        env.approvals.request(env.teller, spec)


# -- the remote path -------------------------------------------------------------------------------------
def _remote_cash_out(env: Env, amount: str = "1500") -> tuple[Any, str]:
    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    key = env.key()
    spec = _needs_approval(env, "cash_out", amount, key, memo="rent")
    assert spec.rules == ("teller_cash_limit",) and spec.hold is not None
    view = env.approvals.request(env.teller, spec)
    return view, key


def test_remote_request_holds_then_approval_posts_the_hold(env: Env) -> None:
    view, key = _remote_cash_out(env)
    bal = env.wallet_balance()
    assert bal.posted == Money.of("10000") and bal.held == Money.of("1500")
    assert [p.id for p in env.approvals.pending()] == [view.id]
    assert env.approvals.pending()[0].reasons  # the supervisor sees why
    decided = env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                                   reason="known customer")
    assert decided.status == "consumed" and decided.entry_reference
    bal = env.wallet_balance()
    assert bal.posted == Money.of("8500") and bal.held == Money(0)
    assert env.approvals.pending() == []
    # The teller's screen moves on: posting again with the form's key returns the posted entry.
    txn = env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), memo="rent", idempotency_key=key)
    assert txn.replayed and txn.reference == decided.entry_reference
    assert env.wallet_balance().posted == Money.of("8500")


def test_remote_reject_voids_the_hold(env: Env) -> None:
    view, _key = _remote_cash_out(env)
    with pytest.raises(ValidationError):  # a reason is required
        env.approvals.decide(env.supervisor, view.id, approve=False, password=SUP_PW, code=env.li_code(),
                             reason="  ")
    decided = env.approvals.decide(env.supervisor, view.id, approve=False, password=SUP_PW, code=env.li_code(),
                                   reason="ask the customer for ID")
    assert decided.status == "rejected" and decided.decision_reason == "ask the customer for ID"
    bal = env.wallet_balance()
    assert bal.posted == Money.of("10000") and bal.held == Money(0)
    with pytest.raises(Conflict):
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(1),
                             reason="changed my mind")
    assert "approval_reject" in env.audit_actions()


def test_teller_can_cancel_while_waiting(env: Env) -> None:
    view, _key = _remote_cash_out(env)
    with pytest.raises(PermissionDenied):  # another teller cannot
        other = env.teller.__class__(999, "ghost", "T09", "teller", "B001")
        env.approvals.cancel(other, view.id)
    cancelled = env.approvals.cancel(env.teller, view.id, "customer left")
    assert cancelled.status == "cancelled"
    assert env.wallet_balance().held == Money(0)
    with pytest.raises(Conflict):
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="ok")


def test_remote_self_approval_refused(env: Env) -> None:
    env.approvals.policy = _low_limit_policy()
    spec = ApprovalSpec(kind="unfreeze", requester_id=env.supervisor.staff_id, branch_code="B001",
                        subject="wallet:1", rules=("unfreeze",))
    view = env.approvals.request(env.supervisor, spec)
    with pytest.raises(PermissionDenied):
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="mine")
    # Another supervisor may; without a hold the request ends "approved" for the teller to use.
    env.next_step()
    decided = env.approvals.decide(env.supervisor2, view.id, approve=True, password=ZHAO_PW,
                                   code=code_for(ZHAO_SECRET, env.clock), reason="checked")
    assert decided.status == "approved" and decided.approver == "zhao"


def test_expiry_voids_the_hold_by_sweep_and_on_decision(env: Env) -> None:
    view, _key = _remote_cash_out(env)
    env.clock.advance(seconds=env.services.settings.approval_expiry_seconds + 1)
    assert env.approvals.pending() == []  # expired requests are not offered
    with pytest.raises(Conflict) as caught:
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="late")
    assert caught.value.code == "approval_expired"
    assert env.approvals.get(view.id).status == "expired"
    assert env.wallet_balance().held == Money(0)
    assert env.wallet_balance().posted == Money.of("10000")

    # A second request left alone is released by the sweeper.
    key = env.key()
    spec = _needs_approval(env, "cash_out", "1200", key)
    second = env.approvals.request(env.teller, spec)
    assert env.wallet_balance().held == Money.of("1200")
    env.clock.advance(timedelta(seconds=env.services.settings.approval_expiry_seconds))
    assert env.approvals.expire_sweep() == [second.id]
    assert env.approvals.get(second.id).status == "expired"
    assert env.wallet_balance().held == Money(0)
    assert env.approvals.expire_sweep() == []


def test_remote_large_value_cash_in_creates_the_report(env: Env) -> None:
    key = env.key()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("30000"), idempotency_key=env.key())
    spec = _needs_approval(env, "cash_in", "20000", key)  # same-day cumulative reaches 50,000
    assert spec.rules == ("large_cash",)
    view = env.approvals.request(env.teller, spec, source_of_funds="sold a car", purpose="savings")
    decided = env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                                   reason="documents seen")
    [report] = env.approvals.large_value_reports()
    assert report.reference == decided.entry_reference
    assert (report.amount, report.cumulative, report.source_of_funds) == (
        Money.of("20000"), Money.of("50000"), "sold a car")


def test_reversal_needs_approval(env: Env) -> None:
    txn = env.cash.cash_in(env.teller, env.wallet_id, Money.of("100"), idempotency_key=env.key())
    preview = env.cash.preview_reversal(env.teller, txn.entry_id)
    assert preview.approval_rules == ["reversal"]
    key = env.key()
    with pytest.raises(ApprovalRequired) as caught:
        env.cash.reverse(env.teller, txn.entry_id, "wrong wallet", idempotency_key=key)
    spec = caught.value.details["spec"]
    result = env.approvals.approve_at_counter(env.teller, spec, "li", SUP_PW, env.li_code())
    env.cash.reverse(env.teller, txn.entry_id, "wrong wallet", idempotency_key=key, approval_id=result.approval_id)
    assert env.wallet_balance().posted == Money(0)


def test_dashboard_is_for_supervisors_only(env: Env) -> None:
    with pytest.raises(PermissionDenied):
        env.approvals.dashboard(env.teller)
    assert env.approvals.dashboard(env.supervisor).tellers is not None


def test_dashboard_reads_the_day(env: Env) -> None:
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("1000"), idempotency_key=env.key())
    env.cash.cash_out(env.teller, env.wallet_id, Money.of("200"), idempotency_key=env.key())
    data = env.approvals.dashboard(env.supervisor)
    [wang] = [t for t in data.tellers if t.username == "wang"]
    assert (wang.cash_in, wang.cash_out, wang.wallets_opened) == (Money.of("1000"), Money.of("200"), 1)
    # Two customer transactions: the drawer's opening float (and the welcome points) are not counted.
    assert wang.transactions == 2, wang
    assert sum(data.hourly_in) == 1 and sum(data.hourly_out) == 1
    assert any(d.balance == Money.of("10800") for d in data.drawers)
