"""Customer notifications end to end: the outbox row is written in the event's own transaction, and
delivered to a REAL SMTP server and a REAL HTTP webhook on loopback (tests/notify_servers.py), with
retries and backoff after failures, a sender killed between sending and recording (the message goes
again with the same id and the receiver drops the repeat: one delivery kept, one outcome recorded),
consent per channel, sanitized values, and the guard that keeps demo/training databases silent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from notify_servers import SmtpServer, webhook_server
from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.masks import mask_phone
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import OutboxMessage
from teller_tui.notify.outbox import Templates
from teller_tui.risk.sender import Sender, backoff
from teller_tui.risk.transports import Outgoing, SmtpTransport, Transport, WebhookTransport
from teller_tui.services import notify_transports

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


def _sender(d: Desk, transports: dict[str, Transport], **kw: Any) -> Sender:
    return Sender(d.db, d.clock, templates=Templates.load(), transports=transports, enabled=kw.pop("enabled", True),
                  backoff_seconds=30, lease_seconds=120, **kw)


def test_posting_queues_in_its_transaction_once(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("王芳", phone="13900000001")
    wid = d.wallet(cid, 2)
    k = key()
    r = d.cash.cash_in(d.teller, wid, Money.of("200"), idempotency_key=k)
    d.cash.cash_in(d.teller, wid, Money.of("200"), idempotency_key=k)  # a replay posts and queues nothing
    (row,) = _rows(d)
    assert (row.event, row.channel, row.address, row.status) == ("posting", "sms", "13900000001", "pending")
    assert row.event_key == f"entry:{r.entry_id}" and len(row.message_id) == 32
    # A refused posting (frozen wallet) leaves no notification behind: no commit, no row.
    d.services.lifecycle.freeze(d.teller, wid, "lost phone")
    assert [x.event for x in _rows(d)] == ["posting", "freeze"]
    with pytest.raises(Conflict):
        d.cash.cash_out(d.teller, wid, Money.of("10"), idempotency_key=key())
    assert len(_rows(d)) == 2


def test_delivery_by_smtp_and_webhook_with_retries(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer("李娜", phone="13900000002")
    d.services.notify.set_contact(d.teller, cid, "email", "li.na@example.cn", consent=True)
    wid = d.wallet(cid, 2)
    r = d.cash.cash_in(d.teller, wid, Money.of("1234.50"), idempotency_key=key())
    with SmtpServer() as smtp, webhook_server() as (url, hook):
        smtp.inbox.fail_next = 1
        hook.fail_next = 2
        sender = _sender(d, {"email": SmtpTransport("127.0.0.1", smtp.port, "notify@bank.example"),
                             "sms": WebhookTransport(url, "tok-1")})
        first = sender.run_once()
        assert (first.sent, first.retrying) == (0, 2)
        sms, mail = _rows(d, channel="sms")[0], _rows(d, channel="email")[0]
        assert sms.attempts == 1 and "503" in sms.last_error and mail.attempts == 1 and "421" in mail.last_error
        assert sms.next_attempt_at == d.clock.now() + timedelta(seconds=30)
        assert sender.run_once().sent == 0  # not due yet: backoff is honoured
        d.clock.advance(seconds=31)
        second = sender.run_once()
        assert (second.sent, second.retrying) == (1, 1)  # e-mail through; the gateway fails once more
        assert _rows(d, channel="sms")[0].next_attempt_at == d.clock.now() + backoff(30, 2)
        d.clock.advance(seconds=61)
        assert sender.run_once().sent == 1
        assert [r.status for r in _rows(d)] == ["sent", "sent"]
        # What arrived: the webhook's JSON with the de-duplication key and bearer token, in Chinese.
        (headers, payload), = hook.received
        assert headers["Idempotency-Key"] == payload["message_id"] == sms.message_id
        assert headers["Authorization"] == "Bearer tok-1" and payload["to"] == "13900000002"
        # The database's locale is en here (the zh_CN template is checked below); the wallet is masked.
        assert "cash in CN¥1,234.50" in payload["text"] and r.reference in payload["text"]
        assert "8600****" in payload["text"]
        (rcpts, email), = smtp.inbox.received
        assert rcpts == ["li.na@example.cn"] and email["Message-ID"] == f"<{mail.message_id}@bank.example>"
        assert "cash in CN¥1,234.50" in email.get_content() and "cash in" in str(email["Subject"])
    zh = Templates.load().render("posting", "zh_CN", {"action": "cash_in", "amount": "¥1,234.50", "bank": "农商行"})
    assert zh.body.startswith("【农商行】") and "现金存入¥1,234.50" in zh.body


def test_sender_killed_between_send_and_record(desk: Desk) -> None:  # noqa: F811
    """At-least-once with a fixed message id: the repeat reaches the server, the server keeps one, and
    the database records exactly one outcome."""
    d = desk
    cid = d.customer(phone="13900000003")
    d.services.notify.set_contact(d.teller, cid, "sms", "", consent=False)  # e-mail only for this one
    d.services.notify.set_contact(d.teller, cid, "email", "c@example.cn", consent=True)
    d.cash.cash_in(d.teller, d.wallet(cid, 2), Money.of("50"), idempotency_key=key())

    class Killed(BaseException):
        pass

    with SmtpServer() as smtp:
        real = SmtpTransport("127.0.0.1", smtp.port, "notify@bank.example")

        class DiesAfterSending:
            def send(self, message: Outgoing) -> None:
                real.send(message)
                raise Killed  # the process dies before recording (SIGKILL has the same effect)

        with pytest.raises(Killed):
            _sender(d, {"email": DiesAfterSending()}).run_once()
        (row,) = _rows(d, channel="email")
        assert row.status == "pending" and row.claim and len(smtp.inbox.received) == 1
        restarted = _sender(d, {"email": real})
        assert restarted.run_once().sent == 0  # the dead sender's lease still holds
        d.clock.advance(seconds=121)
        assert restarted.run_once().sent == 1
        assert len(smtp.inbox.received) == 2 and len(smtp.inbox.by_id) == 1  # sent twice, kept once
        (row,) = _rows(d, channel="email")
        assert row.status == "sent" and row.attempts == 1 and row.claim == ""
        assert restarted.run_once().sent == 0  # and never again
    (sms,) = _rows(d, channel="sms")
    assert sms.status == "skipped"  # opted out: recorded, never sent


def test_webhook_dedupes_a_repeat_and_the_sender_counts_it_sent(desk: Desk) -> None:  # noqa: F811
    d = desk
    with webhook_server() as (url, hook):
        msg = Outgoing("m-1", "posting", "en", "13900000009", "s", "b")
        WebhookTransport(url).send(msg)
        WebhookTransport(url).send(msg)  # 409 from the gateway: already delivered, not an error
        assert len(hook.received) == 2 and list(hook.by_id) == ["m-1"]


def test_guard_demo_and_training_never_send(desk: Desk) -> None:  # noqa: F811
    d = desk
    d.cash.cash_in(d.teller, d.wallet(d.customer(), 2), Money.of("5"), idempotency_key=key())
    with webhook_server() as (url, hook):
        with pytest.raises(Conflict) as err:
            _sender(d, {"sms": WebhookTransport(url)}, enabled=False).run_once()
        assert err.value.code == "notify_off" and hook.received == []
    # The shipped default is off, and make_services wires exactly the configured channels.
    assert d.settings.notify_send is False
    with pytest.raises(Conflict):
        d.services.notify.run(d.supervisor)
    assert notify_transports(d.settings) == {}
    configured = d.settings.model_copy(update={"notify_sms_url": "http://127.0.0.1:9/x", "notify_smtp_host": "h",
                                               "notify_smtp_from": "a@b.cn"})
    assert sorted(notify_transports(configured)) == ["email", "sms"]


def test_values_are_sanitized_and_templates_checked() -> None:
    t = Templates.load()
    out = t.render("freeze", "en", {"bank": "Bank\x1b[31m\n[@click=app.quit]", "wallet": "****1234", "at": "now"})
    assert "\x1b" not in out.body and "\n" not in out.body and "[@click=app.quit]" in out.body
    with pytest.raises(ValidationError):
        Templates.from_dict({ev: {"en": {"subject": "{secret}", "body": "x"}, "zh_CN": {"subject": "", "body": ""}}
                             for ev in ("posting", "freeze", "unfreeze", "device")})


def test_consent_and_customer_view(desk: Desk) -> None:  # noqa: F811
    d = desk
    cid = d.customer(phone="13900000004")
    with pytest.raises(ValidationError):
        d.services.notify.set_contact(d.teller, cid, "email", "not-an-address", consent=True)
    d.services.notify.set_contact(d.teller, cid, "email", "x@example.cn", consent=True)
    d.cash.cash_in(d.teller, d.wallet(cid, 2), Money.of("5"), idempotency_key=key())
    views = d.services.notify.for_customer(d.teller, cid)
    assert sorted((v.channel, v.status) for v in views) == [("email", "pending"), ("sms", "pending")]
    assert {v.address for v in views} == {"x***@example.cn", mask_phone("13900000004")} != {"13900000004"}


KILLED_SENDER = """
import sys
from datetime import datetime
from teller_tui.common.clock import FakeClock
from teller_tui.db.engine import make_database
from teller_tui.notify.outbox import Templates
from teller_tui.risk.sender import Sender
from teller_tui.risk.transports import SmtpTransport

