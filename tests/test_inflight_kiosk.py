"""The kiosk's transfer in flight: the key is written to the kiosk's own journal before sending; a fault
is "not known yet — checking" (never "refused"), resolved by the key before anything else; a transfer
left by a kiosk restart is settled for staff (audit trail + log), not shown to the next customer.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from pilot_helpers import settle
from teller_tui.common.errors import DatabaseUnavailable
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked
from teller_tui.kiosk.inflight import KioskInflightService, outcome_when_answered
from teller_tui.models import JournalEntry

from test_inflight_desk import _read_only_writes
from test_kiosk_pilot import PIN, SIZE, _customer, _ready, _settle, _sign_in, _text, services  # noqa: F401


def _transfers(services: Any) -> list[str]:
    with services.db.read() as s:
        return list(s.execute(select(JournalEntry.reference).where(JournalEntry.kind == "transfer")).scalars())


def _lost() -> Any:
    raise DatabaseUnavailable("gone")


def test_kiosk_transfer_unknown_resolved_by_key_and_settled_for_staff(services: Any) -> None:
    _c1, w1 = _customer(services, "王芳", "13900000002", fund="500")
    _customer(services, "张三明", "13812345678", fund="0")
    svc: KioskInflightService = services.kiosk_inflight
    actor = services.kiosk.ensure_identity("K01")
    session = services.kiosk.sign_in(actor, "13900000002", PIN)
    key, amount = new_idempotency_key("kiosk"), Money.of("120")
    with pytest.raises(OutcomeUnknown) as info:
        submit_tracked(svc, actor, "kiosk_transfer", key, wallet="8800****0001", amount=amount,
                       subject=f"wallet:{w1}", send=_lost)
    sub = info.value.submission
    assert [s.key for s in svc.pending(actor)] == [key]
    assert svc._journal(actor).directory == services.settings.home / "inflight" / "K01"
    assert "13900000002" not in (svc._journal(actor).directory / f"{key}.json").read_text()  # masked only

    # The database does not answer twice, then does: looked up again until it answers.
    calls: list[str] = []
    real = svc.outcome_of

    def flaky(a: Any, s: Any) -> Any:
        calls.append("ask")
        if len(calls) < 3:
            raise DatabaseUnavailable("still down")
        return real(a, s)

    svc.outcome_of = flaky  # type: ignore[method-assign]
    waits: list[int] = []
    try:
        out = outcome_when_answered(svc, actor, sub, wait=lambda: waits.append(1), cancelled=lambda: False)
    finally:
        del svc.outcome_of
    assert out is not None and not out.posted and len(calls) == 3 and len(waits) == 2
    assert outcome_when_answered(svc, actor, sub, wait=lambda: None, cancelled=lambda: True) is None

    # Sent again with the same key (the kiosk never makes a new one meanwhile): posted once, with its receipt.
    receipt = services.kiosk.transfer(actor, session, w1, "13812345678", amount, idempotency_key=key)
    found = svc.outcome_of(actor, sub)
    assert found.posted and found.reference == receipt.reference and found.receipt is not None
    assert receipt.reference in found.receipt.receipt_text
    assert _transfers(services) == [receipt.reference]

    # After a restart the customer is gone: settled for staff in the audit trail, then forgotten.
    svc.settle(actor, found)
    assert svc.pending(actor) == []
    from teller_tui.models import AuditRecord

    with services.db.read() as s:
        rows = s.execute(select(AuditRecord).where(AuditRecord.action == "kiosk_transfer_interrupted")).scalars().all()
        assert [(r.subject, r.outcome) for r in rows] == [(f"wallet:{w1}", "posted")]
        assert receipt.reference in rows[0].detail_json


def test_the_kiosk_journal_is_the_kiosk_s_only(services: Any) -> None:
    from teller_tui.common.errors import PermissionDenied

    _customer(services, "王芳", "13900000002", fund="0")  # creates teller1
    from teller_tui.audit.trail import Actor
    from teller_tui.models import Staff

    with services.db.read() as s:
        row = s.execute(select(Staff).where(Staff.username == "teller1")).scalar_one()
        teller = Actor(row.id, "teller1", "T01", row.role, row.branch_code)
    with pytest.raises(PermissionDenied):
        services.kiosk_inflight.record(teller, "kiosk_transfer", "k", wallet="w", amount=Money.of("1"))


@pytest.mark.slow  # Pilot
async def test_a_fault_during_a_kiosk_transfer_is_checked_never_refused(services: Any) -> None:
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.transfer import KioskConfirmTransfer, KioskTransferScreen

    _customer(services, "王芳", "13900000002", fund="500")
    _customer(services, "张三明", "13812345678", fund="0")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900000002")
        await pilot.press("2")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, KioskTransferScreen)
        key = form.key
        form.query_one("#payee").value = "13812345678"
        form.query_one("#amount").value = "120"
        await pilot.click("#continue")
        await _settle(app, pilot)
        assert isinstance(app.screen, KioskConfirmTransfer)
        seen: list[str] = []  # every status line the form showed, in order
        original = form.status

        def spy(text: str, *, error: bool = True) -> None:
            seen.append(text)
            original(text, error=error)

        form.status = spy  # type: ignore[method-assign]
        checking: list[Any] = []
        original_push = app.push_screen

        def push(screen: Any, *args: Any, **kwargs: Any) -> Any:
            checking.append(type(screen).__name__)
            return original_push(screen, *args, **kwargs)

        app.push_screen = push  # type: ignore[method-assign]
        _read_only_writes(SimpleNamespace(services=services))  # the transfer cannot commit
        await pilot.click("#confirm")
        await settle(pilot)
        await settle(pilot)
        assert "KioskCheckingScreen" in checking  # "not known yet — checking", then the lookup by key
        assert "Not known yet — checking…" in seen
        assert app.screen is form
        text = _text(app)
        assert "Your transfer was not made: no money left your wallet." in text
        assert "efused" not in text and "efused" not in " ".join(seen)
        assert form.key != key  # known not posted: a new attempt is a new transfer
        assert not form.busy
        kiosk = app.actor
    assert _transfers(services) == []
    assert services.kiosk_inflight.pending(kiosk) == []  # shown to the customer: forgotten
