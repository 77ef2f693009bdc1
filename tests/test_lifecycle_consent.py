"""Issue 16: closing a wallet and changing its class at the counter need the customer's own consent,
like a cash-out: the PIN on the paired customer display or the teller's ID re-check, bound to the wallet,
the class and the reason, used once, recorded in the audit trail. The host's command line needs none."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from desk_fixtures import desk  # noqa: F401 - the fixture under test_consent's world
from datetime import date

from sqlalchemy import update

from teller_tui.auth.staff import system_actor
from teller_tui.common.errors import ConsentRequired
from teller_tui.models import AuditRecord, Customer, Wallet
from test_consent import PIN, World, paired, world  # noqa: F401


def _consent_for(w: World, call: object) -> tuple[int, object]:
    with pytest.raises(ConsentRequired) as info:
        call()  # type: ignore[operator]
    spec = info.value.details["spec"]
    return w.s.consent.request(w.teller, spec).request_id, spec


def _audit(w: World, action: str) -> dict[str, object]:
    with w.d.db.read() as s:
        raw = s.execute(select(AuditRecord.detail_json).where(AuditRecord.action == action)
                        .order_by(AuditRecord.seq.desc())).scalars().first()  # type: ignore[attr-defined]
    return json.loads(raw or "{}")


def test_close_waits_for_the_pin_on_the_display(world: World) -> None:  # noqa: F811
    w = world
    wid = w.d.wallet(w.customer_id, tier=3)  # empty: it may be closed
    link = paired(w)
    rid, spec = _consent_for(w, lambda: w.s.lifecycle.close(w.teller, wid, "moving abroad"))
    assert spec.kind == "wallet_close" and spec.wallet_id == wid  # type: ignore[attr-defined]
    prompt = w.s.pinpad.prompt(w.pad, link)
    assert prompt is not None and prompt.kind == "wallet_close"
    w.s.pinpad.answer(w.pad, link, rid, PIN)
    with pytest.raises(ConsentRequired):  # bound to the reason: another reason is another request
        w.s.lifecycle.close(w.teller, wid, "another reason", consent_id=rid)
    assert w.s.lifecycle.close(w.teller, wid, "moving abroad", consent_id=rid).status == "closed"
    assert _audit(w, "wallet_close")["consent"] == "pin"


def test_class_change_with_an_id_recheck_used_once(world: World) -> None:  # noqa: F811
    w = world
    ev = ["real_name", "own_bank_account", "mobile"]
    with w.d.db.write() as s:
        s.execute(update(Customer).where(Customer.id == w.customer_id).values(birth_date=date(1990, 3, 7)))
    rid, spec = _consent_for(w, lambda: w.s.lifecycle.change_tier(w.teller, w.wallet_id, 2, evidence=ev,
                                                                   reason="asked"))
    assert spec.kind == "class_change" and spec.detail == "1 → 2"  # type: ignore[attr-defined]
    w.s.consent.record_id_check(w.teller, rid, document_seen=True, id_digits="19900307")
    with pytest.raises(ConsentRequired):  # bound to the class
        w.s.lifecycle.change_tier(w.teller, w.wallet_id, 3, evidence=ev, reason="asked", consent_id=rid)
    w.s.lifecycle.change_tier(w.teller, w.wallet_id, 2, evidence=ev, reason="asked", consent_id=rid)
    with w.d.db.read() as s:
        assert s.get(Wallet, w.wallet_id).tier == 2  # type: ignore[union-attr]
    assert _audit(w, "wallet_tier_change")["consent"] == "id_check"
    with pytest.raises(ConsentRequired):  # used: the next change asks again
        w.s.lifecycle.change_tier(w.teller, w.wallet_id, 1, evidence=[*ev, "identity_document_in_person"],
                                  reason="asked", consent_id=rid)


def test_the_host_command_line_needs_no_consent(world: World) -> None:  # noqa: F811
    w = world
    wid = w.d.wallet(w.customer_id, tier=3)
    system = system_actor(w.s.settings)
    assert w.s.lifecycle.close(system, wid, "batch close").status == "closed"