db = make_database(sys.argv[1])
clock = FakeClock(datetime.fromisoformat(sys.argv[2]))
Sender(db, clock, templates=Templates.load(), transports={"email": SmtpTransport("127.0.0.1", int(sys.argv[3]),
       "notify@bank.example", timeout=60)}, enabled=True, lease_seconds=120).run_once()
print("recorded")  # never reached: killed while waiting for the server's reply
"""


def test_sender_process_sigkilled_after_the_server_took_the_message(desk: Desk, db_path: Any) -> None:  # noqa: F811
    """A real sender process, SIGKILLed after the SMTP server received the message but before the
    server's reply (so before anything could be recorded): the row stays pending under the dead
    process's lease; a new sender sends it again with the same Message-ID once the lease is over;
    the server keeps one; the database records one outcome."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    d = desk
    cid = d.customer(phone="13900000005")
    d.services.notify.set_contact(d.teller, cid, "sms", "", consent=False)
    d.services.notify.set_contact(d.teller, cid, "email", "k@example.cn", consent=True)
    d.cash.cash_in(d.teller, d.wallet(cid, 2), Money.of("70"), idempotency_key=key())
    release = threading.Event()
    with SmtpServer(hold_reply=release) as smtp:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SENDER, f"sqlite:///{db_path}",
                                 d.clock.now().isoformat(), str(smtp.port)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not smtp.inbox.received and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            assert smtp.inbox.received, proc.communicate(timeout=5)
            os.kill(proc.pid, signal.SIGKILL)
            out, _err = proc.communicate(timeout=10)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL and b"recorded" not in out
        (row,) = _rows(d, channel="email")
        assert row.status == "pending" and row.claim and row.attempts == 0
        first_id = row.message_id
        restarted = _sender(d, {"email": SmtpTransport("127.0.0.1", smtp.port, "notify@bank.example")})
        assert restarted.run_once().sent == 0  # the dead sender's lease holds
        d.clock.advance(seconds=121)
        assert restarted.run_once().sent == 1
        assert len(smtp.inbox.received) == 2 and list(smtp.inbox.by_id) == [f"<{first_id}@bank.example>"]
    (row,) = _rows(d, channel="email")
    assert (row.status, row.attempts, row.message_id) == ("sent", 1, first_id)


def test_cli_notify_run_refuses_when_off(desk: Desk, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli
    from test_risk import _Keep

    monkeypatch.setattr("teller_tui.services.make_services", lambda settings, **kw: _Keep(desk.services))
    monkeypatch.setattr("teller_tui.common.settings.load_settings", lambda **kw: desk.settings)
    assert cli.main(["notify", "run"]) == 1
    assert "notify_send" in capsys.readouterr().out
