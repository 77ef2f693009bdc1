"""Delivering the outbox (``teller notify run``; a running app may run it too).

Delivery is **at-least-once** with a de-duplication key, and each message has **exactly one recorded
outcome**. Exactly-once *delivery* cannot be had across two systems: a sender that crashes after the
receiver accepted a message but before it recorded that, cannot know whether it was sent. So:

1. claim: one short write transaction takes due rows (``pending``, ``next_attempt_at`` passed, no live
   lease) and stamps them with this run's claim token and a lease (``claimed_until``);
2. send: outside any transaction, each message with its fixed ``message_id`` (SMTP ``Message-ID``,
   webhook ``Idempotency-Key``);
3. record: a write transaction sets ``sent`` (or schedules the retry with exponential backoff, or
   ``failed`` after the last attempt) **only where the row still carries this claim token**.

A crash between 2 and 3 leaves the row pending; when the lease runs out another run sends it again
with the same ``message_id``, and the receiver drops the repeat. Two senders never both record: the
second one's claim replaced the first's token. Nothing is ever sent unless ``notify_send`` is on
(demo and training databases leave it off, the default).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import OutboxMessage
from teller_tui.models.notify import OutboxStatus
from teller_tui.notify.outbox import Templates
from teller_tui.risk.transports import DeliveryError, Outgoing, Transport

__all__ = ["RunResult", "Sender", "backoff"]

log = logging.getLogger("teller.notify")
MAX_BACKOFF = timedelta(hours=1)


def backoff(base_seconds: float, attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x, 4x ... capped at an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class RunResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_claim: int = 0  # sent, but another sender had taken the row over meanwhile (it records)


class Sender:
    def __init__(self, db: Database, clock: Clock, *, templates: Templates, transports: Mapping[str, Transport],
                 enabled: bool, max_attempts: int = 8, backoff_seconds: float = 30.0,
                 lease_seconds: float = 120.0) -> None:
        self.db, self.clock, self.templates, self.transports = db, clock, templates, dict(transports)
        self.enabled, self.max_attempts = enabled, max_attempts
        self.backoff_seconds, self.lease = backoff_seconds, timedelta(seconds=lease_seconds)

    def run_once(self, *, limit: int = 100) -> RunResult:
        """Claim, send and record one batch of due messages."""
        if not self.enabled:
            raise Conflict(_("Sending notifications is off for this database (notify_send). Demo and training "
                             "databases never send."), code="notify_off")
        token = uuid.uuid4().hex
        rows = self.db.write_retrying(lambda s: self._claim(s, token, limit))
        sent = retrying = failed = lost = 0
        for row in rows:
            transport = self.transports[row.channel]
            rendered = self.templates.render(row.event, row.locale, json.loads(row.params_json or "{}"))
            out = Outgoing(row.message_id, row.event, row.locale, row.address, rendered.subject, rendered.body)
            error: DeliveryError | None = None
            try:
                transport.send(out)
            except DeliveryError as exc:
                error = exc
            outcome = self.db.write_retrying(partial(self._record, row=row, token=token, error=error))
            sent += outcome == "sent"
            retrying += outcome == "retry"
            failed += outcome == "failed"
            lost += outcome == "lost"
        return RunResult(sent, retrying, failed, lost)

    def _claim(self, s: Session, token: str, limit: int) -> list[OutboxMessage]:
        now = self.clock.now()
        due = select(col(OutboxMessage.id)).where(
            col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.next_attempt_at) <= now,
            col(OutboxMessage.channel).in_(list(self.transports)),
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        ).order_by(col(OutboxMessage.id)).limit(limit)
        ids = [int(i) for i in s.execute(due).scalars()]
        if not ids:
            return []
        # The lease condition again in the UPDATE: a concurrent sender's claim committed meanwhile wins
        # (PostgreSQL re-checks the WHERE of an UPDATE on a row another transaction just changed).
        s.execute(update(OutboxMessage).where(
            col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == OutboxStatus.PENDING,
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        ).values(claim=token, claimed_until=now + self.lease))
        rows = list(s.execute(select(OutboxMessage).where(col(OutboxMessage.claim) == token)
                              .order_by(col(OutboxMessage.id))).scalars())
        for r in rows:
            s.expunge(r)
        return rows

    def _mine(self, s: Session, row: OutboxMessage, token: str) -> OutboxMessage | None:
        current = s.get(OutboxMessage, row.id)
        if current is None or current.claim != token or current.status != OutboxStatus.PENDING:
            return None
        return current

    def _record(self, s: Session, *, row: OutboxMessage, token: str, error: DeliveryError | None) -> str:
        return self._sent(s, row, token) if error is None else self._failed(s, row, token, error)

    def _sent(self, s: Session, row: OutboxMessage, token: str) -> str:
        current = self._mine(s, row, token)
        if current is None:
            log.warning("notification %s was sent but another sender holds it now", row.message_id)
            return "lost"
        current.status, current.sent_at, current.attempts = OutboxStatus.SENT, self.clock.now(), current.attempts + 1
        current.claim, current.claimed_until, current.last_error = "", None, ""
        return "sent"

    def _failed(self, s: Session, row: OutboxMessage, token: str, exc: DeliveryError) -> str:
        current = self._mine(s, row, token)
        if current is None:
            return "lost"
        current.attempts += 1
        current.last_error = clean_text(str(exc), limit=200)
        current.claim, current.claimed_until = "", None
        if not exc.retry or current.attempts >= self.max_attempts:
            current.status = OutboxStatus.FAILED
            return "failed"
        current.next_attempt_at = self.clock.now() + backoff(self.backoff_seconds, current.attempts)
        return "retry"
