"""Issue 16: the customer's own credentials at the counter, core rules.

The teller starts a PIN change or an authenticator set-up/removal; the customer does their part on the
paired customer display (old PIN and new PIN twice; the authenticator's code; their PIN). A removal can
also follow the teller's ID check. Wrong PINs count and lock with the kiosk's guard; a display not
paired with the terminal cannot answer; everything is audited and the customer is told.
"""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import select

from desk_fixtures import desk  # noqa: F401
from teller_tui.auth import passwords
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from teller_tui.consent.spec import ConsentSpec
from teller_tui.kiosk.pinpad import PadLink
from teller_tui.kiosk.pins import PinLocked
from teller_tui.models import AuditRecord, Customer
from teller_tui.models.notify import OutboxMessage
from test_consent import PIN, World, paired, world  # noqa: F401

NEW = "246813"


def _audit(w: World, action: str) -> list[tuple[str, dict]]:
    with w.d.db.read() as s:
        rows = s.execute(select(AuditRecord.outcome, AuditRecord.detail_json).where(
            AuditRecord.action == action).order_by(AuditRecord.seq)).all()  # type: ignore[arg-type]
    return [(o, json.loads(d or "{}")) for o, d in rows]


def _told(w: World, event: str) -> int:
    with w.d.db.read() as s:
        return len(s.execute(select(OutboxMessage.id).where(OutboxMessage.customer_id == w.customer_id,
                                                            OutboxMessage.event == event)).all())


def _customer(w: World) -> Customer:
    with w.d.db.read() as s:
        c = s.get(Customer, w.customer_id)
        assert c is not None
        return c


def test_pin_change_on_the_display(world: World) -> None:  # noqa: F811
    w = world
    with pytest.raises(Conflict):  # no display paired: nothing starts
        w.s.credentials.begin(w.teller, w.customer_id, "pin_change")
    link = paired(w)
    ticket = w.s.credentials.begin(w.teller, w.customer_id, "pin_change")
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and prompt.kind == "pin_change" and prompt.request_id == ticket.request_id
    rid = ticket.request_id
    with pytest.raises(Conflict):  # not a plain "PIN, Enter" consent
        w.s.pinpad.answer(w.pad, link, rid, PIN)
    with pytest.raises(ValidationError) as weak:  # onboarding's rules, not counted
        w.s.pad_credentials.change_pin(w.pad, link, rid, PIN, "123456", "123456")
    assert weak.value.code == "pin_sequence"
    with pytest.raises(ValidationError) as mismatch:
        w.s.pad_credentials.change_pin(w.pad, link, rid, PIN, NEW, "246812")
    assert mismatch.value.code == "pin_mismatch"
    with pytest.raises(ValidationError) as same:
        w.s.pad_credentials.change_pin(w.pad, link, rid, PIN, PIN, PIN)
    assert same.value.code == "pin_unchanged"
    with pytest.raises(AuthenticationFailed) as wrong:  # counted
        w.s.pad_credentials.change_pin(w.pad, link, rid, "975310", NEW, NEW)
    assert wrong.value.code == "pad_old_pin"
    assert w.s.consent.status(w.teller, rid).pin_failures == 1 and _customer(w).pin_failed_attempts == 1
    w.s.pad_credentials.change_pin(w.pad, link, rid, PIN, NEW, NEW)
    assert w.s.consent.status(w.teller, rid).status == "done"
    c = _customer(w)
    assert passwords.verify_pin(c.pin_hash, NEW) and c.pin_failed_attempts == 0
    with pytest.raises(Conflict):  # used once
        w.s.pad_credentials.change_pin(w.pad, link, rid, NEW, "975312", "975312")
    assert [o for o, _d in _audit(w, "customer_pin_change")] == ["fail", "ok"]
    assert NEW not in json.dumps(_audit(w, "customer_pin_change")) and PIN not in json.dumps(
        _audit(w, "customer_pin_change"))
    assert _told(w, "pin_change_branch") >= 1


