"""Every rule in ``data/approval_policy.toml`` means what it says (issue 15).

For each rule of the shipped policy: the action it names raises ApprovalRequired carrying the rule and a
spec that binds the request, an approval through the approvals service lets it through, and without the
rule the action does not ask for it. Then the approval limits per approver: who may approve each rule,
up to which ceiling, and a supervisor's own drawer countersigned by the administrator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from approvals_fixtures import SUP_PW, ZHAO_PW, ZHAO_SECRET, Env, env  # noqa: F401
from auth_fixtures import ADMIN_PW, SECRETS, code_for
from teller_tui.approvals.policy import ApprovalPolicy, PolicyRule, RoleLimits
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.errors import ApprovalRequired, Conflict, PermissionDenied, ValidationError
from teller_tui.common.money import Money

DAY = date(2026, 11, 23)
SHIPPED = {r.id for r in ApprovalPolicy.load().rules_on(DAY)}


# -- helpers ---------------------------------------------------------------------------------------------
def set_rules(env: Env, change: Callable[[list[PolicyRule]], list[PolicyRule]]) -> None:
    policy = env.approvals.policy
    env.approvals.policy = ApprovalPolicy(change(list(policy.rules)), policy.approver_roles, policy.approvers)


def without(env: Env, rule_id: str) -> None:
    set_rules(env, lambda rules: [r for r in rules if r.id != rule_id])


def with_always(env: Env, rule_id: str) -> None:
    set_rules(env, lambda rules: [*rules, PolicyRule(id=rule_id, actions=(rule_id,), when="always",
                                                     effective_from=date(2020, 1, 1))])


def asks(call: Callable[[], Any]) -> ApprovalSpec:
    with pytest.raises(ApprovalRequired) as caught:
        call()
    spec = caught.value.details["spec"]
    assert isinstance(spec, ApprovalSpec) and list(spec.rules) == caught.value.rules
    return spec


def admin(env: Env) -> SupervisorCredentials:
    env.next_step()
    return SupervisorCredentials("admin", ADMIN_PW, code_for(SECRETS["admin"], env.clock))


def li(env: Env) -> SupervisorCredentials:
    env.next_step()
    return SupervisorCredentials("li", SUP_PW, env.li_code())


def zhao(env: Env) -> SupervisorCredentials:
    env.next_step()
    return SupervisorCredentials("zhao", ZHAO_PW, code_for(ZHAO_SECRET, env.clock))


def approve(env: Env, actor: Any, spec: ApprovalSpec, creds: SupervisorCredentials | None = None) -> int:
    creds = creds or li(env)
    return int(env.approvals.approve_at_counter(actor, spec, creds.username, creds.password, creds.code).approval_id)


def fund(env: Env, amount: str = "10000") -> None:
    env.cash.cash_in(env.teller, env.wallet_id, Money.of(amount), idempotency_key=env.key())


# -- one test per rule of the shipped policy --------------------------------------------------------------
def test_the_shipped_policy_has_exactly_the_rules_tested_here() -> None:
    assert SHIPPED == {"teller_cash_limit", "large_cash", "reversal", "unfreeze", "device_replacement",
                       "over_short", "staff_unlock", "drawer_open", "vault_transfer", "drawer_close", "drawer_handover", "day_close",
                       "dispute_correction", "watchlist_hit", "staff_role", "staff_enable", "staff_totp_reset",
                       "linked_withdraw_large", "phone_change", "id_number_change", "pin_reset",
                       "customer_totp_remove_id"}


def test_rule_watchlist_hit(env: Env) -> None:
    """Onboarding a watch-list match is held for a supervisor (the whole path is tests/test_watchlist.py)."""
    from teller_tui.approvals.policy import Facts

    today = env.services.clock.now().date()
    hits = env.services.approvals.evaluate(Facts("watchlist_onboarding", on=today, role="teller"))
    assert [h.rule for h in hits] == ["watchlist_hit"]
    set_rules(env, lambda rules: [r for r in rules if r.id != "watchlist_hit"])
    assert env.services.approvals.evaluate(Facts("watchlist_onboarding", on=today, role="teller")) == []


def test_rule_dispute_correction(env: Env) -> None:
    """The rule applies to every dispute correction (the whole path, refused without an approval and
    posted with one bound to the case and amount, is tests/test_cases_dispute.py)."""
    from teller_tui.approvals.policy import Facts

    today = env.services.clock.now().date()
    hits = env.services.approvals.evaluate(Facts("dispute_correction", on=today, amount=Money.of("1"),
                                                 role="teller"))
    assert [h.rule for h in hits] == ["dispute_correction"]
    set_rules(env, lambda rules: [r for r in rules if r.id != "dispute_correction"])
    assert env.services.approvals.evaluate(Facts("dispute_correction", on=today, role="teller")) == []


def test_rule_teller_cash_limit(env: Env) -> None:
    set_rules(env, lambda rules: [replace(r, role_limits={"teller": RoleLimits(Money.of("1000"), Money.of("5000"))})
                                  if r.id == "teller_cash_limit" else r for r in rules])
    fund(env)
    key = env.key()
    spec = asks(lambda: env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key=key))
    assert spec.rules == ("teller_cash_limit",) and spec.amount == Money.of("1500")
    approval = approve(env, env.teller, spec)
    env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key=key, approval_id=approval)
    without(env, "teller_cash_limit")
    env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key=env.key())


def test_rule_large_cash(env: Env) -> None:
    key = env.key()
    spec = asks(lambda: env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key))
    assert spec.rules == ("large_cash",)
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=key,
                     approval_id=approve(env, env.teller, spec))
    assert len(env.approvals.large_value_reports()) == 1
    without(env, "large_cash")
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("50000"), idempotency_key=env.key())


def test_rule_reversal(env: Env) -> None:
    fund(env, "100")
    [entry] = [e for e in _entries(env) if e[1] == "cash_in"]
    key = env.key()
    spec = asks(lambda: env.cash.reverse(env.teller, entry[0], "wrong wallet", idempotency_key=key))
    assert spec.rules == ("reversal",) and spec.kind == "reversal"
    env.cash.reverse(env.teller, entry[0], "wrong wallet", idempotency_key=key,
                     approval_id=approve(env, env.teller, spec))
    fund(env, "50")
    without(env, "reversal")
    second = [e for e in _entries(env) if e[1] == "cash_in"][-1]
    env.cash.reverse(env.teller, second[0], "wrong wallet", idempotency_key=env.key())


def test_rule_unfreeze(env: Env) -> None:
    lc = env.services.lifecycle
    lc.freeze(env.teller, env.wallet_id, "lost phone")
    spec = asks(lambda: lc.unfreeze(env.teller, env.wallet_id, "found it"))
    assert spec.rules == ("unfreeze",) and spec.subject == f"wallet:{env.wallet_number}"
    assert lc.unfreeze(env.teller, env.wallet_id, "found it",
                       approval_id=approve(env, env.teller, spec)).status == "active"
    lc.freeze(env.teller, env.wallet_id, "lost phone again")
    without(env, "unfreeze")
    assert lc.unfreeze(env.teller, env.wallet_id, "found it again").status == "active"


def test_rule_device_replacement(env: Env) -> None:
    lc = env.services.lifecycle
    spec = asks(lambda: lc.replace_device(env.teller, env.wallet_id, new_pin="582913", reason="new phone"))
    assert spec.rules == ("device_replacement",)
    lc.replace_device(env.teller, env.wallet_id, new_pin="582913", reason="new phone",
                      approval_id=approve(env, env.teller, spec))
    without(env, "device_replacement")
    lc.replace_device(env.teller, env.wallet_id, new_pin="582914", reason="another phone")


@pytest.mark.parametrize("rule_id", ["class_change", "wallet_close"])
def test_optional_rules_class_change_and_wallet_close(env: Env, rule_id: str) -> None:
    """Not in the shipped policy (a site adds them): absent, nothing is asked; present, approval first."""
    lc = env.services.lifecycle

    def act(approval_id: int | None = None) -> Any:
        if rule_id == "class_change":
            return lc.change_tier(env.teller, env.wallet_id, 3, evidence=("real_name", "mobile"),
                                  reason="customer asked", approval_id=approval_id)
        return lc.close(env.teller, env.wallet_id, "customer leaves", approval_id=approval_id)

    with_always(env, rule_id)
    spec = asks(act)
    assert spec.rules == (rule_id,) and spec.kind == rule_id
    result = act(approve(env, env.teller, spec))
    assert (result.tier == 3) if rule_id == "class_change" else (result.status == "closed")
    if rule_id == "class_change":
        without(env, rule_id)
        assert lc.change_tier(env.teller, env.wallet_id, 4, evidence=("mobile",), reason="lower still").tier == 4


def test_rule_over_short_and_drawer_close(env: Env) -> None:
    drawers = env.services.drawers
    drawers.submit_blind_count(env.teller, {"note:100": 99})  # 100.00 short, beyond the 10.00 tolerance
    spec = asks(lambda: drawers.close_drawer(env.teller))
    assert spec.rules == ("drawer_close", "over_short") and spec.kind == "over_short"
    assert spec.amount == Money.of("100")  # the difference is what is approved
    closed = drawers.close_drawer(env.teller, approval_id=approve(env, env.teller, spec), write_report=False)
    assert closed.difference == Money.of("-100") and closed.approver == "li"


def test_over_short_rule_removed_leaves_the_countersign(env: Env) -> None:
    without(env, "over_short")
    drawers = env.services.drawers
    drawers.submit_blind_count(env.teller, {"note:100": 99})
    spec = asks(lambda: drawers.close_drawer(env.teller))
    assert spec.rules == ("drawer_close",)


def test_rule_drawer_open_and_vault_transfer(env: Env) -> None:
    drawers = env.services.drawers
    spec = asks(lambda: drawers.open_drawer(env.supervisor, {"note:100": 10}))
    assert spec.rules == ("drawer_open",) and spec.amount == Money.of("1000")
    drawers.open_drawer(env.supervisor, {"note:100": 10}, approval_id=approve(env, env.supervisor, spec, zhao(env)))
    spec = asks(lambda: drawers.transfer_with_vault(env.teller, "to_vault", {"note:100": 5}))
    assert spec.rules == ("vault_transfer",) and spec.amount == Money.of("500")
    # The approval binds the pieces: another count is another request.
    approval = approve(env, env.teller, spec)
    with pytest.raises(Exception) as other:
        drawers.transfer_with_vault(env.teller, "to_vault", {"note:100": 6}, approval_id=approval)
    assert getattr(other.value, "code", "") == "approval_mismatch"
    approval = approve(env, env.teller, spec)
    assert drawers.transfer_with_vault(env.teller, "to_vault", {"note:100": 5}, approval_id=approval).approver == "li"


def test_dual_control_rules_cannot_be_removed(env: Env) -> None:
    """drawer_open, vault_transfer and drawer_close are dual control by nature: without their rule the
    core still asks (the policy's default approvers decide who)."""
    for rule_id in ("drawer_open", "vault_transfer", "drawer_close"):
        without(env, rule_id)
    spec = asks(lambda: env.services.drawers.transfer_with_vault(env.teller, "to_vault", {"note:100": 5}))
    assert spec.rules == ("vault_transfer",)


def test_rule_day_close(env: Env) -> None:
    drawers = env.services.drawers
    drawers.submit_blind_count(env.teller, {"note:100": 100})
    drawers.close_drawer(env.teller, li(env), write_report=False)
    spec = asks(lambda: drawers.close_business_day(env.supervisor, write_report=False))
    assert spec.rules == ("day_close",) and spec.subject.startswith("business_day:B001:")
    with pytest.raises(PermissionDenied):  # four eyes: not the supervisor who asks
        drawers.close_business_day(env.supervisor, li(env), write_report=False)
    day = drawers.close_business_day(env.supervisor, write_report=False,
                                     approval_id=approve(env, env.supervisor, spec, admin(env)))
    assert day.status == "closed"


def test_day_close_rule_removed(env: Env) -> None:
    without(env, "day_close")
    drawers = env.services.drawers
    drawers.submit_blind_count(env.teller, {"note:100": 100})
    drawers.close_drawer(env.teller, li(env), write_report=False)
    assert drawers.close_business_day(env.supervisor, write_report=False).status == "closed"


def test_rule_staff_unlock(env: Env) -> None:
    from teller_tui.auth.staff import MAX_FAILED_ATTEMPTS
    from teller_tui.common.errors import AuthenticationFailed

    for i in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            env.services.auth.authenticate("zhao", f"wrong password {i}", "", "T09")
    assert env.services.auth.get_staff("zhao").locked(env.clock.now())
    unlock = env.services.staff_unlock
    spec = asks(lambda: unlock.unlock(env.teller, "zhao", "forgot the password"))
    assert spec.rules == ("staff_unlock",) and spec.subject == "staff:zhao"
    unlock.unlock(env.teller, "zhao", "forgot the password", approval_id=approve(env, env.teller, spec))
    assert not env.services.auth.get_staff("zhao").locked(env.clock.now())
    with pytest.raises(PermissionDenied):  # nobody unlocks themselves
        unlock.unlock(env.supervisor2, "zhao", "me")
    without(env, "staff_unlock")
    unlock.unlock(env.teller, "zhao", "no rule, no approval")


def _admin_actor(env: Env) -> Any:
    return env.services.auth.get_staff("admin").actor("T05")


def test_rule_staff_role(env: Env) -> None:
    """Adding a person and changing a role grant a role: a second person approves, bound to the role."""
    staff = env.services.staff_admin
    me = _admin_actor(env)
    spec = asks(lambda: staff.add(me, "sun", "Sun Li", "teller"))
    assert spec.rules == ("staff_role",) and spec.subject == "staff:sun:teller"
    with pytest.raises(Conflict, match="different request"):  # a teller's approval makes no administrator
        staff.add(me, "sun", "Sun Li", "admin", approval_id=approve(env, me, spec))
    added = staff.add(me, "sun", "Sun Li", "teller", approval_id=approve(env, me, spec))
    assert added.staff.role == "teller" and added.staff.must_change_password and not added.staff.totp_active
    assert len(added.one_time_password) >= 12
    spec = asks(lambda: staff.change_role(me, "sun", "supervisor", "promoted"))
    assert spec.rules == ("staff_role",) and spec.subject == "staff:sun:supervisor"
    assert staff.change_role(me, "sun", "supervisor", "promoted",
                             approval_id=approve(env, me, spec)).role == "supervisor"
    spec = asks(lambda: staff.change_role(me, "li", "admin", "promoted"))
    with pytest.raises(PermissionDenied):  # li cannot approve her own promotion
        staff.change_role(me, "li", "admin", "promoted", approval_id=approve(env, me, spec, li(env)))
    assert env.services.auth.get_staff("li").role == "supervisor"
    with pytest.raises(PermissionDenied):  # nobody changes their own account
        staff.change_role(me, "admin", "teller", "me")
    with pytest.raises(PermissionDenied):  # a supervisor is not an administrator
        staff.change_role(env.supervisor, "sun", "teller", "x")
    without(env, "staff_role")
    assert staff.change_role(me, "sun", "teller", "no rule, no approval").role == "teller"


def test_rule_staff_enable(env: Env) -> None:
    staff = env.services.staff_admin
    me = _admin_actor(env)
    assert staff.disable(me, "wang", "left the bank").disabled  # disabling needs no approval
    spec = asks(lambda: staff.enable(me, "wang", "came back"))
    assert spec.rules == ("staff_enable",) and spec.subject == "staff:wang:teller"
    assert not staff.enable(me, "wang", "came back", approval_id=approve(env, me, spec)).disabled
    staff.disable(me, "wang", "again")
    without(env, "staff_enable")
    assert not staff.enable(me, "wang", "no rule").disabled


def test_rule_staff_totp_reset(env: Env) -> None:
    staff = env.services.staff_admin
    me = _admin_actor(env)
    spec = asks(lambda: staff.reset_authenticator(me, "wang", "lost phone"))
    assert spec.rules == ("staff_totp_reset",) and spec.subject == "staff:wang:teller"
    assert not staff.reset_authenticator(me, "wang", "lost phone", approval_id=approve(env, me, spec)).totp_active
    without(env, "staff_totp_reset")
    assert not staff.reset_authenticator(me, "li", "lost phone").totp_active


# -- approval limits per approver -------------------------------------------------------------------------
def _big_spec(env: Env, amount: str, rules: tuple[str, ...] = ("large_cash",)) -> ApprovalSpec:
    return ApprovalSpec(kind="cash_in", requester_id=env.teller.staff_id, branch_code="B001",
                        amount=Money.of(amount), accounts=(env.wallet_number,), subject="limits", rules=rules)


def test_supervisor_ceiling_and_admin_above_it(env: Env) -> None:
    policy = env.approvals.policy
    assert policy.approvers["supervisor"] == Money.of("500000") and policy.approvers["admin"] is None
    approve(env, env.teller, _big_spec(env, "500000"))  # at the ceiling: the supervisor may
    with pytest.raises(PermissionDenied) as caught:
        approve(env, env.teller, _big_spec(env, "500000.01"))
    assert caught.value.code == "approval_limit"
    assert "500,000.00" in str(caught.value) and "administrator" in str(caught.value)
    assert approve(env, env.teller, _big_spec(env, "500000.01"), admin(env))  # the higher role approves


def test_the_queue_applies_the_same_ceiling(env: Env) -> None:
    view = env.approvals.request(env.teller, _big_spec(env, "600000"))
    assert not env.approvals.may_approve("supervisor", view) and env.approvals.may_approve("admin", view)
    env.next_step()
    with pytest.raises(PermissionDenied):
        env.approvals.decide(env.supervisor, view.id, approve=True, password=SUP_PW, code=env.li_code(),
                             reason="ok")
    env.next_step()  # rejecting is allowed: a ceiling limits what one may approve, not refuse
    rejected = env.approvals.decide(env.supervisor, view.id, approve=False, password=SUP_PW, code=env.li_code(),
                                    reason="too large for me")
    assert rejected.status == "rejected"


def test_a_rule_names_its_own_approvers(env: Env) -> None:
    set_rules(env, lambda rules: [replace(r, approvers={"admin": None}) if r.id == "reversal" else r
                                  for r in rules])
    spec = _big_spec(env, "1", rules=("reversal",))
    with pytest.raises(PermissionDenied) as caught:
        approve(env, env.teller, spec)
    assert "cannot approve" in str(caught.value)
    approve(env, env.teller, spec, admin(env))


def test_a_supervisors_own_drawer_is_countersigned_by_the_administrator(env: Env) -> None:
    """A branch with one supervisor: the administrator (or a second supervisor) countersigns."""
    drawers = env.services.drawers
    drawers.open_drawer(env.supervisor, {"note:100": 10}, admin(env))
    drawers.submit_blind_count(env.supervisor, {"note:100": 10})
    with pytest.raises(PermissionDenied):  # not herself
        drawers.close_drawer(env.supervisor, li(env), write_report=False)
    closed = drawers.close_drawer(env.supervisor, admin(env), write_report=False)
    assert closed.approver == "admin"


def test_policy_file_approvers_are_checked() -> None:
    base = {"rule": [{"id": "reversal", "actions": ["reversal"], "when": "always",
                      "effective_from": date(2020, 1, 1)}]}
    policy = ApprovalPolicy.from_dict({**base, "approvers": {"supervisor": "1,000", "admin": "unlimited"}})
    assert policy.approvers == {"supervisor": Money.of("1000"), "admin": None}
    for bad in ({"kiosk": "1"}, {"supervisor": "lots"}, {}):
        with pytest.raises(ValidationError):
            ApprovalPolicy.from_dict({**base, "approvers": bad})


def _entries(env: Env) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from teller_tui.models import JournalEntry

    with env.services.db.read() as s:
        return [(e.id, e.kind) for e in s.execute(select(JournalEntry).order_by(JournalEntry.seq)).scalars()]


def test_rule_drawer_handover(env: Env) -> None:
    """The receiver's count of a drawer handed over mid-day is countersigned (with over_short beyond
    the tolerance, as at a close); without its rule the core still asks (dual control by nature)."""
    ho = env.services.handover
    ho.offer(env.teller, "zhao")
    ho.count(env.supervisor2, "wang", {"note:100": 99})  # 100.00 short
    spec = asks(lambda: ho.take_over(env.supervisor2, "wang"))
    assert spec.rules == ("drawer_handover", "over_short") and spec.amount == Money.of("100")
    done = ho.take_over(env.supervisor2, "wang", approval_id=approve(env, env.supervisor2, spec))
    assert done.approver == "li" and done.difference == Money.of("-100")
    without(env, "drawer_handover")
    ho.offer(env.supervisor2, "li")
    ho.count(env.supervisor, "zhao", {"note:100": 99})
    assert asks(lambda: ho.take_over(env.supervisor, "zhao")).rules == ("drawer_handover",)


# -- linked funding, contact details and document renewal (issue 19) ---------------------------------------
def _link(env: Env) -> None:
    from onboarding_fixtures import card_number

    env.services.funding.link_now(env.teller, env.customer_id, env.wallet_id, "card", card_number(), "李建国")


def test_rule_linked_withdraw_large(env: Env) -> None:
    """A withdrawal to the linked account of 20,000.00 or more: approval first, bound to the amount;
    below the threshold, or without the rule, none. Top-ups ask nothing unless a site adds a rule."""
    from teller_tui.approvals.policy import Facts

    funding = env.services.funding
    _link(env)
    funding.top_up_from_linked(env.teller, env.wallet_id, Money.of("90000"), idempotency_key=env.key())
    assert funding.withdraw_to_linked(env.teller, env.wallet_id, Money.of("19999.99"), idempotency_key=env.key())
    key = env.key()
    spec = asks(lambda: funding.withdraw_to_linked(env.teller, env.wallet_id, Money.of("20000"), idempotency_key=key))
    assert spec.rules == ("linked_withdraw_large",) and spec.kind == "linked_withdraw"
    assert spec.amount == Money.of("20000") and "20,000.00" in spec.reasons[0] and "cash" not in spec.reasons[0]
    approval = approve(env, env.teller, spec)
    with pytest.raises(Conflict) as other:  # the approval binds the amount
        funding.withdraw_to_linked(env.teller, env.wallet_id, Money.of("20000.01"), idempotency_key=env.key(),
                                   approval_id=approval)
    assert other.value.code == "approval_mismatch"
    done = funding.withdraw_to_linked(env.teller, env.wallet_id, Money.of("20000"), idempotency_key=key,
                                      approval_id=approve(env, env.teller, spec))
    assert done.amount == Money.of("20000") and not done.replayed
    today = env.services.clock.now().date()
    assert env.services.approvals.evaluate(Facts("linked_top_up", on=today, amount=Money.of("900000"))) == []
    preview = env.services.linked_desk.preview_withdraw(env.teller, env.wallet_id, Money.of("25000"))
    assert preview.approval_rules == ["linked_withdraw_large"] and not preview.allowed
    without(env, "linked_withdraw_large")
    funding.withdraw_to_linked(env.teller, env.wallet_id, Money.of("25000"), idempotency_key=env.key())


def test_optional_rule_linked_top_up(env: Env) -> None:
    funding = env.services.funding
    _link(env)
    set_rules(env, lambda rules: [*rules, PolicyRule(id="linked_top_up_large", actions=("linked_top_up",),
                                                     when="at_or_above", threshold=Money.of("5000"),
                                                     effective_from=date(2020, 1, 1))])
    funding.top_up_from_linked(env.teller, env.wallet_id, Money.of("4999.99"), idempotency_key=env.key())
    key = env.key()
    spec = asks(lambda: funding.top_up_from_linked(env.teller, env.wallet_id, Money.of("5000"), idempotency_key=key))
    assert spec.rules == ("linked_top_up_large",) and spec.accounts[-1] == env.wallet_number
    funding.top_up_from_linked(env.teller, env.wallet_id, Money.of("5000"), idempotency_key=key,
                               approval_id=approve(env, env.teller, spec))


def _contact(env: Env) -> tuple[str, str]:
    from teller_tui.models import Customer

    with env.services.db.read() as s:
        c = s.get(Customer, env.customer_id)
        assert c is not None
        return c.phone, c.occupation


def test_rule_phone_change(env: Env) -> None:
    """A new mobile number needs a supervisor (the approval binds the number); address alone does not."""
    profile = env.services.profile
    phone, job = _contact(env)
    assert profile.change_contact(env.teller, env.customer_id, phone=phone, address="上海市 1 号",
                                  occupation=job).fields == ("address",)
    spec = asks(lambda: profile.change_contact(env.teller, env.customer_id, phone="13800138009",
                                               address="上海市 1 号", occupation=job))
    assert spec.rules == ("phone_change",) and spec.kind == "phone_change" and spec.customer_id == env.customer_id
    assert "13800138009" not in spec.display_summary() and "138****8009" in spec.display_summary()
    assert _contact(env)[0] == phone  # nothing changed before the approval
    approval = approve(env, env.teller, spec)
    with pytest.raises(Conflict) as other:  # approved for one number, not another
        profile.change_contact(env.teller, env.customer_id, phone="13800138010", address="上海市 1 号",
                               occupation=job, approval_id=approval)
    assert other.value.code == "approval_mismatch"
    change = profile.change_contact(env.teller, env.customer_id, phone="13800138009", address="上海市 1 号",
                                    occupation=job, approval_id=approve(env, env.teller, spec))
    assert change.fields == ("phone",) and _contact(env)[0] == "13800138009"
    without(env, "phone_change")
    assert profile.change_contact(env.teller, env.customer_id, phone="13800138011", address="上海市 1 号",
                                  occupation=job).fields == ("phone",)


def test_rule_id_number_change(env: Env) -> None:
    """A passport renewed with a new number needs a supervisor; the same number (a new expiry) does not;
    a resident ID with another number is refused before anything is asked."""
    from sqlalchemy import update

    from teller_tui.models import Customer

    profile = env.services.profile
    with env.services.db.read() as s:
        resident = s.get(Customer, env.customer_id)
        assert resident is not None
        prc_number = resident.id_number
    from teller_tui.wallets.identity import make_prc_id

    other = make_prc_id("110105", date(1980, 1, 1), 77, "M")
    assert other != prc_number
    with pytest.raises(ValidationError) as refused:  # refused outright, no approval asked
        profile.renew_document(env.teller, env.customer_id, number=other, expiry=date(2046, 1, 1))
    assert refused.value.code == "id_number_changed"
    with env.services.db.write() as s:
        s.execute(update(Customer).where(Customer.id == env.customer_id).values(
            id_type="passport", id_number="E12345678", nationality="CHN"))
    assert profile.renew_document(env.teller, env.customer_id, number="E12345678",
                                  expiry=date(2036, 1, 1)).fields == ("id_expiry",)
    spec = asks(lambda: profile.renew_document(env.teller, env.customer_id, number="E87654321",
                                               expiry=date(2037, 1, 1)))
    assert spec.rules == ("id_number_change",) and spec.kind == "id_number_change"
    approval = approve(env, env.teller, spec)
    with pytest.raises(Conflict):  # another new number is another request
        profile.renew_document(env.teller, env.customer_id, number="E87654322", expiry=date(2037, 1, 1),
                               approval_id=approval)
    change = profile.renew_document(env.teller, env.customer_id, number="E87654321", expiry=date(2037, 1, 1),
                                    approval_id=approve(env, env.teller, spec))
    assert change.fields == ("id_number", "id_expiry")
    without(env, "id_number_change")
    assert profile.renew_document(env.teller, env.customer_id, number="E11112222",
                                  expiry=date(2038, 1, 1)).fields == ("id_number", "id_expiry")


@pytest.mark.parametrize("rule_id", ["contact_change", "id_renewal"])
def test_optional_rules_contact_change_and_id_renewal(env: Env, rule_id: str) -> None:
    """Not shipped (a site adds them): present, an address change or a same-number renewal asks first."""
    profile = env.services.profile
    with_always(env, rule_id)

    def act(approval_id: int | None = None) -> Any:
        if rule_id == "contact_change":
            phone, job = _contact(env)
            return profile.change_contact(env.teller, env.customer_id, phone=phone, address="北京市 2 号",
                                          occupation=job, approval_id=approval_id)
        from sqlalchemy import update

        from teller_tui.models import Customer
        from teller_tui.wallets.identity import make_prc_id

        number = make_prc_id("110105", date(1949, 12, 31), 5, "M")  # the fixture's number has no check digit
        with env.services.db.write() as s:
            s.execute(update(Customer).where(Customer.id == env.customer_id).values(id_number=number))
        return profile.renew_document(env.teller, env.customer_id, number=number, expiry=date(2045, 1, 1),
                                      approval_id=approval_id)

    spec = asks(act)
    assert spec.rules == (rule_id,) and spec.kind == rule_id
    assert act(approve(env, env.teller, spec)).fields in (("address",), ("id_expiry",))


def _id_digits(env: Env) -> str:
    from teller_tui.common.masks import hidden_document_part
    from teller_tui.models import Customer

    with env.services.db.read() as s:
        c = s.get(Customer, env.customer_id)
        assert c is not None and c.id_number
        return hidden_document_part(c.id_number, c.id_type)


def test_rule_pin_reset(env: Env) -> None:
    """A PIN reset at the counter (ID check, no PIN) needs a supervisor; the approval is for this customer."""
    consent = env.services.consent
    code = consent.start_pairing(env.teller)
    env.services.pinpad.pair(env.services.kiosk.ensure_identity("PAD-PR"), env.teller.terminal_id, code)
    digits = _id_digits(env)
    spec = asks(lambda: consent.begin_pin_reset(env.teller, env.customer_id, document_seen=True, id_digits=digits))
    assert spec.rules == ("pin_reset",) and spec.kind == "pin_reset" and spec.customer_id == env.customer_id
    ticket = consent.begin_pin_reset(env.teller, env.customer_id, document_seen=True, id_digits=digits,
                                     approval_id=approve(env, env.teller, spec))
    assert consent.status(env.teller, ticket.request_id).status == "pending"
    without(env, "pin_reset")
    assert consent.begin_pin_reset(env.teller, env.customer_id, document_seen=True, id_digits=digits).request_id


def test_rule_customer_totp_remove_id(env: Env) -> None:
    """An authenticator removed after an ID check (lost phone) needs a supervisor; by PIN it does not."""
    from sqlalchemy import update

    from teller_tui.models import Customer

    creds = env.services.credentials

    def enrolled(value: str | None) -> None:
        with env.services.db.write() as s:
            s.execute(update(Customer).where(Customer.id == env.customer_id).values(totp_secret_enc=value))

    enrolled("v1:placeholder")
    digits = _id_digits(env)
    spec = asks(lambda: creds.remove_authenticator(env.teller, env.customer_id, document_seen=True, id_digits=digits))
    assert spec.rules == ("customer_totp_remove_id",) and spec.customer_id == env.customer_id
    assert creds.authenticator_enrolled(env.teller, env.customer_id)
    creds.remove_authenticator(env.teller, env.customer_id, document_seen=True, id_digits=digits,
                               approval_id=approve(env, env.teller, spec))
    assert not creds.authenticator_enrolled(env.teller, env.customer_id)
    enrolled("v1:placeholder")
    without(env, "customer_totp_remove_id")
    creds.remove_authenticator(env.teller, env.customer_id, document_seen=True, id_digits=digits)
    assert not creds.authenticator_enrolled(env.teller, env.customer_id)
