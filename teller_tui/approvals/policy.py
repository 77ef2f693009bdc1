"""The approval policy (``data/approval_policy.toml``, effective-dated): loaded and evaluated here and nowhere else.

:meth:`ApprovalPolicy.evaluate` takes the :class:`Facts` of one action and returns a :class:`PolicyHit`
(rule id plus the reason to show the teller) for every rule in force that requires a supervisor's approval.
Rules are ``always``, ``over_role_limits`` (per-role cash limits from ``teller_limits.toml``),
``at_or_above`` (a threshold, optionally same-day cumulative) and ``above_setting`` (a tolerance setting).

Who may approve (:meth:`ApprovalPolicy.approver_refusal`): each rule names the roles that may approve it,
each with a ceiling (``[approvers]`` at the top of the file, or a rule's own ``approvers`` table); a
request above an approver's ceiling, or a role the rule does not name, needs a higher approving role.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from teller_tui.approvals.actions import ACTIONS, action_title
from teller_tui.auth.roles import APPROVER_ROLES, Role
from teller_tui.common.errors import ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.messages import Msg, Translated, message
from teller_tui.common.paths import data_file
from teller_tui.common.settings import Settings
from teller_tui.ledger.kinds import EntryKind

__all__ = ["LARGE_CASH_RULE", "WHEN", "ApprovalPolicy", "Approvers", "Facts", "PolicyHit", "PolicyRule",
           "RoleLimits", "role_msg", "role_title"]

WHEN = ("always", "over_role_limits", "at_or_above", "above_setting")
#: The rule whose hits also need a large-value cash report (the policy file's ``report = true`` rule).
LARGE_CASH_RULE = "large_cash"

#: Builds the error for one place in the policy file: ``bad(where, problem)``.
_Bad = Callable[[str, str], ValidationError]
#: Role -> the largest amount it may approve (None: no ceiling).
Approvers = Mapping[str, Money | None]
#: The words that mean "no ceiling" in an ``approvers`` table.
UNLIMITED = ("", "unlimited", "any")


@dataclass(frozen=True, slots=True)
class RoleLimits:
    cash_out_per_txn: Money
    cash_out_daily: Money


@dataclass(frozen=True, slots=True)
class PolicyRule:
    id: str
    actions: tuple[str, ...]
    when: str
    effective_from: date
    effective_to: date | None = None
    threshold: Money | None = None
    cumulative: bool = False
    report: bool = False
    setting: str = ""
    role_limits: Mapping[str, RoleLimits] = field(default_factory=dict)
    approvers: Approvers | None = None  # None: the policy's default approvers

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the policy needs to know about one action.

    ``teller_day_total``: cash this teller already paid out today (before this one);
    ``customer_day_total``: the customer's cash today in this action's direction (before this one).
    """

    action: str
    on: date
    amount: Money | None = None
    role: str = Role.TELLER
    teller_day_total: Money | None = None
    customer_day_total: Money | None = None


@dataclass(frozen=True, slots=True)
class PolicyHit:
    rule: str
    #: Translated, fit to show the teller before asking; it remembers its message and arguments, so
    #: a stored request shows it in the reader's language (teller_tui.common.messages).
    reason: str
    report: bool = False


