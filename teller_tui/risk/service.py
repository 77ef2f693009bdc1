"""RiskService: the periodic scan, the supervisors' alert queue and decisions, reports, counter warnings.

Public API::

    risk = services.risk
    res = risk.scan(actor, since=None)                 # -> ScanResult (new alert ids per rule); idempotent
    risk.alerts(actor, status="open")                  # -> [AlertView], the actor's branch
    n = risk.open_count(actor)                         # the supervisor's open-alert count
    risk.acknowledge(actor, alert_id)                  # a supervisor takes it (stays open; audited)
    risk.clear(actor, alert_id, reason)                # open -> cleared (a reason is required)
    risk.freeze_wallet(actor, alert_id, reason)        # freezes through services.lifecycle; -> escalated
    rep = risk.file_report(actor, alert_id, narrative)  # suspicious-transaction report; -> escalated
    risk.reports(actor); risk.export_reports(actor, "csv" | "json")
    risk.warnings_for(actor, wallet_id)                # -> [RiskWarning] for the teller (with a KB article id)

Who may: the scan, the queue and the reports need a supervision role (supervisor, admin, or the host's
command line); decisions on an alert need a supervisor (:data:`REVIEW_ROLES`); counter warnings any
counter staff. Every alert raised and every decision is audited (``risk_alert_raise``,
``risk_alert_clear``, ``risk_alert_freeze``, ``risk_report_file``, ``risk_scan``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.policy import LARGE_CASH_RULE, ApprovalPolicy
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, SUPERVISION_ROLES, Role, require_role
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import SuspiciousReport, Wallet
from teller_tui.models.enums import WalletStatus
from teller_tui.models.risk import AlertStatus
from teller_tui.risk.alerts import (
    AlertView, alert_views, get_alert, lock_alert, open_count, status_label, store_findings, view, watermarks,
)
from teller_tui.risk.data import load_customers, load_scan_data
from teller_tui.risk.patterns import PATTERNS, Finding
from teller_tui.risk.reports import ReportView, new_report, report_views, reports_csv, reports_json
from teller_tui.risk.rules import RiskRules
from teller_tui.risk.warnings import RiskWarning, warnings_for_wallet
from teller_tui.risk.watchlist import Watchlist

__all__ = ["REVIEW_ROLES", "RiskService", "ScanResult", "WalletFreezer"]

#: Who decides on an alert: a supervisor (a person, never the host's command line).
REVIEW_ROLES: tuple[Role, ...] = (Role.SUPERVISOR,)
_DEFAULT_LARGE_VALUE = Money(5_000_000)


class WalletFreezer(Protocol):
    """What the risk service needs of the wallet lifecycle (``services.lifecycle``)."""

    def freeze(self, actor: Actor, wallet_id: int, reason: str) -> object: ...


@dataclass(frozen=True, slots=True)
class ScanResult:
    start: datetime
    end: datetime
    findings: int  # patterns found (a rule may find again what an alert already holds; it is not raised twice)
    new_alerts: tuple[int, ...]
    by_rule: dict[str, int]  # new alerts per rule


class RiskService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *, rules: RiskRules,
                 watchlist: Watchlist, policy: ApprovalPolicy, freezer: WalletFreezer) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.rules, self.watchlist, self.policy, self.freezer = rules, watchlist, policy, freezer

    # -- the scan ---------------------------------------------------------------------------------
    @guarded("risk")
    def scan(self, actor: Actor, *, since: datetime | None = None) -> ScanResult:
        """Look for every rule's pattern from ``since`` (default: the rules' lookback) to now; raise each
        new one as an alert, once (a pattern already raised is not raised again)."""
        require_role(actor, *SUPERVISION_ROLES)
        end = self.clock.now()
        start = since or end - timedelta(days=self.rules.lookback_days)
        on = local_date(end)
        rules = self.rules.in_force(on)
        structuring = rules.get("structuring")
        context = timedelta(days=structuring.n("days")) if structuring else timedelta(days=1)
        large = self.policy.threshold(LARGE_CASH_RULE, on) or _DEFAULT_LARGE_VALUE
        with self.db.read() as s:
            data = load_scan_data(s, start=start, context_from=start - context, end=end, large_value=large)
            data.watermarks = watermarks(s)
            findings: list[Finding] = []
            for rid, cfg in rules.items():
                if rid in PATTERNS:
                    findings.extend(PATTERNS[rid](data, cfg))
            if "watchlist" in rules:
                findings.extend(self._screen_all(s, end))
        branch_of = {cid: c.branch_code for cid, c in data.customers.items()}
        kb = {rid: cfg.kb for rid, cfg in rules.items()}

        def work(s: Session) -> list[int]:
            new = store_findings(s, self.audit, actor, findings, now=end, branch_of=branch_of, kb=kb)
            self.audit.append(s, actor, "risk_scan", detail={"from": start.isoformat(), "to": end.isoformat(),
                                                             "findings": len(findings), "new": len(new)})
            return new

        new = self.db.write_retrying(work)
        counts = Counter(f.rule for f in findings)
        with self.db.read() as s:
            raised = Counter(v.rule for v in alert_views(s, ids=new)) if new else Counter()
        return ScanResult(start, end, sum(counts.values()), tuple(new), dict(raised))

    def _screen_all(self, s: Session, now: datetime) -> list[Finding]:
        out = []
        customers = load_customers(s)
        branch = {cid: c.branch_code for cid, c in customers.items()}
        for c in customers.values():
            for hit in self.watchlist.screen(names=(c.full_name, c.name_latin), id_number=c.id_number,
                                             birth_date=c.birth_date):
                out.append(Finding("watchlist", f"customer:{c.customer_no}", f"w:{hit.entry.list_id}", now, now,
                                   customer_id=c.id, facts={"list_id": hit.entry.list_id, "by": hit.by,
                                                            "distance": hit.distance, "source": hit.entry.source,
                                                            "branch": branch[c.id]}))
        return out

    # -- the queue ----------------------------------------------------------------------------------
    @guarded("risk")
    def alerts(self, actor: Actor, *, status: str | None = None, all_branches: bool = False,
               limit: int = 500) -> list[AlertView]:
        require_role(actor, *SUPERVISION_ROLES)
        if status is not None and status not in set(AlertStatus):
            raise ValidationError(_("Unknown alert status {status}").format(status=status), code="alert_status")
        with self.db.read() as s:
            return alert_views(s, status=status, branch_code=None if all_branches else actor.branch_code,
                               limit=limit)

    @guarded("risk")
    def open_count(self, actor: Actor) -> int:
        """Open alerts of the actor's branch (the count on the supervisor's screens)."""
        require_role(actor, *SUPERVISION_ROLES)
        with self.db.read() as s:
            return open_count(s, actor.branch_code)

    @guarded("risk")
    def get(self, actor: Actor, alert_id: int) -> AlertView:
        require_role(actor, *SUPERVISION_ROLES)
        with self.db.read() as s:
            return view(s, get_alert(s, alert_id))

    # -- decisions ----------------------------------------------------------------------------------
    @guarded("risk")
    def acknowledge(self, actor: Actor, alert_id: int) -> AlertView:
        """A supervisor takes the alert (audited): it stays open, and warns and blocks, until decided."""
        require_role(actor, *REVIEW_ROLES)
        now = self.clock.now()

        def work(s: Session) -> AlertView:
            row = lock_alert(s, alert_id)
            if row.status != AlertStatus.OPEN:
                raise Conflict(_("This alert is already {status}").format(status=status_label(row.status)), code="alert_decided")
            row.acked_by, row.acked_at = actor.staff_id, now
            s.flush()
            self.audit.append(s, actor, "risk_alert_ack", subject=f"alert:{alert_id}", detail={"rule": row.rule})
            return view(s, row)

        return self.db.write_retrying(work)

    def _decide(self, actor: Actor, alert_id: int, reason: str, *, action: str, allowed: tuple[str, ...],
                status: str, frozen: bool = False, extra: dict[str, object] | None = None) -> AlertView:
        now = self.clock.now()

        def work(s: Session) -> AlertView:
            row = lock_alert(s, alert_id)
            if row.status not in allowed:
                raise Conflict(_("This alert is already {status}").format(status=status_label(row.status)), code="alert_decided")
            row.status, row.decided_by, row.decided_at, row.decision_reason = status, actor.staff_id, now, reason
            row.wallet_frozen = row.wallet_frozen or frozen
            s.flush()
            self.audit.append(s, actor, action, subject=f"alert:{alert_id}",
                              detail={"rule": row.rule, "on": row.subject, "reason": reason, **(extra or {})})
            return view(s, row)

        return self.db.write_retrying(work)

    @guarded("risk")
    def clear(self, actor: Actor, alert_id: int, reason: str) -> AlertView:
        """Close an open alert as not suspicious; the reason is kept and audited."""
        require_role(actor, *REVIEW_ROLES)
        return self._decide(actor, alert_id, _need(reason, _("clear the alert")), action="risk_alert_clear",
                            allowed=(AlertStatus.OPEN,), status=AlertStatus.CLEARED)

    @guarded("risk")
    def freeze_wallet(self, actor: Actor, alert_id: int, reason: str) -> AlertView:
        """Freeze the alert's wallet (every active wallet of its customer when the alert is on the customer)
        through the wallet lifecycle; the alert becomes escalated."""
        require_role(actor, *REVIEW_ROLES)
        reason = _need(reason, _("freeze the wallet"))
        with self.db.read() as s:
            row = get_alert(s, alert_id)
            if row.status == AlertStatus.CLEARED:
                raise Conflict(_("This alert is already {status}").format(status=status_label(row.status)), code="alert_decided")
            stmt = select(col(Wallet.id), col(Wallet.number)).where(col(Wallet.status) == WalletStatus.ACTIVE)
            if row.wallet_id is not None:
                stmt = stmt.where(col(Wallet.id) == row.wallet_id)
            elif row.customer_id is not None:
                stmt = stmt.where(col(Wallet.customer_id) == row.customer_id)
            else:
                raise ValidationError(_("This alert is not about a wallet"), code="alert_no_wallet")
            targets = [(int(i), str(n)) for i, n in s.execute(stmt)]
        for wallet_id, _number in targets:
            self.freezer.freeze(actor, wallet_id, _("Risk alert {id}: {reason}").format(id=alert_id, reason=reason))
        return self._decide(actor, alert_id, reason, action="risk_alert_freeze",
                            allowed=(AlertStatus.OPEN, AlertStatus.ESCALATED), status=AlertStatus.ESCALATED,
                            frozen=True, extra={"wallets": [n for _i, n in targets]})

    @guarded("risk")
    def file_report(self, actor: Actor, alert_id: int, narrative: str) -> ReportView:
        """File the suspicious-transaction report for the alert (one per alert); the alert becomes escalated."""
        require_role(actor, *REVIEW_ROLES)
        text = clean_text(narrative, limit=2000, multiline=True)
        if len(text) < 10:
            raise ValidationError(_("Write what is suspicious and why (at least a sentence)"), code="narrative",
                                  field="narrative")
        now = self.clock.now()

        def work(s: Session) -> ReportView:
            row = lock_alert(s, alert_id)
            if row.status == AlertStatus.CLEARED:
                raise Conflict(_("This alert is already {status}").format(status=status_label(row.status)), code="alert_decided")
            if s.execute(select(col(SuspiciousReport.id)).where(col(SuspiciousReport.alert_id) == alert_id)).first():
                raise Conflict(_("A report was already filed for this alert"), code="report_exists")
            report = new_report(s, actor, row, text, now)
            row.status, row.decided_by, row.decided_at = AlertStatus.ESCALATED, actor.staff_id, now
            row.decision_reason = row.decision_reason or _("report filed")
            s.flush()
            self.audit.append(s, actor, "risk_report_file", subject=f"alert:{alert_id}",
                              detail={"report": report.report_no, "rule": row.rule, "amount": row.amount})
            assert report.id is not None
            return report_views(s, ids=[report.id])[0]

        return self.db.write_retrying(work)

    # -- reports ------------------------------------------------------------------------------------
    @guarded("risk")
    def reports(self, actor: Actor, *, since: datetime | None = None, all_branches: bool = False) -> list[ReportView]:
        require_role(actor, *SUPERVISION_ROLES)
        with self.db.read() as s:
            return report_views(s, since=since, branch_code=None if all_branches else actor.branch_code)

    @guarded("risk")
    def export_reports(self, actor: Actor, fmt: str, *, since: datetime | None = None,
                       all_branches: bool = False) -> str:
        if fmt not in ("csv", "json"):
            raise ValidationError(_("Export as csv or json"), code="format")
        found = self.reports(actor, since=since, all_branches=all_branches)
        return reports_csv(found) if fmt == "csv" else reports_json(found)

    # -- at the counter -----------------------------------------------------------------------------
    @guarded("risk")
    def warnings_for(self, actor: Actor, wallet_id: int) -> list[RiskWarning]:
        """What the teller should know before serving this wallet, each with a knowledge-base article id."""
        require_role(actor, *STAFF_ROLES)
        now = self.clock.now()
        with self.db.read() as s:
            return warnings_for_wallet(s, wallet_id, now=now, rules=self.rules.in_force(local_date(now)))


def _need(reason: str, what: str) -> str:
    text = clean_text(reason, limit=200)
    if not text:
        raise ValidationError(_("Give a reason to {what}").format(what=what), code="reason", field="reason")
    return text
