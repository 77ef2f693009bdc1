"""Supervisor overrides (four eyes): :class:`ApprovalService` grants, queues, decides and consumes approvals.

A service that needs approval builds an :class:`~teller_tui.approvals.spec.ApprovalSpec` (what exactly is
to be done) and calls :meth:`ApprovalService.check` inside its own posting transaction::

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
  so the request ends ``consumed`` with ``entry_id`` (and the customer's notification queued,
  :mod:`teller_tui.notify.postings`); without a hold it ends ``approved`` and the
  teller retries the action with ``approval_id``. Rejection, cancellation and expiry void the hold.

Every request and decision is audited. Expiry (``settings.approval_expiry_seconds``) is checked
whenever a request is resolved, and :meth:`expire_sweep` resolves the ones nobody touched.
The policy lives in :mod:`~teller_tui.approvals.policy`, the stored rows in
:mod:`~teller_tui.approvals.records`, the reports in :mod:`~teller_tui.approvals.large_value`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.dashboard import DashboardData, read_dashboard
from teller_tui.approvals.holds import create_request_hold, use_queue_consent
from teller_tui.approvals.expiry import expire_request, expire_requests, overdue_requests
from teller_tui.approvals.large_value import LargeValueView, large_value_reports, record_large_value
from teller_tui.approvals.policy import ApprovalPolicy, Facts, PolicyHit
from teller_tui.approvals.posting import post_request_hold
from teller_tui.approvals.records import (
    OPEN_STATUSES, ApprovalResult, ApprovalView, Grant, check_requester, json_rules, lock_request, new_request_row,
    request_notes, request_view, staff_actor, status_message,
)
from teller_tui.approvals.scopes import counter_scope, queue_scope, requests_scope
from teller_tui.approvals.spec import ApprovalSpec, HoldPlan
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.service import AuthService
from teller_tui.auth.staff import StaffView
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import ApprovalRequired, Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text
from teller_tui.consent.gate import ConsentGate
from teller_tui.db.engine import Database
from teller_tui.db.scopes import WriteScope
from teller_tui.ledger import EntryResult, Ledger, entry_facts
from teller_tui.ledger.business_day import current_business_date
from teller_tui.models import ApprovalRequest
from teller_tui.models.enums import ApprovalMode, ApprovalStatus
from teller_tui.notify.outbox import Outbox
from teller_tui.auth.permissions import guarded

__all__ = ["ApprovalService"]

T = TypeVar("T")


class ApprovalService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 *, auth: AuthService, policy: ApprovalPolicy, outbox: Outbox, consent: ConsentGate) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.auth, self.policy, self.outbox, self.consent = auth, policy, outbox, consent

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
    @guarded("approvals")
    def approve_at_counter(self, actor: Actor, spec: ApprovalSpec, username: str, password: str, code: str, *,
                           source_of_funds: str = "", purpose: str = "") -> ApprovalResult:
        """A supervisor present authenticates freshly at this terminal; the approval is granted at once."""
        check_requester(actor, spec)
        approver = self._verify(username, password, code, not_staff_id=spec.requester_id, terminal=actor.terminal_id)
        self._check_ceiling(approver, spec.rules, spec.amount)
        now = self.clock.now()
        signer = approver.actor(actor.terminal_id)

        def work(s: Session) -> ApprovalResult:
            row = self._new_row(actor, spec, mode=ApprovalMode.COUNTER, status=ApprovalStatus.APPROVED, now=now,
                                source_of_funds=source_of_funds, purpose=purpose)
            row.approver_id = approver.id
            row.decided_at = now
            s.add(row)
            s.flush()
            assert row.id is not None
            self._audit_request(s, actor, row, spec)
            self.audit.append(s, signer, "approval_approve", subject=f"approval:{row.id}",
                              detail={"mode": ApprovalMode.COUNTER.value, "kind": spec.kind,
                                      "requester_id": spec.requester_id})
            return ApprovalResult(row.id, row.status, approver.id, approver.username, ApprovalMode.COUNTER)

        # Two audit streams (the approver may be of another branch): both keys, in order, up front.
        return self._write(work, counter_scope(actor, signer))

    # -- remote approval --------------------------------------------------------------------------------
    @guarded("approvals")
    def request(self, actor: Actor, spec: ApprovalSpec, *, source_of_funds: str = "",
                purpose: str = "") -> ApprovalView:
        """Queue a request for any supervisor of the branch; hold the funds if ``spec.hold``."""
        check_requester(actor, spec)
        now = self.clock.now()

        def work(s: Session) -> ApprovalView:
            use_queue_consent(s, self.consent, actor, spec)  # a queued cash-out needs the customer's consent too
            row = self._new_row(actor, spec, mode=ApprovalMode.REMOTE, status=ApprovalStatus.PENDING, now=now,
                                source_of_funds=source_of_funds, purpose=purpose)
            if spec.hold is not None:
                row.hold_id = create_request_hold(s, self.ledger, actor, spec, spec.hold, row.expires_at)
            s.add(row)
            s.flush()
            self._audit_request(s, actor, row, spec)
            return request_view(s, row)

        return self._write(work, queue_scope(actor, spec))

    @guarded("approvals")
    def decide(self, actor: Actor, request_id: int, *, approve: bool, password: str, code: str,
               reason: str) -> ApprovalView:
        """A signed-in supervisor approves or rejects, with password, a fresh code and a reason."""
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError(_("Give a reason for the decision."), code="approval_reason")
        with self.db.read() as s:
            found = s.get(ApprovalRequest, request_id)
            if found is None:
                raise NotFound(_("No such approval request."), code="approval_not_found")
            requester_id, branch, status = found.requester_id, found.branch_code, found.status
            found_view = request_view(s, found)
        if branch != actor.branch_code:
            raise PermissionDenied(_("This request belongs to another branch."), code="approval_branch")
        if status != ApprovalStatus.PENDING:
            raise Conflict(status_message(status), code=f"approval_{status}")
        approver = self._verify(actor.username, password, code, not_staff_id=requester_id, terminal=actor.terminal_id)
        if approver.id != actor.staff_id:
            raise PermissionDenied(_("Sign in as yourself to decide."), code="approval_actor")
        if approve:
            self._check_ceiling(approver, found_view.rules, found_view.amount)
        now = self.clock.now()

        def work(s: Session) -> tuple[ApprovalView, bool]:
            expired = False
            row = lock_request(s, request_id)
            if row.status != ApprovalStatus.PENDING:
                raise Conflict(status_message(row.status), code=f"approval_{row.status}")
            if row.expires_at <= now:
                self._expire(s, row, now)
                expired = True
            elif approve:
                row.approver_id, row.decided_at, row.reason = approver.id, now, reason
                row.status = ApprovalStatus.APPROVED
                posted = self._post_hold(s, row, row.hold_id, now) if row.hold_id is not None else None
                self.audit.append(s, actor, "approval_approve", subject=f"approval:{row.id}",
                                  detail={**entry_facts((posted, row.requester_id)), "mode": ApprovalMode.REMOTE.value, "kind": row.kind, "reason": reason,
                                          "requester_id": row.requester_id, "entry_id": row.entry_id})
            else:
                row.approver_id, row.decided_at, row.reason = approver.id, now, reason
                row.status = ApprovalStatus.REJECTED
                if row.hold_id is not None:
                    self.ledger.void_hold(s, row.hold_id)
                self.audit.append(s, actor, "approval_reject", subject=f"approval:{row.id}",
                                  detail={"kind": row.kind, "reason": reason, "requester_id": row.requester_id})
            s.flush()
            return request_view(s, row), expired

        view, expired = self._write(work, requests_scope(actor, [request_id]))
        if expired:
            raise Conflict(_("This request has expired; any held funds were released."), code="approval_expired")
        return view

    @guarded("approvals")
    def cancel(self, actor: Actor, request_id: int, reason: str = "") -> ApprovalView:
        """The requester (or a supervisor) withdraws a request that has not been used."""
        now = self.clock.now()

        def work(s: Session) -> ApprovalView:
            row = lock_request(s, request_id)
            if actor.staff_id != row.requester_id and actor.role not in self.policy.approver_roles:
                raise PermissionDenied(_("Only the teller who asked can cancel this request."),
                                       code="approval_cancel_forbidden")
            if row.status not in OPEN_STATUSES:
                raise Conflict(status_message(row.status), code=f"approval_{row.status}")
            if row.expires_at <= now:
                self._expire(s, row, now)
            else:
                row.status = ApprovalStatus.CANCELLED
                row.reason = clean_text(reason, limit=200) or row.reason
                row.decided_at = row.decided_at or now
                if row.hold_id is not None:
                    self.ledger.void_hold(s, row.hold_id)
                self.audit.append(s, actor, "approval_cancel", subject=f"approval:{row.id}",
                                  detail={"kind": row.kind, "reason": clean_text(reason, limit=200)})
            s.flush()
            return request_view(s, row)

        return self._write(work, requests_scope(actor, [request_id]))

    def consume(self, session: Session, approval_id: int, expected_hash: str, *,
                rules: Sequence[str] = ()) -> Grant:
        """Use an approval inside the caller's posting transaction: it must be approved, unexpired,
        for exactly this request (hash) and cover ``rules``. Afterwards it is ``consumed``."""
        row = lock_request(session, approval_id)
        now = self.clock.now()
        if row.status != ApprovalStatus.APPROVED:
            raise Conflict(status_message(row.status), code=f"approval_{row.status}")
        if row.expires_at <= now:
            raise Conflict(_("This approval has expired. Ask again."), code="approval_expired")
        if row.request_hash != expected_hash:
            raise Conflict(_("The approval was given for a different request (amount, account or reason "
                             "changed). Ask again."), code="approval_mismatch")
        granted = json_rules(row.rules_json)
        missing = sorted(set(rules) - set(granted))
        if missing:
            raise Conflict(_("The approval does not cover everything this now needs. Ask again."),
                           code="approval_scope", missing=missing)
        row.status = ApprovalStatus.CONSUMED
        row.consumed_at = now
        notes = request_notes(row)
        requester = staff_actor(session, row.requester_id, row.terminal, row.branch_code)
        self.audit.append(session, requester, "approval_consume", subject=f"approval:{row.id}",
                          detail={"kind": row.kind, "approver_id": row.approver_id})
        assert row.id is not None
        return Grant(row.id, row.approver_id, granted, notes.get("source_of_funds", ""), notes.get("purpose", ""))

    def attach_entry(self, session: Session, approval_id: int, entry_id: int) -> None:
        """Record which journal entry a consumed approval produced (for the dashboard and audit)."""
        row = lock_request(session, approval_id)
        row.entry_id = entry_id

    def expire_sweep(self, *, limit: int = 200) -> list[int]:
        """Expire every open request past its time and release its hold. Returns their ids."""
        now = self.clock.now()
        with self.db.read() as s:
            ids = overdue_requests(s, now, limit=limit)
        if not ids:
            return []
        # Requests (and holds) of several branches in one transaction: every branch's stream key,
        # every customer's and account's key, taken in one fixed-order statement up front.
        return self._write(lambda s: expire_requests(s, self.ledger, self.audit, self.settings.terminal_id, ids, now),
                           requests_scope(None, ids))

    def release_overdue(self, session: Session, account_ids: Sequence[int]) -> list[int]:
        """Inside the caller's write transaction, before it judges or counts these accounts: expire
        the open requests past their time holding funds on them (with their holds), then any other
        hold past its time on them (invariant 17; :mod:`teller_tui.approvals.expiry`)."""
        now = self.clock.now()
        ids = sorted(set(account_ids))
        found = overdue_requests(session, now, account_ids=ids) if ids else []
        done = expire_requests(session, self.ledger, self.audit, self.settings.terminal_id, found, now)
        self.ledger.release_overdue_holds(session, ids)
        return done

    # -- queries ------------------------------------------------------------------------------------------
    def pending(self, branch_code: str | None = None) -> list[ApprovalView]:
        """Pending requests of the branch, oldest first (cheap: indexed by status and branch)."""
        branch = branch_code or self.settings.branch_code
        now = self.clock.now()
        with self.db.read() as s:
            rows = s.execute(select(ApprovalRequest).where(
                col(ApprovalRequest.status) == ApprovalStatus.PENDING, col(ApprovalRequest.branch_code) == branch)
                .order_by(col(ApprovalRequest.id))).scalars().all()
            return [request_view(s, r) for r in rows if r.expires_at > now]

    def get(self, request_id: int) -> ApprovalView:
        """The request as it stands; one past its time expires now, with its hold (no sweep needed)."""
        with self.db.read() as s:
            row = s.get(ApprovalRequest, request_id)
            if row is None:
                raise NotFound(_("No such approval request."), code="approval_not_found")
            if not (row.status in OPEN_STATUSES and row.expires_at <= self.clock.now()):
                return request_view(s, row)
        now = self.clock.now()

        def work(s: Session) -> ApprovalView:
            row = lock_request(s, request_id)
            if row.status in OPEN_STATUSES and row.expires_at <= now:
                self._expire(s, row, now)
            s.flush()
            return request_view(s, row)

        return self._write(work, requests_scope(None, [request_id]))

    def recent(self, branch_code: str | None = None, limit: int = 50) -> list[ApprovalView]:
        with self.db.read() as s:
            rows = s.execute(select(ApprovalRequest).where(
                col(ApprovalRequest.branch_code) == (branch_code or self.settings.branch_code))
                .order_by(col(ApprovalRequest.id).desc()).limit(limit)).scalars().all()
            return [request_view(s, r) for r in rows]

    # -- large-value cash and the dashboard ----------------------------------------------------------------
    def record_large_value(self, session: Session, *, customer_id: int, direction: str, amount: Money,
                           teller: Actor, reference: str, entry_id: int | None, txn_at: datetime,
                           business_date: date, grant: Grant | None = None, cumulative: Money | None = None,
                           source_of_funds: str = "", purpose: str = "") -> int:
        """Create the large-value cash report of a posted transaction (inside the posting transaction);
        see :func:`~teller_tui.approvals.large_value.record_large_value`."""
        return record_large_value(session, self.audit, now=self.clock.now(), customer_id=customer_id,
                                  direction=direction, amount=amount, teller=teller, reference=reference,
                                  entry_id=entry_id, txn_at=txn_at, business_date=business_date, grant=grant,
                                  cumulative=cumulative, source_of_funds=source_of_funds, purpose=purpose)

    def large_value_reports(self, on: date | None = None, branch_code: str | None = None) -> list[LargeValueView]:
        branch = branch_code or self.settings.branch_code
        with self.db.read() as s:
            return large_value_reports(s, branch, on or current_business_date(s, branch, self.clock))

    @guarded("approvals")
    def dashboard(self, actor: Actor, on: date | None = None, branch_code: str | None = None) -> DashboardData:
        """Everything the supervisor dashboard shows, read in one snapshot (the queue just before).
        Per-teller figures: supervisors and admins only, checked here (not only by the screen)."""
        branch = branch_code or self.settings.branch_code
        pending = self.pending(branch)
        with self.db.read() as s:
            return read_dashboard(s, on or current_business_date(s, branch, self.clock), branch, pending)

    # -- internals -----------------------------------------------------------------------------------------
    def _verify(self, username: str, password: str, code: str, *, not_staff_id: int | None,
                terminal: str) -> StaffView:
        return self.auth.verify_fresh_credentials(username, password, code,
                                                  required_role=self.policy.approver_roles,
                                                  not_staff_id=not_staff_id, terminal_id=terminal,
                                                  action="approval_auth")

    def _check_ceiling(self, approver: StaffView, rules: Sequence[str], amount: Money | None) -> None:
        """The approver's role must be one the policy names for every rule, with a ceiling at or above
        the amount (approval limits per approver); otherwise a higher role must approve."""
        refusal = self.policy.approver_refusal(rules, approver.role, amount, local_date(self.clock.now()))
        if refusal is not None:
            raise PermissionDenied(refusal, code="approval_limit", role=approver.role)

    def may_approve(self, role: str, view: ApprovalView) -> bool:
        """Whether ``role`` may approve the pending request ``view`` (for the supervisor's queue)."""
        return self.policy.approver_refusal(view.rules, role, view.amount, local_date(self.clock.now())) is None

    def _new_row(self, actor: Actor, spec: ApprovalSpec, *, mode: str, status: str, now: datetime,
                 source_of_funds: str, purpose: str) -> ApprovalRequest:
        return new_request_row(actor, spec, mode=mode, status=status, now=now,
                               expires_at=now + timedelta(seconds=self.settings.approval_expiry_seconds),
                               source_of_funds=source_of_funds, purpose=purpose)

    def _audit_request(self, s: Session, actor: Actor, row: ApprovalRequest, spec: ApprovalSpec) -> None:
        self.audit.append(s, actor, "approval_request", subject=f"approval:{row.id}",
                          detail={"mode": row.mode, "kind": spec.kind, "rules": list(spec.rules),
                                  "hash": row.request_hash, "hold_id": row.hold_id,
                                  "amount": spec.amount.minor if spec.amount else None})

    def _expire(self, s: Session, row: ApprovalRequest, now: datetime) -> None:
        expire_request(s, self.ledger, self.audit, self.settings.terminal_id, row, now)

    def _post_hold(self, s: Session, row: ApprovalRequest, hold_id: int, now: datetime) -> EntryResult:
        """Carry out an approved remote request (:func:`~teller_tui.approvals.posting.post_request_hold`)."""
        return post_request_hold(s, self.ledger, self.outbox, self.audit, row, hold_id, now)

    def _write(self, work: Callable[[Session], T], scope: WriteScope) -> T:
        """One write transaction with its lock keys (:mod:`teller_tui.approvals.scopes`); a conflict
        (including a scope widened by a key found only inside) is retried, a lost connection is not
        (the supervisor's decision is not repeated behind their back)."""
        return self.db.write_retrying(work, scope=scope, reconnect_seconds=0)
