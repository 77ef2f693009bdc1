"""Kiosk without enumeration (issue 15): unknown and known numbers answer, lock and take time alike;
locks expire; a teller lifts them sooner; each terminal is throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import AuthenticationFailed
from teller_tui.kiosk.guard import ResponsePacer, TerminalThrottle
from teller_tui.kiosk.pins import PinLocked
from test_kiosk_core import PIN, K, k  # noqa: F401

KNOWN, UNKNOWN = "13900000021", "13900000029"


def _attempts(k: K, identifier: str, n: int, pin: str = "000000") -> list[tuple[str, str, str]]:
    seen = []
    for _ in range(n):
        with pytest.raises(AuthenticationFailed) as err:
            k.svc.sign_in(k.actor, identifier, pin)
        seen.append((type(err.value).__name__, err.value.code, str(err.value)))
    return seen


def test_unknown_and_known_numbers_answer_and_lock_alike(k: K) -> None:
    k.customer("王芳", KNOWN)
    known = _attempts(k, KNOWN, 7)
    unknown = _attempts(k, UNKNOWN, 7)
    assert known == unknown
    assert [name for name, _c, _m in known] == ["AuthenticationFailed"] * 4 + ["PinLocked"] * 3
    assert "30 minutes" in known[-1][2]
    # Even the right PIN is refused while the number is locked, with the same message.
    with pytest.raises(PinLocked) as locked:
        k.svc.sign_in(k.actor, KNOWN, PIN)
    assert str(locked.value) == unknown[-1][2]


def test_a_lock_expires_by_itself(k: K) -> None:
    cid, _wid, _n = k.customer("王芳", KNOWN)
    _attempts(k, KNOWN, 5)
    _attempts(k, UNKNOWN, 5)
    k.desk.clock.advance(timedelta(minutes=29))
    with pytest.raises(PinLocked):
        k.svc.sign_in(k.actor, KNOWN, PIN)
    k.desk.clock.advance(timedelta(minutes=2))
    assert k.svc.sign_in(k.actor, KNOWN, PIN).customer_id == cid
    # The unknown number's lock ran out too: a fresh count of wrong tries, the usual message.
    assert _attempts(k, UNKNOWN, 1)[0][0] == "AuthenticationFailed"


def test_a_teller_lifts_the_lock_sooner_for_every_number_of_the_customer(k: K) -> None:
    cid, _wid, number = k.customer("王芳", KNOWN)
    _attempts(k, KNOWN, 5)
    with pytest.raises(PinLocked):  # the customer is locked whichever number is typed
        k.svc.sign_in(k.actor, number, PIN)
    assert k.pins.unlock_customer_pin(k.desk.teller, cid) is True
    assert k.svc.sign_in(k.actor, KNOWN, PIN).customer_id == cid
    assert k.svc.sign_in(k.actor, number, PIN).customer_id == cid


def test_trying_each_number_of_a_customer_gains_nothing(k: K) -> None:
    _cid, _wid, number = k.customer("王芳", KNOWN)
    _attempts(k, KNOWN, 3)
    assert [n for n, _c, _m in _attempts(k, number, 2)] == ["AuthenticationFailed", "PinLocked"]


def test_every_answer_takes_the_minimum_time(k: K) -> None:
    k.customer("王芳", KNOWN)
    k.svc.pacer.monotonic = lambda: 100.0  # the work itself "took no time"
    _attempts(k, UNKNOWN, 1)
    _attempts(k, KNOWN, 1)
    k.svc.sign_in(k.actor, KNOWN, PIN)
    assert k.slept == [1.0, 1.0, 1.0]


def test_the_pacer_sleeps_only_what_is_left() -> None:
    ticks = iter([10.0, 10.3, 20.0, 22.0])
    slept: list[float] = []
    pacer = ResponsePacer(1.0, monotonic=lambda: next(ticks), sleep=slept.append)
    with pacer.paced():
        pass
    with pytest.raises(ValueError), pacer.paced():  # a refusal is paced too
        raise ValueError("refused")
    assert slept == [pytest.approx(0.7)]


def test_each_terminal_is_throttled(k: K) -> None:
    now = [0.0]
    k.svc.throttle = TerminalThrottle(3, monotonic=lambda: now[0])
    k.customer("王芳", KNOWN)
    _attempts(k, UNKNOWN, 2)
    k.svc.sign_in(k.actor, KNOWN, PIN)
    with pytest.raises(AuthenticationFailed) as throttled:
        k.svc.sign_in(k.actor, KNOWN, PIN)
    assert throttled.value.code == "kiosk_throttled"
    other = k.svc.ensure_identity("K02")
    assert k.svc.sign_in(other, KNOWN, PIN)  # another kiosk is not slowed by this one
    now[0] = 61.0
    assert k.svc.sign_in(k.actor, KNOWN, PIN)
