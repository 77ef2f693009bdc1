"""Approval requests as stored (``approval_request`` rows) and as read (:class:`ApprovalView`, :class:`Grant`).

The row keeps the canonical request and its hash, plus annotations that are shown but not bound
(reasons, customer name, source of funds, purpose, the form's idempotency key). Everything here works
inside a session the caller opened; nothing commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.actions import ACTIONS, action_title
from teller_tui.approvals.policy import LARGE_CASH_RULE
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor
from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import Translated, render_stored
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.models import ApprovalRequest, JournalEntry, Staff
from teller_tui.models.enums import ApprovalStatus

__all__ = [
    "OPEN_STATUSES", "ApprovalResult", "ApprovalView", "Grant", "check_requester", "json_rules", "lock_request",
    "new_request_row", "request_notes", "request_view", "staff_actor", "status_message",
]

#: Statuses in which a request can still be used, cancelled or expire.
OPEN_STATUSES = (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)


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
    review: tuple[str, ...] = ()  # the rule behind the reasons: the supervisor's queue only (ApprovalSpec.review)
    memo: str = ""  # the requester's memo / reason (ApprovalSpec.reason): why a reversal, a disable…

    @property
    def title(self) -> str:
        return action_title(self.kind)

    @property
    def granted(self) -> bool:
        """Approved (to be used with ``approval_id``) or already carried out (``consumed``)."""
        return self.status in (ApprovalStatus.APPROVED, ApprovalStatus.CONSUMED)

    @property
    def final(self) -> bool:
        return self.status != ApprovalStatus.PENDING


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
        return self.status == ApprovalStatus.CONSUMED and self.entry_id is not None


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
        return LARGE_CASH_RULE in self.rules


def json_rules(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def request_notes(row: ApprovalRequest) -> dict[str, Any]:
    """What the request row shows but does not bind (reasons, customer name, source of funds...)."""
    notes = json.loads(row.request_json).get("annotations", {})
    return notes if isinstance(notes, dict) else {}


def new_request_row(actor: Actor, spec: ApprovalSpec, *, mode: str, status: str, now: datetime,
                    expires_at: datetime, source_of_funds: str, purpose: str) -> ApprovalRequest:
    notes = {
        "reasons": [clean_text(r, limit=400) for r in spec.reasons],
        # What each reason says (message id and arguments), shown in the reader's language.
        "reason_msgs": [r.msg.to_json() if isinstance(r, Translated) else None for r in spec.reasons],
        # The summary: rebuilt from the request when derived from it, else its message when kept.
        "summary_derived": not spec.summary,
        "summary_msg": spec.summary.msg.to_json() if isinstance(spec.summary, Translated) else None,
        "review": [clean_text(r, limit=400) for r in spec.review],
        "review_msgs": [r.msg.to_json() if isinstance(r, Translated) else None for r in spec.review],
        "customer_name": clean_text(spec.customer_name, limit=80),
        "source_of_funds": clean_text(source_of_funds, limit=200), "purpose": clean_text(purpose, limit=200),
        "entry_key": spec.hold.idempotency_key if spec.hold else None,
    }
    return ApprovalRequest(
        branch_code=spec.branch_code, kind=spec.kind, mode=mode, status=status,
        request_hash=spec.request_hash(),
        request_json=json.dumps({"request": spec.canonical(), "annotations": notes},
                                sort_keys=True, ensure_ascii=False),
        summary=spec.display_summary()[:200], rules_json=json.dumps(list(spec.rules)),
        requester_id=spec.requester_id, terminal=actor.terminal_id, created_at=now, expires_at=expires_at)


def lock_request(s: Session, request_id: int) -> ApprovalRequest:
    """The request row, locked for update (and refreshed) in the caller's transaction."""
    row: ApprovalRequest | None = s.execute(select(ApprovalRequest).where(col(ApprovalRequest.id) == request_id)
                                            .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No such approval request."), code="approval_not_found")
    s.refresh(row)
    return row


def staff_actor(s: Session, staff_id: int | None, terminal: str, branch: str) -> Actor:
    row = s.get(Staff, staff_id) if staff_id is not None else None
    if row is None:
        return Actor(None, "unknown", terminal, "unknown", branch)
    return Actor(row.id, row.username, terminal, row.role, branch)


def status_message(status: str) -> str:
    """Why a request in ``status`` cannot be used or changed, fit to show a teller."""
    messages: dict[str, str] = {
        ApprovalStatus.PENDING: N_("This request is still waiting for a supervisor."),
        ApprovalStatus.APPROVED: N_("This request has already been approved."),
        ApprovalStatus.REJECTED: N_("This request was rejected."),
        ApprovalStatus.CANCELLED: N_("This request was cancelled."),
        ApprovalStatus.EXPIRED: N_("This request has expired. Ask again."),
        ApprovalStatus.CONSUMED: N_("This approval has already been used."),
    }
    return _(messages.get(status, N_("This request cannot be changed now.")))


def request_view(s: Session, row: ApprovalRequest) -> ApprovalView:
    def name(staff_id: int | None) -> tuple[str, str]:
        if staff_id is None:
            return "", ""
        staff = s.get(Staff, staff_id)
        return (staff.username, staff.display_name) if staff else ("?", "")

    assert row.id is not None
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
        summary=_summary(row, req, notes, amount), reasons=_reasons(notes, "reasons", "reason_msgs"),
        rules=json_rules(row.rules_json),
        amount=amount, customer_name=notes.get("customer_name", ""), requester_id=row.requester_id,
        requester=requester, requester_name=requester_name, terminal=row.terminal, created_at=row.created_at,
        expires_at=row.expires_at, hold_id=row.hold_id, approver_id=row.approver_id, approver=approver,
        decided_at=row.decided_at, decision_reason=row.reason, entry_id=row.entry_id, entry_reference=reference,
        source_of_funds=notes.get("source_of_funds", ""), purpose=notes.get("purpose", ""),
        review=_reasons(notes, "review", "review_msgs"), memo=clean_text(str(req.get("reason") or ""), limit=200))


def _reasons(notes: dict[str, Any], texts_key: str, msgs_key: str) -> tuple[str, ...]:
    """The request's reasons (or review notes) in the reader's language (as written when not kept)."""
    texts = [str(t) for t in notes.get(texts_key, ())]
    stored = notes.get(msgs_key) or []
    return tuple(clean_text(render_stored(text, stored[i] if i < len(stored) else None), limit=400)
                 for i, text in enumerate(texts))


def _summary(row: ApprovalRequest, req: dict[str, Any], notes: dict[str, Any], amount: Money | None) -> str:
    """The request's one line in the reader's language (as stored when neither way is kept)."""
    if notes.get("summary_derived"):
        spec = ApprovalSpec(kind=row.kind, requester_id=None, branch_code=row.branch_code, amount=amount,
                            accounts=tuple(str(a) for a in req.get("accounts", ())),
                            subject=str(req.get("subject", "")), customer_name=str(notes.get("customer_name", "")))
        return spec.display_summary()[:200]
    return clean_text(render_stored(row.summary, notes.get("summary_msg")), limit=200)


def check_requester(actor: Actor, spec: ApprovalSpec) -> None:
    """An approval is asked for by the person who will act, for an action the policy knows."""
    if actor.staff_id is None or spec.requester_id != actor.staff_id:
        raise PermissionDenied(_("An approval is asked for by the person who will act."), code="approval_requester")
    if spec.kind not in ACTIONS:
        raise ValidationError(f"unknown approval action {spec.kind!r}", code="approval_kind")