def test_wrong_old_pins_lock_and_end_the_pin_change(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    rid = w.s.credentials.begin(w.teller, w.customer_id, "pin_change").request_id
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            w.s.pad_credentials.change_pin(w.pad, link, rid, "975310", NEW, NEW)
    with pytest.raises(PinLocked):
        w.s.pad_credentials.change_pin(w.pad, link, rid, "975310", NEW, NEW)
    assert w.s.consent.status(w.teller, rid).status == "refused"
    assert _customer(w).pin_locked and _told(w, "pin_lock") >= 1
    rid2 = w.s.credentials.begin(w.teller, w.customer_id, "pin_change").request_id
    with pytest.raises(PinLocked):  # even the right PIN while locked
        w.s.pad_credentials.change_pin(w.pad, link, rid2, PIN, NEW, NEW)
    assert passwords.verify_pin(_customer(w).pin_hash, PIN)


def test_authenticator_enrolment_on_the_display_then_kiosk_needs_the_code(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    assert not w.s.credentials.authenticator_enrolled(w.teller, w.customer_id)
    with pytest.raises(Conflict):  # nothing to remove yet
        w.s.credentials.begin(w.teller, w.customer_id, "totp_remove")
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    assert offer.uri.startswith("otpauth://totp/") and f"secret={offer.secret}" in offer.uri
    assert "█" in offer.qr or "▀" in offer.qr
    with pytest.raises(ValidationError) as wrong:  # a wrong code stores nothing
        w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret, "000000")
    assert wrong.value.code == "totp_code" and _customer(w).totp_secret_enc is None
    code = pyotp.TOTP(offer.secret).at(w.d.clock.now())
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret, code)
    c = _customer(w)
    assert c.totp_secret_enc is not None and offer.secret not in c.totp_secret_enc
    assert w.s.credentials.authenticator_enrolled(w.teller, w.customer_id)
    assert w.s.consent.status(w.teller, rid).status == "done"
    with pytest.raises(Conflict):  # already enrolled
        w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol")
    audit = _audit(w, "customer_totp_enrol")
    assert [o for o, _d in audit] == ["fail", "ok"] and offer.secret not in json.dumps(audit)
    assert _told(w, "totp_enrol") >= 1
    # Where it is used: the kiosk asks for the code after the PIN (the confirming code is spent).
    from teller_tui.kiosk.pins import check_pin

    with w.d.db.write() as s:
        c = s.get(Customer, w.customer_id)
        assert c is not None
        assert check_pin(s, c, stored=c.pin_hash, pin_ok=True, code=None, box=w.s.box,
                         now=w.d.clock.now()) == "code_required"
        assert check_pin(s, c, stored=c.pin_hash, pin_ok=True, code=code, box=w.s.box,
                         now=w.d.clock.now()) == "code"


def test_authenticator_removal_by_pin_on_the_display_or_id_check(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret,
                                            pyotp.TOTP(offer.secret).at(w.d.clock.now()))
    # With the PIN on the display.
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_remove").request_id
    with pytest.raises(AuthenticationFailed):
        w.s.pad_credentials.remove_authenticator(w.pad, link, rid, "975310")
    assert _customer(w).totp_secret_enc is not None
    w.s.pad_credentials.remove_authenticator(w.pad, link, rid, PIN)
    assert _customer(w).totp_secret_enc is None and w.s.consent.status(w.teller, rid).status == "done"
    # After an ID check at the counter (the phone is lost): a wrong check is refused and audited.
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    w.d.clock.advance(seconds=60)
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret,
                                            pyotp.TOTP(offer.secret).at(w.d.clock.now()))
    with pytest.raises(ValidationError):
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=False, id_digits="19900307")
    with pytest.raises(ValidationError):  # the last 4 (shown on the teller's screen) are not the check
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits="4477")
    assert _customer(w).totp_secret_enc is not None
    with pytest.raises(ApprovalRequired) as asked:  # the hidden birth-date digits, then a supervisor
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits="19900307")
    assert asked.value.rules == ["customer_totp_remove_id"] and _customer(w).totp_secret_enc is not None
    w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits="19900307",
                                         approval_id=w.d.approve(w.teller, asked.value.details["spec"]))
    assert _customer(w).totp_secret_enc is None
    audit = _audit(w, "customer_totp_remove")
    assert [(o, d["method"]) for o, d in audit] == [("fail", "pin"), ("ok", "pin"), ("fail", "id_check"),
                                                    ("fail", "id_check"), ("ok", "id_check")]
    assert _told(w, "totp_remove") >= 2


