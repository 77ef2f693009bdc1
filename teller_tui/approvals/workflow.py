"""Supervisor overrides (four eyes): the approval policy, approval requests and large-value reports.

The policy (``data/approval_policy.toml``, effective-dated) is evaluated here and nowhere else.
A service that needs approval builds an :class:`ApprovalSpec` (what exactly is to be done) and
calls :meth:`ApprovalService.check` inside its own posting transaction::

    hits = approvals.evaluate(Facts("cash_out", on=day, amount=amount, role=actor.role,
                                    teller_day_total=paid_out_today, customer_day_total=customer_out_today))
    spec = ApprovalSpec(kind="cash_out", requester_id=actor.staff_id, branch_code=actor.branch_code,
                        amount=amount, accounts=(wallet_number,), customer_id=customer_id, reason=memo,
                        rules=tuple(h.rule for h in hits), reasons=tuple(h.reason for h in hits),
                        hold=HoldPlan(wallet_account_id, drawer_account_id, "cash_out", key, memo))
    grant = approvals.check(session, spec, approval_id=approval_id)   # raises ApprovalRequired(spec=spec)
    ... post ...
    if grant and grant.report: approvals.record_large_value(session, grant, ...)

The UI catches :class:`~teller_tui.common.errors.ApprovalRequired`, finds the spec in
``error.details["spec"]`` and gets the approval one of two ways:

* at the counter: a supervisor present types user name, password and a fresh one-time code
  (:meth:`ApprovalService.approve_at_counter`) -> an approved request; the UI retries the action
  with ``approval_id=``; the service consumes it (single use, bound to the request hash).
* at a distance: :meth:`ApprovalService.request` queues it; with a :class:`HoldPlan` the funds
  are held (``ledger.create_hold``), not posted. Any supervisor of the branch sees it in
  :meth:`pending` and :meth:`decide`-s with password, fresh code and a reason. Approving posts
  the hold (``ledger.post_hold`` under the original idempotency key) in the same transaction,
  so the request ends ``consumed`` with ``entry_id``; without a hold it ends ``approved`` and the
  teller retries the action with ``approval_id``. Rejection, cancellation and expiry void the hold.

Every request and decision is audited. Expiry (``settings.approval_expiry_seconds``) is checked
whenever a request is resolved, and :meth:`expire_sweep` resolves the ones nobody touched.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common.clock import BRANCH_TZ, local_date
from teller_tui.common.errors import ApprovalRequired, Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money, parse_money

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings
    from teller_tui.auth.service import AuthService

__all__ = [
    "ACTIONS",
    "ApprovalPolicy",
    "ApprovalResult",
    "ApprovalService",
    "ApprovalSpec",
    "ApprovalView",
    "DashboardData",
    "Facts",
    "Grant",
    "HoldPlan",
    "LargeValueView",
    "PolicyHit",
    "PolicyRule",
    "action_title",
]

#: Actions the policy knows, with their display names (msgids).
ACTIONS: dict[str, str] = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "transfer": N_("Transfer"),
    "reversal": N_("Reversal"),
    "unfreeze": N_("Unfreeze wallet"),
    "device_replacement": N_("Device replacement"),
    "over_short": N_("End-of-day over/short"),
    "staff_unlock": N_("Unlock staff account"),
}
WHEN = ("always", "over_role_limits", "at_or_above", "above_setting")
#: Journal entry kinds that are cash, and their direction (for cumulative totals and reports).
CASH_KINDS: dict[str, str] = {"cash_in": "in", "cash_out": "out"}
OPEN_STATUSES = ("pending", "approved")


def action_title(kind: str) -> str:
    return _(ACTIONS[kind]) if kind in ACTIONS else kind


def _clean(text: str | None, limit: int = 200) -> str:
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in (text or ""))
    return " ".join(cleaned.split())[:limit]


# == the policy ====================================================================================
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
    role: str = "teller"
    teller_day_total: Money | None = None
    customer_day_total: Money | None = None


@dataclass(frozen=True, slots=True)
class PolicyHit:
    rule: str
    reason: str  # translated, fit to show the teller before asking
    report: bool = False


class ApprovalPolicy:
    """The rules of ``approval_policy.toml``; :meth:`evaluate` says which apply to an action."""

    def __init__(self, rules: Sequence[PolicyRule], approver_roles: Sequence[str] = ("supervisor",)) -> None:
        self.rules = tuple(rules)
        self.approver_roles = tuple(approver_roles)

    @classmethod
    def load(cls, path: Path | None = None) -> ApprovalPolicy:
        from teller_tui.common.paths import data_file

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

        roles = data.get("approver_roles", ["supervisor"])
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise bad("approver_roles", _("must be a list of roles"))
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
            rules.append(PolicyRule(id=raw["id"], actions=tuple(actions), when=when, effective_from=eff,
                                    effective_to=eff_to, threshold=threshold, cumulative=bool(raw.get("cumulative")),
                                    report=bool(raw.get("report")), setting=setting, role_limits=role_limits))
        return cls(rules, roles)

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
        """Which rules require approval for ``facts``, each with the reason to show the teller."""
        from teller_tui.common.formatting import format_money

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
                    hits.append(PolicyHit(rule.id, _(
                        "{amount} is above your limit of {limit} for one cash withdrawal.").format(
                        amount=format_money(amount), limit=format_money(limits.cash_out_per_txn)), rule.report))
                else:
                    so_far = facts.teller_day_total.minor if facts.teller_day_total else 0
                    total = Money(so_far + amount.minor, amount.currency)
                    if total.minor > limits.cash_out_daily.minor:
                        hits.append(PolicyHit(rule.id, _(
                            "You would have paid out {total} in cash today, above your daily limit of "
                            "{limit}.").format(total=format_money(total), limit=format_money(limits.cash_out_daily)),
                            rule.report))
            elif rule.when == "at_or_above" and amount is not None and rule.threshold is not None:
                if amount.currency != rule.threshold.currency:
                    continue
                if amount.minor >= rule.threshold.minor:
                    hits.append(PolicyHit(rule.id, _(
                        "A cash transaction of {threshold} or more needs a supervisor's approval and a "
                        "large-value report.").format(threshold=format_money(rule.threshold)), rule.report))
                elif rule.cumulative:
                    before = facts.customer_day_total.minor if facts.customer_day_total else 0
                    total = Money(before + amount.minor, amount.currency)
                    if total.minor >= rule.threshold.minor:
                        hits.append(PolicyHit(rule.id, _(
                            "With this one the customer's cash {direction} today comes to {total}, which reaches "
                            "{threshold}: a supervisor's approval and a large-value report are needed.").format(
                            direction=_direction(facts.action), total=format_money(total),
                            threshold=format_money(rule.threshold)), rule.report))
            elif rule.when == "above_setting" and amount is not None:
                limit = _setting_money(settings, rule.setting, amount.currency)
                if limit is not None and abs(amount.minor) > limit.minor:
                    hits.append(PolicyHit(rule.id, _(
                        "The difference of {amount} is more than the tolerance of {limit}.").format(
                        amount=format_money(Money(abs(amount.minor), amount.currency)),
                        limit=format_money(limit)), rule.report))
        return hits

    def threshold(self, rule_id: str, on: date) -> Money | None:
        rule = self.rule(rule_id, on)
        return rule.threshold if rule else None


def _direction(action: str) -> str:
    return _("paid in") if action == "cash_in" else _("paid out")


def _always_reason(action: str) -> str:
    reasons = {
        "reversal": N_("A reversal needs a supervisor's approval."),
        "unfreeze": N_("Unfreezing a wallet needs a supervisor's approval."),
        "device_replacement": N_("Replacing a customer's device needs a supervisor's approval."),
        "staff_unlock": N_("Unlocking a staff account needs a supervisor's approval."),
        "over_short": N_("An end-of-day over/short needs a supervisor's approval."),
    }
    return _(reasons.get(action, N_("This needs a supervisor's approval.")))


def _setting_money(settings: Settings | None, name: str, currency: str) -> Money | None:
    if settings is None:
        from teller_tui.common.settings import load_settings

        settings = load_settings()
    raw = getattr(settings, name, None)
    if raw is None:
        return None
    return parse_money(str(raw), currency, allow_zero=True)


def _load_role_limits(raw: Mapping[str, Any], base: Path | None, bad: Any, where: str) -> dict[str, RoleLimits]:
    table = raw.get("role")
    if table is None:
        name = raw.get("limits_file", "teller_limits.toml")
        path = (base / name) if base is not None else Path(name)
        if not path.is_file():
            from teller_tui.common.paths import data_file

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


# == requests ========================================================================================
@dataclass(frozen=True, slots=True)
class HoldPlan:
    """How to hold the funds while a remote approval is pending (two accounts, one amount)."""

    debit_account_id: int
    credit_account_id: int
    kind: str  # the journal entry kind when posted (cash_out, cash_in, transfer)
    idempotency_key: str  # the form's key: the posted entry keeps it (the hold uses key + ":hold")
    memo: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalSpec:
    """Exactly what is to be approved. The hash covers action, amount, currency, accounts,
    customer, subject, reason, requester and branch; the rest is shown, not bound."""

    kind: str
    requester_id: int | None
    branch_code: str
    amount: Money | None = None
    accounts: tuple[str, ...] = ()  # wallet numbers or account codes, in order (from, to)
    customer_id: int | None = None
    subject: str = ""  # e.g. "entry:42", "wallet:0012...", "staff:wang", "drawer:B001:T01"
    reason: str = ""  # the teller's memo / reason
    rules: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    summary: str = ""  # one line for the supervisor's queue
    customer_name: str = ""
    hold: HoldPlan | None = None

    def canonical(self) -> dict[str, Any]:
        return {
            "action": self.kind,
            "amount": self.amount.minor if self.amount is not None else None,
            "currency": self.amount.currency if self.amount is not None else None,
            "accounts": list(self.accounts),
            "customer_id": self.customer_id,
            "subject": self.subject,
            "reason": _clean(self.reason),
            "requester_id": self.requester_id,
            "branch": self.branch_code,
        }

    def request_hash(self) -> str:
        body = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()

    def display_summary(self) -> str:
        if self.summary:
            return _clean(self.summary)
        from teller_tui.common.formatting import format_money

        parts = [action_title(self.kind)]
        if self.amount is not None:
            parts.append(format_money(self.amount))
        if self.accounts:
            parts.append(" → ".join(self.accounts))
        if self.customer_name:
            parts.append(self.customer_name)
        elif self.subject:
            parts.append(self.subject)
        return _clean(" · ".join(parts))


@dataclass(frozen=True, slots=True)
class ApprovalView:
    id: int
    branch_code: str
    kind: str
    mode: str
    status: str
    summary: str
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    amount: Money | None
    customer_name: str
    requester_id: int | None
    requester: str  # user name
    requester_name: str
    terminal: str
    created_at: datetime
    expires_at: datetime
    hold_id: int | None = None
    approver_id: int | None = None
    approver: str = ""
    decided_at: datetime | None = None
    decision_reason: str = ""
    entry_id: int | None = None
    entry_reference: str = ""
    source_of_funds: str = ""
    purpose: str = ""

    @property
    def title(self) -> str:
        return action_title(self.kind)

    @property
    def granted(self) -> bool:
        """Approved (to be used with ``approval_id``) or already carried out (``consumed``)."""
        return self.status in ("approved", "consumed")

    @property
    def final(self) -> bool:
        return self.status not in ("pending",)


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """What an approval dialog returns to the screen that asked."""

    approval_id: int
    status: str  # approved: retry with approval_id; consumed: already posted (entry_reference)
    approver_id: int | None
    approver: str
    mode: str
    entry_id: int | None = None
    entry_reference: str = ""

    @property
    def posted(self) -> bool:
        return self.status == "consumed" and self.entry_id is not None


@dataclass(frozen=True, slots=True)
class Grant:
    """A consumed approval, handed back to the service that used it."""

    approval_id: int
    approver_id: int | None
    rules: tuple[str, ...]
    source_of_funds: str = ""
    purpose: str = ""

    @property
    def report(self) -> bool:
        return "large_cash" in self.rules


@dataclass(frozen=True, slots=True)
class LargeValueView:
    id: int
    txn_at: datetime
    business_date: date
    customer_name: str
    id_type: str
    id_number: str
    nationality: str
    occupation: str
    address: str
    phone: str
    direction: str
    amount: Money
    cumulative: Money
    teller: str
    terminal: str
    reference: str
    source_of_funds: str
    purpose: str


@dataclass(frozen=True, slots=True)
class TellerActivity:
    staff_id: int | None
    username: str
    display_name: str
    cash_in: Money
    cash_out: Money
    transactions: int
    wallets_opened: int


@dataclass(frozen=True, slots=True)
class DrawerPosition:
    code: str
    name: str
    balance: Money


@dataclass(frozen=True, slots=True)
class DashboardData:
    on: date
    branch_code: str
    pending: list[ApprovalView]
    tellers: list[TellerActivity]
    drawers: list[DrawerPosition]
    large_value: list[LargeValueView]
    hourly_in: list[int]  # 24 counts of cash-in entries per local hour
    hourly_out: list[int]
    hourly_other: list[int]


def _json_rules(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


# == the service =========================================================================================
class ApprovalService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 *, auth: AuthService, policy: ApprovalPolicy) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.ledger = ledger
        self.audit = audit
        self.auth = auth
        self.policy = policy

    def evaluate(self, facts: Facts) -> list[PolicyHit]:
        return self.policy.evaluate(facts, self.settings)

    def check(self, session: Session, spec: ApprovalSpec, *, approval_id: int | None = None) -> Grant | None:
        """Inside the caller's transaction: nothing needed -> None; needed and no approval ->
        :class:`ApprovalRequired` carrying ``spec``; an approval -> consumed (bound, single use)."""
        if approval_id is None:
            if not spec.rules:
                return None
            reasons = list(spec.reasons) or [_("This needs a supervisor's approval.")]
            raise ApprovalRequired(reasons[0], reasons=reasons, rules=list(spec.rules), spec=spec)
        return self.consume(session, approval_id, spec.request_hash(), rules=spec.rules)

    # -- counter approval --------------------------------------------------------------------------------
    def approve_at_counter(self, actor: Actor, spec: ApprovalSpec, username: str, password: str, code: str, *,
                           source_of_funds: str = "", purpose: str = "") -> ApprovalResult:
        """A supervisor present authenticates freshly at this terminal; the approval is granted at once."""
        self._check_requester(actor, spec)
        approver = self._verify(username, password, code, not_staff_id=spec.requester_id, terminal=actor.terminal_id)
        now = self.clock.now()
        with self.db.write() as s:
            row = self._new_row(actor, spec, mode="counter", status="approved", now=now,
                                source_of_funds=source_of_funds, purpose=purpose)
            row.approver_id = approver.id
            row.decided_at = now
            s.add(row)
            s.flush()
            assert row.id is not None
            self._audit_request(s, actor, row, spec)
            self.audit.append(s, approver.actor(actor.terminal_id), "approval_approve",
                              subject=f"approval:{row.id}", detail={"mode": "counter", "kind": spec.kind,
                                                                   "requester_id": spec.requester_id})
            return ApprovalResult(row.id, row.status, approver.id, approver.username, "counter")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- remote approval --------------------------------------------------------------------------------
    def request(self, actor: Actor, spec: ApprovalSpec, *, source_of_funds: str = "",
                purpose: str = "") -> ApprovalView:
        """Queue a request for any supervisor of the branch; hold the funds if ``spec.hold``."""
        from teller_tui.ledger import HoldRequest

        self._check_requester(actor, spec)
        now = self.clock.now()
        with self.db.write() as s:
            row = self._new_row(actor, spec, mode="remote", status="pending", now=now,
                                source_of_funds=source_of_funds, purpose=purpose)
            if spec.hold is not None:
                if spec.amount is None:
                    raise ValidationError(_("A hold needs an amount."), code="hold_amount")
                hold = self.ledger.create_hold(s, HoldRequest(
                    idempotency_key=f"{spec.hold.idempotency_key}:hold", kind=spec.hold.kind,
                    debit_account_id=spec.hold.debit_account_id, credit_account_id=spec.hold.credit_account_id,
                    amount=spec.amount, actor_id=actor.staff_id, terminal_id=actor.terminal_id,
                    expires_at=row.expires_at, memo=_clean(spec.hold.memo), customer_id=spec.customer_id,
                    meta={"approval": spec.request_hash()}))
                if hold.replayed:
                    raise Conflict(_("This request was already sent for approval."), code="approval_duplicate")
                row.hold_id = hold.hold_id
            s.add(row)
            s.flush()
            self._audit_request(s, actor, row, spec)
            return self._view(s, row)
        raise AssertionError("unreachable")  # pragma: no cover

    def decide(self, actor: Actor, request_id: int, *, approve: bool, password: str, code: str,
               reason: str) -> ApprovalView:
        """A signed-in supervisor approves or rejects, with password, a fresh code and a reason."""
        from teller_tui.models import ApprovalRequest

        reason = _clean(reason)
        if not reason:
            raise ValidationError(_("Give a reason for the decision."), code="approval_reason")
        with self.db.read() as s:
            row = s.get(ApprovalRequest, request_id)
            if row is None:
                raise NotFound(_("No such approval request."), code="approval_not_found")
            requester_id, branch, status = row.requester_id, row.branch_code, row.status
        if branch != actor.branch_code:
            raise PermissionDenied(_("This request belongs to another branch."), code="approval_branch")
        if status != "pending":
            raise Conflict(self._status_message(status), code=f"approval_{status}")
        approver = self._verify(actor.username, password, code, not_staff_id=requester_id, terminal=actor.terminal_id)
        if approver.id != actor.staff_id:
            raise PermissionDenied(_("Sign in as yourself to decide."), code="approval_actor")
        now = self.clock.now()
        expired = False
        with self.db.write() as s:
            row = self._lock(s, request_id)
            if row.status != "pending":
                raise Conflict(self._status_message(row.status), code=f"approval_{row.status}")
            if row.expires_at <= now:
                self._expire(s, row, now)
                expired = True
            elif approve:
                row.approver_id, row.decided_at, row.reason = approver.id, now, reason
                row.status = "approved"
                if row.hold_id is not None:
                    self._post_hold(s, row, now)
                self.audit.append(s, actor, "approval_approve", subject=f"approval:{row.id}",
                                  detail={"mode": "remote", "kind": row.kind, "reason": reason,
                                          "requester_id": row.requester_id, "entry_id": row.entry_id})
            else:
                row.approver_id, row.decided_at, row.reason = approver.id, now, reason
                row.status = "rejected"
                if row.hold_id is not None:
                    self.ledger.void_hold(s, row.hold_id)
                self.audit.append(s, actor, "approval_reject", subject=f"approval:{row.id}",
                                  detail={"kind": row.kind, "reason": reason, "requester_id": row.requester_id})
            s.flush()
            view = self._view(s, row)
        if expired:
            raise Conflict(_("This request has expired; any held funds were released."), code="approval_expired")
        return view

    def cancel(self, actor: Actor, request_id: int, reason: str = "") -> ApprovalView:
        """The requester (or a supervisor) withdraws a request that has not been used."""
        now = self.clock.now()
        with self.db.write() as s:
            row = self._lock(s, request_id)
            if actor.staff_id != row.requester_id and actor.role not in self.policy.approver_roles:
                raise PermissionDenied(_("Only the teller who asked can cancel this request."),
                                       code="approval_cancel_forbidden")
            if row.status not in OPEN_STATUSES:
                raise Conflict(self._status_message(row.status), code=f"approval_{row.status}")
            if row.expires_at <= now:
                self._expire(s, row, now)
            else:
                row.status = "cancelled"
                row.reason = _clean(reason) or row.reason
                row.decided_at = row.decided_at or now
                if row.hold_id is not None:
                    self.ledger.void_hold(s, row.hold_id)
                self.audit.append(s, actor, "approval_cancel", subject=f"approval:{row.id}",
                                  detail={"kind": row.kind, "reason": _clean(reason)})
            s.flush()
            return self._view(s, row)
        raise AssertionError("unreachable")  # pragma: no cover

    def consume(self, session: Session, approval_id: int, expected_hash: str, *,
                rules: Sequence[str] = ()) -> Grant:
        """Use an approval inside the caller's posting transaction: it must be approved, unexpired,
        for exactly this request (hash) and cover ``rules``. Afterwards it is ``consumed``."""
        row = self._lock(session, approval_id)
        now = self.clock.now()
        if row.status != "approved":
            raise Conflict(self._status_message(row.status), code=f"approval_{row.status}")
        if row.expires_at <= now:
            raise Conflict(_("This approval has expired. Ask again."), code="approval_expired")
        if row.request_hash != expected_hash:
            raise Conflict(_("The approval was given for a different request (amount, account or reason "
                             "changed). Ask again."), code="approval_mismatch")
        granted = _json_rules(row.rules_json)
        missing = sorted(set(rules) - set(granted))
        if missing:
            raise Conflict(_("The approval does not cover everything this now needs. Ask again."),
                           code="approval_scope", missing=missing)
        row.status = "consumed"
        row.consumed_at = now
        annotations = json.loads(row.request_json).get("annotations", {})
        requester = self._staff_actor(session, row.requester_id, row.terminal, row.branch_code)
        self.audit.append(session, requester, "approval_consume", subject=f"approval:{row.id}",
                          detail={"kind": row.kind, "approver_id": row.approver_id})
        assert row.id is not None
        return Grant(row.id, row.approver_id, granted, annotations.get("source_of_funds", ""),
                     annotations.get("purpose", ""))

    def attach_entry(self, session: Session, approval_id: int, entry_id: int) -> None:
        """Record which journal entry a consumed approval produced (for the dashboard and audit)."""
        row = self._lock(session, approval_id)
        row.entry_id = entry_id

    def expire_sweep(self, *, limit: int = 200) -> list[int]:
        """Expire every open request past its time and release its hold. Returns their ids."""
        from sqlalchemy import select

        from teller_tui.models import ApprovalRequest

        now = self.clock.now()
        with self.db.read() as s:
            ids = list(s.execute(select(ApprovalRequest.id).where(
                ApprovalRequest.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
                ApprovalRequest.expires_at <= now).order_by(ApprovalRequest.id).limit(limit)).scalars())
        if not ids:
            return []
        done = []
        with self.db.write() as s:
            for request_id in ids:
                row = self._lock(s, request_id)
                if row.status in OPEN_STATUSES and row.expires_at <= now:
                    self._expire(s, row, now)
                    done.append(request_id)
        return done

    # -- queries ------------------------------------------------------------------------------------------
    def pending(self, branch_code: str | None = None) -> list[ApprovalView]:
        """Pending requests of the branch, oldest first (cheap: indexed by status and branch)."""
        from sqlalchemy import select

        from teller_tui.models import ApprovalRequest

        branch = branch_code or self.settings.branch_code
        now = self.clock.now()
        with self.db.read() as s:
            rows = s.execute(select(ApprovalRequest).where(
                ApprovalRequest.status == "pending", ApprovalRequest.branch_code == branch)
                .order_by(ApprovalRequest.id)).scalars().all()
            return [self._view(s, r) for r in rows if r.expires_at > now]

    def get(self, request_id: int) -> ApprovalView:
        from teller_tui.models import ApprovalRequest

        with self.db.read() as s:
            row = s.get(ApprovalRequest, request_id)
            if row is None:
                raise NotFound(_("No such approval request."), code="approval_not_found")
            return self._view(s, row)

    def recent(self, branch_code: str | None = None, limit: int = 50) -> list[ApprovalView]:
        from sqlalchemy import select

        from teller_tui.models import ApprovalRequest

        with self.db.read() as s:
            rows = s.execute(select(ApprovalRequest).where(
                ApprovalRequest.branch_code == (branch_code or self.settings.branch_code))
                .order_by(ApprovalRequest.id.desc()).limit(limit)).scalars().all()  # type: ignore[union-attr]
            return [self._view(s, r) for r in rows]

    # -- large-value cash -------------------------------------------------------------------------------
    def customer_cash_total(self, session: Session, customer_id: int, direction: str, business_date: date) -> Money:
        """The customer's posted cash in one direction on a business date (reversed entries excluded)."""
        from sqlalchemy import func, select
        from sqlalchemy.orm import aliased

        from teller_tui.models import JournalEntry, Posting

        kinds = [k for k, d in CASH_KINDS.items() if d == direction]
        rev = aliased(JournalEntry)
        total = session.execute(
            select(func.coalesce(func.sum(Posting.amount), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.customer_id == customer_id, JournalEntry.business_date == business_date,
                   JournalEntry.kind.in_(kinds), Posting.amount > 0,  # type: ignore[attr-defined]
                   ~select(rev.id).where(rev.reverses_entry_id == JournalEntry.id).exists())).scalar_one()
        return Money(int(total))

    def record_large_value(self, session: Session, *, customer_id: int, direction: str, amount: Money,
                           teller: Actor, reference: str, entry_id: int | None, txn_at: datetime,
                           business_date: date, grant: Grant | None = None, cumulative: Money | None = None,
                           source_of_funds: str = "", purpose: str = "") -> int:
        """Create the large-value cash report of a posted transaction (inside the posting transaction).

        ``cumulative`` defaults to the customer's posted total that day in ``direction`` (this one included).
        """
        from teller_tui.models import Customer, LargeValueReport

        if direction not in ("in", "out"):
            raise ValidationError("direction must be 'in' or 'out'")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(_("No such customer."), code="customer_not_found")
        if cumulative is None:
            cumulative = self.customer_cash_total(session, customer_id, direction, business_date)
        report = LargeValueReport(
            branch_code=teller.branch_code, business_date=business_date, txn_at=txn_at, customer_id=customer_id,
            customer_name=customer.full_name, id_type=customer.id_type or "", id_number=customer.id_number or "",
            nationality=customer.nationality or "", occupation=customer.occupation or "",
            address=customer.address or "", phone=customer.phone or "", direction=direction,
            currency=amount.currency, amount=amount.minor, cumulative_amount=max(cumulative.minor, amount.minor),
            teller_id=teller.staff_id, teller_username=teller.username, terminal=teller.terminal_id,
            reference=reference, entry_id=entry_id, approval_id=grant.approval_id if grant else None,
            source_of_funds=_clean(source_of_funds or (grant.source_of_funds if grant else "")),
            purpose=_clean(purpose or (grant.purpose if grant else "")), created_at=self.clock.now())
        session.add(report)
        session.flush()
        assert report.id is not None
        self.audit.append(session, teller, "large_value_report", subject=f"customer:{customer_id}",
                          detail={"reference": reference, "direction": direction, "amount": amount.minor,
                                  "cumulative": report.cumulative_amount})
        return report.id

    def large_value_reports(self, on: date | None = None, branch_code: str | None = None) -> list[LargeValueView]:
        from sqlalchemy import select

        from teller_tui.models import LargeValueReport

        day = on or local_date(self.clock.now())
        with self.db.read() as s:
            rows = s.execute(select(LargeValueReport).where(
                LargeValueReport.branch_code == (branch_code or self.settings.branch_code),
                LargeValueReport.business_date == day).order_by(LargeValueReport.id)).scalars().all()
            return [_lvr_view(r) for r in rows]

    # -- dashboard ------------------------------------------------------------------------------------------
    def dashboard(self, on: date | None = None, branch_code: str | None = None) -> DashboardData:
        """Everything the supervisor dashboard shows, read in one snapshot."""
        from sqlalchemy import func, select

        from teller_tui.ledger.accounts import AccountKind
        from teller_tui.models import JournalEntry, LedgerAccount, Posting, Staff, Wallet

        branch = branch_code or self.settings.branch_code
        day = on or local_date(self.clock.now())
        start = datetime.combine(day, time(0), tzinfo=BRANCH_TZ).astimezone(UTC)
        end = start + timedelta(days=1)
        pending = self.pending(branch)
        with self.db.read() as s:
            staff = {r.id: (r.username, r.display_name) for r in s.execute(
                select(Staff.id, Staff.username, Staff.display_name)).all()}
            amounts = s.execute(
                select(JournalEntry.actor_id, JournalEntry.kind, func.count(func.distinct(JournalEntry.id)),
                       func.coalesce(func.sum(Posting.amount), 0))
                .join(Posting, Posting.entry_id == JournalEntry.id)
                .where(JournalEntry.business_date == day, JournalEntry.branch_code == branch, Posting.amount > 0)
                .group_by(JournalEntry.actor_id, JournalEntry.kind)).all()
            per: dict[int | None, dict[str, int]] = {}
            for actor_id, kind, count, total in amounts:
                d = per.setdefault(actor_id, {"in": 0, "out": 0, "n": 0, "wallets": 0})
                d["n"] += int(count)
                if kind in CASH_KINDS:
                    d[CASH_KINDS[kind]] += int(total)
            for opened_by, count in s.execute(select(Wallet.opened_by, func.count()).where(
                    Wallet.opened_at >= start, Wallet.opened_at < end).group_by(Wallet.opened_by)).all():
                per.setdefault(opened_by, {"in": 0, "out": 0, "n": 0, "wallets": 0})["wallets"] = int(count)
            tellers = []
            for staff_id, d in per.items():
                if staff_id is None:
                    continue  # vault deliveries and other system entries
                name, display = staff.get(staff_id, ("system", "")) if staff_id is not None else ("system", "")
                tellers.append(TellerActivity(staff_id, name, display, Money(d["in"]), Money(d["out"]), d["n"],
                                              d["wallets"]))
            tellers.sort(key=lambda t: t.username)
            drawers = [DrawerPosition(r.code, r.name, Money(r.debits_posted - r.credits_posted, r.currency))
                       for r in s.execute(select(LedgerAccount).where(
                           LedgerAccount.kind == AccountKind.DRAWER.value, LedgerAccount.branch_code == branch)
                           .order_by(LedgerAccount.code)).scalars()]
            hourly_in, hourly_out, hourly_other = [0] * 24, [0] * 24, [0] * 24
            for kind, posted_at in s.execute(select(JournalEntry.kind, JournalEntry.posted_at).where(
                    JournalEntry.business_date == day, JournalEntry.branch_code == branch)).all():
                hour = posted_at.astimezone(BRANCH_TZ).hour
                bucket = hourly_in if kind == "cash_in" else hourly_out if kind == "cash_out" else hourly_other
                bucket[hour] += 1
        return DashboardData(day, branch, pending, tellers, drawers, self.large_value_reports(day, branch),
                             hourly_in, hourly_out, hourly_other)

    # -- internals -----------------------------------------------------------------------------------------
    def _verify(self, username: str, password: str, code: str, *, not_staff_id: int | None, terminal: str) -> Any:
        if self.auth is None:
            raise PermissionDenied(_("Approvals need the sign-in service."), code="approval_no_auth")
        return self.auth.verify_fresh_credentials(username, password, code,
                                                  required_role=self.policy.approver_roles,
                                                  not_staff_id=not_staff_id, terminal_id=terminal,
                                                  action="approval_auth")

    @staticmethod
    def _check_requester(actor: Actor, spec: ApprovalSpec) -> None:
        if actor.staff_id is None or spec.requester_id != actor.staff_id:
            raise PermissionDenied(_("An approval is asked for by the person who will act."),
                                   code="approval_requester")
        if spec.kind not in ACTIONS:
            raise ValidationError(f"unknown approval action {spec.kind!r}", code="approval_kind")

    def _new_row(self, actor: Actor, spec: ApprovalSpec, *, mode: str, status: str, now: datetime,
                 source_of_funds: str, purpose: str) -> Any:
        from teller_tui.models import ApprovalRequest

        annotations = {
            "reasons": [_clean(r, 400) for r in spec.reasons], "customer_name": _clean(spec.customer_name, 80),
            "source_of_funds": _clean(source_of_funds), "purpose": _clean(purpose),
            "entry_key": spec.hold.idempotency_key if spec.hold else None,
        }
        return ApprovalRequest(
            branch_code=spec.branch_code, kind=spec.kind, mode=mode, status=status,
            request_hash=spec.request_hash(),
            request_json=json.dumps({"request": spec.canonical(), "annotations": annotations},
                                    sort_keys=True, ensure_ascii=False),
            summary=spec.display_summary()[:200], rules_json=json.dumps(list(spec.rules)),
            requester_id=spec.requester_id, terminal=actor.terminal_id, created_at=now,
            expires_at=now + timedelta(seconds=self.settings.approval_expiry_seconds))

    def _audit_request(self, s: Session, actor: Actor, row: Any, spec: ApprovalSpec) -> None:
        self.audit.append(s, actor, "approval_request", subject=f"approval:{row.id}",
                          detail={"mode": row.mode, "kind": spec.kind, "rules": list(spec.rules),
                                  "hash": row.request_hash, "hold_id": row.hold_id,
                                  "amount": spec.amount.minor if spec.amount else None})

    def _lock(self, s: Session, request_id: int) -> Any:
        from sqlalchemy import select

        from teller_tui.models import ApprovalRequest

        row = s.execute(select(ApprovalRequest).where(ApprovalRequest.id == request_id)
                        .with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(_("No such approval request."), code="approval_not_found")
        s.refresh(row)
        return row

    def _expire(self, s: Session, row: Any, now: datetime) -> None:
        row.status = "expired"
        row.decided_at = row.decided_at or now
        if row.hold_id is not None:
            # The hold expires at the same moment; the ledger's sweep releases it (expired, not voided).
            status = self.ledger.hold_status(s, row.hold_id).status
            if status == "pending":
                self.ledger.expire_holds(s)
        from teller_tui.audit.trail import Actor

        actor = Actor(None, "system:approvals", self.settings.terminal_id, "system", row.branch_code)
        self.audit.append(s, actor, "approval_expire", subject=f"approval:{row.id}",
                          detail={"kind": row.kind, "hold_id": row.hold_id})

    def _post_hold(self, s: Session, row: Any, now: datetime) -> None:
        annotations = json.loads(row.request_json).get("annotations", {})
        key = annotations.get("entry_key") or f"approval:{row.id}"
        result = self.ledger.post_hold(s, row.hold_id, idempotency_key=key, actor_id=row.requester_id,
                                       terminal_id=row.terminal, branch_code=row.branch_code)
        row.status = "consumed"
        row.consumed_at = now
        row.entry_id = result.entry_id
        rules = _json_rules(row.rules_json)
        direction = CASH_KINDS.get(row.kind)
        customer_id = json.loads(row.request_json)["request"].get("customer_id")
        if "large_cash" in rules and direction and customer_id is not None:
            teller = self._staff_actor(s, row.requester_id, row.terminal, row.branch_code)
            grant = Grant(row.id, row.approver_id, rules, annotations.get("source_of_funds", ""),
                          annotations.get("purpose", ""))
            leg = next(leg for leg in result.legs if leg.amount > 0)
            self.record_large_value(s, customer_id=customer_id, direction=direction,
                                    amount=Money(leg.amount, leg.currency), teller=teller,
                                    reference=result.reference, entry_id=result.entry_id, txn_at=result.posted_at,
                                    business_date=result.business_date, grant=grant)

    @staticmethod
    def _staff_actor(s: Session, staff_id: int | None, terminal: str, branch: str) -> Actor:
        from teller_tui.audit.trail import Actor
        from teller_tui.models import Staff

        row = s.get(Staff, staff_id) if staff_id is not None else None
        if row is None:
            return Actor(None, "unknown", terminal, "unknown", branch)
        return Actor(row.id, row.username, terminal, row.role, branch)

    @staticmethod
    def _status_message(status: str) -> str:
        messages = {
            "pending": N_("This request is still waiting for a supervisor."),
            "approved": N_("This request has already been approved."),
            "rejected": N_("This request was rejected."),
            "cancelled": N_("This request was cancelled."),
            "expired": N_("This request has expired. Ask again."),
            "consumed": N_("This approval has already been used."),
        }
        return _(messages.get(status, N_("This request cannot be changed now.")))

    def _view(self, s: Session, row: Any) -> ApprovalView:
        from teller_tui.models import JournalEntry, Staff

        def name(staff_id: int | None) -> tuple[str, str]:
            if staff_id is None:
                return "", ""
            staff = s.get(Staff, staff_id)
            return (staff.username, staff.display_name) if staff else ("?", "")

        data = json.loads(row.request_json)
        req, notes = data.get("request", {}), data.get("annotations", {})
        amount = Money(req["amount"], req["currency"]) if req.get("amount") is not None else None
        requester, requester_name = name(row.requester_id)
        approver, _approver_name = name(row.approver_id)
        reference = ""
        if row.entry_id is not None:
            entry = s.get(JournalEntry, row.entry_id)
            reference = entry.reference if entry else ""
        return ApprovalView(
            id=row.id, branch_code=row.branch_code, kind=row.kind, mode=row.mode, status=row.status,
            summary=row.summary, reasons=tuple(notes.get("reasons", ())), rules=_json_rules(row.rules_json),
            amount=amount, customer_name=notes.get("customer_name", ""), requester_id=row.requester_id,
            requester=requester, requester_name=requester_name, terminal=row.terminal, created_at=row.created_at,
            expires_at=row.expires_at, hold_id=row.hold_id, approver_id=row.approver_id, approver=approver,
            decided_at=row.decided_at, decision_reason=row.reason, entry_id=row.entry_id, entry_reference=reference,
            source_of_funds=notes.get("source_of_funds", ""), purpose=notes.get("purpose", ""))


def _lvr_view(r: Any) -> LargeValueView:
    return LargeValueView(
        id=r.id, txn_at=r.txn_at, business_date=r.business_date, customer_name=r.customer_name, id_type=r.id_type,
        id_number=r.id_number, nationality=r.nationality, occupation=r.occupation, address=r.address, phone=r.phone,
        direction=r.direction, amount=Money(r.amount, r.currency), cumulative=Money(r.cumulative_amount, r.currency),
        teller=r.teller_username, terminal=r.terminal, reference=r.reference, source_of_funds=r.source_of_funds,
        purpose=r.purpose)
