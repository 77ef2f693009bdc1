"""Suspicious-transaction reports: the record filed from an alert, and its CSV and JSON exports.

A report holds what such a report needs: the subject customer (number, name, identity document),
the wallets and transactions involved with their amounts and times, the total and the period, the
pattern (the rule that raised the alert), the supervisor's narrative, who filed it and when. The
customer's name and document are stored in full (the report goes to the authority, not to a
screen); exports are files for that purpose and are written privately by the caller.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.models import Customer, RiskAlert, SuspiciousReport, Wallet
from teller_tui.risk.rules import rule_title

__all__ = ["CSV_COLUMNS", "ReportView", "new_report", "report_views", "reports_csv", "reports_json"]

CSV_COLUMNS = ("report_no", "filed_at", "filer", "branch", "pattern", "pattern_title", "customer_no", "customer_name",
               "id_type", "id_number", "wallets", "transactions", "amount", "currency", "period_from", "period_to",
               "narrative", "alert_id")


@dataclass(frozen=True, slots=True)
class ReportView:
    report_no: str
    alert_id: int
    branch_code: str
    customer_no: str
    customer_name: str
    id_type: str
    id_number: str
    wallets: tuple[str, ...]
    entries: tuple[dict[str, Any], ...]  # reference, kind, amount (minor, signed: + out of the wallet), at, wallet
    amount: Money
    period_from: datetime
    period_to: datetime
    pattern: str
    narrative: str
    filer: str
    filed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"report_no": self.report_no, "alert_id": self.alert_id, "branch": self.branch_code,
                "customer_no": self.customer_no, "customer_name": clean_text(self.customer_name),
                "id_type": self.id_type, "id_number": self.id_number, "wallets": list(self.wallets),
                "transactions": [dict(e) for e in self.entries], "amount": str(self.amount.decimal),
                "currency": self.amount.currency, "period_from": self.period_from.isoformat(),
                "period_to": self.period_to.isoformat(), "pattern": self.pattern,
                "pattern_title": rule_title(self.pattern), "narrative": clean_text(self.narrative, multiline=True),
                "filer": self.filer, "filed_at": self.filed_at.isoformat()}


def new_report(s: Session, actor: Actor, alert: RiskAlert, narrative: str, now: datetime) -> SuspiciousReport:
    """The report row for ``alert`` (added and numbered in the caller's transaction)."""
    assert alert.id is not None
    facts = json.loads(alert.facts_json or "{}")
    entries = list(facts.get("entries", []))
    wallets = sorted({str(e["wallet"]) for e in entries if e.get("wallet")})
    if alert.wallet_id and not wallets:
        w = s.get(Wallet, alert.wallet_id)
        wallets = [w.number] if w else []
    cust = s.get(Customer, alert.customer_id) if alert.customer_id else None
    row = SuspiciousReport(
        report_no="pending-" + secrets.token_hex(8), alert_id=alert.id, branch_code=alert.branch_code,
        customer_id=alert.customer_id, customer_no=cust.customer_no if cust else "",
        customer_name=cust.full_name if cust else "", id_type=(cust.id_type or "") if cust else "",
        id_number=(cust.id_number or "") if cust else "", wallets_json=json.dumps(wallets),
        entries_json=json.dumps(entries, ensure_ascii=False, sort_keys=True), amount=alert.amount,
        currency=alert.currency, period_from=alert.first_at, period_to=alert.last_at, pattern=alert.rule,
        narrative=narrative, filed_by=actor.staff_id, filer=actor.username, filed_at=now)
    s.add(row)
    s.flush()
    assert row.id is not None
    row.report_no = f"STR-{alert.branch_code}-{now:%Y%m%d}-{row.id:05d}"[:24]
    s.flush()
    return row


def _view(r: SuspiciousReport) -> ReportView:
    return ReportView(r.report_no, r.alert_id, r.branch_code, r.customer_no, r.customer_name, r.id_type, r.id_number,
                      tuple(json.loads(r.wallets_json or "[]")), tuple(json.loads(r.entries_json or "[]")),
                      Money(r.amount, r.currency), r.period_from, r.period_to, r.pattern, r.narrative, r.filer,
                      r.filed_at)


def report_views(s: Session, *, since: datetime | None = None, branch_code: str | None = None,
                 ids: Iterable[int] | None = None) -> list[ReportView]:
    stmt = select(SuspiciousReport).order_by(col(SuspiciousReport.filed_at), col(SuspiciousReport.id))
    if since is not None:
        stmt = stmt.where(col(SuspiciousReport.filed_at) >= since)
    if branch_code:
        stmt = stmt.where(col(SuspiciousReport.branch_code) == branch_code)
    if ids is not None:
        stmt = stmt.where(col(SuspiciousReport.id).in_(list(ids)))
    return [_view(r) for r in s.execute(stmt).scalars()]


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def reports_csv(reports: Sequence[ReportView]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for r in reports:
        d = r.as_dict()
        d["wallets"] = " ".join(r.wallets)
        d["transactions"] = " ".join(f"{e.get('reference')}:{e.get('kind')}:{e.get('amount')}" for e in r.entries)
        d["narrative"] = clean_text(r.narrative)
        out.writerow([_cell(str(d[c])) for c in CSV_COLUMNS])
    return buf.getvalue()


def reports_json(reports: Sequence[ReportView]) -> str:
    return json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2, sort_keys=True) + "\n"