def test_another_display_or_kind_cannot_answer(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    rid = w.s.credentials.begin(w.teller, w.customer_id, "pin_change").request_id
    other = w.s.kiosk.ensure_identity("PAD-T02")
    with pytest.raises(PermissionDenied):  # not paired with T01
        w.s.pad_credentials.change_pin(other, PadLink("T01", "guess"), rid, PIN, NEW, NEW)
    with pytest.raises(PermissionDenied):  # the right display with a forged token
        w.s.pad_credentials.change_pin(w.pad, PadLink("T01", "guess"), rid, PIN, NEW, NEW)
    with pytest.raises(Conflict):  # the request is a PIN change, not an authenticator set-up
        w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    with pytest.raises(PermissionDenied):  # a teller cannot play the display
        w.s.pad_credentials.change_pin(w.teller, link, rid, PIN, NEW, NEW)
    with pytest.raises(ValidationError):  # nor ask for these through the generic request
        w.s.consent.request(w.teller, ConsentSpec("totp_remove", w.customer_id, None, binding="x"))
    with pytest.raises(ValidationError):
        w.s.credentials.begin(w.teller, w.customer_id, "pin_reset")  # only after the ID check (p)


def test_policy_view(world: World) -> None:  # noqa: F811
    w = world
    view = w.s.consent.policy_view(w.teller)
    assert not view.pin_required and view.set_at is None
    w.s.consent.set_policy(w.d.supervisor, pin_required=True, reason="fraud wave")
    view = w.s.consent.policy_view(w.teller)
    assert view.pin_required and view.reason == "fraud wave" and view.set_by and view.set_at is not None


def test_high_value_consent_asks_an_enrolled_customer_for_the_code(world: World) -> None:  # noqa: F811
    from teller_tui.common.money import Money
    from teller_tui.kiosk.pins import CodeRequired

    w = world
    link = paired(w)
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret,
                                            pyotp.TOTP(offer.secret).at(w.d.clock.now()))
    w.d.clock.advance(seconds=60)
    small = w.s.consent.request(w.teller, ConsentSpec("cash_out", w.customer_id, w.wallet_id,
                                                      amount=Money.of("4999.99"), binding="a")).request_id
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and not prompt.code_needed
    w.s.pinpad.answer(w.pad, link, small, PIN)  # below the threshold: the PIN alone
    assert w.s.consent.status(w.teller, small).status == "granted"
    big = w.s.consent.request(w.teller, ConsentSpec("cash_out", w.customer_id, w.wallet_id,
                                                    amount=Money.of("5000"), binding="b")).request_id
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and prompt.code_needed
    with pytest.raises(CodeRequired):  # the right PIN, no code: not counted
        w.s.pinpad.answer(w.pad, link, big, PIN)
    assert _customer(w).pin_failed_attempts == 0 and w.s.consent.status(w.teller, big).status == "pending"
    with pytest.raises(AuthenticationFailed) as wrong:  # a wrong code counts
        w.s.pinpad.answer(w.pad, link, big, PIN, code="000000")
    assert wrong.value.code == "consent_code" and _customer(w).pin_failed_attempts == 1
    w.s.pinpad.answer(w.pad, link, big, PIN, code=pyotp.TOTP(offer.secret).at(w.d.clock.now()))
    assert w.s.consent.status(w.teller, big).status == "granted" and _customer(w).pin_failed_attempts == 0
    audit = _audit(w, "consent_pin")
    assert audit[-1][0] == "ok" and audit[-1][1]["authenticator"] is True
