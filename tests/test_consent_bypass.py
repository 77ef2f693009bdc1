"""Attacks on the customer's consent found by review, each refused (issue 16).

1. A cash-out sent straight to the approvals queue (a crafted spec, no consent) used to hold and
   then post the customer's money once a supervisor approved: the queue now needs this request's
   consent and uses it up.
2. A "pin_reset" consent asked for through the generic request (no ID check) let the display set a
   new PIN and lift a lockout: only the ID-checked PIN reset may set a PIN.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from test_consent import World, ask, paired, world  # noqa: F401
from teller_tui.common.errors import Conflict, ConsentRequired, ValidationError
from teller_tui.common.money import Money
from teller_tui.consent.spec import ConsentSpec
from teller_tui.desk.approval_specs import cash_spec
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.wallet_sides import select_wallet_side
from teller_tui.models import ConsentRequest


def _queued_spec(w: World, key: str, amount: str, *, consent: ConsentSpec | None = None,
                 consent_id: int | None = None):  # type: ignore[no-untyped-def]
    with w.s.db.write() as s:
        src = select_wallet_side(s, w.wallet_id)
        legs = w.s.cash.posting_legs(s, w.teller, "cash_out", Money.of(amount), src, None)
        spec = cash_spec(w.teller, "cash_out", Money.of(amount), "", key, src, None, legs,
                         rules=("teller_cash_limit",), reasons=("over the limit",), consent=consent,
                         consent_id=consent_id)
        s.rollback()
    return spec


def test_a_queued_cash_out_needs_this_requests_consent(world: World) -> None:  # noqa: F811
    w = world
    key = new_idempotency_key()
    with pytest.raises(ConsentRequired):  # the attack: straight to the queue, no consent
        w.s.approvals.request(w.teller, _queued_spec(w, key, "300"))
    rid, agreed = ask(w, key, "300")
    w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="19900307")
    other = ConsentSpec("cash_out", agreed.customer_id, agreed.wallet_id, agreed.wallet, amount=Money.of("500"),
                        binding=key)
    with pytest.raises(ConsentRequired) as stale:  # the consent is for ¥300, not ¥500
        w.s.approvals.request(w.teller, _queued_spec(w, key, "500", consent=other, consent_id=rid))
    assert stale.value.code == "consent_stale"
    view = w.s.approvals.request(w.teller, _queued_spec(w, key, "300", consent=agreed, consent_id=rid))
    assert view.status == "pending"
    with w.s.db.read() as s:
        assert s.execute(select(ConsentRequest.status).where(ConsentRequest.id == rid)).scalar_one() == "used"
    with pytest.raises(ConsentRequired):  # used once: a second request needs the customer again
        w.s.approvals.request(w.teller, _queued_spec(w, new_idempotency_key(), "300", consent=agreed,
                                                     consent_id=rid))


def test_a_pin_reset_needs_the_id_check(world: World) -> None:  # noqa: F811
    w = world
    link = paired(w)
    with pytest.raises(ValidationError):  # the generic request cannot make a PIN reset
        w.s.consent.request(w.teller, ConsentSpec("pin_reset", w.customer_id, None, binding="x"))
    with w.s.db.write() as s:  # and a row forged without the ID check is still not a PIN reset
        now = w.d.clock.now()
        row = ConsentRequest(customer_id=w.customer_id, kind="pin_reset", terminal_id="T01",
                             branch_code=w.teller.branch_code, staff_id=w.teller.staff_id, status="pending",
                             request_hash="x", summary_json="{}", created_at=now,
                             expires_at=now + timedelta(minutes=5))
        s.add(row)
        s.flush()
        forged = int(row.id or 0)
    with pytest.raises(Conflict) as refused:
        w.s.pinpad.set_new_pin(w.pad, link, forged, "246813", "246813")
    assert refused.value.code == "consent_kind"
