"""Stored alerts: raising a finding once, reading alerts for supervisors, locking one for a decision."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_name, mask_wallet
from teller_tui.common.money import Money
from teller_tui.models import Customer, RiskAlert, Staff, Wallet
from teller_tui.models.risk import AlertStatus
from teller_tui.risk.data import aware
from teller_tui.risk.patterns import Finding
from teller_tui.risk.rules import rule_title

__all__ = ["STATUS_LABELS", "status_label", "AlertView", "alert_views", "get_alert", "lock_alert", "open_count", "store_findings", "view", "watermarks"]


STATUS_LABELS: dict[str, str] = {AlertStatus.OPEN: N_("to review"), AlertStatus.CLEARED: N_("cleared"),
                                 AlertStatus.ESCALATED: N_("escalated")}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    rule: str
    title: str  # translated
    subject: str
    window: str
    status: str
    branch_code: str
    customer_id: int | None
    customer_no: str
    customer_name: str  # masked
    wallet_id: int | None
    wallet_masked: str
    amount: Money
    first_at: datetime
    last_at: datetime
    kb_article: str
    facts: dict[str, Any]
    created_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_reason: str
    wallet_frozen: bool
    acked_by: str = ""  # the supervisor who took it (it stays open until decided)
    acked_at: datetime | None = None


def watermarks(s: Session) -> dict[tuple[str, str], datetime]:
    """(rule, subject) -> the end of the latest alert raised on it."""
    rows = s.execute(select(col(RiskAlert.rule), col(RiskAlert.subject), func.max(col(RiskAlert.last_at)))
                     .group_by(col(RiskAlert.rule), col(RiskAlert.subject)))
    out: dict[tuple[str, str], datetime] = {}
    for rule, subject, last in rows:
        if last is not None:
            out[(str(rule), str(subject))] = aware(last)
    return out


def store_findings(s: Session, audit: AuditTrail, actor: Actor, findings: Iterable[Finding], *, now: datetime,
                   branch_of: dict[int, str], kb: dict[str, str]) -> list[int]:
    """Insert the findings not yet raised (unique per rule, subject and window); audit each new alert.
    Returns the new alert ids."""
    new: list[int] = []
    for f in findings:
        exists = s.execute(select(col(RiskAlert.id)).where(
            col(RiskAlert.rule) == f.rule, col(RiskAlert.subject) == f.subject, col(RiskAlert.window) == f.window)).first()
        if exists is not None:
            continue
        branch = branch_of.get(f.customer_id or 0, actor.branch_code)
        row = RiskAlert(rule=f.rule, subject=f.subject[:96], window=f.window[:64], branch_code=branch,
                        customer_id=f.customer_id, wallet_id=f.wallet_id, amount=f.amount, currency=f.currency,
                        first_at=f.first_at, last_at=f.last_at, kb_article=kb.get(f.rule, ""),
                        facts_json=json.dumps(f.facts, sort_keys=True, ensure_ascii=False, default=str),
                        status=AlertStatus.OPEN, created_at=now)
        s.add(row)
        s.flush()
        assert row.id is not None
        new.append(row.id)
        audit.append(s, actor, "risk_alert_raise", subject=f"alert:{row.id}", outcome="requested",
                     detail={"rule": f.rule, "on": f.subject, "window": f.window, "amount": f.amount,
                             "entries": list(f.entries)[:50]})
    return new


def get_alert(s: Session, alert_id: int) -> RiskAlert:
    row = s.get(RiskAlert, alert_id)
    if row is None:
        raise NotFound(_("No such alert"), code="no_alert")
    return row


def lock_alert(s: Session, alert_id: int) -> RiskAlert:
    s.execute(update(RiskAlert).where(col(RiskAlert.id) == alert_id).values(id=alert_id))  # row lock on every backend
    row = s.get(RiskAlert, alert_id)
    if row is None:
        raise NotFound(_("No such alert"), code="no_alert")
    s.refresh(row)
    return row


def open_count(s: Session, branch_code: str | None) -> int:
    stmt = select(func.count()).select_from(RiskAlert).where(col(RiskAlert.status) == AlertStatus.OPEN)
    if branch_code:
        stmt = stmt.where(col(RiskAlert.branch_code) == branch_code)
    return int(s.execute(stmt).scalar_one())


def alert_views(s: Session, *, status: str | None = None, branch_code: str | None = None,
                ids: Iterable[int] | None = None, limit: int = 500) -> list[AlertView]:
    stmt = select(RiskAlert).order_by(col(RiskAlert.created_at).desc(), col(RiskAlert.id).desc()).limit(limit)
    if status:
        stmt = stmt.where(col(RiskAlert.status) == status)
    if branch_code:
        stmt = stmt.where(col(RiskAlert.branch_code) == branch_code)
    if ids is not None:
        stmt = stmt.where(col(RiskAlert.id).in_(list(ids)))
    return [view(s, r) for r in s.execute(stmt).scalars()]


def view(s: Session, r: RiskAlert) -> AlertView:
    assert r.id is not None
    cust = s.get(Customer, r.customer_id) if r.customer_id else None
    wallet = s.get(Wallet, r.wallet_id) if r.wallet_id else None
    staff = s.get(Staff, r.decided_by) if r.decided_by else None
    acker = s.get(Staff, r.acked_by) if r.acked_by else None
    return AlertView(r.id, r.rule, rule_title(r.rule), r.subject, r.window, r.status, r.branch_code, r.customer_id,
                     cust.customer_no if cust else "", mask_name(cust.full_name) if cust else "", r.wallet_id,
                     mask_wallet(wallet.number) if wallet else "", Money(r.amount, r.currency), r.first_at, r.last_at,
                     r.kb_article, json.loads(r.facts_json or "{}"), r.created_at, staff.username if staff else "",
                     r.decided_at, r.decision_reason, r.wallet_frozen, acker.username if acker else "", r.acked_at)
