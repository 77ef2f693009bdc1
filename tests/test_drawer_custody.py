"""Drawer custody (issue 15): a teller on a break locks the drawer; no cash moves until they return
and authenticate again (password and a fresh code)."""

from __future__ import annotations

import pyotp
import pytest

from desk_fixtures import SUPERVISORS, Desk, desk  # noqa: F401
from teller_tui.common.errors import AuthenticationFailed, Conflict, PermissionDenied
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key


def _code(d: Desk, username: str) -> str:
    d.clock.advance(seconds=31)
    return pyotp.TOTP(SUPERVISORS[username][1]).at(d.clock.now())


def test_a_drawer_on_break_takes_no_cash_until_its_teller_returns(desk: Desk) -> None:  # noqa: F811
    me = desk.supervisor  # super1: has a password and an authenticator
    custody = desk.services.custody
    wid = desk.wallet(desk.customer())
    desk.cash.cash_in(me, wid, Money.of("50"), idempotency_key=key())
    custody.take_break(me)
    assert custody.on_break(me)
    with pytest.raises(Conflict) as refused:
        desk.cash.cash_in(me, wid, Money.of("50"), idempotency_key=key())
    assert refused.value.code == "drawer_on_break"
    with pytest.raises(Conflict):
        desk.cash.cash_out(me, wid, Money.of("10"), idempotency_key=key())
    with pytest.raises(Conflict):
        custody.take_break(me)  # already on a break
    # Other drawers carry on.
    desk.cash.cash_in(desk.teller, wid, Money.of("50"), idempotency_key=key())
    # Returning needs the drawer's own teller, freshly authenticated.
    with pytest.raises(AuthenticationFailed):
        custody.return_from_break(me, "wrong password", _code(desk, "super1"))
    with pytest.raises(AuthenticationFailed):  # another person's credentials are not the teller's
        custody.return_from_break(me, SUPERVISORS["super2"][0], _code(desk, "super2"))
    assert custody.on_break(me)
    custody.return_from_break(me, SUPERVISORS["super1"][0], _code(desk, "super1"))
    assert not custody.on_break(me)
    desk.cash.cash_in(me, wid, Money.of("50"), idempotency_key=key())
    with pytest.raises(Conflict) as not_on_break:
        custody.return_from_break(me, SUPERVISORS["super1"][0], _code(desk, "super1"))
    assert not_on_break.value.code == "drawer_not_on_break"


def test_a_kiosk_cannot_lock_or_unlock_a_drawer(desk: Desk) -> None:  # noqa: F811
    kiosk = desk.services.kiosk.ensure_identity("K01")
    with pytest.raises(PermissionDenied):
        desk.services.custody.take_break(kiosk)
