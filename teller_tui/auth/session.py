"""Idle tracking for a signed-in terminal (pure logic; the UI calls it from a timer)."""

from __future__ import annotations

from datetime import datetime, timedelta

from teller_tui.common.clock import Clock

__all__ = ["STAFF_REFUSAL_CODES", "IdleTracker"]

#: Codes of a refusal that ends the person's session (the app signs them out): their staff row
#: changed since sign-in (see teller_tui/auth/live.py). Kept here, light enough for the app's start.
STAFF_REFUSAL_CODES = frozenset({"staff_disabled", "staff_locked", "staff_role_changed", "staff_missing"})


class IdleTracker:
    """Remembers the last input and says when ``timeout_seconds`` have passed without any."""

    def __init__(self, clock: Clock, timeout_seconds: int) -> None:
        self.clock = clock
        self.timeout = timedelta(seconds=timeout_seconds)
        self.last_input: datetime = clock.now()

    def touch(self) -> None:
        self.last_input = self.clock.now()

    def idle_for(self) -> timedelta:
        return max(self.clock.now() - self.last_input, timedelta(0))

    def expired(self) -> bool:
        return self.idle_for() >= self.timeout
