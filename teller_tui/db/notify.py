"""Change notifications between terminals: LISTEN/NOTIFY on PostgreSQL, polling elsewhere.

Writers call :func:`notify` inside their write transaction; PostgreSQL delivers the
notification only if that transaction commits (and a rollback drops it). On SQLite it is
a no-op, and so is a :class:`Listener` there: it just waits ``poll_interval`` seconds.

A reader keeps polling as its source of truth and uses the listener only to wake early::

    with Listener(db, ["teller_approvals"], poll_interval=2.0) as listener:
        while running:
            refresh_queue()                      # the normal query
            listener.wait(timeout=5.0)           # returns early on a notification

or, from a Textual timer (non-blocking)::

    if listener.pending() or time_to_poll: refresh_queue()

If the listening connection is lost (server restart, network) the listener falls back to
polling and reconnects by itself at most every ``reconnect_interval`` seconds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.db.engine import Database

log = logging.getLogger(__name__)

CHANNEL_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: PostgreSQL's limit is 8000 bytes; payloads are hints (an id), never data.
MAX_PAYLOAD_BYTES = 7999


@dataclass(frozen=True, slots=True)
class Notification:
    channel: str
    payload: str


def _check_channel(channel: str) -> str:
    if not CHANNEL_RE.match(channel):
        raise ValueError(f"Bad notification channel {channel!r}: lower-case letters, digits and _")
    return channel


def notify(session: Session, channel: str, payload: str = "") -> None:
    """Queue a notification, delivered when ``session``'s transaction commits (PG only)."""
    _check_channel(channel)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError("Notification payload too long; send an id and let listeners query")
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


class Listener:
    """Wakes a reader when one of ``channels`` is notified; polls when it cannot listen."""

    def __init__(self, db: Database, channels: Iterable[str], *, poll_interval: float = 2.0,
                 reconnect_interval: float = 5.0) -> None:
        self.db = db
        self.channels = [_check_channel(c) for c in channels]
        self.poll_interval = poll_interval
        self.reconnect_interval = reconnect_interval
        self._conn: Any = None
        self._last_attempt = float("-inf")
        self._closed = False
        if db.dialect == "postgresql":
            self._connect()

    # -- state ---------------------------------------------------------------------------
    @property
    def listening(self) -> bool:
        """True while notifications arrive by push; False means plain polling."""
        return self._conn is not None and not self._conn.closed

    def _conninfo(self) -> str:
        url = self.db.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _connect(self) -> None:
        import psycopg  # lazy: the PostgreSQL driver, never loaded on a SQLite branch

        self._last_attempt = time.monotonic()
        try:
            conn = psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5,
                                   application_name="teller-listen")
            for channel in self.channels:
                conn.execute(f'LISTEN "{channel}"')
        except psycopg.Error as exc:
            log.warning("LISTEN unavailable (%s); polling instead", type(exc).__name__)
            self._conn = None
            return
        self._conn = conn

    def _drop(self, exc: BaseException) -> None:
        log.warning("notification connection lost (%s); polling until it is back", type(exc).__name__)
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001
            pass
        self._conn = None

    def _maybe_reconnect(self) -> None:
        if (self.db.dialect == "postgresql" and not self._closed and self._conn is None
                and time.monotonic() - self._last_attempt >= self.reconnect_interval):
            self._connect()

    # -- waiting -------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> list[Notification]:
        """Block until a notification arrives or ``timeout`` passes (polling: ``poll_interval``).

        Returns what arrived (possibly empty). An empty list after a fallback sleep just
        means "time to poll"; the caller re-queries after every return either way.
        """
        self._maybe_reconnect()
        if not self.listening:
            time.sleep(self.poll_interval if timeout is None else min(timeout, self.poll_interval))
            return []
        return self._receive(timeout)

    def pending(self) -> list[Notification]:
        """Notifications already received, without blocking (for UI timers)."""
        self._maybe_reconnect()
        return self._receive(0.0) if self.listening else []

    def _receive(self, timeout: float | None) -> list[Notification]:
        import psycopg  # lazy: the PostgreSQL driver, never loaded on a SQLite branch

        out: list[Notification] = []
        try:
            for n in self._conn.notifies(timeout=timeout, stop_after=1):
                out.append(Notification(n.channel, n.payload))
            if out:  # drain whatever else is already queued
                for n in self._conn.notifies(timeout=0.0):
                    out.append(Notification(n.channel, n.payload))
        except psycopg.Error as exc:
            self._drop(exc)
        return out

    def close(self) -> None:
        self._closed = True
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
