"""Risk monitoring end to end on the real core (make_services, fake clock): planted patterns found by the
scan once, the supervisor's queue and count, clear / freeze / report with exports, counter warnings,
kiosk PIN failures read from the audit trail, and who may do what."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.audit.trail import Actor
from teller_tui.auth.passwords import hash_pin
from teller_tui.common.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import AuditRecord, Customer, RiskAlert
from teller_tui.models.risk import AlertStatus


def _structuring(d: Desk, wallets: list[int], amounts: tuple[str, ...] = ("45000", "46000", "48000")) -> None:
    """Cash just under 50,000 on three business days, round-robin over ``wallets``."""
    for i, amount in enumerate(amounts):
        d.cash.cash_in(d.teller, wallets[i % len(wallets)], Money.of(amount), idempotency_key=key())
        d.next_business_day()


def _alerts(d: Desk, rule: str | None = None) -> list[Any]:
    return [a for a in d.services.risk.alerts(d.supervisor, status=None) if rule is None or a.rule == rule]


def test_structuring_found_once_then_frozen_and_reported(desk: Desk) -> None:  # noqa: F811
    d, risk = desk, desk.services.risk
    cid = d.customer("刘洋", latin="liu yang")
    wid = d.wallet(cid, 2)
    _structuring(d, [wid])
    first = risk.scan(d.supervisor)
    assert first.by_rule.get("structuring") == 1
    (alert,) = _alerts(d, "structuring")
    assert alert.status == "open" and alert.customer_id == cid and alert.amount == Money.of("139000")
    assert alert.kb_article == "large-cash" and len(alert.facts["entries"]) == 3
    assert risk.open_count(d.supervisor) == len(_alerts(d)) >= 1
    # Idempotent: scanning again (and from further back) raises nothing new.
    again = risk.scan(d.supervisor, since=d.clock.now() - timedelta(days=60))
    assert again.new_alerts == () and len(_alerts(d, "structuring")) == 1
    # The teller is warned at the counter, with the article to read.
    warnings = risk.warnings_for(d.teller, wid)
    assert [(w.code, w.kb_article, w.alert_id) for w in warnings] == [("structuring", "large-cash", alert.id)]
    # Freeze through the wallet lifecycle: the ledger refuses the wallet's debits from now on.
    frozen = risk.freeze_wallet(d.supervisor, alert.id, "structuring under review")
    assert frozen.status == "escalated" and frozen.wallet_frozen and frozen.decided_by == "super1"
    assert d.services.wallets.get_wallet(wid).status == "frozen"
    with pytest.raises(Conflict):
        d.cash.cash_out(d.teller, wid, Money.of("10"), idempotency_key=key())
    # File the suspicious-transaction report; one per alert.
    rep = risk.file_report(d.supervisor, alert.id, "Three cash deposits just under 50,000 on three days.")
    assert rep.report_no.startswith("STR-B001-") and rep.pattern == "structuring" and rep.filer == "super1"
    assert rep.customer_no and rep.customer_name == "刘洋" and rep.amount == Money.of("139000")
    assert len(rep.entries) == 3 and len(rep.wallets) == 1 and rep.period_from < rep.period_to
    with pytest.raises(Conflict):
        risk.file_report(d.supervisor, alert.id, "A second report for the same alert.")
    rows = list(csv.DictReader(io.StringIO(risk.export_reports(d.supervisor, "csv"))))
    assert [r["report_no"] for r in rows] == [rep.report_no] and rows[0]["pattern"] == "structuring"
    assert rows[0]["amount"] == "139000.00" and rows[0]["customer_name"] == "刘洋"
    (as_json,) = json.loads(risk.export_reports(d.supervisor, "json"))
    assert as_json["report_no"] == rep.report_no and len(as_json["transactions"]) == 3
    # Audited: the alert, the freeze (both the decision and the wallet), the report.
    with d.db.read() as s:
        actions = {r.action for r in s.execute(select(AuditRecord)).scalars()}
    assert {"risk_alert_raise", "risk_alert_freeze", "wallet_freeze", "risk_report_file", "risk_scan"} <= actions
    with pytest.raises(Conflict):  # decided: it cannot be cleared any more
        risk.clear(d.supervisor, alert.id, "false alarm")


def test_structuring_across_linked_customers(desk: Desk) -> None:  # noqa: F811
    d = desk
    a = d.customer("周杰", latin="zhou jie", phone="13612340000")
    b = d.customer("周敏", latin="zhou min", phone="13612340000")  # same phone: linked
    c = d.customer("吴强", latin="wu qiang")  # not linked
    wa, wb, wc = d.wallet(a, 2), d.wallet(b, 2), d.wallet(c, 2)
    _structuring(d, [wa, wb])
    d.cash.cash_in(d.teller, wc, Money.of("45000"), idempotency_key=key())
    d.services.risk.scan(d.supervisor)
    (alert,) = _alerts(d, "structuring")
    assert alert.subject.startswith("group:") and len(alert.facts["linked_customers"]) == 2


def test_clear_needs_a_reason_and_a_supervisor(desk: Desk) -> None:  # noqa: F811
    d, risk = desk, desk.services.risk
    wid = d.wallet(d.customer("郑新", latin="zheng xin"), 1)
    d.cash.cash_in(d.teller, wid, Money.of("9000"), idempotency_key=key())
    d.clock.advance(minutes=5)
    d.cash.transfer(d.teller, wid, d.wallet(d.customer("冯安", latin="feng an"), 1), Money.of("8000"),
                    idempotency_key=key())
    risk.scan(d.supervisor)
    (alert,) = _alerts(d, "rapid_in_out")
    with pytest.raises(PermissionDenied):
        risk.clear(d.teller, alert.id, "known customer")
    with pytest.raises(ValidationError):
        risk.clear(d.supervisor, alert.id, "   ")
    done = risk.clear(d.supervisor, alert.id, "Salary paid on to the landlord, receipt seen")
    assert done.status == "cleared" and done.decision_reason.startswith("Salary")
    assert risk.open_count(d.supervisor) == len([a for a in _alerts(d) if a.status == "open"])
    assert risk.warnings_for(d.teller, wid) == []  # a cleared alert no longer warns


def test_kiosk_pin_failures_come_from_the_audit_trail(desk: Desk) -> None:  # noqa: F811
    d = desk
    kiosk = d.services.kiosk
    actor = kiosk.ensure_identity("K07")
    phones = []
    for i in range(3):
        cid = d.customer(f"客户{i}", latin=f"kehu {i}", phone=f"1370000000{i}")
        d.wallet(cid, 4)
        with d.db.write() as s:
            s.get(Customer, cid).pin_hash = hash_pin("246813")
        phones.append(f"1370000000{i}")
    for i in range(8):
        d.clock.advance(minutes=2)
        with pytest.raises(AuthenticationFailed):
            kiosk.sign_in(actor, phones[i % 3], "999999")
    d.services.risk.scan(d.supervisor)
    (alert,) = _alerts(d, "kiosk_pin_failures")
    assert alert.subject == "kiosk:K07" and alert.facts["failures"] == 8 and alert.customer_id is None
    with pytest.raises(ValidationError):  # nothing to freeze: it is about a kiosk
        d.services.risk.freeze_wallet(d.supervisor, alert.id, "kiosk")


def test_high_risk_customer_warned_without_an_alert(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("韩梅", latin="han mei")
    wid = d.wallet(cid, 1)
    assert d.services.risk.warnings_for(d.teller, wid) == []
    with d.db.write() as s:
        s.get(Customer, cid).risk_level = "high"  # the onboarding PEP answer
    (w,) = d.services.risk.warnings_for(d.teller, wid)
    assert w.code == "high_risk" and w.kb_article == "large-cash" and w.message


def test_new_device_then_transfer_warns_and_alerts(desk: Desk) -> None:  # noqa: F811
    d = desk
    wid = d.wallet(d.customer("秦朗", latin="qin lang"), 1)
    d.cash.cash_in(d.teller, wid, Money.of("8000"), idempotency_key=key())
    d.services.lifecycle.replace_device(d.teller, wid, new_pin="358179",
                                        approval_id=_device_approval(d, wid))
    (w,) = d.services.risk.warnings_for(d.teller, wid)
    assert (w.code, w.kb_article) == ("recent_device", "phishing-takeover")
    d.clock.advance(hours=3)
    d.cash.transfer(d.teller, wid, d.wallet(d.customer("路人", latin="lu ren"), 1), Money.of("5000"),
                    idempotency_key=key())
    d.services.risk.scan(d.supervisor)
    (alert,) = _alerts(d, "new_device_transfer")
    assert alert.kb_article == "phishing-takeover"


def _device_approval(d: Desk, wid: int) -> int:
    from teller_tui.common.errors import ApprovalRequired

    with pytest.raises(ApprovalRequired) as asked:
        d.services.lifecycle.replace_device(d.teller, wid, new_pin="358179")
    return d.approve(d.teller, asked.value.details["spec"])


@pytest.mark.parametrize("role", ["teller", "kiosk"])
def test_roles(desk: Desk, role: str) -> None:  # noqa: F811
    d, risk = desk, desk.services.risk
    who = Actor(d.teller.staff_id, "x", "T01", role, "B001")
    for call in (lambda: risk.scan(who), lambda: risk.alerts(who), lambda: risk.open_count(who),
                 lambda: risk.clear(who, 1, "r"), lambda: risk.freeze_wallet(who, 1, "r"),
                 lambda: risk.file_report(who, 1, "a narrative here"), lambda: risk.reports(who),
                 lambda: risk.export_reports(who, "csv"), lambda: risk.get(who, 1)):
        with pytest.raises(PermissionDenied):
            call()
    if role == "kiosk":
        with pytest.raises(PermissionDenied):
            risk.warnings_for(who, 1)
    admin = Actor(None, "admin", "T01", "admin", "B001")  # oversees, but decisions are a supervisor's
    assert risk.open_count(admin) == 0
    with pytest.raises(PermissionDenied):
        risk.clear(admin, 1, "r")


def test_alert_status_enum_matches_the_table() -> None:
    from sqlalchemy import CheckConstraint

    (check,) = [c for c in RiskAlert.__table__.constraints  # type: ignore[attr-defined]
                if isinstance(c, CheckConstraint) and c.name == "ck_risk_alert_status"]
    assert {v.value for v in AlertStatus} == {"open", "cleared", "escalated"}
    assert all(f"'{v.value}'" in str(check.sqltext) for v in AlertStatus)


def test_cli_scan_list_and_reports(desk: Desk, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                   capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from teller_tui import cli
    from teller_tui.commands import risk as risk_cmd

    d = desk
    wid = d.wallet(d.customer("刘洋", latin="liu yang"), 2)
    _structuring(d, [wid])
    monkeypatch.setattr("teller_tui.services.make_services", lambda settings, **kw: _Keep(d.services))
    monkeypatch.setattr("teller_tui.common.settings.load_settings", lambda **kw: d.settings)
    assert cli.main(["risk", "scan"]) == 0
    assert "structuring" in capsys.readouterr().out
    assert cli.main(["alerts", "list"]) == 0
    assert "structuring" in capsys.readouterr().out
    (alert,) = _alerts(d, "structuring")
    d.services.risk.file_report(d.supervisor, alert.id, "Three deposits just under the threshold.")
    out = tmp_path / "str.json"
    assert cli.main(["risk", "reports", "--format", "json", "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))[0]["pattern"] == "structuring"
    assert out.stat().st_mode & 0o077 == 0
    assert risk_cmd._start(None) is None


class _Keep:
    """The test's services, handed to a command that closes what it was given (the test closes them)."""

    def __init__(self, services: Any) -> None:
        self._services = services

    def __getattr__(self, name: str) -> Any:
        return getattr(self._services, name)

    def close(self) -> None:
        pass