class ApprovalPolicy:
    """The rules of ``approval_policy.toml``; :meth:`evaluate` says which apply to an action."""

    def __init__(self, rules: Sequence[PolicyRule], approver_roles: Sequence[str] = APPROVER_ROLES,
                 approvers: Approvers | None = None) -> None:
        self.rules = tuple(rules)
        #: The default approvers of a rule that names none (role -> ceiling).
        self.approvers: Approvers = dict(approvers) if approvers is not None else {r: None for r in approver_roles}
        roles = [*self.approvers]
        for rule in self.rules:
            roles += [r for r in (rule.approvers or {}) if r not in roles]
        #: Every role that may approve something under this policy.
        self.approver_roles = tuple(dict.fromkeys(roles))

    @classmethod
    def load(cls, path: Path | None = None) -> ApprovalPolicy:
        path = path or data_file("approval_policy.toml")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(_("{file}: cannot read the approval policy ({error})").format(
                file=path, error=exc), code="policy_file") from None
        return cls.from_dict(data, base=path.parent, origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Path | None = None,
                  origin: str = "approval_policy.toml") -> ApprovalPolicy:
        def bad(where: str, problem: str) -> ValidationError:
            return ValidationError(_("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
                                   code="policy_invalid")

        roles = data.get("approver_roles", list(APPROVER_ROLES))
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise bad("approver_roles", _("must be a list of roles"))
        default_approvers = (_load_approvers(data["approvers"], bad, "[approvers]") if "approvers" in data
                             else {r: None for r in roles})
        raw_rules = data.get("rule")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise bad("[[rule]]", _("at least one rule is required"))
        rules: list[PolicyRule] = []
        for i, raw in enumerate(raw_rules):
            where = f"rule #{i + 1}"
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise bad(where, _("a rule needs an id"))
            where = f"rule {raw['id']}"
            actions = raw.get("actions")
            if not isinstance(actions, list) or not actions or any(a not in ACTIONS for a in actions):
                raise bad(where, _("actions must list known actions"))
            when = raw.get("when")
            if when not in WHEN:
                raise bad(where, _("when must be one of: {choices}").format(choices=", ".join(WHEN)))
            eff, eff_to = raw.get("effective_from"), raw.get("effective_to")
            if not isinstance(eff, date) or isinstance(eff, datetime):
                raise bad(where, _("effective_from must be a date such as 2020-10-01"))
            if eff_to is not None and (not isinstance(eff_to, date) or isinstance(eff_to, datetime) or eff_to <= eff):
                raise bad(where, _("effective_to must be a date after effective_from"))
            threshold = None
            if when == "at_or_above":
                try:
                    threshold = parse_money(str(raw.get("threshold", "")), raw.get("currency", "CNY"))
                except ValidationError as exc:
                    raise bad(where, str(exc)) from None
            setting = raw.get("setting", "")
            if when == "above_setting" and not (isinstance(setting, str) and setting):
                raise bad(where, _("above_setting needs the name of a setting"))
            role_limits: dict[str, RoleLimits] = {}
            if when == "over_role_limits":
                role_limits = _load_role_limits(raw, base, bad, where)
            approvers = _load_approvers(raw["approvers"], bad, where) if "approvers" in raw else None
            rules.append(PolicyRule(id=raw["id"], actions=tuple(actions), when=when, effective_from=eff,
                                    effective_to=eff_to, threshold=threshold, cumulative=bool(raw.get("cumulative")),
                                    report=bool(raw.get("report")), setting=setting, role_limits=role_limits,
                                    approvers=approvers))
        return cls(rules, roles, default_approvers)

    def rules_on(self, on: date, action: str | None = None) -> list[PolicyRule]:
        """The rule entries in force on ``on`` (for each id, the latest that started by then)."""
        latest: dict[str, PolicyRule] = {}
        for rule in sorted(self.rules, key=lambda r: r.effective_from):
            if rule.effective_from <= on:
                latest[rule.id] = rule
        return [r for r in latest.values() if r.in_force(on) and (action is None or action in r.actions)]

    def rule(self, rule_id: str, on: date) -> PolicyRule | None:
        return next((r for r in self.rules_on(on) if r.id == rule_id), None)

    def evaluate(self, facts: Facts, settings: Settings | None = None) -> list[PolicyHit]:
        """Which rules require approval for ``facts``, each with the reason to show the teller.

        ``settings`` is needed only by ``above_setting`` rules; evaluating one without it is an error.
        """
        hits: list[PolicyHit] = []
        for rule in self.rules_on(facts.on, facts.action):
            amount = facts.amount
            if rule.when == "always":
                hits.append(PolicyHit(rule.id, _always_reason(facts.action), rule.report))
            elif rule.when == "over_role_limits" and amount is not None:
                limits = rule.role_limits.get(facts.role)
                if limits is None:
                    continue
                if amount.minor > limits.cash_out_per_txn.minor:
                    hits.append(PolicyHit(rule.id, message(N_(
                        "{amount} is above your limit of {limit} for one cash withdrawal."),
                        amount=amount, limit=limits.cash_out_per_txn), rule.report))
                else:
                    so_far = facts.teller_day_total.minor if facts.teller_day_total else 0
                    total = Money(so_far + amount.minor, amount.currency)
                    if total.minor > limits.cash_out_daily.minor:
                        hits.append(PolicyHit(rule.id, message(N_(
                            "You would have paid out {total} in cash today, above your daily limit of "
                            "{limit}."), total=total, limit=limits.cash_out_daily),
                            rule.report))
            elif rule.when == "at_or_above" and amount is not None and rule.threshold is not None:
                if amount.currency != rule.threshold.currency:
                    continue
                if amount.minor >= rule.threshold.minor and not rule.report:
                    title: str | Msg = Msg(ACTIONS[facts.action]) if facts.action in ACTIONS else facts.action
                    hits.append(PolicyHit(rule.id, message(N_(
                        "{action} of {threshold} or more needs a supervisor's approval."),
                        action=title, threshold=rule.threshold)))
                elif amount.minor >= rule.threshold.minor:
                    hits.append(PolicyHit(rule.id, message(N_(
                        "A cash transaction of {threshold} or more needs a supervisor's approval and a "
                        "large-value report."), threshold=rule.threshold), rule.report))
                elif rule.cumulative:
                    before = facts.customer_day_total.minor if facts.customer_day_total else 0
                    total = Money(before + amount.minor, amount.currency)
                    if total.minor >= rule.threshold.minor:
                        hits.append(PolicyHit(rule.id, message(N_(
                            "With this one the customer's cash {direction} today comes to {total}, which reaches "
                            "{threshold}: a supervisor's approval and a large-value report are needed."),
                            direction=_direction(facts.action), total=total, threshold=rule.threshold),
                            rule.report))
            elif rule.when == "above_setting" and amount is not None:
                limit = _setting_money(settings, rule.setting, amount.currency)
                if limit is not None and abs(amount.minor) > limit.minor:
                    hits.append(PolicyHit(rule.id, message(N_(
                        "The difference of {amount} is more than the tolerance of {limit}."),
                        amount=Money(abs(amount.minor), amount.currency), limit=limit), rule.report))
        return hits

    def rule_approvers(self, rule_id: str, on: date) -> Approvers:
        """Who may approve ``rule_id`` on ``on`` (role -> ceiling); an unknown rule: the defaults."""
        rule = self.rule(rule_id, on)
        return rule.approvers if rule is not None and rule.approvers is not None else self.approvers

    def approvers_for(self, rules: Sequence[str], amount: Money | None, on: date) -> tuple[str, ...]:
        """The roles that may approve a request under every rule of ``rules`` for ``amount``."""
        return tuple(r for r in self.approver_roles if self.approver_refusal(rules, r, amount, on) is None)

    def approver_refusal(self, rules: Sequence[str], role: str, amount: Money | None, on: date) -> str | None:
        """None when ``role`` may approve a request hitting ``rules`` for ``amount``; else why not,
        naming the roles that may (translated, fit to show the approver)."""
        for rule_id in rules or ("",):
            table = self.rule_approvers(rule_id, on) if rule_id else self.approvers
            if role in table and _within(amount, table[role]):
                continue
            able = [r for r, ceiling in table.items() if _within(amount, ceiling)]
            ceiling = table.get(role)
            if role in table and ceiling is not None and amount is not None:
                text = _("{amount} is above your approval limit of {limit}.").format(
                    amount=format_money(amount), limit=format_money(ceiling))
            else:
                text = _("Your role cannot approve this.")
            who = ", ".join(role_title(r) for r in able) if able else _("nobody (check the approval policy)")
            return text + " " + _("It needs the approval of: {roles}.").format(roles=who)
        return None

    def threshold(self, rule_id: str, on: date) -> Money | None:
        rule = self.rule(rule_id, on)
        return rule.threshold if rule else None


def _within(amount: Money | None, ceiling: Money | None) -> bool:
    if ceiling is None or amount is None:
        return True
    return amount.currency == ceiling.currency and abs(amount.minor) <= ceiling.minor


_ROLE_TITLES = {"teller": N_("teller"), "supervisor": N_("supervisor"), "admin": N_("administrator")}


def role_title(role: str) -> str:
    return _(_ROLE_TITLES[role]) if role in _ROLE_TITLES else role


def role_msg(role: str) -> Msg | str:
    """The role's title as a message argument (rendered in the reader's language)."""
    return Msg(_ROLE_TITLES[role]) if role in _ROLE_TITLES else role


def _load_approvers(table: Any, bad: _Bad, where: str) -> dict[str, Money | None]:
    """``{role = "200,000.00" | "unlimited"}``: who may approve, each up to a ceiling."""
    if not isinstance(table, dict) or not table:
        raise bad(where, _("approvers must map roles to a ceiling (an amount, or \"unlimited\")"))
    out: dict[str, Money | None] = {}
    for role, ceiling in table.items():
        if role not in {r.value for r in Role} or role in (Role.KIOSK, Role.SYSTEM):
            raise bad(where, _("{role} cannot approve").format(role=role))
        text = str(ceiling).strip()
        if text.lower() in UNLIMITED:
            out[role] = None
            continue
        try:
            out[role] = parse_money(text)
        except ValidationError as exc:
            raise bad(f"{where}, approvers.{role}", str(exc)) from None
    return out


def _direction(action: str) -> Msg:
    return Msg(N_("paid in") if action == EntryKind.CASH_IN else N_("paid out"))


def _always_reason(action: str) -> Translated:
    reasons = {
        "reversal": N_("A reversal needs a supervisor's approval."),
        "unfreeze": N_("Unfreezing a wallet needs a supervisor's approval."),
        "device_replacement": N_("Replacing a customer's device needs a supervisor's approval."),
        "staff_unlock": N_("Unlocking a staff account needs a supervisor's approval."),
        "staff_role": N_("Granting a staff role needs a second administrator's or a supervisor's approval."),
        "staff_enable": N_("Re-enabling a staff account needs a second administrator's or a supervisor's "
                           "approval."),
        "staff_totp_reset": N_("Resetting a staff authenticator needs a second administrator's or a supervisor's "
                               "approval."),
        "over_short": N_("An end-of-day over/short needs a supervisor's approval."),
        "class_change": N_("Changing a wallet's class needs a supervisor's approval."),
        "wallet_close": N_("Closing a wallet needs a supervisor's approval."),
        "drawer_open": N_("The opening float comes out of the vault: a supervisor must countersign."),
        "vault_transfer": N_("Cash moves between a drawer and the vault: a supervisor must countersign."),
        "drawer_close": N_("Closing returns the drawer's cash to the vault: a supervisor must countersign."),
        "drawer_handover": N_("The drawer's cash changes custodian: a third person must countersign the count."),
        "day_close": N_("Closing the business day needs a second person's approval."),
        "dispute_correction": N_("Correcting a disputed transaction needs a supervisor's approval."),
        # Shown on the teller's screen, which the customer can see: never "watch list" (no tipping-off).
        "watchlist_onboarding": N_("Opening this wallet needs a supervisor's review."),
        "phone_change": N_("Changing the customer's mobile number needs a supervisor's approval."),
        "id_number_change": N_("A new identity document number needs a supervisor's approval."),
        "pin_reset": N_("Resetting the customer's wallet PIN needs a supervisor's approval."),
        "customer_totp_remove_id": N_("Removing the customer's authenticator needs a supervisor's approval."),
        "contact_change": N_("Changing the customer's contact details needs a supervisor's approval."),
        "id_renewal": N_("Renewing the identity document needs a supervisor's approval."),
        "linked_top_up": N_("Topping up from the linked account needs a supervisor's approval."),
        "linked_withdraw": N_("Withdrawing to the linked account needs a supervisor's approval."),
    }
    return message(reasons.get(action, N_("This needs a supervisor's approval.")))


def _setting_money(settings: Settings | None, name: str, currency: str) -> Money | None:
    if settings is None:
        raise TypeError(f"the approval rule on setting {name!r} cannot be evaluated without the settings")
    raw = getattr(settings, name, None)
    if raw is None:
        return None
    return parse_money(str(raw), currency, allow_zero=True)


def _load_role_limits(raw: Mapping[str, Any], base: Path | None, bad: _Bad, where: str) -> dict[str, RoleLimits]:
    table = raw.get("role")
    if table is None:
        name = raw.get("limits_file", "teller_limits.toml")
        path = (base / name) if base is not None else Path(name)
        if not path.is_file():
            path = data_file(name)
        try:
            with path.open("rb") as fh:
                table = tomllib.load(fh).get("role")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise bad(where, str(exc)) from None
    if not isinstance(table, dict) or not table:
        raise bad(where, _("needs per-role limits"))
    out: dict[str, RoleLimits] = {}
    for role, limits in table.items():
        try:
            out[role] = RoleLimits(parse_money(str(limits["cash_out_per_txn"])),
                                   parse_money(str(limits["cash_out_daily"])))
        except (KeyError, TypeError, ValidationError) as exc:
            raise bad(f"{where}, role {role}", str(exc)) from None
    return out
