"""Kiosk sign-in without enumeration: the same answer, lockout and time for every number typed.

* :class:`SignInGuard` counts wrong tries per identifier typed (an HMAC of the normalized phone
  or wallet number, so an unknown number counts exactly like a known one) and, for a known
  customer, per customer too (so trying each of a customer's numbers in turn gains nothing).
  ``pin_attempts`` wrong tries in a row lock the identifier for ``kiosk_pin_lock_minutes``
  (default 30); the lock then expires by itself, and a teller can lift a customer's lock sooner
  (:meth:`SignInGuard.clear_customer`, called by ``customer_pins.unlock_customer_pin``).
* :class:`ResponsePacer` makes every sign-in answer take at least ``kiosk_min_response_seconds``
  (unknown numbers skip the database work a known one needs; the pace hides that). The clock and
  the sleep are injected, so tests do not wait.
* :class:`TerminalThrottle` lets each kiosk terminal try at most ``kiosk_attempts_per_minute``
  sign-ins a minute (in memory, per kiosk process: one process serves one terminal).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from teller_tui.common.i18n import _
from teller_tui.kiosk.lookup import digits_of
from teller_tui.models import KioskGuard

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.auth.secretbox import SecretBox

__all__ = ["ResponsePacer", "SignInGuard", "TerminalThrottle", "identifier_form", "locked_message"]


def identifier_form(identifier: str) -> str:
    """What the look-up uses of what was typed: its digits, with a leading '+' kept."""
    raw = (identifier or "").strip()
    digits = digits_of(raw)
    return ("+" + digits) if raw.startswith("+") and digits else digits


def locked_message(minutes: int) -> str:
    return _("Too many wrong tries. Sign-in with this number is paused for {minutes} minutes; "
             "a teller at the counter can lift it sooner.").format(minutes=minutes)


class SignInGuard:
    """Wrong-try counters and locks in ``kiosk_guard`` (see the module docstring)."""

    def __init__(self, box: SecretBox, *, attempts: int, lock_minutes: int) -> None:
        self.box = box
        self.attempts = attempts
        self.lock = timedelta(minutes=lock_minutes)
        self._key: bytes | None = None

    def _hmac(self, label: str) -> str:
        if self._key is None:
            self._key = self.box.derive_key(b"kiosk-sign-in-guard")
        return hmac.new(self._key, label.encode(), hashlib.sha256).hexdigest()

    def keys(self, identifier: str, customer_id: int | None) -> list[str]:
        keys = [self._hmac(f"id:{identifier_form(identifier)}")]
        if customer_id is not None:
            keys.append(self._hmac(f"customer:{customer_id}"))
        return keys

    def _rows(self, s: Session, keys: Iterable[str], now: datetime) -> list[KioskGuard]:
        rows = []
        for key in keys:
            row = s.get(KioskGuard, key, with_for_update=True)
            if row is None:
                row = KioskGuard(key=key, failures=0, locked_until=None, updated_at=now)
                s.add(row)
            elif row.locked_until is not None and row.locked_until <= now:
                row.locked_until, row.failures, row.updated_at = None, 0, now  # the lock ran out
            rows.append(row)
        return rows

    def locked(self, s: Session, keys: Iterable[str], now: datetime) -> bool:
        return any(r.locked_until is not None for r in self._rows(s, keys, now))

    def fail(self, s: Session, keys: Iterable[str], now: datetime) -> tuple[bool, int]:
        """Count a wrong try on every key; (locked now, the highest count)."""
        locked, most = False, 0
        for row in self._rows(s, keys, now):
            row.failures += 1
            row.updated_at = now
            most = max(most, row.failures)
            if row.failures >= self.attempts:
                row.locked_until = now + self.lock
                locked = True
        return locked, most

    def succeed(self, s: Session, keys: Iterable[str], now: datetime) -> None:
        for row in self._rows(s, keys, now):
            row.failures, row.locked_until, row.updated_at = 0, None, now

    def clear_customer(self, s: Session, customer_id: int, identifiers: Iterable[str], now: datetime) -> None:
        """A teller lifts a customer's lock: the customer's counter and those of their numbers."""
        keys = [self._hmac(f"customer:{customer_id}")]
        keys += [self._hmac(f"id:{identifier_form(i)}") for i in identifiers if i]
        self.succeed(s, keys, now)


class ResponsePacer:
    """Every paced call takes at least ``min_seconds`` (whatever its outcome)."""

    def __init__(self, min_seconds: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_seconds = min_seconds
        self.monotonic = monotonic
        self.sleep = sleep

    @contextmanager
    def paced(self) -> Iterator[None]:
        start = self.monotonic()
        try:
            yield
        finally:
            remaining = self.min_seconds - (self.monotonic() - start)
            if remaining > 0:
                self.sleep(remaining)


class TerminalThrottle:
    """At most ``per_minute`` sign-in attempts per terminal in any 60 seconds."""

    def __init__(self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.monotonic = monotonic
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, terminal_id: str) -> bool:
        now = self.monotonic()
        with self._lock:
            seen = self._seen.setdefault(terminal_id, deque())
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return False
            seen.append(now)
            return True
