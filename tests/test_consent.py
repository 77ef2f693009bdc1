"""The customer's own consent at the counter (issue 16): core rules.

A cash-out or transfer at the counter posts only with a consent granted for exactly that request:
the customer's PIN on the customer display paired with the terminal, or the teller's recorded ID
re-check (which the receipt shows). Wrong PINs count and lock with the kiosk's guard; a display not
paired with the terminal cannot answer its requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.audit.trail import Actor
from teller_tui.auth import passwords
from teller_tui.common.errors import (ApprovalRequired, AuthenticationFailed, ConsentRequired, PermissionDenied,
                                      ValidationError)
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.consent.spec import ConsentSpec
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.kiosk.pinpad import PadLink
from teller_tui.kiosk.pins import PinLocked
from teller_tui.models import AuditRecord, ConsentRequest, Customer
from teller_tui.services import Services, make_services

PIN = "135790"


@dataclass
class World:
    s: Services
    d: Desk
    teller: Actor
    pad: Actor
    customer_id: int
    wallet_id: int


@pytest.fixture
def world(desk: Desk, tmp_path: Any) -> World:  # noqa: F811
    settings = load_settings(home=tmp_path / "home2", locale="en", counter_consent=True)
    s = make_services(settings, clock=desk.clock, database=desk.db, box=desk.services.box)
    cid = desk.customer(id_number="110101199003074477")
    wid = desk.wallet(cid)
    with desk.db.write() as w:
        w.execute(update(Customer).where(Customer.id == cid).values(pin_hash=passwords.hash_pin(PIN)))
    s.cash.cash_in(desk.teller, wid, Money.of("800"), idempotency_key=new_idempotency_key())
    return World(s, desk, desk.teller, s.kiosk.ensure_identity("PAD-T01"), cid, wid)


def paired(w: World, pad: Actor | None = None) -> PadLink:
    code = w.s.consent.start_pairing(w.teller)
    return w.s.pinpad.pair(pad or w.pad, "T01", code)


def ask(w: World, key: str, amount: str = "100") -> tuple[int, ConsentSpec]:
    with pytest.raises(ConsentRequired) as info:
        w.s.cash.cash_out(w.teller, w.wallet_id, Money.of(amount), idempotency_key=key)
    spec = info.value.details["spec"]
    return w.s.consent.request(w.teller, spec).request_id, spec


def test_cash_out_waits_for_the_pin_on_the_paired_display(world: World) -> None:
    w = world
    link = paired(w)
    key = new_idempotency_key()
    rid, spec = ask(w, key)
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and prompt.request_id == rid and prompt.summary["amount"] == 10000
    with pytest.raises(ConsentRequired):  # not granted yet
        w.s.cash.cash_out(w.teller, w.wallet_id, Money.of("100"), idempotency_key=key, consent_id=rid)
    with pytest.raises(AuthenticationFailed):
        w.s.pinpad.answer(w.pad, link, rid, "000000")
    w.s.pinpad.answer(w.pad, link, rid, PIN)
    assert w.s.consent.status(w.teller, rid).status == "granted"
    with pytest.raises(ConsentRequired):  # bound to the request: another amount needs its own consent
        w.s.cash.cash_out(w.teller, w.wallet_id, Money.of("101"), idempotency_key=key, consent_id=rid)
    r = w.s.cash.cash_out(w.teller, w.wallet_id, Money.of("100"), idempotency_key=key, consent_id=rid)
    assert "Customer PIN on the customer display" in r.receipt_text
    with pytest.raises(ConsentRequired):  # used once
        w.s.cash.cash_out(w.teller, w.wallet_id, Money.of("100"), idempotency_key=new_idempotency_key(),
                          consent_id=rid)


def test_a_display_not_paired_with_the_terminal_cannot_answer(world: World) -> None:
    w = world
    paired(w)  # the real display for T01
    other = w.s.kiosk.ensure_identity("PAD-T02")
    code = w.s.consent.start_pairing(Actor(w.teller.staff_id, w.teller.username, "T02", "teller", "B001"))
    link2 = w.s.pinpad.pair(other, "T02", code)
    rid, _spec = ask(w, new_idempotency_key())
    with pytest.raises(PermissionDenied):  # paired, but with T02
        w.s.pinpad.answer(other, link2, rid, PIN)
    with pytest.raises(PermissionDenied):  # claims T01 without the pairing's secret
        w.s.pinpad.answer(other, PadLink("T01", link2.token), rid, PIN)
    with pytest.raises(PermissionDenied):
        w.s.pinpad.prompt(other, PadLink("T01", "guess"))
    with pytest.raises(AuthenticationFailed):  # a wrong pairing code pairs nothing
        w.s.pinpad.pair(other, "T01", "000000")
    assert w.s.consent.status(w.teller, rid).status == "pending"


def test_a_new_pairing_replaces_the_old_display(world: World) -> None:
    w = world
    old = paired(w)
    new_pad = w.s.kiosk.ensure_identity("PAD-X")
    paired(w, new_pad)
    rid, _ = ask(w, new_idempotency_key())
    with pytest.raises(PermissionDenied):
        w.s.pinpad.answer(w.pad, old, rid, PIN)


def test_five_wrong_pins_lock_like_the_kiosk(world: World) -> None:
    w = world
    link = paired(w)
    rid, _ = ask(w, new_idempotency_key())
    for _ in range(w.s.kiosk_limits.pin_attempts - 1):
        with pytest.raises(AuthenticationFailed) as info:
            w.s.pinpad.answer(w.pad, link, rid, "000000")
        assert not isinstance(info.value, PinLocked)
    with pytest.raises(PinLocked):
        w.s.pinpad.answer(w.pad, link, rid, "000000")
    assert w.s.consent.status(w.teller, rid).status == "refused"
    rid2, _ = ask(w, new_idempotency_key())
    with pytest.raises(PinLocked):  # even the right PIN, while locked (and at the kiosk too)
        w.s.pinpad.answer(w.pad, link, rid2, PIN)
    with w.d.db.read() as r:
        assert r.get(Customer, w.customer_id).pin_locked  # type: ignore[union-attr]
    with pytest.raises(AuthenticationFailed):
        w.s.kiosk.sign_in(w.s.kiosk.ensure_identity("K01"), w.d.services.customers.get_customer(
            w.customer_id).phone, PIN)


def test_id_recheck_path_is_on_the_receipt_and_in_the_audit(world: World) -> None:
    w = world
    key = new_idempotency_key()
    rid, _ = ask(w, key)
    # The last 4 (110101********4477: on the teller's screen) are not the check; the hidden birth-date digits are.
    with pytest.raises(ValidationError) as shown:
        w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="4477")
    assert shown.value.code == "id_mismatch"
    with pytest.raises(ValidationError):
        w.s.consent.record_id_check(w.teller, rid, document_seen=False, id_digits="19900307")
    w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="1990-03-07")
    r = w.s.cash.cash_out(w.teller, w.wallet_id, Money.of("100"), idempotency_key=key, consent_id=rid)
    assert "ID re-checked: document seen, number matches" in r.receipt_text
    with w.d.db.read() as s:
        rows = s.execute(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail_json)
                         .where(AuditRecord.action.in_(["consent_id_check", "cash_out"]))
                         .order_by(AuditRecord.seq)).all()  # type: ignore[attr-defined]
    assert [(a, o) for a, o, _d in rows] == [("consent_id_check", "fail"), ("consent_id_check", "fail"),
                                             ("consent_id_check", "ok"), ("cash_out", "ok")]
    assert '"consent": "id_check"' in str(rows[-1][2]) or "id_check" in str(rows[-1][2])


def test_id_recheck_failures_are_limited_with_the_pin_resets(world: World) -> None:
    """The consent's ID re-check is the PIN reset's check: its failures count toward the same daily
    limit, after which even the right digits are refused (the customer uses the display)."""
    w = world
    rid, _ = ask(w, new_idempotency_key())
    with pytest.raises(ValidationError):  # a PIN reset's failure counts for the consent too
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits="19900308")
    for wrong in ("4477", "00000000", "19900306", "11010119"):
        with pytest.raises(ValidationError):
            w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits=wrong)
    with pytest.raises(PermissionDenied) as exhausted:
        w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="19900307")
    assert exhausted.value.code == "id_checks_exhausted"
    assert w.s.consent.status(w.teller, rid).status == "pending"
    with w.d.db.read() as s:
        checks = s.execute(select(AuditRecord.outcome, AuditRecord.detail_json)
                           .where(AuditRecord.action == "customer_id_check")).all()
        stored = s.execute(select(ConsentRequest.document_last4).where(ConsentRequest.id == rid)).scalar_one()
    assert [o for o, _d in checks] == ["fail"] * 5 + ["denied"]
    assert json.loads(checks[1][1])["purpose"] == "consent"
    assert stored in (None, "")  # nothing recorded for a refused check
    w.d.clock.advance(hours=25)  # a day later the customer may be checked again
    rid, _ = ask(w, new_idempotency_key())
    w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="19900307")
    with w.d.db.read() as s:
        row = s.get(ConsentRequest, rid)
        assert row is not None and row.method == "id_check" and row.document_last4 == "4477"  # never the digits


def test_supervisor_policy_requires_the_pin(world: World) -> None:
    w = world
    with pytest.raises(PermissionDenied):
        w.s.consent.set_policy(w.teller, pin_required=True, reason="branch rule")
    w.s.consent.set_policy(w.d.supervisor, pin_required=True, reason="branch rule")
    rid, _ = ask(w, new_idempotency_key())
    with pytest.raises(PermissionDenied):
        w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="19900307")


def test_pin_reset_at_the_counter_new_pin_typed_on_the_display(world: World) -> None:
    w = world
    link = paired(w)
    with pytest.raises(ValidationError):  # the last 4, which the teller's screen shows, are not the check
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits="4477")
    # The birth-date digits the mask hides (110101********4477), then a supervisor approves.
    with pytest.raises(ApprovalRequired) as asked:
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits="19900307")
    assert asked.value.rules == ["pin_reset"]
    ticket = w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits="19900307",
                                         approval_id=w.d.approve(w.teller, asked.value.details["spec"]))
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and prompt.kind == "pin_reset"
    with pytest.raises(ValidationError):
        w.s.pinpad.set_new_pin(w.pad, link, ticket.request_id, "111111", "111111")  # too easy
    with pytest.raises(ValidationError):
        w.s.pinpad.set_new_pin(w.pad, link, ticket.request_id, "246813", "246812")
    w.s.pinpad.set_new_pin(w.pad, link, ticket.request_id, "246813", "246813")
    assert w.s.consent.status(w.teller, ticket.request_id).status == "done"
    with w.d.db.read() as s:
        c = s.get(Customer, w.customer_id)
        assert c is not None and passwords.verify_pin(c.pin_hash, "246813")


def test_consent_off_for_the_kiosk_and_when_switched_off(world: World) -> None:
    w = world
    # The shared desk services run with the setting off: no consent asked (tests of posting rules).
    w.d.cash.cash_out(w.teller, w.wallet_id, Money.of("1"), idempotency_key=new_idempotency_key())
