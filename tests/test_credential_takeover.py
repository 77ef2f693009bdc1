"""Security review (wave 4), finding 1: a teller alone could take over a customer's credentials (pair a
display, reset the PIN by typing the last 4 the teller's own screen shows, replace the authenticator
with one the display chose). The two review tests (first two, adapted only where the API now asks for
the customer's PIN and the hidden part of the number), then the limits behind them; and finding 11's
pinpad part: the authenticator code's threshold is read per currency."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from desk_fixtures import desk  # noqa: F401
from teller_tui.common.errors import (ApprovalRequired, AuthenticationFailed, Conflict, DomainError,
                                      PermissionDenied, ValidationError)
from teller_tui.common.masks import hidden_document_part, mask_document_number
from teller_tui.common.settings import load_settings
from teller_tui.consent.id_check import ID_CHECK_LIMIT
from teller_tui.kiosk.pinpad import code_threshold
from teller_tui.models import AuditRecord, ConsentRequest, Customer
from test_consent import PIN, World, paired, world  # noqa: F401

HIDDEN = "19900307"  # the birth date in 110101199003074477: what 110101********4477 does not show


def _enrol(w: World, link: Any) -> None:
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret,
                                            pyotp.TOTP(offer.secret).at(w.d.clock.now()))


def _secret_enc(w: World) -> str | None:
    with w.d.db.read() as s:
        c = s.get(Customer, w.customer_id)
        assert c is not None
        return c.totp_secret_enc


def test_the_id_check_is_not_satisfied_by_what_the_teller_screen_shows(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    _enrol(w, link)
    # What the teller's customer screen shows (screens/customer.py: view.id_number_masked):
    shown = w.d.services.customers.get_customer(w.customer_id).id_number_masked
    assert shown.endswith("4477")  # region + ******** + the last 4
    # No customer, no display, no supervisor: the teller types what the screen shows.
    with pytest.raises(DomainError):
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits=shown[-4:])
    with pytest.raises(DomainError):
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits=shown)
    assert _secret_enc(w) is not None
    # Nothing the mask shows is in what is asked; and even the right part needs a supervisor.
    assert hidden_document_part("110101199003074477", "prc_id") == HIDDEN and HIDDEN not in shown
    with pytest.raises(ApprovalRequired):
        w.s.credentials.remove_authenticator(w.teller, w.customer_id, document_seen=True, id_digits=HIDDEN)
    with pytest.raises(ApprovalRequired):
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits=HIDDEN)
    assert _secret_enc(w) is not None


def test_enrolling_an_authenticator_needs_the_customer_pin_and_the_offered_secret(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    rid = w.s.credentials.begin(w.teller, w.customer_id, "totp_enrol").request_id
    mine = pyotp.random_base32()  # never offered by the service
    with pytest.raises(Conflict):  # no offer yet (no PIN typed): nothing can be enrolled
        w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, mine, pyotp.TOTP(mine).at(w.d.clock.now()))
    with pytest.raises(AuthenticationFailed):  # the offer needs the customer's PIN (counted)
        w.s.pad_credentials.authenticator_offer(w.pad, link, rid, "975310")
    offer = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)
    with w.d.db.read() as s:
        row = s.get(ConsentRequest, rid)
        assert row is not None and row.offer_enc and offer.secret not in row.offer_enc and row.pin_failures == 1
    with pytest.raises(DomainError):
        w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, mine, pyotp.TOTP(mine).at(w.d.clock.now()))
    assert _secret_enc(w) is None
    again = w.s.pad_credentials.authenticator_offer(w.pad, link, rid, PIN)  # shown again: the same secret
    assert again.secret == offer.secret
    w.s.pad_credentials.enrol_authenticator(w.pad, link, rid, offer.secret,
                                            pyotp.TOTP(offer.secret).at(w.d.clock.now()))
    assert _secret_enc(w) is not None
    with w.d.db.read() as s:
        reasons = [r for r in s.execute(select(AuditRecord.outcome, AuditRecord.detail_json).where(
            AuditRecord.action == "customer_totp_enrol").order_by(AuditRecord.seq)).all()]
        assert [o for o, _d in reasons] == ["fail", "ok"] and "not_offered" in reasons[0][1]
        assert offer.secret not in str(reasons)


def test_failed_id_checks_per_customer_are_limited_and_audited(world: World) -> None:  # noqa: F811
    w = world
    paired(w)
    for _ in range(ID_CHECK_LIMIT):
        with pytest.raises(ValidationError) as wrong:
            w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits="19800101")
        assert wrong.value.code == "id_mismatch"
    with pytest.raises(PermissionDenied) as refused:  # even the right digits, for the rest of the day
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits=HIDDEN)
    assert refused.value.code == "id_checks_exhausted" and "Too many failed ID checks" in str(refused.value)
    with w.d.db.read() as s:
        outcomes = s.execute(select(AuditRecord.outcome).where(
            AuditRecord.action == "customer_id_check").order_by(AuditRecord.seq)).scalars().all()
    assert outcomes == ["fail"] * ID_CHECK_LIMIT + ["denied"]
    w.d.clock.advance(seconds=24 * 3600 + 60)  # a day later: asked again (and a supervisor approves)
    with pytest.raises(ApprovalRequired):
        w.s.consent.begin_pin_reset(w.teller, w.customer_id, document_seen=True, id_digits=HIDDEN)


def test_hidden_document_part_is_what_the_mask_stars() -> None:
    for number, kind in (("110101199003074477", "prc_id"), ("11010119900307123X", None), ("E12345678", "passport"),
                         ("AB12", "passport")):
        hidden, masked = hidden_document_part(number, kind), mask_document_number(number, kind)
        assert hidden and len(masked) == len(number)
        assert "".join(ch for ch, m in zip(number, masked, strict=True) if m == "*") == hidden


def test_the_code_threshold_is_per_currency(tmp_path: Any) -> None:
    settings = load_settings(home=tmp_path / "h", locale="en", consent_code_from="5000.00",
                             consent_code_from_currencies={"USD": "700.00"})
    cny = code_threshold(settings, "CNY")
    assert cny is not None and cny.currency == "CNY" and cny.minor == 500000
    usd = code_threshold(settings, "USD")
    assert usd is not None and usd.currency == "USD" and usd.minor == 70000
    assert code_threshold(settings, "JPY") is None  # none set: the code is asked at any amount


def test_the_pinpad_asks_for_the_code_by_the_request_currency(world: World) -> None:  # noqa: F811
    w = world
    svc = w.s.pinpad
    summary = lambda minor, cur: {"amount": minor, "currency": cur}  # noqa: E731
    assert not svc._high_value("cash_out", summary(499999, "CNY"))
    assert svc._high_value("cash_out", summary(500000, "CNY"))
    # 4,000.00 of another currency is not 4,000 yuan: with no threshold set for it the code is asked.
    assert svc._high_value("transfer", summary(400000, "USD"))
    assert svc._high_value("transfer", summary(1, "JPY"))
    assert not svc._high_value("wallet_close", summary(99999999, "USD"))
