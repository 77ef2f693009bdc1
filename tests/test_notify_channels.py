"""Every channel that moves a customer's money or locks them out tells the customer, in its own
transaction, through the one writer (teller_tui.notify): a cash-out held for the remote approval queue
and posted when the supervisor approves it, kiosk transfers (payer and payee), linked top-up and
withdrawal, the lost-phone block, PIN locked at the kiosk / unlocked by a teller / reset. Linked
funding passes the risk gate like a counter posting. The teller's screen never names the rule behind
a block (neutral wording); the supervisor's queue does. Delivered to a REAL webhook and a REAL SMTP
server on loopback (tests/notify_servers.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from notify_servers import SmtpServer, webhook_server
from onboarding_fixtures import CARD
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import OutboxMessage, RiskAlert
from teller_tui.models.risk import AlertStatus
from teller_tui.notify.outbox import Templates
from teller_tui.risk.blocking import RISK_APPROVAL_RULE, PostingGate
from teller_tui.risk.rules import RiskRules
from teller_tui.risk.sender import Sender
from teller_tui.risk.transports import SmtpTransport, WebhookTransport

pytestmark = pytest.mark.slow  # real servers on loopback


def _rows(d: Desk, **where: Any) -> list[OutboxMessage]:
    with d.db.read() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        for k, v in where.items():
            stmt = stmt.where(getattr(OutboxMessage, k) == v)
        rows = list(s.execute(stmt).scalars())
        for r in rows:
            s.expunge(r)
        return rows


def _events(d: Desk, customer_id: int) -> list[tuple[str, str]]:
    return [(r.event, r.event_key.split(":")[0]) for r in _rows(d, customer_id=customer_id, channel="sms")]


def _gate(d: Desk, **blocks: str) -> PostingGate:
    rules: list[dict[str, Any]] = [
        {"id": "structuring", "effective_from": date(2020, 1, 1), "count": 3, "days": 7, "margin_percent": 20},
        {"id": "watchlist", "effective_from": date(2020, 1, 1)},
    ]
    for r in rules:
        if r["id"] in blocks:
            r["block"] = blocks[r["id"]]
    gate = PostingGate(RiskRules.from_dict({"rule": rules}), d.clock)
    d.cash.risk_gate = gate
    d.services.funding.risk_gate = gate
    return gate


def _alert(d: Desk, rule: str, customer_id: int) -> int:
    now = d.clock.now()
    with d.db.write() as s:
        row = RiskAlert(rule=rule, subject=f"customer:{customer_id}", window="w", branch_code="B001",
                        customer_id=customer_id, first_at=now, last_at=now, created_at=now, status=AlertStatus.OPEN)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _params(row: OutboxMessage) -> dict[str, str]:
    import json

    return dict(json.loads(row.params_json))


def test_a_held_cash_out_approved_from_the_queue_tells_the_customer(desk: Desk) -> None:  # noqa: F811
    d = desk
    _gate(d, watchlist="approve")
    cid = d.customer("王芳", phone="13900000011")
    wid = d.wallet(cid, 2)
    d.cash.cash_in(d.teller, wid, Money.of("500"), idempotency_key=key())
    alert_id = _alert(d, "watchlist", cid)
    k = key()
    with pytest.raises(ApprovalRequired) as err:
        d.cash.cash_out(d.teller, wid, Money.of("200"), idempotency_key=k)
    spec = err.value.details["spec"]
    # The teller's screen (reasons, message) is neutral; the rule is for the supervisor only.
    shown = " ".join((str(err.value), *err.value.reasons, *spec.reasons)).lower()
    assert "watch" not in shown and "risk" not in shown and "supervisor's review" in shown
    assert RISK_APPROVAL_RULE in spec.rules and any("Watch-list" in r for r in spec.review)
    view = d.services.approvals.request(d.teller, spec)
    (pending,) = d.services.approvals.pending()
    assert any("Watch-list" in r and str(alert_id) in r for r in pending.review)  # the supervisor sees the rule
    assert len(_rows(d, customer_id=cid)) == 1  # the cash-in; the hold tells nobody yet
    creds = d.credentials(d.teller)
    assert creds.username == d.supervisor.username
    decided = d.services.approvals.decide(d.supervisor, view.id, approve=True, password=creds.password,
                                          code=creds.code, reason="known customer")
    assert decided.status == "consumed"
    last = _rows(d, customer_id=cid)[-1]
    assert last.event == "posting" and last.event_key == f"entry:{decided.entry_id}"
    assert _params(last)["action"] == "cash_out" and "200.00" in _params(last)["amount"]
    assert "300.00" in _params(last)["balance"]
    # The teller retrying with the form's key gets the posted entry and queues nothing more.
    assert d.cash.cash_out(d.teller, wid, Money.of("200"), idempotency_key=k).replayed
    assert len(_rows(d, customer_id=cid)) == 2


def test_kiosk_transfer_tells_payer_and_payee(desk: Desk) -> None:  # noqa: F811
    from test_kiosk_core import PIN, K

    k = K(desk)
    c1, w1, _n1 = k.customer("王芳", "13900000012")
    c2, _w2, _n2 = k.customer("张三明", "13812345670", fund="0")
    session = k.svc.sign_in(k.actor, "13900000012", PIN)
    before = len(_rows(desk))
    k.svc.transfer(k.actor, session, w1, "13812345670", Money.of("100"), idempotency_key="kt-1")
    k.svc.transfer(k.actor, session, w1, "13812345670", Money.of("100"), idempotency_key="kt-1")  # replay
    payer, payee = _rows(desk)[before:]
    assert (payer.customer_id, _params(payer)["action"]) == (c1, "transfer_out")
    assert (payee.customer_id, _params(payee)["action"]) == (c2, "transfer_in")
    assert payee.event_key == payer.event_key + ":in" and "100.00" in _params(payee)["balance"]


def test_pin_lock_unlock_and_reset_tell_the_customer(desk: Desk) -> None:  # noqa: F811
    from test_kiosk_core import K

    k = K(desk)
    cid, _wid, _n = k.customer("李娜", "13900000013", fund="0")
    for _attempt in range(5):
        with pytest.raises(AuthenticationFailed):
            k.svc.sign_in(k.actor, "13900000013", "000000")
    with pytest.raises(AuthenticationFailed):
        k.svc.sign_in(k.actor, "13900000013", "000000")  # already locked: no second notice
    assert [e for e, _k in _events(desk, cid)] == ["pin_lock"]
    assert k.pins.unlock_customer_pin(desk.teller, cid) is True
    assert k.pins.unlock_customer_pin(desk.teller, cid) is False  # nothing was locked: nothing to tell
    assert [e for e, _k in _events(desk, cid)] == ["pin_lock", "pin_unlock"]


def test_lost_phone_block_tells_the_customer(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("赵敏", phone="13900000014")
    wid = d.wallet(cid, 2)
    d.services.lifecycle.block_lost(d.teller, wid, "phone stolen")
    (row,) = _rows(d, customer_id=cid, channel="sms")
    assert row.event == "block" and _params(row)["wallet"].count("*") >= 4


def test_linked_funding_tells_and_passes_the_risk_gate(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("钱多多", phone="13900000015")
    wid = d.wallet(cid, 2)
    d.services.funding.link_now(d.teller, cid, wid, "card", CARD, "钱多多")
    d.services.linked_desk.top_up(d.teller, wid, Money.of("300"), idempotency_key=key())
    d.services.linked_desk.withdraw(d.teller, wid, Money.of("100"), idempotency_key=key())
    rows = _rows(d, customer_id=cid, channel="sms")
    assert [_params(r)["action"] for r in rows] == ["linked_top_up", "linked_withdraw"]
    assert "200.00" in _params(rows[-1])["balance"]
    # An open alert of a blocking rule stops linked funding as it stops the counter (either mode:
    # there is no approval path here), in the preview and in the posting; nothing posted, nothing told.
    _gate(d, structuring="approve")
    alert_id = _alert(d, "structuring", cid)
    preview = d.services.linked_desk.preview_withdraw(d.teller, wid, Money.of("50"))
    assert preview.refusal_code == "risk_blocked" and str(alert_id) in (preview.refusal or "")
    assert "structur" not in (preview.refusal or "").lower()
    for move in (d.services.linked_desk.top_up, d.services.linked_desk.withdraw):
        with pytest.raises(Conflict) as err:
            move(d.teller, wid, Money.of("50"), idempotency_key=key())
        assert err.value.code == "risk_blocked"
    assert len(_rows(d, customer_id=cid, channel="sms")) == 2
    d.services.risk.clear(d.supervisor, alert_id, "explained: salary")
    d.services.linked_desk.top_up(d.teller, wid, Money.of("50"), idempotency_key=key())
    assert len(_rows(d, customer_id=cid, channel="sms")) == 3


def test_new_events_delivered_by_webhook_and_smtp(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("孙丽", phone="13900000016")
    d.services.notify.set_contact(d.teller, cid, "email", "sun.li@example.cn", consent=True)
    wid = d.wallet(cid, 2)
    d.services.funding.link_now(d.teller, cid, wid, "card", CARD, "孙丽")
    d.services.linked_desk.top_up(d.teller, wid, Money.of("80"), idempotency_key=key())
    d.services.lifecycle.block_lost(d.teller, wid, "phone lost")
    with SmtpServer() as smtp, webhook_server() as (url, hook):
        sender = Sender(d.db, d.clock, templates=Templates.load(), transports={
            "email": SmtpTransport("127.0.0.1", smtp.port, "notify@bank.example"), "sms": WebhookTransport(url, "t")},
            enabled=True, backoff_seconds=30, lease_seconds=120)
        assert sender.run_once().sent == 4
        texts = [payload["text"] for _h, payload in hook.received]
        assert "top-up from your linked account CN¥80.00" in texts[0]
        assert "blocked" in texts[1] and "lost or stolen" in texts[1]
        subjects = [str(m["Subject"]) for _r, m in smtp.inbox.received]
        assert any("blocked" in s for s in subjects) and any("top-up" in s for s in subjects)
    assert {r.status for r in _rows(d, customer_id=cid)} == {"sent"}
    zh = Templates.load().render("pin_lock", "zh_CN", {"bank": "农商行", "at": "2026-01-05 10:00"})
    assert zh.body.startswith("【农商行】") and "锁定" in zh.body
